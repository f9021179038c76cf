"""Rows 3 and 4: how long a progress event takes from the job that publishes it (a worker in
production, the API process embedded) to a client, over SSE and over GraphQL
subscriptions, against a bare Redis pub/sub round trip;
and how one API process fares with 1,000 to 10,000 streams open while a job publishes to all
of them, against a bare sse-starlette server broadcasting from memory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psutil
import redis.asyncio as redis_asyncio

from bench.ceiling import HEARTBEAT_SECONDS, running_ceiling
from bench.figures import Row, latency, ms, note, percentile, times
from bench.pipeline import plan
from bench.setups import BENCH_REDIS_URL, Setup
from bench.streams import stream_load

PATH = "/assignments/101/1001"
FLOOR_SAMPLES = 500
FAN_OUT_STREAMS = (1000, 3000, 10000)
# GraphQL subscriptions too, each count on a fresh API process, against the same bare SSE
# server (they open at some 170 a second here: 10,000 take about a minute).
FAN_OUT_GRAPHQL_STREAMS = FAN_OUT_STREAMS
FAN_OUT_KINDS = {"sse": "SSE streams", "graphql": "GraphQL subscriptions"}
FAN_OUT_JOBS = 1
STREAMS_TIMEOUT_SECONDS = 300.0


async def redis_round_trips(count: int = FLOOR_SAMPLES) -> list[float]:
    """Seconds from ``PUBLISH`` to the subscriber holding the message, ``count`` times."""
    client = redis_asyncio.Redis.from_url(BENCH_REDIS_URL)
    channel = f"bench:floor:{uuid.uuid4().hex}"  # pub/sub spans Redis databases
    samples = []
    try:
        async with client.pubsub() as pubsub:
            await pubsub.subscribe(channel)
            for _ in range(count):
                sent = time.perf_counter()
                await client.publish(channel, b"1")
                while await pubsub.get_message(ignore_subscribe_messages=True, timeout=5) is None:
                    pass
                samples.append(time.perf_counter() - sent)
    finally:
        await client.aclose()
    return samples


async def postgres_commits(database_url: str, count: int = FLOOR_SAMPLES) -> list[float]:
    """Seconds an ``INSERT`` of an event-sized row and its ``COMMIT`` take on the
    production database, ``count`` times: part of every event's way to a client (events
    are stamped just before they are written), not of the issue's "from the commit"."""
    connection = await asyncpg.connect(database_url)
    table = f"bench_commit_{uuid.uuid4().hex[:8]}"
    samples = []
    try:
        await connection.execute(f"CREATE TABLE {table} (seq int, payload jsonb)")
        for seq in range(count):
            started = time.perf_counter()
            async with connection.transaction():
                await connection.execute(
                    f"INSERT INTO {table} VALUES ($1, $2)",
                    seq,
                    '{"message": "' + "x" * 300 + '"}',
                )
            samples.append(time.perf_counter() - started)
    finally:
        await connection.execute(f"DROP TABLE IF EXISTS {table}")
        await connection.close()
    return samples


def _delivery_target(setup: Setup, floor: list[float]) -> tuple[float, str]:
    """Issue 17's p99 target: 2 × the Redis round trip's p99 + 5 ms in production, 5 ms
    embedded."""
    if setup.database_url is None:
        return 0.005, "target p99 ≤ 5 ms"
    target = 2 * percentile(floor, 99) + 0.005
    return target, f"target p99 ≤ 2 × round trip + 5 ms = {ms(target)}"


async def _ensure_plan(setup: Setup) -> None:
    async with httpx.AsyncClient(base_url=setup.api, timeout=30) as http:
        await plan(http, setup, PATH, reprocess=False)


async def _reprocess(api: str, setup: Setup) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{api}{PATH}/start?reprocess=true", headers=setup.headers)
        answer.raise_for_status()


