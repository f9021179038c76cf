"""Row 1, pipeline overhead: from ``POST start`` to the ``plan_ready`` event at a client,
against the time the services the job calls (the Canvas simulator, the instant model)
spent answering it; and where the time goes, stage by stage."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bench.figures import Row, latency, ms, percentile, times
from bench.setups import ResponseTimes, Setup, TimedSimulator
from devkit.sse_client import SseMessage, iter_sse

TERMINAL = frozenset({"plan_ready", "failed"})
FOLLOW_SECONDS = 60.0  # for one plan, from the start to plan_ready at the client
POLL_SECONDS = 0.05


def _timestamp(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp()


async def wait_until_planned(http: httpx.AsyncClient, setup: Setup, path: str, job_id: str) -> None:
    """Poll the snapshot until job ``job_id`` has ended; raise unless it made a plan."""
    async with asyncio.timeout(FOLLOW_SECONDS):
        while True:
            snapshot = (await http.get(path, headers=setup.headers)).raise_for_status().json()
            job = snapshot["latest_plan_job"]
            if job["id"] == job_id and job["status"] in ("succeeded", "failed", "cancelled"):
                if job["status"] != "succeeded":
                    raise RuntimeError(f"planning {path} ended {job['status']}: {job['error']}")
                return
            await asyncio.sleep(POLL_SECONDS)


async def start(
    http: httpx.AsyncClient, headers: dict[str, str], path: str, *, reprocess: bool
) -> dict[str, Any]:
    """``POST .../start``; returns the workspace."""
    answer = await http.post(f"{path}/start", params={"reprocess": reprocess}, headers=headers)
    return dict(answer.raise_for_status().json())


async def plan(http: httpx.AsyncClient, setup: Setup, path: str, *, reprocess: bool) -> str:
    """Start planning ``path`` and wait for the plan; returns the job's id. Without
    ``reprocess`` an existing plan is kept."""
    workspace = await start(http, setup.headers, path, reprocess=reprocess)
    job_id = str(workspace["latest_plan_job"]["id"])
    if workspace["status"] != "ready":
        await wait_until_planned(http, setup, path, job_id)
    return job_id


async def _until_plan_ready(
    messages: AsyncIterator[SseMessage], path: str, job_id: str
) -> list[dict[str, Any]]:
    """The job's events up to its ``plan_ready``."""
    events = []
    async for message in messages:
        event = message.json()
        if event.get("job_id") != job_id:
            continue
        events.append(event)
        if message.event in TERMINAL:
            if message.event != "plan_ready":
                raise RuntimeError(f"planning {path} failed: {message.data}")
            return events
    raise RuntimeError(f"the stream of {path} ended before its plan was ready")


@dataclass(frozen=True)
class Run:
    seen: float  # start to plan_ready at the client
    stored: float  # start to plan_ready's own timestamp (when the worker stored it)
    external: float  # the called services' own time answering the job
    stages: dict[str, float]  # seconds from each stage's start to the next event


