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

import jinja2

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
from server.feedback.wording import FEEDBACK_WORDING
from server.text.ai_policy import phrases_for
from server.text.grounding import find_quote
from server.text.submission import Span, overlaps, sentences, stems
from server.text.wording import Say

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


class _EvidenceChecker:
    def __init__(self, request: FeedbackRequest, say: Say) -> None:
        self.say = say
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
                self._drop(where, item.quote, self.say("quote_not_found"))
            elif overlaps(found, self.ignored):
                self._drop(where, item.quote, self.say("quote_to_grader"))
            else:
                kept.append(
                    Evidence(quote=self.text[found[0] : found[1]], start=found[0], end=found[1])
                )
        return kept

    def _drop(self, pointer: str, quote: str, reason: str) -> None:
        self.dropped.append(DroppedEvidence(pointer=pointer, quote=quote, reason=reason))


def _aligned_scores(
    feedback: Feedback, request: FeedbackRequest, corrected: list[str], say: Say
) -> list[CriterionScore]:
    given: dict[str, CriterionScore] = {}
    for offered in feedback.scorecard.criterion_scores:
        given.setdefault(offered.criterion_id, offered)
    expected = {spec.id for spec in request.criteria}
    for unknown in sorted(set(given) - expected):
        corrected.append(say("unknown_score", id=unknown))
    scores: list[CriterionScore] = []
    for spec in request.criteria:
        score = given.get(spec.id)
        if score is None:
            corrected.append(say("no_score", id=spec.id))
            scores.append(not_assessable_score(spec, say("no_judgement"), say("not_judged")))
        elif spec.not_assessable_reason is not None:
            if score.level != "not_assessable":
                corrected.append(say("cannot_judge", id=spec.id))
            scores.append(not_assessable_score(spec, spec.not_assessable_reason, say("not_judged")))
        else:
            scores.append(_with_spec_facts(score, spec, corrected, say))
    return scores


def _with_spec_facts(
    score: CriterionScore, spec: CriterionSpec, corrected: list[str], say: Say
) -> CriterionScore:
    points = score.estimated_points
    if spec.points_possible is None or score.level == "not_assessable":
        points = None
    elif points is not None and points > spec.points_possible:
        corrected.append(say("capped", id=spec.id, points=f"{spec.points_possible:g}"))
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


# Lists whose items may tell the student what to write; strengths only say what works.
_ADVICE_LISTS = ("gaps", "required_fixes", "suggested_improvements", "next_actions")
# Any quoted words, however short: under a no-AI rule a quoted phrase not from the
# submission is wording offered to the student.
_PROPOSED_WORDS_RE = re.compile(r"[“\"]([^”\"\n]{3,})[”\"]")


def _suggests_wording(text: str, cues: re.Pattern[str], submission: str) -> bool:
    """Whether an item proposes words: a wording cue, or a quote not from the submission."""
    if cues.search(text):
        return True
    return any(
        find_quote(quoted, submission) is None for quoted in _PROPOSED_WORDS_RE.findall(text)
    )


def _without_wording(
    lists: dict[str, list[FeedbackItem]], request: FeedbackRequest, corrected: list[str]
) -> dict[str, list[FeedbackItem]]:
    """Under a "forbidden" AI rule: the advice lists without items that suggest wording."""
    phrases = phrases_for(request.plan.language)
    cues = phrases.pattern("wording_cues")
    dropped = jinja2.Template(phrases.texts.forbidden_feedback_dropped)
    kept = dict(lists)
    for name in _ADVICE_LISTS:
        kept[name] = []
        for item in lists[name]:
            if _suggests_wording(item.text, cues, request.submission_text):
                corrected.append(dropped.render(where=name, text=item.text))
            else:
                kept[name].append(item)
    return kept


def _supported(
    given: CriterionScore,
    score: CriterionScore,
    measured: set[str],
    corrected: list[str],
    say: Say,
) -> CriterionScore:
    """Credit with no evidence left is not given: an engine, or a draft that talks to
    it, cannot raise a score the submission does not show. Only a criterion a passed
    measured check shows (a word count, say) may be credited without a quote, and only
    when the engine quoted nothing for it (rather than quotes that are not there)."""
    if score.level not in ("met", "partially_met") or score.evidence:
        return score
    if not given.evidence and score.criterion_id in measured:
        return score
    corrected.append(say("lowered", id=score.criterion_id))
    return score.model_copy(
        update={
            "level": "not_met",
            "estimated_points": 0.0 if score.points_possible is not None else None,
            "rating": None,
            "rationale": f"{say('unsupported_credit')} {score.rationale}",
        }
    )


class _ClaimChecker:
    """Strengths, gaps and required fixes held to what the submission says."""

    def __init__(self, request: FeedbackRequest, say: Say) -> None:
        self.say = say
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
        say = self.say
        if original.evidence and not checked.evidence:
            return say("claim_no_quotes")
        for quoted in _QUOTED_RE.findall(original.text):
            if find_quote(quoted, self.text) is None:
                return say("claim_quotes_absent", quoted=quoted)
        for word in _NAME_RE.findall(original.text):
            if word.lower() not in self.known_words and word not in _KNOWN_NAMES:
                return say("claim_names_absent", word=word)
        absence = _ABSENCE_RE.search(original.text)
        if absence is not None:
            what = absence.group("what")
            if self._has(what):
                return say("claim_absence_wrong", what=what)
            return None
        if name == "strengths" and not checked.evidence:
            return say("claim_strength_unshown")
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
    """The feedback checked and repaired; what verification says, in the plan's language."""
    say = FEEDBACK_WORDING.for_language(request.plan.language).say
    corrected: list[str] = []
    checker = _EvidenceChecker(request, say)
    measured = {
        criterion_id
        for check in request.analysis.checks
        if check.status == "passed"
        for criterion_id in check.criterion_ids
    }
    aligned = _aligned_scores(feedback, request, corrected, say)
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
            say,
        )
        for i, given in enumerate(aligned)
    ]
    claims = _ClaimChecker(request, say)
    lists: dict[str, list[FeedbackItem]] = {}
    for name in ("strengths", "gaps", "required_fixes", "suggested_improvements", "next_actions"):
        originals: list[FeedbackItem] = getattr(feedback, name)
        checked = _checked_items(originals, f"/{name}", checker)
        lists[name] = [
            item
            for i, (original, item) in enumerate(zip(originals, checked, strict=True))
            if name not in _CLAIM_LISTS or claims.keep(original, item, f"/{name}/{i}", name)
        ]
    forbidden = request.plan.ai_policy is not None and request.plan.ai_policy.stance == "forbidden"
    if forbidden:
        lists = _without_wording(lists, request, corrected)
    failed_check = any(check.status == "failed" for check in request.analysis.checks)
    overall, percent = readiness(
        scores, blocking_issues=failed_check or bool(lists["required_fixes"])
    )
    notices = list(feedback.notices)
    lowered_notes = {say("lowered", id=score.criterion_id) for score in scores}
    lowered = sum(1 for change in corrected if change in lowered_notes)
    if lowered:
        notices.append(say("unsupported_credit_notice", count=lowered))
    if request.analysis.addressed_to_grader and say("grader_notice") not in notices:
        notices.append(say("grader_notice"))
    no_ai = phrases_for(request.plan.language).texts.forbidden_feedback_notice
    if forbidden and no_ai not in notices:
        notices.append(no_ai)
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


__all__ = ["verify_feedback"]
