"""Enqueueing jobs to arq workers on Redis (production)."""

from __future__ import annotations

import uuid
from uuid import UUID

from arq.connections import ArqRedis
from redis.asyncio import Redis

RUN_JOB = "run_job"
CONNECT_TIMEOUT_SECONDS = 1.0  # arq's own default (RedisSettings.conn_timeout)


def enqueued_channel(redis: Redis) -> str:
    """The pub/sub channel that says "a job was enqueued" to idle workers. Pub/sub spans
    a Redis server's databases: the channel names the queue's."""
    database = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"cw:{database}:jobs-enqueued"


def lazy_arq_pool(redis_url: str) -> ArqRedis:
    """An arq pool that connects on first use, unlike ``arq.create_pool`` (which pings and
    gives up after a few tries): an API process starts while Redis is away, and its
    commands reach Redis as soon as it is back."""
    pool: ArqRedis = ArqRedis.from_url(redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
    return pool


class ArqJobRunner:
    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    async def enqueue(self, job_id: UUID) -> None:
        # A fresh arq id per enqueue: a retry must not be deduplicated against the attempt
        # that died. Running a job twice is prevented by claiming it (jobs/lease.py).
        await self.pool.enqueue_job(
            RUN_JOB, str(job_id), _job_id=f"{job_id}:{uuid.uuid4().hex[:8]}"
        )
        # Idle workers wait for this instead of polling (jobs/worker.py).
        await self.pool.publish(enqueued_channel(self.pool), b"")

    async def cancel(self, job_id: UUID) -> None:
        """Nothing to send: the job's lease keeper wakes on the workspace's events, sees the
        job cancelled, and stops it (jobs/lease.py)."""

    async def ping(self) -> bool:
        return bool(await self.pool.ping())

    async def depth(self) -> int | None:
        return int(await self.pool.zcard(self.pool.default_queue_name))

    async def close(self) -> None:
        await self.pool.aclose()
