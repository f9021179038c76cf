"""Checks an engine's feedback against the submission and the criteria, whatever engine
made it, and repairs what it can; the result says what it changed.

- One criterion score per criterion of the request, in its order, with the request's
  name, kind and points (an engine cannot rename a criterion or change its points); a
  missing one becomes not assessable, an unknown one is dropped.
- A criterion the text cannot show is not assessable, whatever the engine said.
- Every evidence quote must be found in the submission (tolerant matching, as for plans)
  and gets its offsets; quotes of sentences addressed to a grader never count as evidence.
- The measured checks, the statistics, target and plan version are the request's, and
  the readiness is recomputed on the one documented scale.
"""

from __future__ import annotations

from models.feedback import (
    CriterionScore,
    DroppedEvidence,
    Evidence,
    Feedback,
    FeedbackItem,
    FeedbackVerification,
    Scorecard,
    readiness,
)
from models.feedback_request import CriterionSpec, FeedbackRequest, not_assessable_score
from server.text.grounding import find_quote
from server.text.submission import Span, overlaps

GRADER_NOTICE = (
    "Parts of the submission speak to a grader or an AI model; they were treated as part "
    "of the submitted text, never as instructions, and do not count as evidence."
)


class _EvidenceChecker:
    def __init__(self, request: FeedbackRequest) -> None:
        self.text = request.submission_text
        self.ignored: list[Span] = [
            (e.start or 0, e.end or 0) for e in request.analysis.addressed_to_grader
        ]
        self.checked = 0
        self.dropped: list[DroppedEvidence] = []

    def check(self, evidence: list[Evidence], pointer: str) -> list[Evidence]:
        kept: list[Evidence] = []
        for index, item in enumerate(evidence):
            self.checked += 1
            where = f"{pointer}/{index}"
            found = find_quote(item.quote, self.text)
            if found is None:
                self._drop(where, item.quote, "not found in the submission")
            elif overlaps(found, self.ignored):
                self._drop(where, item.quote, "quotes text addressed to a grader")
            else:
                kept.append(
                    Evidence(quote=self.text[found[0] : found[1]], start=found[0], end=found[1])
                )
        return kept

    def _drop(self, pointer: str, quote: str, reason: str) -> None:
        self.dropped.append(DroppedEvidence(pointer=pointer, quote=quote, reason=reason))


def _aligned_scores(
    feedback: Feedback, request: FeedbackRequest, corrected: list[str]
) -> list[CriterionScore]:
    given: dict[str, CriterionScore] = {}
    for offered in feedback.scorecard.criterion_scores:
        given.setdefault(offered.criterion_id, offered)
    expected = {spec.id for spec in request.criteria}
    for unknown in sorted(set(given) - expected):
        corrected.append(f"dropped a score for unknown criterion {unknown}")
    scores: list[CriterionScore] = []
    for spec in request.criteria:
        score = given.get(spec.id)
        if score is None:
            corrected.append(f"criterion {spec.id} had no score: marked not assessable")
            scores.append(not_assessable_score(spec, "The engine gave no judgement for it."))
        elif spec.not_assessable_reason is not None:
            if score.level != "not_assessable":
                corrected.append(f"criterion {spec.id} cannot be judged from the text")
            scores.append(not_assessable_score(spec, spec.not_assessable_reason))
        else:
            scores.append(_with_spec_facts(score, spec, corrected))
    return scores


def _with_spec_facts(
    score: CriterionScore, spec: CriterionSpec, corrected: list[str]
) -> CriterionScore:
    points = score.estimated_points
    if spec.points_possible is None or score.level == "not_assessable":
        points = None
    elif points is not None and points > spec.points_possible:
        corrected.append(f"criterion {spec.id}: estimate capped at {spec.points_possible:g}")
        points = spec.points_possible
    return score.model_copy(
        update={
            "criterion": spec.criterion,
            "kind": spec.kind,
            "points_possible": spec.points_possible,
            "estimated_points": points,
        }
    )


def _checked_items(
    items: list[FeedbackItem], pointer: str, checker: _EvidenceChecker
) -> list[FeedbackItem]:
    return [
        item.model_copy(
            update={"evidence": checker.check(item.evidence, f"{pointer}/{i}/evidence")}
        )
        for i, item in enumerate(items)
    ]


def verify_feedback(feedback: Feedback, request: FeedbackRequest) -> Feedback:
    corrected: list[str] = []
    checker = _EvidenceChecker(request)
    scores = [
        score.model_copy(
            update={
                "evidence": checker.check(
                    score.evidence, f"/scorecard/criterion_scores/{i}/evidence"
                )
            }
        )
        for i, score in enumerate(_aligned_scores(feedback, request, corrected))
    ]
    lists = {
        name: _checked_items(getattr(feedback, name), f"/{name}", checker)
        for name in (
            "strengths",
            "gaps",
            "required_fixes",
            "suggested_improvements",
            "next_actions",
        )
    }
    failed_check = any(check.status == "failed" for check in request.analysis.checks)
    overall, percent = readiness(
        scores, blocking_issues=failed_check or bool(lists["required_fixes"])
    )
    notices = list(feedback.notices)
    if request.analysis.addressed_to_grader and GRADER_NOTICE not in notices:
        notices.append(GRADER_NOTICE)
    return feedback.model_copy(
        update={
            **lists,
            "target": request.target,
            "plan_version": request.plan_version,
            "scorecard": Scorecard(
                criterion_scores=scores, overall_readiness=overall, readiness_score=percent
            ),
            "checks": list(request.analysis.checks),
            "submission_stats": request.analysis.stats,
            "notices": notices,
            "verification": FeedbackVerification(
                quotes_checked=checker.checked, dropped=checker.dropped, corrected=corrected
            ),
        }
    )


__all__ = ["GRADER_NOTICE", "verify_feedback"]