async def event_delivery_rows(setup: Setup, workdir: Path, jobs: int, seconds: float) -> list[Row]:
    """One SSE stream and one GraphQL subscription follow up to ``jobs`` plan jobs, one
    after the other, for at most ``seconds``."""
    floor = await redis_round_trips()
    await _ensure_plan(setup)
    followed = 0
    async with stream_load(
        setup.api,
        f"{PATH}/events",
        setup.headers["Authorization"],
        out=workdir / "delivery.json",
        sse=1,
        graphql=1,
        seconds=STREAMS_TIMEOUT_SECONDS,
    ) as load:
        await load.ready()
        deadline = time.monotonic() + seconds
        while followed < jobs and time.monotonic() < deadline:
            await _reprocess(setup.api, setup)
            await load.delivered()
            followed += 1
        results = await load.results()
    baseline = f"bare Redis pub/sub round trip {latency(floor, 99)}"
    if setup.database_url is not None:
        commits = await postgres_commits(setup.database_url)
        baseline += f"; bare PostgreSQL INSERT + COMMIT {latency(commits, 99)}"
    target, target_text = _delivery_target(setup, floor)
    rows = []
    for protocol, name in (("sse", "SSE"), ("graphql", "GraphQL subscription")):
        samples = results["latencies"][protocol]
        late = sum(sample >= HEARTBEAT_SECONDS - 1 for sample in samples)
        rows.append(
            Row(
                f"3. event delivery, commit → client over {name}, {setup.name} "
                f"({len(samples)} events, {followed} jobs)",
                latency(samples, 99),
                baseline,
                f"{target_text}: {'met' if percentile(samples, 99) <= target else 'not met'}",
                details=f"{name}: {late} of {len(samples)} events came only with the "
                f"follower's heartbeat re-read ({HEARTBEAT_SECONDS:g} s): their wake-up "
                "was lost"
                if late
                else "",
            )
        )
    return rows


@dataclass(frozen=True)
class FanOut:
    connected: int
    opened_in: float  # seconds to open them all
    bytes_per_stream: float
    latencies: list[float]

    def __str__(self) -> str:
        return (
            f"opened in {self.opened_in:.0f} s, {self.bytes_per_stream / 1024:.0f} KiB/stream; "
            f"delivery {latency(self.latencies, 99)}, slowest {ms(max(self.latencies))}"
        )


async def fan_out(
    url: str,
    pid: int,
    path: str,
    authorization: str | None,
    streams: int,
    publish: Callable[[], Awaitable[None]],
    out: Path,
    protocol: str = "sse",
) -> FanOut:
    """Open ``streams`` streams (``protocol``: ``sse``, or ``graphql`` subscriptions) on the
    server at ``url`` (process ``pid``), then have ``publish`` send a job's events
    ``FAN_OUT_JOBS`` times."""
    process = psutil.Process(pid)
    before = process.memory_info().rss
    note(f"   opening {streams:,} streams on {url}")
    started = time.monotonic()
    async with stream_load(
        url,
        path,
        authorization,
        out=out,
        seconds=STREAMS_TIMEOUT_SECONDS,
        **{protocol: streams},
    ) as load:
        connected = await load.ready()
        opened_in = time.monotonic() - started
        held = process.memory_info().rss - before
        note(f"   {connected:,} open; publishing")
        for _ in range(FAN_OUT_JOBS):
            await publish()
            await load.delivered()
        results = await load.results()
    return FanOut(connected, opened_in, held / connected, results["latencies"][protocol])


async def fan_out_rows(setup: Setup, workdir: Path) -> list[Row]:
    await _ensure_plan(setup)
    rows = []
    for streams in FAN_OUT_STREAMS:
        log = workdir / f"ceiling-fan-out-{streams}.log"
        async with running_ceiling(log) as ceiling:

            async def broadcast(url: str = ceiling.url) -> None:
                async with httpx.AsyncClient(timeout=30) as http:
                    (await http.post(f"{url}/publish")).raise_for_status()

            bare = await fan_out(
                ceiling.url,
                ceiling.pid,
                "/events",
                None,
                streams,
                broadcast,
                workdir / f"fan-out-bare-{streams}.json",
            )
        protocols = ["sse", "graphql"] if streams in FAN_OUT_GRAPHQL_STREAMS else ["sse"]
        for protocol in protocols:
            name = f"fan-out-{protocol}-{streams}"
            api = await setup.stack.start_api(name)
            try:

                async def job(api: str = api) -> None:
                    await _reprocess(api, setup)

                served = await fan_out(
                    api,
                    setup.pid(name),
                    f"{PATH}/events",
                    setup.headers["Authorization"],
                    streams,
                    job,
                    workdir / f"{name}.json",
                    protocol,
                )
            finally:
                setup.stop(name)
            p50 = times(percentile(served.latencies, 50), percentile(bare.latencies, 50))
            rows.append(
                Row(
                    f"4. fan-out, {streams:,} {FAN_OUT_KINDS[protocol]} on one API process "
                    f"({setup.name})",
                    f"held {served.connected:,}/{streams:,}; {served}",
                    f"bare sse-starlette broadcast: {bare}",
                    f"memory {times(served.bytes_per_stream, bare.bytes_per_stream)}, p50 {p50}",
                )
            )
    return rows
