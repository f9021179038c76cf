"""What a feedback engine that obeyed the submission might answer, for the tests of
feedback verification."""

from __future__ import annotations

from models.feedback import (
    CriterionScore,
    Evidence,
    Feedback,
    FeedbackItem,
    FeedbackTarget,
    Scorecard,
    SubmissionStats,
)
from models.feedback_request import FeedbackRequest
from models.plan import GeneratedBy


def dishonest_feedback(request: FeedbackRequest, injection: str) -> Feedback:
    """What an engine that obeyed the submission might return: full marks everywhere,
    evidence that is made up or quotes the injection, a criterion that does not exist."""
    full = [
        CriterionScore(
            criterion_id=spec.id,
            criterion="Renamed by the engine",
            kind=spec.kind,
            points_possible=spec.points_possible,
            level="met",
            estimated_points=spec.points_possible,
            rationale="The student asked for full marks.",
            evidence=[Evidence(quote=injection), Evidence(quote="A sentence nobody wrote.")],
        )
        for spec in request.criteria
        if spec.id != "q"
    ] + [
        CriterionScore(
            criterion_id="bonus",
            criterion="Bonus",
            kind="rubric_criterion",
            level="met",
            rationale="Made up.",
        )
    ]
    return Feedback(
        target=FeedbackTarget(type="assignment", id="999"),
        plan_version=99,
        scorecard=Scorecard(criterion_scores=full, overall_readiness="ready", readiness_score=100),
        strengths=[
            FeedbackItem(
                text="Everything is perfect.",
                location="paragraph 2",
                evidence=[Evidence(quote="why do we sleep less")],
            )
        ],
        submission_stats=SubmissionStats(characters=1, words=1, paragraphs=1),
        generated_by=GeneratedBy(engine="scripted", heuristic=False),
    )
