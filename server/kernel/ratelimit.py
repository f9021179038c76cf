"""Per-user moving-window rate limits for onboarding, start and feedback, with the
``limits`` library: counted in Redis when ``REDIS_URL`` is set, so every API process
shares one count (N processes do not give N times the limit), in this process otherwise.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from server.kernel.errors import RateLimited

KEY_PREFIX = "cw-ratelimit"


def rate_limit_storage(redis_url: str | None) -> Storage:
    """Redis (through redis-py, which the service already uses) or this process's memory."""
    if redis_url is None:
        return MemoryStorage()
    # limits' own URL scheme; the connection is made on first use.
    return RedisStorage("async+" + redis_url, implementation="redispy", key_prefix=KEY_PREFIX)


class RateLimiter:
    def __init__(
        self, *, enabled: bool, per_minute: dict[str, int], storage: Storage | None = None
    ) -> None:
        self.enabled = enabled
        self.per_minute = per_minute
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    async def check(self, action: str, key: str) -> None:
        """Count one call of ``action`` by ``key``; raise 429 when over the limit."""
        if not self.enabled:
            return
        limit = RateLimitItemPerMinute(self.per_minute[action])
        if await self._limiter.hit(limit, action, key):
            return
        stats = await self._limiter.get_window_stats(limit, action, key)
        retry_after = max(math.ceil(stats.reset_time - time.time()), 1)
        raise RateLimited(
            f"Too many {action} requests; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
