"""The bus that wakes a workspace's followers when it has new events.

The events themselves are stored (``server/events/``); the bus only says "workspace N has
something new". The embedded bus wakes followers in this process; the Redis bus
(production) wakes followers in every API process.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.kernel.settings import Settings

logger = logging.getLogger(__name__)


class Listener(Protocol):
    async def wait(self, max_seconds: float) -> bool:
        """Wait until the workspace may have new events; False on timeout."""
        ...


class EventBus(Protocol):
    async def notify(self, workspace_id: int) -> None: ...

    def listen(self, workspace_id: int) -> Any:
        """An async context manager yielding a :class:`Listener`."""
        ...

    async def close(self) -> None: ...


class _LocalListener:
    def __init__(self) -> None:
        self.signal = asyncio.Event()

    async def wait(self, max_seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.signal.wait(), max_seconds)
        except TimeoutError:
            return False
        self.signal.clear()
        return True


class LocalEventBus:
    """In-process wake-ups for the embedded setup (one API process, in-process jobs)."""

    def __init__(self) -> None:
        self._listeners: defaultdict[int, set[_LocalListener]] = defaultdict(set)

    async def notify(self, workspace_id: int) -> None:
        for listener in self._listeners.get(workspace_id, ()):
            listener.signal.set()

    @asynccontextmanager
    async def listen(self, workspace_id: int) -> AsyncIterator[_LocalListener]:
        listener = _LocalListener()
        self._listeners[workspace_id].add(listener)
        try:
            yield listener
        finally:
            self._listeners[workspace_id].discard(listener)
            if not self._listeners[workspace_id]:
                del self._listeners[workspace_id]

    async def notify_all(self) -> None:
        for workspace_id in list(self._listeners):
            await self.notify(workspace_id)

    async def close(self) -> None:
        self._listeners.clear()


class RedisEventBus:
    """Wake-ups across processes over Redis pub/sub (production).

    Every process subscribes once to all workspace channels and wakes its own followers.
    A lost message costs at most one heartbeat of latency: followers re-read the event
    log on every heartbeat, and everyone is woken after a reconnect.
    """

    RECONNECT_SECONDS = 1.0

    def __init__(self, redis: Redis, prefix: str = "cw") -> None:
        self._redis = redis
        self._prefix = prefix
        self._local = LocalEventBus()
        self._reader: asyncio.Task[None] | None = None

    def _channel(self, workspace_id: int) -> str:
        return f"{self._prefix}:workspace:{workspace_id}"

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="redis-event-bus")

    async def _read_forever(self) -> None:
        pattern = self._channel(0).removesuffix("0") + "*"
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(pattern)
                    await self._local.notify_all()  # anything missed while disconnected
                    async for message in pubsub.listen():
                        if message["type"] == "pmessage":
                            channel = message["channel"]
                            if isinstance(channel, bytes):
                                channel = channel.decode()
                            await self._local.notify(int(channel.rsplit(":", 1)[1]))
            except (RedisError, OSError) as exc:
                logger.warning("event bus lost Redis (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(self.RECONNECT_SECONDS)

    async def notify(self, workspace_id: int) -> None:
        await self._local.notify(workspace_id)
        try:
            await self._redis.publish(self._channel(workspace_id), "1")
        except (RedisError, OSError) as exc:
            # The event is stored; other processes' followers find it on their next poll.
            logger.warning("could not publish a wake-up to Redis: %s", type(exc).__name__)

    def listen(self, workspace_id: int) -> Any:
        return self._local.listen(workspace_id)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._local.close()


@asynccontextmanager
async def open_event_bus(settings: Settings) -> AsyncIterator[EventBus]:
    """Redis pub/sub wake-ups when ``REDIS_URL`` is set, in-process ones otherwise."""
    if not settings.redis_url:
        bus = LocalEventBus()
        yield bus
        await bus.close()
        return
    redis = Redis.from_url(settings.redis_url)
    redis_bus = RedisEventBus(redis)
    await redis_bus.start()
    try:
        yield redis_bus
    finally:
        await redis_bus.close()
        await redis.aclose()
