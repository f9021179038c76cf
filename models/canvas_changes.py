"""What a plan was made from on Canvas, and what changed there since (change awareness).

A plan's context keeps a :class:`CanvasFingerprint` of the assignment as Canvas sent it;
resuming a ready workspace fetches it again and answers with a :class:`CanvasCheck` (the
workspace's ``canvas_changed``), so the extension can offer a reprocess. Nothing is
re-planned by the check itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class CanvasFingerprint(BaseModel):
    """The parts of a Canvas assignment a plan depends on, as Canvas sent them."""

    updated_at: datetime | None = Field(description="Canvas's last edit of the assignment")
    title: str
    due_at: datetime | None
    unlock_at: datetime | None
    lock_at: datetime | None
    points_possible: float | None
    submission_types: list[str]
    description_sha256: str = Field(
        description="SHA-256 of the instructions' HTML: the description, or a graded "
        "discussion's topic message"
    )
    rubric_sha256: str = Field(description="SHA-256 of the rubric and its settings (JSON)")
    file_ids: list[str] = Field(description="the Canvas files the description links to")
    file_names: dict[str, str] = Field(
        default_factory=dict,
        description="each file's name, as Canvas or the description's link gives it; "
        "a fingerprint taken before names were kept has none",
    )
    time_zone: str = Field(description="the student's time zone the dates were shown in")
    lock_explanation: str | None = Field(
        default=None,
        description="Canvas's explanation of its lock on the assignment; null: not locked",
    )


ChangedField = Literal[
    "title",
    "due_at",
    "unlock_at",
    "lock_at",
    "points_possible",
    "submission_types",
    "description",
    "rubric",
    "file_added",
    "file_removed",
    "time_zone",
    "lock",
    "edited",
]


class CanvasChange(BaseModel):
    field: ChangedField = Field(
        description='what changed; "edited" when Canvas records an edit (updated_at) to '
        "nothing else the plan was made from"
    )
    before: str | None = Field(description="the old value (dates in ISO 8601), if any")
    after: str | None = Field(description="the new value (dates in ISO 8601), if any")
    message: str = Field(description="the change in a sentence, dates on the student's clock")


class CanvasCheckError(BaseModel):
    code: str
    message: str


class CanvasCheck(BaseModel):
    """The last comparison of the current plan's sources with Canvas."""

    checked_at: datetime
    plan_version: int = Field(description="the plan version that was compared")
    outcome: Literal["unchanged", "changed", "unavailable"] = Field(
        description='"unavailable": Canvas could not be asked (see error); the plan may be '
        "out of date"
    )
    changes: list[CanvasChange] = Field(default_factory=list)
    error: CanvasCheckError | None = None
    summary: str = Field(description="the outcome in a sentence for the student")


__all__ = [
    "CanvasChange",
    "CanvasCheck",
    "CanvasCheckError",
    "CanvasFingerprint",
    "ChangedField",
]