def _stages(started_at: float, events: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds spent before the job started (queued) and in each stage."""
    spans: dict[str, float] = defaultdict(float)
    previous, current = started_at, "queued"
    for event in events:
        if event["event_type"] in ("job_started", "stage_started", "plan_ready"):
            moment = _timestamp(event)
            spans[current] += moment - previous
            previous, current = moment, event.get("stage") or current
    return dict(spans)


async def replan(
    http: httpx.AsyncClient, setup: Setup, path: str, external: Sequence[ResponseTimes]
) -> Run:
    """Reprocess ``path`` once, following its stream from before the start."""
    async with http.stream("GET", f"{path}/events", headers=setup.headers) as response:
        response.raise_for_status()
        messages = iter_sse(response)
        await anext(messages)  # the snapshot: every later event reaches this stream
        marks = [len(service.durations) for service in external]
        started_at = time.time()
        started = time.perf_counter()
        answer = await http.post(f"{path}/start?reprocess=true", headers=setup.headers)
        job_id = answer.raise_for_status().json()["latest_plan_job"]["id"]
        async with asyncio.timeout(FOLLOW_SECONDS):
            events = await _until_plan_ready(messages, path, job_id)
        seen = time.perf_counter() - started
    return Run(
        seen=seen,
        stored=_timestamp(events[-1]) - started_at,
        external=sum(s.total_since(m) for s, m in zip(external, marks, strict=True)),
        stages=_stages(started_at, events),
    )


def _breakdown(runs: list[Run]) -> str:
    stages = list(dict.fromkeys(stage for run in runs for stage in run.stages))
    medians = {s: statistics.median(run.stages.get(s, 0.0) for run in runs) for s in stages}
    return ", ".join(f"{stage} {ms(seconds)}" for stage, seconds in medians.items())


async def pipeline_rows(
    setups: Sequence[Setup],
    sim: TimedSimulator,
    external: dict[str, ResponseTimes],
    runs: int,
    seconds: float,
) -> list[Row]:
    """Up to ``runs`` reprocesses of every sample assignment on each setup, for at most
    ``seconds`` in all; ``external`` names the services whose own time is the baseline.

    The setups take turns, one replan each: whatever else the shared machine does while
    the row runs weighs on them alike (measured one after the other, a whole setup's runs
    were once slower by a third, "queued" included, which no engine touches).
    """
    paths = [f"/assignments/{c}/{a}" for c, a in sim.sample_assignments()]
    measured: list[list[Run]] = [[] for _ in setups]
    async with AsyncExitStack() as clients:
        https = [
            await clients.enter_async_context(
                httpx.AsyncClient(base_url=setup.api, timeout=FOLLOW_SECONDS)
            )
            for setup in setups
        ]
        # A warm-up plan of each on each setup's own worker: its extraction cache then
        # holds the files, as for any student of a course after the first.
        for http, setup in zip(https, setups, strict=True):
            await asyncio.gather(*(plan(http, setup, path, reprocess=True) for path in paths))
        deadline = time.monotonic() + seconds
        for path in (path for _ in range(runs) for path in paths):
            if time.monotonic() > deadline:
                break
            for http, setup, runs_of_setup in zip(https, setups, measured, strict=True):
                runs_of_setup.append(await replan(http, setup, path, list(external.values())))
    rows = [
        _row(setup, runs_of_setup, external, len(paths))
        for setup, runs_of_setup in zip(setups, measured, strict=True)
    ]
    by_name = {setup.name: (setup, runs) for setup, runs in zip(setups, measured, strict=True)}
    if {"embedded", "production"} <= by_name.keys():
        rows.append(_production_against_embedded(by_name["production"], by_name["embedded"]))
    return rows


# Issue 17: a production plan's p50 from POST start to plan_ready at most this many times
# the embedded one's, for the same assignments.
PRODUCTION_OVER_EMBEDDED_TARGET = 1.3


def _production_against_embedded(
    production: tuple[Setup, list[Run]], embedded: tuple[Setup, list[Run]]
) -> Row:
    (setup, served), (_, baseline) = production, embedded
    figure = percentile([run.seen for run in served], 50)
    base = percentile([run.seen for run in baseline], 50)
    met = figure <= PRODUCTION_OVER_EMBEDDED_TARGET * base
    return Row(
        f"1. production against embedded, {setup.engine.label} (the same replans, taking turns)",
        f"start → plan_ready at the client p50 {ms(figure)}",
        f"embedded p50 {ms(base)}",
        f"{figure / base:.2f}× (target ≤ {PRODUCTION_OVER_EMBEDDED_TARGET}×: "
        f"{'met' if met else 'not met'})",
    )


def _row(setup: Setup, measured: list[Run], external: dict[str, ResponseTimes], paths: int) -> Row:
    seen = [run.seen for run in measured]
    baseline = [run.external for run in measured]
    stored = percentile([run.stored for run in measured], 50)
    return Row(
        f"1. pipeline, {setup.label} ({len(measured)} runs over {paths} assignments, taking turns)",
        f"start → plan_ready at the client {latency(seen)} (stored at p50 {ms(stored)})",
        f"{' + '.join(external)} own time {latency(baseline)}",
        times(percentile(seen, 50), percentile(baseline, 50)),
        details=f"where the time goes, {setup.label} (medians): {_breakdown(measured)}",
    )
