"""The arq worker: runs jobs from Redis with the same pipeline code as the embedded runner.

Start it with ``canvas-workspace worker``.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any
from uuid import UUID

from arq import Worker, func
from arq.connections import RedisSettings, create_pool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise import Tortoise

from jobs.arq_runner import RUN_JOB, ArqJobRunner
from jobs.execute import run_job
from jobs.lease import reap_forever
from server.assembly import build_runtime
from server.kernel.bus import open_event_bus
from server.kernel.db import tortoise_config, wait_for_database
from server.kernel.settings import get_settings

logger = logging.getLogger(__name__)

SETTINGS = get_settings()
# How often an idle worker asks Redis for queued jobs (arq's default is 0.5 s, which a plan
# waited out on average before any work started). One ZRANGEBYSCORE per poll: 20 a second
# per worker is nothing for Redis.
POLL_SECONDS = 0.05


async def startup(ctx: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(SETTINGS))
    await wait_for_database()  # no job is taken before it answers
    resources = AsyncExitStack()
    bus = await resources.enter_async_context(open_event_bus(SETTINGS))
    rt = build_runtime(SETTINGS, bus, ArqJobRunner(ctx["redis"]))
    await resources.enter_async_context(rt.extractor)  # stops its worker processes
    ctx.update(rt=rt, resources=resources, reaper=asyncio.create_task(reap_forever(rt)))


async def shutdown(ctx: dict[str, Any]) -> None:
    ctx["reaper"].cancel()
    await asyncio.gather(ctx["reaper"], return_exceptions=True)
    await ctx["resources"].aclose()
    await Tortoise.close_connections()


async def run_job_task(ctx: dict[str, Any], job_id: str) -> None:
    await run_job(ctx["rt"], UUID(job_id))


class ResilientWorker(Worker):
    """An arq worker that waits out a Redis outage instead of exiting (plain arq stops
    on the first connection error, and at startup after five tries); jobs already running
    go on meanwhile."""

    REDIS_RETRY_SECONDS = 1.0

    async def main(self) -> None:
        while self._pool is None:
            try:
                self._pool = await create_pool(
                    self.redis_settings,
                    job_deserializer=self.job_deserializer,
                    job_serializer=self.job_serializer,
                    default_queue_name=self.queue_name,
                    expires_extra_ms=self.expires_extra_ms,
                )
            except (RedisError, OSError) as exc:
                logger.warning("worker cannot reach Redis (%s); waiting", type(exc).__name__)
                await asyncio.sleep(self.REDIS_RETRY_SECONDS)
        await super().main()

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            logger.warning("worker lost Redis (%s); retrying", type(exc).__name__)
            await asyncio.sleep(self.REDIS_RETRY_SECONDS)


def create_worker() -> ResilientWorker:
    return ResilientWorker(
        functions=[func(run_job_task, name=RUN_JOB, max_tries=1)],
        on_startup=startup,
        on_shutdown=shutdown,
        # No retries inside arq's create_pool: ``main`` waits for Redis itself, for as long
        # as it takes, and says so in the log.
        redis_settings=replace(
            RedisSettings.from_dsn(SETTINGS.redis_url or "redis://127.0.0.1:6379"),
            conn_retries=0,
        ),
        max_jobs=SETTINGS.worker_max_jobs,
        # Our own timeout fails the job cleanly first; arq's is a backstop.
        job_timeout=SETTINGS.job_timeout_seconds + 30,
        # Retries are ours (lease + reaper, bounded by JOB_MAX_ATTEMPTS), not arq's.
        max_tries=1,
        keep_result=60,
        poll_delay=POLL_SECONDS,
    )
