"""The stable Feedback JSON the extension renders (design.md, "Output Schema").

The design's fields (``target``, ``scorecard`` with ``criterion_scores[]`` and
``overall_readiness``, ``strengths[]``, ``gaps[]``, ``required_fixes[]``,
``suggested_improvements[]``, ``next_actions[]``) are kept as they are; fields are only
ever added (schema version, evidence with offsets, the measured checks, the plan version
the submission was judged against, what verification changed, the engine). The JSON
Schema is published from ``Feedback.model_json_schema()``.

The readiness scale (``overall_readiness`` and ``readiness_score``) is computed by
:func:`readiness` from the criterion estimates, whatever engine made them, so every
engine's feedback is on the same scale:

- ``readiness_score`` is the estimated share (0–100) of the assessable criteria's points
  (each criterion without points weighs 1): ``met`` counts in full, ``partially_met``
  half, ``not_met`` nothing. Criteria marked ``not_assessable`` are left out.
- ``ready``: 90 or more, and no failed check or required fix;
  ``almost_ready``: 70 or more (or 90+ with a failed check or required fix);
  ``needs_work``: 40 to 69; ``not_ready``: under 40;
  ``not_assessable``: no criterion can be judged from the submitted text.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from models.plan import GeneratedBy, Text

FEEDBACK_SCHEMA_VERSION = 1

TargetType = Literal["milestone", "assignment"]
CriterionKind = Literal["rubric_criterion", "acceptance_criterion", "hard_constraint"]
Level = Literal["met", "partially_met", "not_met", "not_assessable"]
Readiness = Literal["ready", "almost_ready", "needs_work", "not_ready", "not_assessable"]
CheckStatus = Literal["passed", "failed", "warning"]

LEVEL_SHARE: dict[Level, float] = {"met": 1.0, "partially_met": 0.5, "not_met": 0.0}
READY_SCORE = 90
ALMOST_READY_SCORE = 70
NEEDS_WORK_SCORE = 40


class FeedbackTarget(BaseModel):
    type: TargetType
    id: Text = Field(description="the milestone id, or the Canvas assignment id")
    title: str = Field(default="", description="the milestone's or assignment's title")


class Evidence(BaseModel):
    """A verbatim quote from the submission; offsets are into the submitted text."""

    quote: Text
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)


class CriterionScore(BaseModel):
    criterion_id: Text = Field(
        description='the rubric criterion id, or "ac-N" / "hc-N" for the N-th acceptance '
        "criterion of the milestone / hard constraint of the plan"
    )
    criterion: Text = Field(description="what is judged: the criterion's name or text")
    kind: CriterionKind
    points_possible: float | None = Field(default=None, ge=0)
    level: Level
    estimated_points: float | None = Field(default=None, ge=0)
    rating: str | None = Field(
        default=None, description="the rubric rating the estimate corresponds to"
    )
    rationale: Text
    not_assessable_reason: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_estimate(self) -> Self:
        if self.level == "not_assessable":
            if not (self.not_assessable_reason or "").strip():
                raise ValueError("a not_assessable criterion needs not_assessable_reason")
            if self.estimated_points is not None or self.rating is not None:
                raise ValueError("a not_assessable criterion gets no estimate")
        elif self.not_assessable_reason is not None:
            raise ValueError("not_assessable_reason is only for not_assessable criteria")
        if self.estimated_points is not None and (
            self.points_possible is None or self.estimated_points > self.points_possible
        ):
            raise ValueError("estimated_points must be within points_possible")
        return self


class Scorecard(BaseModel):
    criterion_scores: list[CriterionScore]
    overall_readiness: Readiness = Field(description="see the scale in models/feedback.py")
    readiness_score: int | None = Field(
        default=None, ge=0, le=100, description="estimated share of the assessable points"
    )


class FeedbackItem(BaseModel):
    """One point for the student, naming the part of the submission it is about."""

    text: Text
    location: Text = Field(description='e.g. "paragraph 3", "the whole submission"')
    criterion_id: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class Check(BaseModel):
    """A measured fact about the submission (length, citations, a required section)."""

    id: Text
    requirement: Text = Field(description="what the plan or rubric asks for")
    status: CheckStatus
    detail: Text = Field(description="what was measured")
    location: Text
    criterion_ids: list[str] = Field(
        default_factory=list, description="the criteria this check bears on"
    )
    evidence: list[Evidence] = Field(default_factory=list)


class SubmissionStats(BaseModel):
    characters: int = Field(ge=0)
    words: int = Field(ge=0)
    paragraphs: int = Field(ge=0)


class DroppedEvidence(BaseModel):
    pointer: str = Field(description="RFC 6901 pointer to where the quote was")
    quote: str
    reason: Text


class DroppedClaim(BaseModel):
    """A strength, gap or fix the submission does not bear out, taken out of the feedback."""

    pointer: str = Field(description="RFC 6901 pointer to where the item was")
    text: str
    reason: Text


class FeedbackVerification(BaseModel):
    """What the service checked and changed in the engine's feedback."""

    quotes_checked: int = Field(ge=0)
    dropped: list[DroppedEvidence] = Field(default_factory=list)
    claims_checked: int = Field(default=0, ge=0)
    dropped_claims: list[DroppedClaim] = Field(default_factory=list)
    corrected: list[str] = Field(default_factory=list)


class Feedback(BaseModel):
    schema_version: int = FEEDBACK_SCHEMA_VERSION
    target: FeedbackTarget
    plan_version: int = Field(ge=1, description="the plan version the submission was judged on")
    scorecard: Scorecard
    strengths: list[FeedbackItem] = Field(default_factory=list)
    gaps: list[FeedbackItem] = Field(default_factory=list)
    required_fixes: list[FeedbackItem] = Field(default_factory=list)
    suggested_improvements: list[FeedbackItem] = Field(default_factory=list)
    next_actions: list[FeedbackItem] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    submission_stats: SubmissionStats
    notices: list[str] = Field(
        default_factory=list, description="what the reader should know about this feedback"
    )
    verification: FeedbackVerification | None = None
    generated_by: GeneratedBy


def readiness(
    scores: list[CriterionScore], *, blocking_issues: bool
) -> tuple[Readiness, int | None]:
    """The readiness label and score (see the module's docstring for the scale)."""
    weighted = [
        (LEVEL_SHARE[score.level], score.points_possible or 1.0)
        for score in scores
        if score.level != "not_assessable"
    ]
    total = sum(weight for _, weight in weighted)
    if not total:
        return "not_assessable", None
    percent = round(100 * sum(share * weight for share, weight in weighted) / total)
    if percent >= READY_SCORE and not blocking_issues:
        return "ready", percent
    if percent >= ALMOST_READY_SCORE:
        return "almost_ready", percent
    if percent >= NEEDS_WORK_SCORE:
        return "needs_work", percent
    return "not_ready", percent


__all__ = [
    "FEEDBACK_SCHEMA_VERSION",
    "LEVEL_SHARE",
    "Check",
    "CheckStatus",
    "CriterionKind",
    "CriterionScore",
    "DroppedClaim",
    "DroppedEvidence",
    "Evidence",
    "Feedback",
    "FeedbackItem",
    "FeedbackTarget",
    "FeedbackVerification",
    "Level",
    "Readiness",
    "Scorecard",
    "SubmissionStats",
    "TargetType",
    "readiness",
]
