"""The arq worker: runs jobs from Redis with the same pipeline code as the embedded runner.

Start it with ``canvas-workspace worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
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

from jobs.arq_runner import RUN_JOB, ArqJobRunner, enqueued_channel
from jobs.execute import run_job
from jobs.lease import reap_forever
from server.assembly import build_runtime
from server.kernel.bus import open_event_bus
from server.kernel.db import sqlite_checkpoints, tortoise_config, wait_for_database
from server.kernel.heap import freeze_startup_objects
from server.kernel.settings import get_settings

logger = logging.getLogger(__name__)

SETTINGS = get_settings()


async def startup(ctx: dict[str, Any]) -> None:
    await Tortoise.init(config=tortoise_config(SETTINGS))
    await wait_for_database()  # no job is taken before it answers
    resources = AsyncExitStack()
    await resources.enter_async_context(sqlite_checkpoints(SETTINGS))
    bus = await resources.enter_async_context(open_event_bus(SETTINGS))
    rt = build_runtime(SETTINGS, bus, ArqJobRunner(ctx["redis"]))
    await resources.enter_async_context(rt.extractor)  # stops its worker processes
    ctx.update(rt=rt, resources=resources, reaper=asyncio.create_task(reap_forever(rt)))
    freeze_startup_objects()


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
    go on meanwhile. It polls the queue when woken (a job enqueued, a slot freed) rather
    than on a timer."""

    REDIS_RETRY_SECONDS = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._woken = asyncio.Event()

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
        wake_ups = asyncio.create_task(self._wake_on_enqueue(), name="worker-wake-ups")
        try:
            await super().main()
        finally:
            wake_ups.cancel()
            await asyncio.gather(wake_ups, return_exceptions=True)

    async def _wake_on_enqueue(self) -> None:
        channel = enqueued_channel(self.pool)
        while True:
            try:
                async with self.pool.pubsub() as pubsub:
                    await pubsub.subscribe(channel)
                    self._woken.set()  # anything enqueued while not subscribed
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._woken.set()
            except (RedisError, OSError) as exc:
                logger.warning("worker wake-ups lost Redis (%s); retrying", type(exc).__name__)
                await asyncio.sleep(self.REDIS_RETRY_SECONDS)

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        self._woken.set()  # a slot is free: take what waits

    async def _poll_iteration(self) -> None:
        self._woken.clear()  # a wake-up from now on polls again
        try:
            await super()._poll_iteration()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            logger.warning("worker lost Redis (%s); retrying", type(exc).__name__)
            await asyncio.sleep(self.REDIS_RETRY_SECONDS)
        # Until a job is enqueued or a slot freed; at most WORKER_POLL_SECONDS, so a
        # wake-up lost while Redis reconnected costs no more.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTINGS.worker_poll_seconds):
                await self._woken.wait()


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
        poll_delay=0,  # _poll_iteration waits for a wake-up
    )
