"""Running a job: claim it, hold its lease, run its type's pipeline, record the outcome.

The same code runs in the API process (embedded) and in arq workers (production).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from uuid import UUID

from jobs.arq_runner import ArqJobRunner, lazy_arq_pool
from jobs.lease import claim, reap_forever, run_leased
from jobs.runner import InProcessJobRunner
from models.db import JobStatus, JobType, ProcessingJob
from server.events.job_context import JobContext
from server.events.service import JobFenced
from server.feedback.pipeline import review_submission
from server.kernel.db import wait_for_database
from server.kernel.errors import AppError
from server.kernel.logs import log_context
from server.kernel.queries import column_values
from server.kernel.settings import Settings
from server.planning.pipeline import plan_assignment
from server.runtime import JobQueue, Runtime

logger = logging.getLogger(__name__)

Pipeline = Callable[[Runtime, JobContext], Awaitable[None]]

PIPELINES: dict[JobType, Pipeline] = {
    JobType.PLAN: plan_assignment,
    JobType.MILESTONE_FEEDBACK: review_submission,
    JobType.ASSIGNMENT_FEEDBACK: review_submission,
}


async def run_job(rt: Runtime, job_id: UUID) -> None:
    with log_context(job_id=str(job_id)):
        job = await claim(job_id, rt.settings.job_lease_seconds)
        if job is None:
            return  # cancelled, finished, or claimed by another runner
        await run_leased(rt, job, lambda claimed: _run_pipeline(rt, claimed))


async def _run_pipeline(rt: Runtime, job: ProcessingJob) -> None:
    ctx = JobContext(rt, job)
    pipeline = PIPELINES.get(JobType(job.job_type))
    try:
        if pipeline is None:
            raise AppError(f"No pipeline runs {job.job_type} jobs", code="unsupported_job")
        await ctx.start()
        async with asyncio.timeout(rt.settings.job_timeout_seconds):
            await pipeline(rt, ctx)
    except JobFenced:
        ctx.cancelled()
        logger.info("job %s was superseded; it stops without writing", job.id)
    except asyncio.CancelledError:
        ctx.cancelled()  # taken away (a reprocess, a lost lease) or the runner is stopping
        raise
    except AppError as exc:
        await _fail(ctx, exc.code, exc.message)
    except TimeoutError:
        limit = rt.settings.job_timeout_seconds
        await _fail(ctx, "job_timeout", f"The job took longer than {limit:.0f} s")
    except Exception:
        logger.exception("job %s failed unexpectedly", job.id)
        await _fail(ctx, "internal_error", "The job failed because of an internal error")


async def _fail(ctx: JobContext, code: str, message: str) -> None:
    try:
        await ctx.fail(code, message)
    except JobFenced:
        ctx.cancelled()
        logger.info("job %s failed after it was superseded", ctx.job.id)


async def _requeue_orphans(runner: InProcessJobRunner) -> None:
    """Embedded only: jobs a stopped API process left running get another go, once the
    database answers (the process may start while it is away)."""
    await wait_for_database()
    await ProcessingJob.filter(status=JobStatus.RUNNING).update(
        status=JobStatus.QUEUED, lease_expires_at=None
    )
    for job_id in await column_values(ProcessingJob.filter(status=JobStatus.QUEUED), "id"):
        await runner.enqueue(job_id)


@asynccontextmanager
async def serving_jobs(
    settings: Settings, build_runtime: Callable[[JobQueue], Runtime]
) -> AsyncIterator[Runtime]:
    """The process's runtime, built around the job queue the settings ask for (arq on
    Redis when ``REDIS_URL`` is set, else the in-process runner), for the lifetime of the
    block. The extractor's worker processes stop after the runner's jobs have."""
    if settings.redis_url:
        pool = lazy_arq_pool(settings.redis_url)
        rt = build_runtime(ArqJobRunner(pool))
        reaper = asyncio.create_task(reap_forever(rt), name="job-reaper")
        try:
            async with rt.extractor:
                yield rt
        finally:
            reaper.cancel()
            await asyncio.gather(reaper, return_exceptions=True)
            await pool.aclose()
        return
    runner = InProcessJobRunner(concurrency=settings.job_concurrency)
    rt = build_runtime(runner)
    async with rt.extractor:
        runner.start(lambda job_id: run_job(rt, job_id))
        requeue = asyncio.create_task(_requeue_orphans(runner), name="requeue-orphans")
        try:
            yield rt
        finally:
            requeue.cancel()
            await asyncio.gather(requeue, return_exceptions=True)
            await runner.close()
