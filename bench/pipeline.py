"""Row 1, pipeline overhead: from ``POST start`` to the ``plan_ready`` event, against the
time the Canvas simulator itself spent answering that job's requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bench.figures import Row, latency, ms, percentile, times
from bench.setups import Setup, TimedSimulator
from server.sse_client import SseMessage, iter_sse

TERMINAL = frozenset({"plan_ready", "failed"})
FOLLOW_SECONDS = 60.0  # for one plan, from the start to plan_ready at the client


async def _until_plan_ready(
    messages: AsyncIterator[SseMessage], path: str, job_id: str
) -> dict[str, Any]:
    async for message in messages:
        if message.event in TERMINAL and message.json()["job_id"] == job_id:
            if message.event != "plan_ready":
                raise RuntimeError(f"planning {path} failed: {message.data}")
            return dict(message.json())
    raise RuntimeError(f"the stream of {path} ended before its plan was ready")


async def ensure_plan(http: httpx.AsyncClient, setup: Setup, path: str) -> None:
    """Make sure ``path`` has a plan, planning it once if needed. As a warm-up it also
    fills the extraction cache (by content hash), as any student of a course after the
    first finds it."""
    answer = await http.post(f"{path}/start", headers=setup.headers)
    answer.raise_for_status()
    workspace = answer.json()
    if workspace["status"] == "ready":
        return
    headers = {**setup.headers, "Last-Event-ID": "0"}  # from the start: it may be done
    async with (
        asyncio.timeout(FOLLOW_SECONDS),
        http.stream("GET", f"{path}/events", headers=headers) as response,
    ):
        response.raise_for_status()
        await _until_plan_ready(iter_sse(response), path, workspace["latest_plan_job"]["id"])


@dataclass(frozen=True)
class Run:
    seen: float  # start to plan_ready at the client
    published: float  # start to plan_ready's own timestamp (stored by the worker)
    canvas: float  # the simulator's own time answering the job


async def replan(http: httpx.AsyncClient, setup: Setup, sim: TimedSimulator, path: str) -> Run:
    """Reprocess ``path`` once, following its stream from before the start."""
    async with http.stream("GET", f"{path}/events", headers=setup.headers) as response:
        response.raise_for_status()
        messages = iter_sse(response)
        await anext(messages)  # the snapshot: every later event reaches this stream
        mark = len(sim.response_times.durations)
        started_at = time.time()
        started = time.perf_counter()
        answer = await http.post(f"{path}/start?reprocess=true", headers=setup.headers)
        answer.raise_for_status()
        async with asyncio.timeout(FOLLOW_SECONDS):
            event = await _until_plan_ready(messages, path, answer.json()["latest_plan_job"]["id"])
        seen = time.perf_counter() - started
    published = datetime.fromisoformat(event["timestamp"]).timestamp() - started_at
    return Run(seen, published, sim.response_times.total_since(mark))


async def pipeline_row(setup: Setup, sim: TimedSimulator, runs: int, seconds: float) -> Row:
    """Up to ``runs`` reprocesses of every sample assignment (after a warm-up plan of
    each), for at most ``seconds``."""
    paths = [f"/assignments/{c}/{a}" for c, a in sim.sample_assignments()]
    measured: list[Run] = []
    async with httpx.AsyncClient(base_url=setup.api, timeout=FOLLOW_SECONDS) as http:
        await asyncio.gather(*(ensure_plan(http, setup, path) for path in paths))
        deadline = time.monotonic() + seconds
        for path in (path for _ in range(runs) for path in paths):
            if time.monotonic() > deadline:
                break
            measured.append(await replan(http, setup, sim, path))
    seen = [run.seen for run in measured]
    canvas = [run.canvas for run in measured]
    published = percentile([run.published for run in measured], 50)
    return Row(
        f"1. pipeline, {setup.name}, offline engine ({len(measured)} runs of "
        f"{len(paths)} assignments)",
        f"start → plan_ready at the client {latency(seen)} (stored at p50 {ms(published)})",
        f"Canvas simulator's own time {latency(canvas)}",
        times(percentile(seen, 50), percentile(canvas, 50)),
    )
