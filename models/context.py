"""The raw context a plan is made from: what Canvas said and what the files contain.

Stored on the workspace (``context_blob``) apart from the normalized plan, so every plan
can be traced back to its sources.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from models.canvas_changes import CanvasFingerprint

DESCRIPTION_SOURCE_ID = "description"


class RubricRating(BaseModel):
    description: str
    points: float | None = None


class RubricCriterion(BaseModel):
    id: str
    description: str
    long_description: str = ""
    points: float | None = None
    ratings: list[RubricRating] = Field(default_factory=list)


class AssignmentFacts(BaseModel):
    """Canvas's structured facts about the assignment: the most authoritative input."""

    course_id: str
    assignment_id: str
    course_name: str | None = None
    course_code: str | None = None
    title: str
    due_at: datetime | None = None
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    points_possible: float | None = None
    submission_types: list[str] = Field(default_factory=list)
    allowed_extensions: list[str] = Field(default_factory=list)
    group_name: str | None = None
    group_weight: float | None = None
    html_url: str | None = None
    time_zone: str | None = Field(default=None, description="the course's IANA time zone")
    user_time_zone: str | None = Field(
        default=None, description="the student's IANA time zone (Canvas profile)"
    )
    updated_at: datetime | None = Field(
        default=None, description="when the assignment was last edited on Canvas"
    )


class TextSegment(BaseModel):
    """Where a stretch of a document's text came from, so a quote can be traced to it."""

    start: int
    end: int
    page: int | None = None
    paragraph: int | None = None
    # Where a Word document's text sits outside its body: "header", "footer",
    # "footnote" or "endnote" (None for the body, and for other formats).
    part: str | None = None


class SourceDocument(BaseModel):
    source_id: str  # "description" or "file:<canvas file id>"
    name: str
    content_type: str  # detected from the bytes, not the declared type
    byte_size: int
    sha256: str
    text: str
    segments: list[TextSegment] = Field(default_factory=list)
    truncated: bool = False
    truncated_reason: str | None = None  # which limit cut the text, for the reader
    declared_type: str | None = None  # what Canvas said the file is


class ContextWarning(BaseModel):
    """A source that could not be read (nothing of it is in ``documents``)."""

    code: str  # e.g. unsupported_type, too_large, encrypted, corrupt, no_text, timeout
    message: str
    file_name: str | None = None
    source_id: str | None = None  # "file:<canvas file id>"


class SourceContext(BaseModel):
    assignment: AssignmentFacts
    rubric: list[RubricCriterion] = Field(default_factory=list)
    documents: list[SourceDocument] = Field(default_factory=list)
    warnings: list[ContextWarning] = Field(default_factory=list)
    fetched_at: datetime
    # Canvas's assignment as the plan saw it, compared on resume (change awareness).
    canvas_fingerprint: CanvasFingerprint | None = None

    def document(self, source_id: str) -> SourceDocument | None:
        return next((d for d in self.documents if d.source_id == source_id), None)


RequirementKind = Literal[
    "hard_constraint",  # must / required / do not
    "soft_constraint",  # should / recommended
    "length",
    "format",
    "citation",
    "deadline",
    "submission",
    "grading",  # rubric criteria and other grading signals
]


class Requirement(BaseModel):
    """One requirement distilled from the source, with the quote that backs it."""

    id: str
    kind: RequirementKind
    text: str
    quote: str  # verbatim from the source document named by source_id
    source_id: str
    rubric_criterion_id: str | None = None


class Requirements(BaseModel):
    items: list[Requirement] = Field(default_factory=list)
    # Canvas's own facts that need no quote (due date, points, submission types).
    notes: list[str] = Field(default_factory=list)
