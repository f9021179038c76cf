"""Row 5, throughput: plan jobs per minute through arq workers, with one worker against
the most one worker process could do (its own CPU time per job), then with two workers
against twice one worker (linear scaling)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import httpx
import psutil

from bench.figures import Row, share
from bench.pipeline import start
from bench.setups import Setup, TimedSimulator, onboard

USERS = 12  # × the five sample assignments: 60 jobs a batch
WARM_UP_JOBS = 20
STARTING_AT_ONCE = 8
BATCH_TIMEOUT_SECONDS = 120.0
FINISHED = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Batch:
    jobs: int
    seconds: float
    worker_cpu_seconds: float
    machine_cpu_percent: float

    @property
    def per_minute(self) -> float:
        return 60 * self.jobs / self.seconds

    @property
    def cpu_bound_per_minute(self) -> float:
        """Jobs a minute if the workers' processes never waited: their CPU time per job."""
        return 60 * self.jobs / self.worker_cpu_seconds


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (the extraction processes) so far."""
    process = psutil.Process(pid)
    own = process.cpu_times()
    total = own.user + own.system + own.children_user + own.children_system
    for child in process.children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


async def run_batch(
    setup: Setup,
    http: httpx.AsyncClient,
    work: list[tuple[dict[str, str], str]],
    workers: list[str],
    *,
    reprocess: bool,
) -> Batch:
    """Start a plan job for every (user, path) of ``work`` and wait for all of them; the
    time is the database's, from the first job created to the last one finished."""
    assert setup.database_url is not None, "jobs are counted in PostgreSQL"
    pids = [setup.pid(worker) for worker in workers]
    cpu_before = sum(_cpu_seconds(pid) for pid in pids)
    psutil.cpu_percent()  # starts the machine-wide measurement
    slots = asyncio.Semaphore(STARTING_AT_ONCE)

    async def start_job(headers: dict[str, str], path: str) -> str:
        async with slots:
            workspace = await start(http, headers, path, reprocess=reprocess)
            return str(workspace["latest_plan_job"]["id"])

    job_ids = await asyncio.gather(*(start_job(headers, path) for headers, path in work))
    connection = await asyncpg.connect(setup.database_url)
    try:
        async with asyncio.timeout(BATCH_TIMEOUT_SECONDS):
            while True:
                row = await connection.fetchrow(
                    "SELECT count(*) FILTER (WHERE status = ANY($2::text[])) AS finished,"
                    " count(*) FILTER (WHERE status <> 'succeeded') AS unsuccessful,"
                    " extract(epoch FROM max(finished_at) - min(created_at)) AS seconds"
                    " FROM processing_jobs WHERE id = ANY($1::uuid[])",
                    job_ids,
                    list(FINISHED),
                )
                if row["finished"] == len(job_ids):
                    break
                await asyncio.sleep(0.1)
    finally:
        await connection.close()
    machine_cpu = psutil.cpu_percent()
    if row["unsuccessful"]:
        raise RuntimeError(f"{row['unsuccessful']} of {len(job_ids)} jobs did not succeed")
    return Batch(
        jobs=len(job_ids),
        seconds=float(row["seconds"]),
        worker_cpu_seconds=sum(_cpu_seconds(pid) for pid in pids) - cpu_before,
        machine_cpu_percent=machine_cpu,
    )


async def throughput_rows(setup: Setup, sim: TimedSimulator) -> list[Row]:
    async with httpx.AsyncClient(base_url=setup.api, timeout=60) as http:
        users = [await onboard(http, sim, sim.add_user()) for _ in range(USERS)]
        paths = [f"/assignments/{c}/{a}" for c, a in sim.sample_assignments()]
        work = [(headers, path) for headers in users for path in paths]
        one = await run_batch(setup, http, work, ["worker-1"], reprocess=False)
        await setup.start_worker("worker-2")
        # Warm the new worker (extraction processes and cache) as the first one is.
        await run_batch(setup, http, work[:WARM_UP_JOBS], ["worker-1", "worker-2"], reprocess=True)
        two = await run_batch(setup, http, work, ["worker-1", "worker-2"], reprocess=True)
    machine = f"{psutil.cpu_count()} cores"
    return [
        Row(
            f"5. throughput, 1 arq worker, {setup.engine.label} ({one.jobs} jobs)",
            f"{one.per_minute:,.0f} plans/min (machine CPU {one.machine_cpu_percent:.0f}%)",
            f"one worker's CPU time per job allows {one.cpu_bound_per_minute:,.0f}/min",
            share(one.per_minute, one.cpu_bound_per_minute),
            details=f"one arq worker spends {1000 * one.worker_cpu_seconds / one.jobs:.0f} ms "
            f"of CPU per plan job with the {setup.engine.label}",
        ),
        Row(
            f"5. throughput, 2 arq workers, {setup.engine.label} ({two.jobs} jobs, {machine})",
            f"{two.per_minute:,.0f} plans/min (machine CPU {two.machine_cpu_percent:.0f}%)",
            f"linear scaling: 2 × one worker = {2 * one.per_minute:,.0f}/min",
            f"{two.per_minute / one.per_minute:.2f}× one worker "
            f"({share(two.per_minute, 2 * one.per_minute)})",
        ),
    ]
