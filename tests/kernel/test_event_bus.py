"""The Redis event bus between processes: a wake-up carries its event to the other
processes, once, and stays within its Redis database (pub/sub spans a server's databases).

Each bus here stands for one process: its own connection, subscription and origin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from redis.asyncio import Redis

from server.kernel.bus import ChangeClock, Listener, News, RedisEventBus
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


def test_the_change_clock_says_which_workspaces_woke_since_a_tick():
    clock = ChangeClock()
    before = clock.tick
    clock.woke(1)
    assert not clock.unchanged_since(1, before)
    assert clock.unchanged_since(1, clock.tick)
    assert clock.unchanged_since(2, before), "workspace 2 never woke"
    clock.everything_woke()
    assert not clock.unchanged_since(2, before), "wake-ups may have been missed"
    clock.hearing = False
    assert not clock.unchanged_since(2, clock.tick), "not hearing: nothing is current"


def test_a_forgotten_mark_reads_as_the_newest_forgotten_one(monkeypatch):
    monkeypatch.setattr(ChangeClock, "REMEMBERED", 2)
    clock = ChangeClock()
    start = clock.tick
    clock.woke(1)
    after_one = clock.tick
    clock.woke(2)
    clock.woke(3)  # 1's mark is forgotten
    assert not clock.unchanged_since(1, start)
    assert clock.unchanged_since(1, after_one)
    assert not clock.unchanged_since(7, start), "never seen, but older marks are gone"


async def test_every_process_hears_every_wake_up_on_its_clock():
    """A process with no follower of a workspace still marks its clock when another process
    wakes it; before its subscription it hears nothing, and says so."""
    url = redis_test_url()
    await require_clean_redis(url)
    async with AsyncExitStack() as stack:
        publisher = await stack.enter_async_context(process_bus(url))
        unstarted = RedisEventBus(Redis.from_url(url))
        assert not unstarted.clock.unchanged_since(WORKSPACE, unstarted.clock.tick)
        await unstarted.close()
        reader = await stack.enter_async_context(process_bus(url))
        await subscribed(reader, publisher)
        for _ in range(100):  # the probe may be heard before the subscription's answer
            if reader.clock.hearing:
                break
            await asyncio.sleep(0.01)
        tick = reader.clock.tick
        assert reader.clock.unchanged_since(WORKSPACE, tick)
        await publisher.notify(WORKSPACE, EVENT)
        for _ in range(100):
            if not reader.clock.unchanged_since(WORKSPACE, tick):
                break
            await asyncio.sleep(0.01)
        assert not reader.clock.unchanged_since(WORKSPACE, tick)
        assert reader.clock.unchanged_since(WORKSPACE + 1, tick)
