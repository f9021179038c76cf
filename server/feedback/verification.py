"""Checks an engine's feedback against the submission and the criteria, whatever engine
made it, and repairs what it can; the result says what it changed.

- One criterion score per criterion of the request, in its order, with the request's
  name, kind and points (an engine cannot rename a criterion or change its points); a
  missing one becomes not assessable, an unknown one is dropped.
- A criterion the text cannot show is not assessable, whatever the engine said.
- Every evidence quote must be found in the submission (tolerant matching, as for plans)
  and gets its offsets; quotes of sentences addressed to a grader never count as evidence.
- Credit needs evidence: a met or partially met criterion left with no quote found in
  the submission is lowered to not met (whatever the engine, or a draft, asked for).
- Strengths, gaps and required fixes are claims about the submission, checked against it
  (``_ClaimChecker``): an item whose quotes are all missing from it, that quotes words in
  its text the submission does not contain, or names someone or something it never
  mentions, is dropped; a strength needs evidence found in it; a claim that something
  is absent ("no thesis") is dropped when the submission has it. Each drop is listed.
- The measured checks, the statistics, target and plan version are the request's, and
  the readiness is recomputed on the one documented scale.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from models.feedback import (
    CriterionScore,
    DroppedClaim,
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
from server.text.submission import Span, overlaps, sentences, stems

_CLAIMS = json.loads((Path(__file__).with_name("claims.json")).read_text(encoding="utf-8"))
_ABSENCE_RE = re.compile(
    r"\b(?:" + "|".join(_CLAIMS["absence_markers"]) + r")\s+"
    r"(?:(?:a|an|the|any|clear|clearly|explicit|explicitly|real|single)\s+)*"
    r"(?P<what>[A-Za-z][A-Za-z-]*(?:\s+[A-Za-z][A-Za-z-]*){0,2})",
    re.IGNORECASE,
)
_ELEMENTS: dict[str, list[str]] = _CLAIMS["elements"]
_KNOWN_NAMES = frozenset(_CLAIMS["known_names"])
# Words in double quotes (straight or curly), three words or more: a claimed quotation.
_QUOTED_RE = re.compile(r"[\"“”]([^\"“”]{12,})[\"“”]")
# A capitalized word that does not start a sentence: a name the claim says is there.
_NAME_RE = re.compile(r"(?<![.!?:]\s)(?<!^)\b([A-Z][a-z]{2,})\b")
_CLAIM_LISTS = ("strengths", "gaps", "required_fixes")
LOWERED = "credit without evidence lowered to not met"
UNSUPPORTED_CREDIT = "No passage of the submission was found to support credit."
UNSUPPORTED_CREDIT_NOTICE = (
    "{count} criterion estimate(s) were lowered to not met: credit was given without a "
    "quote found in the submission (text addressed to a grader never counts as evidence)."
)

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


def _supported(
    given: CriterionScore, score: CriterionScore, measured: set[str], corrected: list[str]
) -> CriterionScore:
    """Credit with no evidence left is not given: an engine, or a draft that talks to
    it, cannot raise a score the submission does not show. Only a criterion a passed
    measured check shows (a word count, say) may be credited without a quote, and only
    when the engine quoted nothing for it (rather than quotes that are not there)."""
    if score.level not in ("met", "partially_met") or score.evidence:
        return score
    if not given.evidence and score.criterion_id in measured:
        return score
    corrected.append(f"criterion {score.criterion_id}: {LOWERED}")
    return score.model_copy(
        update={
            "level": "not_met",
            "estimated_points": 0.0 if score.points_possible is not None else None,
            "rating": None,
            "rationale": f"{UNSUPPORTED_CREDIT} {score.rationale}",
        }
    )


class _ClaimChecker:
    """Strengths, gaps and required fixes held to what the submission says."""

    def __init__(self, request: FeedbackRequest) -> None:
        self.text = request.submission_text
        self.lowered = self.text.lower()
        self.sentence_stems = [stems(self.text[a:b]) for a, b in sentences(self.text)]
        # Names the feedback may use without the submission containing them: the
        # criteria's, the target's and the milestone's own words.
        context = " ".join(
            [
                request.target.title,
                *(f"{spec.criterion} {spec.details}" for spec in request.criteria),
                request.milestone.model_dump_json() if request.milestone else "",
            ]
        )
        self.known_words = {w.lower() for w in re.findall(r"[A-Za-z]+", f"{self.text} {context}")}
        self.checked = 0
        self.dropped: list[DroppedClaim] = []

    def keep(self, original: FeedbackItem, checked: FeedbackItem, pointer: str, name: str) -> bool:
        self.checked += 1
        reason = self._refusal(original, checked, name)
        if reason is not None:
            self.dropped.append(DroppedClaim(pointer=pointer, text=original.text, reason=reason))
        return reason is None

    def _refusal(self, original: FeedbackItem, checked: FeedbackItem, name: str) -> str | None:
        if original.evidence and not checked.evidence:
            return "none of its quotes is in the submission"
        for quoted in _QUOTED_RE.findall(original.text):
            if find_quote(quoted, self.text) is None:
                return f'it quotes "{quoted}", which the submission does not contain'
        for word in _NAME_RE.findall(original.text):
            if word.lower() not in self.known_words and word not in _KNOWN_NAMES:
                return f"it names {word}, which the submission never mentions"
        absence = _ABSENCE_RE.search(original.text)
        if absence is not None:
            what = absence.group("what")
            if self._has(what):
                return f"it says the submission has no {what}, but the submission has one"
            return None
        if name == "strengths" and not checked.evidence:
            return "a strength needs a passage of the submission that shows it"
        return None

    def _has(self, what: str) -> bool:
        """Whether the submission has what a claim of absence names."""
        named = stems(what)
        for element, cues in _ELEMENTS.items():
            if stems(element) <= named:
                return any(cue in self.lowered for cue in cues)
        content = {stem for stem in named if len(stem) > 2}
        return bool(content) and any(content <= sentence for sentence in self.sentence_stems)


def verify_feedback(feedback: Feedback, request: FeedbackRequest) -> Feedback:
    corrected: list[str] = []
    checker = _EvidenceChecker(request)
    measured = {
        criterion_id
        for check in request.analysis.checks
        if check.status == "passed"
        for criterion_id in check.criterion_ids
    }
    aligned = _aligned_scores(feedback, request, corrected)
    scores = [
        _supported(
            given,
            given.model_copy(
                update={
                    "evidence": checker.check(
                        given.evidence, f"/scorecard/criterion_scores/{i}/evidence"
                    )
                }
            ),
            measured,
            corrected,
        )
        for i, given in enumerate(aligned)
    ]
    claims = _ClaimChecker(request)
    lists: dict[str, list[FeedbackItem]] = {}
    for name in ("strengths", "gaps", "required_fixes", "suggested_improvements", "next_actions"):
        originals: list[FeedbackItem] = getattr(feedback, name)
        checked = _checked_items(originals, f"/{name}", checker)
        lists[name] = [
            item
            for i, (original, item) in enumerate(zip(originals, checked, strict=True))
            if name not in _CLAIM_LISTS or claims.keep(original, item, f"/{name}/{i}", name)
        ]
    failed_check = any(check.status == "failed" for check in request.analysis.checks)
    overall, percent = readiness(
        scores, blocking_issues=failed_check or bool(lists["required_fixes"])
    )
    notices = list(feedback.notices)
    lowered = sum(1 for change in corrected if change.endswith(LOWERED))
    if lowered:
        notices.append(UNSUPPORTED_CREDIT_NOTICE.format(count=lowered))
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
                quotes_checked=checker.checked,
                dropped=checker.dropped,
                claims_checked=claims.checked,
                dropped_claims=claims.dropped,
                corrected=corrected,
            ),
        }
    )


__all__ = ["GRADER_NOTICE", "UNSUPPORTED_CREDIT_NOTICE", "verify_feedback"]
