"""Job leases: one runner at a time per job, and no job left ``running`` by a dead worker.

A runner *claims* a queued job (a conditional update that also counts the attempt), then
holds a lease it renews while the pipeline runs. The renewal loop also wakes on the
workspace's events other than the job's own progress, so a reprocess elsewhere (which
cancels the job and announces its successor) stops it within milliseconds, in any
process. The reaper gives a job whose lease lapsed (its
worker died) another attempt, or fails it after ``JOB_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import F

from models.db import JobStatus, ProcessingJob
from server.events.job_context import JobContext
from server.events.service import JobFenced
from server.kernel.bus import News
from server.kernel.queries import column_values
from server.runtime import Runtime

logger = logging.getLogger(__name__)


def _lease_until(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def claim(job_id: object, lease_seconds: float) -> ProcessingJob | None:
    """Move a queued job to running for this runner; None if someone else has it."""
    claimed = await ProcessingJob.filter(id=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        lease_expires_at=_lease_until(lease_seconds),
        started_at=datetime.now(UTC),
    )
    return await ProcessingJob.get(id=job_id) if claimed else None


async def _renew(job: ProcessingJob, lease_seconds: float) -> bool:
    renewed = await ProcessingJob.filter(
        id=job.id, status=JobStatus.RUNNING, attempts=job.attempts
    ).update(lease_expires_at=_lease_until(lease_seconds))
    return bool(renewed)


def _only_its_own_progress(news: list[News], job: ProcessingJob) -> bool:
    """Wake-ups that carry nothing but this job's own events while it runs: each was
    written under the job's fence, so it already proved the job is still this runner's.
    Renewing on each would double the database writes of every event."""
    job_id = str(job.id)
    return bool(news) and all(
        item is not None and item.get("job_id") == job_id and item.get("status") == "running"
        for item in news
    )


async def _hold_lease(rt: Runtime, job: ProcessingJob, lost: asyncio.Event) -> None:
    """Renew every third of the lease, and at once on any other news of the workspace
    (another job's event, a deletion): what may mean this job was taken away."""
    lease = rt.settings.job_lease_seconds
    loop = asyncio.get_running_loop()
    async with rt.bus.listen(job.workspace_id) as listener:
        while await _renew(job, lease):
            renew_at = loop.time() + lease / 3
            while (left := renew_at - loop.time()) > 0:
                if not _only_its_own_progress(await listener.wait(left), job):
                    break
    lost.set()


async def run_leased(
    rt: Runtime, job: ProcessingJob, pipeline: Callable[[ProcessingJob], Coroutine[Any, Any, None]]
) -> None:
    """Run ``pipeline`` while holding the job's lease; stop it if the job is taken away
    (cancelled by a reprocess, or reaped and handed to another worker)."""
    lost = asyncio.Event()
    work = asyncio.create_task(pipeline(job))
    keeper = asyncio.create_task(_hold_lease(rt, job, lost))
    stop = asyncio.create_task(lost.wait())
    try:
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            logger.info("job %s is no longer ours; stopping it", job.id)
            work.cancel()
        await asyncio.gather(work, return_exceptions=True)
    finally:
        for task in (keeper, stop, work):
            task.cancel()
        await asyncio.gather(keeper, stop, return_exceptions=True)


async def _handle_lost(rt: Runtime, job: ProcessingJob) -> None:
    ctx = JobContext(rt, job)
    try:
        if job.attempts >= rt.settings.job_max_attempts:
            await ctx.fail(
                "worker_lost",
                f"The worker running this job stopped {job.attempts} times; giving up",
            )
            return
        await ctx.requeue_after_lost_worker()
    except JobFenced:
        return  # another reaper, or a reprocess, got there first
    logger.warning("job %s lost its worker; retrying", job.id)
    await rt.runner.enqueue(job.id)


async def reap_lost_jobs(rt: Runtime) -> int:
    """Retry (or fail, after the last attempt) jobs whose lease lapsed; re-enqueue queued
    jobs nobody picked up (their enqueue may have been lost with Redis)."""
    now = datetime.now(UTC)
    lost = await ProcessingJob.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    for job in lost:
        await _handle_lost(rt, job)
    stale = now - timedelta(seconds=rt.settings.job_lease_seconds)
    unclaimed = await column_values(
        ProcessingJob.filter(status=JobStatus.QUEUED, updated_at__lt=stale), "id"
    )
    for job_id in unclaimed:
        await ProcessingJob.filter(id=job_id, status=JobStatus.QUEUED).update(updated_at=now)
        await rt.runner.enqueue(job_id)
    return len(lost) + len(unclaimed)


async def reap_forever(rt: Runtime) -> None:
    interval = max(rt.settings.job_lease_seconds / 3, 0.2)
    while True:
        try:
            await reap_lost_jobs(rt)
        except Exception as exc:  # the database or Redis may be away for a while
            logger.warning("reaper pass failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)
