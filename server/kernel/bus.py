"""The bus that wakes a workspace's followers when it has new events.

The events themselves are stored (``server/events/``); the bus says "workspace N has
something new", and may carry what is new (an event's payload, as JSON) so its followers
need not read the database for it. A wake-up without a payload (a deletion) means "read
the database". The database stays the source of truth: a follower that finds a gap
between what it has and what a wake-up carries reads the database. The embedded bus
wakes followers in this process; the Redis bus (production) wakes followers in every
API process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.kernel.settings import Settings

logger = logging.getLogger(__name__)

# Loop turns a publisher in this process gives its followers to send what it published.
FOLLOWERS_TURNS = 2

# What a wake-up carries: an event's JSON payload, or None (something changed: read it).
News = dict[str, Any] | None


class Listener(Protocol):
    async def wait(self, max_seconds: float) -> list[News]:
        """What arrived since the last wait, once anything has; empty on timeout."""
        ...


class EventBus(Protocol):
    clock: ChangeClock

    async def notify(self, workspace_id: int, news: News = None) -> None: ...

    def listen(self, workspace_id: int) -> Any:
        """An async context manager yielding a :class:`Listener`."""
        ...

    async def close(self) -> None: ...


class ChangeClock:
    """Which workspaces woke since a tick: what lets a process answer a repeated read from
    memory while nothing it shows has changed (``rest/hot_reads.py``).

    Every wake-up a process hears (its own and, over Redis, every other process's) moves
    the clock on and marks its workspace. The marks of the ``REMEMBERED`` most recently
    woken workspaces are kept; an older one reads as woken at the newest mark forgotten.
    While the bus is not sure to hear every wake-up (Redis away, not yet subscribed),
    everything reads as changed.
    """

    REMEMBERED = 100_000

    def __init__(self, *, hearing: bool = True) -> None:
        self.tick = 0
        self.hearing = hearing
        self._woken: OrderedDict[int, int] = OrderedDict()
        self._forgotten = 0  # the newest tick of a mark no longer kept

    def woke(self, workspace_id: int) -> None:
        self.tick += 1
        self._woken[workspace_id] = self.tick
        self._woken.move_to_end(workspace_id)
        if len(self._woken) > self.REMEMBERED:
            _, self._forgotten = self._woken.popitem(last=False)

    def everything_woke(self) -> None:
        """Wake-ups may have been missed (a reconnect): nothing read before is current."""
        self.tick += 1
        self._forgotten = self.tick
        self._woken.clear()

    def unchanged_since(self, workspace_id: int, tick: int) -> bool:
        return self.hearing and self._woken.get(workspace_id, self._forgotten) <= tick


async def followers_turns() -> None:
    for _ in range(FOLLOWERS_TURNS):
        await asyncio.sleep(0)


class _LocalListener:
    def __init__(self) -> None:
        self.signal = asyncio.Event()
        self.arrived: list[News] = []

    def deliver(self, news: News) -> None:
        self.arrived.append(news)
        self.signal.set()

    async def wait(self, max_seconds: float) -> list[News]:
        if not self.signal.is_set():
            try:
                async with asyncio.timeout(max_seconds):
                    await self.signal.wait()
            except TimeoutError:
                return []
        self.signal.clear()
        arrived, self.arrived = self.arrived, []
        return arrived


class LocalEventBus:
    """In-process wake-ups for the embedded setup (one API process, in-process jobs)."""

    def __init__(self, clock: ChangeClock | None = None) -> None:
        self._listeners: defaultdict[int, set[_LocalListener]] = defaultdict(set)
        self.clock = clock or ChangeClock()

    def listening(self, workspace_id: int) -> bool:
        return workspace_id in self._listeners

    async def notify(self, workspace_id: int, news: News = None) -> None:
        """A publisher in this process: its followers' turn comes before it goes on (a job
        here, whose next stage may hold the loop for milliseconds): the feed takes the
        event in one turn, its followers write it in the next."""
        if self.deliver(workspace_id, news):
            await followers_turns()

    def deliver(self, workspace_id: int, news: News = None) -> bool:
        """Wake the workspace's followers here; whether it has any. Without turns: a
        reader of wake-ups from elsewhere goes on to the next, and followers that wake
        late send what arrived meanwhile in one write."""
        self.clock.woke(workspace_id)
        listeners = self._listeners.get(workspace_id, ())
        for listener in listeners:
            listener.deliver(news)
        return bool(listeners)

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

    Every process subscribes once to all workspace channels and wakes its own followers;
    a message is ``<origin> <news as JSON>``, so a process skips its own (it woke its
    followers before publishing) and decodes only what it has followers for. A lost
    message costs at most one heartbeat of latency: followers re-read the event log on
    every heartbeat, and everyone is woken after a reconnect.
    """

    RECONNECT_SECONDS = 1.0

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        # Pub/sub spans a Redis server's databases: the channels name this one's.
        self._prefix = f"cw:{redis.connection_pool.connection_kwargs.get('db', 0)}"
        self._origin = secrets.token_hex(8).encode()
        # Not hearing until subscribed: wake-ups from other processes would be missed.
        self.clock = ChangeClock(hearing=False)
        self._local = LocalEventBus(self.clock)
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
                            await self._received(message["channel"], message["data"])
                        elif message["type"] == "psubscribe":
                            # Subscribed: from now on every wake-up is heard.
                            self.clock.everything_woke()
                            self.clock.hearing = True
            except (RedisError, OSError) as exc:
                self.clock.hearing = False
                logger.warning("event bus lost Redis (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(self.RECONNECT_SECONDS)

    async def _received(self, channel: bytes | str, data: bytes | str) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode()
        workspace_id = int(channel.rsplit(":", 1)[1])
        if isinstance(data, str):
            data = data.encode()
        origin, _, body = data.partition(b" ")
        if origin == self._origin:
            return  # this process's own: its notify woke its followers and the clock
        # Decoded only for followers here; without any, the clock alone is told.
        listening = self._local.listening(workspace_id)
        self._local.deliver(workspace_id, json.loads(body) if body and listening else None)

    async def notify(self, workspace_id: int, news: News = None) -> None:
        """Wake this process's followers and publish to the others; this process's take
        their turns while the publish is on its way, not before it leaves (a worker's
        own followers, its lease keepers, would delay every event to the API processes)."""
        listening = self._local.deliver(workspace_id, news)
        message = self._origin if news is None else self._origin + b" " + json.dumps(news).encode()
        try:
            await self._redis.publish(self._channel(workspace_id), message)
        except (RedisError, OSError) as exc:
            # The event is stored; other processes' followers find it on their next poll.
            logger.warning("could not publish a wake-up to Redis: %s", type(exc).__name__)
        if listening:
            await followers_turns()

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
