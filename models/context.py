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
    # Where many rubrics state the actual standard of the rating (Canvas sends "" if none).
    long_description: str = ""


class RubricCriterion(BaseModel):
    id: str
    description: str
    long_description: str = ""
    points: float | None = None
    ratings: list[RubricRating] = Field(default_factory=list)
    # Ratings are ranges ("up to N points") rather than exact scores.
    criterion_use_range: bool = False
    # Feedback only: the criterion's points do not count toward the score.
    ignore_for_scoring: bool = False

    @property
    def scored_points(self) -> float | None:
        """The points this criterion adds to the score (None when it adds none)."""
        return None if self.ignore_for_scoring else self.points


class RubricSettings(BaseModel):
    """Canvas's ``rubric_settings`` (``lib/api/v1/assignment.rb``)."""

    title: str | None = None
    points_possible: float | None = None
    free_form_criterion_comments: bool = False
    hide_score_total: bool = False
    hide_points: bool = False  # the student is not shown points: neither do we


class AssignmentLock(BaseModel):
    """Canvas's lock state for the student (``lib/api/v1/locked.rb``): why the assignment
    is locked, in Canvas's own words, and whether its instructions are withheld."""

    explanation: str  # Canvas's ``lock_explanation``, as plain text
    unlock_at: datetime | None = None  # from ``lock_info``: opens then
    lock_at: datetime | None = None  # from ``lock_info``: closed since then
    module_name: str | None = None  # from ``lock_info.context_module``: a prerequisite
    instructions_withheld: bool = False  # Canvas sent no description because of the lock


class DiscussionFacts(BaseModel):
    """A graded discussion's own rules (``lib/api/v1/discussion_topics.rb``)."""

    topic_id: str | None = None
    require_initial_post: bool = False  # the student must post before seeing others
    # Replies to classmates Canvas requires (discussion checkpoints: "reply_to_entry").
    required_replies: int = 0
    reply_due_at: datetime | None = None  # the replies checkpoint's own due date
    # The initial post's own due date (discussion checkpoints: "reply_to_topic").
    initial_post_due_at: datetime | None = None


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
    lock: AssignmentLock | None = None  # set when Canvas says it is locked for the student
    grading_type: str | None = None  # points, pass_fail, percent, letter_grade, not_graded...
    is_quiz: bool = False  # a Classic Quiz (``is_quiz_assignment``)
    is_new_quiz: bool = False  # New Quizzes, an LTI tool (``is_quiz_lti_assignment``)
    external_tool_url: str | None = None  # ``external_tool_tag_attributes.url``
    group_category_id: str | None = None  # a group assignment: one submission per group
    discussion: DiscussionFacts | None = None

    @property
    def initial_post_due(self) -> datetime | None:
        """A graded discussion's initial post's own due date (Canvas's ``reply_to_topic``
        checkpoint) when it comes before the assignment's: only the replies come after."""
        post = self.discussion.initial_post_due_at if self.discussion else None
        if post is None or self.due_at is None or post >= self.due_at:
            return None
        return post

    @property
    def graded(self) -> bool:
        """Whether points count: not ``not_graded``, and worth some points. An ungraded or
        pointless assignment never shows point totals."""
        return self.grading_type != "not_graded" and bool(self.points_possible)


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
    source_id: str | None = None  # "file:<canvas file id>", "page:<url>", "embed:<address>"


class SourceContext(BaseModel):
    assignment: AssignmentFacts
    rubric: list[RubricCriterion] = Field(default_factory=list)
    rubric_settings: RubricSettings | None = None
    documents: list[SourceDocument] = Field(default_factory=list)
    warnings: list[ContextWarning] = Field(default_factory=list)
    fetched_at: datetime
    language: str = Field(
        default="en",
        description="the language to write the plan in (the student's; see "
        "server/text/language.py), not the sources' language",
    )
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
