"""Job runners: where a queued job's pipeline actually runs.

The embedded runner runs jobs as asyncio tasks in the API process, at most
``JOB_CONCURRENCY`` at a time. An arq runner (production) enqueues to Redis instead; the
pipeline code is the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol
from uuid import UUID

logger = logging.getLogger(__name__)

JobHandler = Callable[[UUID], Awaitable[None]]


class JobRunner(Protocol):
    async def enqueue(self, job_id: UUID) -> None: ...

    async def cancel(self, job_id: UUID) -> None:
        """Stop the job promptly if it is running here (fencing guards the rest)."""
        ...

    async def close(self) -> None: ...


class InProcessJobRunner:
    def __init__(self, handler: JobHandler, *, concurrency: int) -> None:
        self._handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[UUID, asyncio.Task[None]] = {}

    async def enqueue(self, job_id: UUID) -> None:
        task = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _run(self, job_id: UUID) -> None:
        async with self._slots:
            try:
                await self._handler(job_id)
            except Exception:
                logger.exception("job %s crashed", job_id)

    async def cancel(self, job_id: UUID) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    async def wait_idle(self) -> None:
        """Wait until every job started so far has finished (tests, demo, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
