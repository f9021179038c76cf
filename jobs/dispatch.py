"""Which pipeline runs a job, and the embedded runner's wiring."""

from __future__ import annotations

import logging
from uuid import UUID

from jobs.planning import run_planning_job
from jobs.runner import InProcessJobRunner
from models.db import ACTIVE_JOB_STATUSES, JobType, ProcessingJob
from server.runtime import Runtime

logger = logging.getLogger(__name__)


async def run_job(rt: Runtime, job_id: UUID) -> None:
    job_type = await ProcessingJob.filter(id=job_id).values_list("job_type", flat=True)
    if job_type and job_type[0] == JobType.PLAN:
        await run_planning_job(rt, job_id)
    elif job_type:
        logger.error("job %s has type %s, which has no pipeline yet", job_id, job_type[0])


def start_in_process_runner(rt: Runtime) -> InProcessJobRunner:
    runner = InProcessJobRunner(
        lambda job_id: run_job(rt, job_id), concurrency=rt.settings.job_concurrency
    )
    rt.runner = runner
    return runner


async def resume_unfinished_jobs(rt: Runtime) -> int:
    """Re-run jobs a previous process left queued or running (its stages are safe to
    repeat; a plan version is unique per job, so none is stored twice)."""
    job_ids = await ProcessingJob.filter(status__in=ACTIVE_JOB_STATUSES).values_list(
        "id", flat=True
    )
    for job_id in job_ids:
        await rt.runner.enqueue(job_id)
    return len(job_ids)
