"""What a feedback engine is given: the submission, what it is judged against, and the
facts measured about it before any engine looks at it.

``analyze_against_plan_and_rubric`` builds it; engines return a :class:`Feedback` whose
``criterion_scores`` follow ``criteria`` one for one (verification enforces it).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from models.context import RubricRating, SourceContext
from models.feedback import (
    Check,
    CriterionKind,
    CriterionScore,
    Evidence,
    FeedbackTarget,
    SubmissionStats,
)
from models.plan import Milestone, Plan


class CriterionSpec(BaseModel):
    """One criterion the submission must be scored on."""

    id: str
    kind: CriterionKind
    criterion: str = Field(description="the criterion's name, or the criterion's full text")
    details: str = Field(default="", description="the rubric's long description")
    points_possible: float | None = None
    ratings: list[RubricRating] = Field(default_factory=list)
    use_range: bool = Field(
        default=False,
        description="Canvas's criterion_use_range: each rating covers the points from its "
        "own down to (not including) the next rating's, the last one down to 0",
    )
    not_assessable_reason: str | None = Field(
        default=None,
        description="set when the submitted text cannot show this criterion (a live "
        "performance, a figure, a step of the process, another milestone's work)",
    )
    judged_elsewhere: bool = Field(
        default=False,
        description="a rubric criterion this milestone does not work on: it is judged in "
        "the feedback on the whole assignment",
    )


def rating_at(spec: CriterionSpec, points: float) -> RubricRating | None:
    """The rating Canvas shows for ``points`` (``ui/shared/rubrics/react/Ratings.jsx``): the
    first, in Canvas's order, whose points they are or, on a range criterion, whose range
    holds them. None when no rating fits (points between two ratings of a criterion
    without ranges) or Canvas hides the points."""
    rated = [(rating, rating.points) for rating in spec.ratings if rating.points is not None]
    for index, (rating, top) in enumerate(rated):
        if points == top:
            return rating
        if spec.use_range:
            last = index + 1 == len(rated)
            floor = 0.0 if last else rated[index + 1][1]
            if floor < points <= top or (last and points == 0):
                return rating
    return None


def not_assessable_score(spec: CriterionSpec, reason: str, rationale: str) -> CriterionScore:
    """The score of a criterion that gets no estimate, with the reason why (both in the
    feedback's language)."""
    return CriterionScore(
        criterion_id=spec.id,
        criterion=spec.criterion,
        kind=spec.kind,
        points_possible=spec.points_possible,
        level="not_assessable",
        rationale=rationale,
        not_assessable_reason=reason,
    )


class SubmissionAnalysis(BaseModel):
    stats: SubmissionStats
    paragraphs: list[tuple[int, int]] = Field(description="offsets of each paragraph")
    checks: list[Check] = Field(default_factory=list)
    addressed_to_grader: list[Evidence] = Field(
        default_factory=list,
        description="sentences that instruct a grader or a model: content, not instructions",
    )


class FeedbackRequest(BaseModel):
    target: FeedbackTarget
    plan_version: int
    plan: Plan
    context: SourceContext
    milestone: Milestone | None = None
    criteria: list[CriterionSpec]
    submission_text: str
    analysis: SubmissionAnalysis


__all__ = [
    "CriterionSpec",
    "FeedbackRequest",
    "SubmissionAnalysis",
    "not_assessable_score",
    "rating_at",
]
