"""The arq worker: runs jobs from Redis with the same pipeline code as the embedded runner.

Start it with ``canvas-workspace worker`` (or ``arq jobs.worker.WorkerSettings``).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any, ClassVar
from uuid import UUID

from arq import func
from arq.connections import RedisSettings
from tortoise import Tortoise

from jobs.arq_runner import RUN_JOB, ArqJobRunner
from jobs.dispatch import run_job
from jobs.lease import reap_forever
from server.db import check_database, tortoise_config
from server.runtime import build_runtime, open_event_bus
from server.settings import get_settings

SETTINGS = get_settings()


async def startup(ctx: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(SETTINGS))
    await check_database()
    resources = AsyncExitStack()
    bus = await resources.enter_async_context(open_event_bus(SETTINGS))
    rt = build_runtime(SETTINGS, bus)
    rt.runner = ArqJobRunner(ctx["redis"])
    ctx.update(rt=rt, resources=resources, reaper=asyncio.create_task(reap_forever(rt)))


async def shutdown(ctx: dict[str, Any]) -> None:
    ctx["reaper"].cancel()
    await asyncio.gather(ctx["reaper"], return_exceptions=True)
    await ctx["resources"].aclose()
    await Tortoise.close_connections()


async def run_job_task(ctx: dict[str, Any], job_id: str) -> None:
    await run_job(ctx["rt"], UUID(job_id))


class WorkerSettings:
    functions: ClassVar = [func(run_job_task, name=RUN_JOB, max_tries=1)]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(SETTINGS.redis_url or "redis://127.0.0.1:6379")
    max_jobs = SETTINGS.worker_max_jobs
    # Our own timeout fails the job cleanly first; arq's is a backstop.
    job_timeout = SETTINGS.job_timeout_seconds + 30
    # Retries are ours (lease + reaper, bounded by JOB_MAX_ATTEMPTS), not arq's.
    keep_result = 60
