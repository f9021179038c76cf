"""The embedded job runner: jobs run as asyncio tasks in the API process, at most
``JOB_CONCURRENCY`` at a time. In production ``jobs/arq_runner.py`` enqueues to Redis
instead; the pipeline code is the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

logger = logging.getLogger(__name__)

JobHandler = Callable[[UUID], Awaitable[None]]


class InProcessJobRunner:
    """A :class:`~server.runtime.JobQueue` whose jobs run here; it runs nothing until
    :meth:`start` gives it the handler (which needs the runtime this runner is part of)."""

    def __init__(self, *, concurrency: int) -> None:
        self._handler: JobHandler | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[UUID, asyncio.Task[None]] = {}

    def start(self, handler: JobHandler) -> None:
        self._handler = handler

    async def enqueue(self, job_id: UUID) -> None:
        if self._handler is None:
            raise RuntimeError("the job runner was not started")
        task = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _run(self, job_id: UUID) -> None:
        async with self._slots:
            try:
                assert self._handler is not None  # enqueue checked it
                await self._handler(job_id)
            except Exception:
                logger.exception("job %s crashed", job_id)

    async def cancel(self, job_id: UUID) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    async def ping(self) -> bool:
        return False  # no store of its own: the database is checked apart

    async def depth(self) -> int | None:
        return None

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
