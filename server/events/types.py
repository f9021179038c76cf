"""The events of a workspace's progress stream: their types and their JSON.

Events are stored durably (``workspace_events``) so any follower can replay from any id;
the bus (``server/kernel/bus.py``) only says "workspace N has something new".
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class EventType(StrEnum):
    JOB_QUEUED = "job_queued"
    JOB_STARTED = "job_started"
    JOB_RETRYING = "job_retrying"
    STAGE_STARTED = "stage_started"
    WARNING = "warning"
    DRAFT_PREVIEW = "draft_preview"  # a draft as the model writes it
    DRAFT_READY = "draft_ready"
    FEEDBACK_DRAFT_READY = "feedback_draft_ready"
    PROGRESS_UPDATED = "progress_updated"  # the student ticked a task or changed a milestone
    PLAN_READY = "plan_ready"
    FEEDBACK_READY = "feedback_ready"
    FAILED = "failed"


class EventError(BaseModel):
    code: str
    message: str


class ProgressEvent(BaseModel):
    """One event on a workspace's stream: the design's common fields plus ``id``,
    ``job_id`` and ``job_type``, and the optional previews."""

    id: int
    event_type: str = Field(
        description="job_queued, job_started, job_retrying, stage_started, warning, "
        "draft_preview (a draft as the model writes it), draft_ready, feedback_draft_ready, "
        "progress_updated (the student ticked a task or changed a milestone), "
        "and the terminal plan_ready, feedback_ready, failed"
    )
    workspace_id: int
    job_id: str | None = None
    job_type: str | None = None
    stage: str | None = None
    status: str
    progress: int
    message: str
    timestamp: datetime
    draft_summary: str | None = None
    milestone_preview: list[dict[str, Any]] | None = None
    feedback_preview: dict[str, Any] | None = None
    warning: dict[str, Any] | None = None
    error: EventError | None = None
    plan_version: int | None = None
    progress_update: dict[str, Any] | None = Field(
        default=None, description="progress_updated: the task or milestone and what was set"
    )

    def to_payload(self) -> dict[str, Any]:
        """JSON for storage and the wire: common fields always, previews when present."""
        payload = self.model_dump(mode="json")
        return {
            key: value
            for key, value in payload.items()
            if value is not None or key in COMMON_FIELDS
        }


class HistoryGone(BaseModel):
    """Sent instead of a replay when the events after ``Last-Event-ID`` are no longer
    retained (or the id is unknown); the snapshot that follows is the current state."""

    event_type: Literal["history_gone"] = "history_gone"
    requested_last_event_id: int
    message: str = (
        "Events after the given id are no longer retained; "
        "the snapshot that follows is the current state."
    )


class StreamEnded(BaseModel):
    """The last message of a stream whose rights ended: its token expired (mint a new one
    and resume with ``last_event_id``), or the user's Canvas credentials or the workspace
    were deleted (do not reconnect)."""

    event_type: Literal["stream_ended"] = "stream_ended"
    reason: Literal["token_expired", "credentials_deleted", "workspace_deleted"]
    message: str = Field(default="", description="what the client should do")

    def model_post_init(self, context: Any) -> None:
        if not self.message:
            self.message = _ENDING_ADVICE[self.reason]


_ENDING_ADVICE = {
    "token_expired": "The stream's token expired: get a new one and resume from the last "
    "event id received",
    "credentials_deleted": "The Canvas credentials were deleted: sign in to Canvas again",
    "workspace_deleted": "The workspace was deleted",
}


COMMON_FIELDS = frozenset(
    {"id", "event_type", "workspace_id", "job_id", "job_type", "stage", "status", "progress"}
    | {"message", "timestamp"}
)

TERMINAL_EVENT_TYPES = frozenset({EventType.PLAN_READY, EventType.FEEDBACK_READY, EventType.FAILED})
