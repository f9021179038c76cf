"""What a running job may do to the world: report progress, warn, finish, fail.

Every write goes through :func:`server.events.service.publish` with the job's
generation, so a job that a reprocess replaced cannot write anything (it gets
``JobFenced`` and stops). Progress never goes back within a job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from models.db import ACTIVE_JOB_STATUSES, JobStatus, JobType, ProcessingJob, WorkspaceStatus
from server.events.service import EventDraft, Fence, JobFenced, publish
from server.events.types import EventError, EventType
from server.kernel.metrics import JOBS, STAGE_SECONDS
from server.llm.session import DraftPreview, EngineSession, LlmCall
from server.runtime import Runtime

logger = logging.getLogger(__name__)

_JOB_STATUS_FOR = {
    WorkspaceStatus.QUEUED: JobStatus.QUEUED,
    WorkspaceStatus.RUNNING: JobStatus.RUNNING,
    WorkspaceStatus.READY: JobStatus.SUCCEEDED,
    WorkspaceStatus.FAILED: JobStatus.FAILED,
}


class JobContext:
    def __init__(self, rt: Runtime, job: ProcessingJob) -> None:
        self.rt = rt
        self.job = job
        self.workspace_id: int = job.workspace_id
        self.fence = Fence(job.generation, job.attempts)
        self.stage: str | None = job.stage
        self.progress = job.progress
        self.warnings: list[dict[str, Any]] = list(job.warnings or [])
        self.llm_usage: list[dict[str, Any]] = list(job.llm_usage or [])
        self._status = WorkspaceStatus.RUNNING
        self._stage_started: float | None = None  # when this runner entered ``stage``

    @property
    def is_plan_job(self) -> bool:
        return self.job.job_type == JobType.PLAN

    @property
    def _event_status(self) -> str:
        """A planning job's events carry the workspace's status; a feedback job's carry the
        job's own, since the workspace stays ``ready`` while its feedback jobs run."""
        if self.is_plan_job:
            return str(self._status)
        return str(_JOB_STATUS_FOR[self._status])

    async def _publish(
        self,
        event_type: str,
        message: str,
        *,
        workspace_changes: dict[str, Any] | None = None,
        job_changes: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        status = self._event_status
        draft = EventDraft(event_type, message, self.stage, status, self.progress, extra)
        await publish(
            self.rt,
            self.workspace_id,
            draft,
            job=self.job,
            fence=self.fence,
            workspace_changes=workspace_changes if self.is_plan_job else None,
            job_changes=job_changes,
        )

    async def start(self) -> None:
        """Announce a job its runner has claimed (see ``jobs/lease.py``)."""
        attempt = f" (attempt {self.job.attempts})" if self.job.attempts > 1 else ""
        await self._publish(
            EventType.JOB_STARTED,
            f"Started{attempt}",
            workspace_changes={"status": WorkspaceStatus.RUNNING},
        )

    async def requeue_after_lost_worker(self) -> None:
        self._status = WorkspaceStatus.QUEUED
        await self._publish(
            EventType.JOB_RETRYING,
            f"The worker running this job stopped; retrying (attempt {self.job.attempts + 1})",
            workspace_changes={"status": WorkspaceStatus.QUEUED},
            job_changes={"status": JobStatus.QUEUED, "lease_expires_at": None},
        )

    def _end_stage(self) -> None:
        if self.stage is not None and self._stage_started is not None:
            elapsed = time.monotonic() - self._stage_started
            STAGE_SECONDS.labels(str(self.job.job_type), self.stage).observe(elapsed)
        self._stage_started = None

    def _ended(self, outcome: str) -> None:
        self._end_stage()
        job_type = str(self.job.job_type)
        JOBS.labels(job_type, outcome).inc()
        logger.info(
            "%s job %s", job_type, outcome, extra={"job_type": job_type, "outcome": outcome}
        )

    def cancelled(self) -> None:
        """The job stopped without an outcome of its own (superseded or stopped)."""
        self._ended("cancelled")

    async def enter_stage(self, stage: str, progress: int, message: str) -> None:
        self._end_stage()
        self.stage = stage
        self._stage_started = time.monotonic()
        self.progress = max(self.progress, progress)
        await self._publish(
            EventType.STAGE_STARTED,
            message,
            workspace_changes={"current_stage": stage, "progress": self.progress},
            job_changes={"stage": stage, "progress": self.progress},
        )

    async def emit(self, event_type: str, message: str, **extra: Any) -> None:
        """An event that changes no state (a preview)."""
        await self._publish(event_type, message, **extra)

    async def warn(self, warning: dict[str, Any]) -> None:
        self.warnings.append(warning)
        await self._publish(
            EventType.WARNING,
            warning["message"],
            job_changes={"warnings": self.warnings},
            warning=warning,
        )

    async def record_llm_call(self, call: LlmCall) -> None:
        """Append a model call to the job's ``llm_usage``: fenced like every write, but
        no event (usage is for operators, not for the student's stream)."""
        self.llm_usage.append(call.model_dump(mode="json"))
        still_ours = ProcessingJob.filter(
            id=self.job.id, status__in=ACTIVE_JOB_STATUSES, attempts=self.fence.attempts
        )
        if not await still_ours.update(llm_usage=self.llm_usage):
            raise JobFenced

    def engine_session(
        self, on_preview: Callable[[DraftPreview], Awaitable[None]] | None = None
    ) -> EngineSession:
        """What this job lends its engine: previews go to ``on_preview``, model calls to
        ``llm_usage``, warnings to the job's warnings."""
        return EngineSession(
            on_preview=on_preview,
            on_llm_call=self.record_llm_call,
            on_warning=self.warn,
            attempt=self.job.attempts,
        )

    async def succeed(
        self,
        event_type: str,
        message: str,
        *,
        result: Any,
        workspace_changes: dict[str, Any],
        **extra: Any,
    ) -> None:
        self.progress = 100
        self._status = WorkspaceStatus.READY
        await self._publish(
            event_type,
            message,
            workspace_changes={
                "status": WorkspaceStatus.READY,
                "progress": 100,
                "last_error": None,
                **workspace_changes,
            },
            job_changes={
                "status": JobStatus.SUCCEEDED,
                "progress": 100,
                "result_blob": result,
                "finished_at": datetime.now(UTC),
            },
            **extra,
        )
        self._ended("succeeded")

    async def fail(self, code: str, message: str) -> None:
        self._status = WorkspaceStatus.FAILED
        error = {"code": code, "message": message}
        await self._publish(
            EventType.FAILED,
            message,
            workspace_changes={"status": WorkspaceStatus.FAILED, "last_error": error},
            job_changes={
                "status": JobStatus.FAILED,
                "error_code": code,
                "error_message": message,
                "finished_at": datetime.now(UTC),
            },
            error=EventError(**error),
        )
        self._ended("failed")
