"""The Redis event bus between processes: a wake-up carries its event to the other
processes, once, and stays within its Redis database (pub/sub spans a server's databases).

Each bus here stands for one process: its own connection, subscription and origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from redis.asyncio import Redis

from server.kernel.bus import Listener, News, RedisEventBus
from tests.support.processes import redis_test_url, require_clean_redis

WORKSPACE = 41
PROBE = 40
EVENT = {"id": 7, "event_type": "stage_started", "message": "Reading the assignment"}


@asynccontextmanager
async def process_bus(url: str) -> AsyncIterator[RedisEventBus]:
    redis = Redis.from_url(url)
    bus = RedisEventBus(redis)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()
        await redis.aclose()


def other_database(url: str) -> str:
    base, _, database = url.rpartition("/")
    return f"{base}/{(int(database or 0) + 1) % 16}"


async def subscribed(listening: RedisEventBus, publishing: RedisEventBus) -> None:
    """Once ``listening`` hears ``publishing`` (each bus subscribes in a task of its own)."""
    async with listening.listen(PROBE) as probe:
        for _ in range(100):
            await publishing.notify(PROBE)
            if await probe.wait(0.05):
                return
    raise AssertionError("the bus never subscribed")


async def heard(listener: Listener, count: int) -> list[News]:
    """The first ``count`` wake-ups ``listener`` gets (they may come over several waits)."""
    arrived: list[News] = []
    while len(arrived) < count and (more := await listener.wait(5)):
        arrived += more
    return arrived


async def test_a_wake_up_carries_its_event_to_other_processes_once():
    url = redis_test_url()
    await require_clean_redis(url)
    async with AsyncExitStack() as stack:
        publisher, follower, elsewhere, elsewhere_peer = [
            await stack.enter_async_context(process_bus(database))
            for database in (url, url, other_database(url), other_database(url))
        ]
        await subscribed(follower, publisher)
        await subscribed(elsewhere, elsewhere_peer)
        here = await stack.enter_async_context(publisher.listen(WORKSPACE))
        there = await stack.enter_async_context(follower.listen(WORKSPACE))
        other_database_process = await stack.enter_async_context(elsewhere.listen(WORKSPACE))
        await follower.notify(WORKSPACE + 1)  # another workspace: wakes nobody here
        await publisher.notify(WORKSPACE, EVENT)
        await publisher.notify(WORKSPACE)  # a wake-up without an event (a deletion)
        assert await heard(there, 2) == [EVENT, None]
        assert await heard(here, 2) == [EVENT, None]
        # The publisher woke its own followers directly: its message through Redis does
        # not wake them a second time, nor a process on another database of the server.
        assert await here.wait(0.5) == []
        assert await other_database_process.wait(0.5) == []
