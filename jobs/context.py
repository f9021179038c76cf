"""What a running job may do to the world: report progress, warn, finish, fail.

Every write goes through :func:`server.services.progress.publish` with the job's
generation, so a job that a reprocess replaced cannot write anything (it gets
``JobFenced`` and stops). Progress never goes back within a job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.db import JobStatus, JobType, ProcessingJob, WorkspaceStatus
from server.events import EventError
from server.runtime import Runtime
from server.services.progress import EventDraft, Fence, publish


class JobContext:
    def __init__(self, rt: Runtime, job: ProcessingJob) -> None:
        self.rt = rt
        self.job = job
        self.workspace_id: int = job.workspace_id  # type: ignore[attr-defined]
        self.fence = Fence(job.generation, job.attempts)
        self.stage: str | None = job.stage
        self.progress = job.progress
        self.warnings: list[dict[str, Any]] = list(job.warnings or [])
        self._status = WorkspaceStatus.RUNNING

    @property
    def is_plan_job(self) -> bool:
        return self.job.job_type == JobType.PLAN

    async def _publish(
        self,
        event_type: str,
        message: str,
        *,
        workspace_changes: dict[str, Any] | None = None,
        job_changes: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        draft = EventDraft(event_type, message, self.stage, str(self._status), self.progress, extra)
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
            "job_started",
            f"Started{attempt}",
            workspace_changes={"status": WorkspaceStatus.RUNNING},
        )

    async def requeue_after_lost_worker(self) -> None:
        self._status = WorkspaceStatus.QUEUED
        await self._publish(
            "job_retrying",
            f"The worker running this job stopped; retrying (attempt {self.job.attempts + 1})",
            workspace_changes={"status": WorkspaceStatus.QUEUED},
            job_changes={"status": JobStatus.QUEUED, "lease_expires_at": None},
        )

    async def enter_stage(self, stage: str, progress: int, message: str) -> None:
        self.stage = stage
        self.progress = max(self.progress, progress)
        await self._publish(
            "stage_started",
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
            "warning",
            warning["message"],
            job_changes={"warnings": self.warnings},
            warning=warning,
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

    async def fail(self, code: str, message: str) -> None:
        self._status = WorkspaceStatus.FAILED
        error = {"code": code, "message": message}
        await self._publish(
            "failed",
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
