"""Per-user sliding-window rate limits (in-process) for onboarding, start and feedback."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from server.kernel.errors import RateLimited

WINDOW_SECONDS = 60.0


class RateLimiter:
    def __init__(self, *, enabled: bool, per_minute: dict[str, int]) -> None:
        self.enabled = enabled
        self.per_minute = per_minute
        self._hits: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)

    def check(self, action: str, key: str) -> None:
        """Count one call of ``action`` by ``key``; raise 429 when over the limit."""
        if not self.enabled:
            return
        limit = self.per_minute[action]
        now = time.monotonic()
        hits = self._hits[(action, key)]
        while hits and hits[0] <= now - WINDOW_SECONDS:
            hits.popleft()
        if len(hits) >= limit:
            retry_after = math.ceil(hits[0] + WINDOW_SECONDS - now)
            raise RateLimited(
                f"Too many {action} requests; try again in {retry_after} s",
                headers={"Retry-After": str(max(retry_after, 1))},
            )
        hits.append(now)
