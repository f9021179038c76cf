"""The offline feedback engine: deterministic heuristics, no network, no model.

It scores each criterion from what can be checked in the text: the measured checks of
the analysis (length, citations, sections), a few signals the criterion's own words call
for (a position stated in the opening paragraph, a counterargument, transitions between
paragraphs, a question, a quotation), and which of the criterion's key terms the text
uses. Sentences addressed to a grader never count. It says that it is heuristic, marks
what the text cannot show as not assessable, and only ever points at the student's text:
it never writes any of it. What it says is data, one file per language
(``server/feedback/wording.py``), in the language of the plan it reviews against.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from models.feedback import (
    LEVEL_SHARE,
    Check,
    CriterionScore,
    Evidence,
    Feedback,
    FeedbackItem,
    Level,
    Scorecard,
    readiness,
)
from models.feedback_request import (
    CriterionSpec,
    FeedbackRequest,
    not_assessable_score,
    rating_at,
)
from models.plan import GeneratedBy, Task
from server.feedback.wording import FEEDBACK_WORDING
from server.llm.session import EngineSession
from server.text.submission import (
    Span,
    key_terms,
    overlaps,
    paragraph_number,
    questions,
    quotations,
    sentences,
    stems,
)

HEURISTIC_NOTICE = FEEDBACK_WORDING.load().say("notice")  # in English
MAX_NEXT_ACTIONS = 5
MAX_LISTED_TERMS = 6
# Shares of a criterion's key terms that count as covered / partly covered.
MET_COVERAGE = 0.6
PARTLY_COVERAGE = 0.3
MIN_EVIDENCE_TERMS = 2
MIN_TASK_TERMS = 3
# Heuristics see whether what a criterion asks for is there, not how good it is, so a
# met criterion is estimated at the rating nearest this share of its points, not the top.
MET_POINTS_SHARE = 0.8
# Plan wording that says how to work, not what the work contains.
_PLAN_WORDS = frozenset(
    "address rubric criterion rating top yourself give would could you your know means "
    "list every work done draft write".split()
)

_THESIS_RE = re.compile(r"\b(?:thesis|claim|position|stance)\b", re.I)
_CLAIM_CUES_RE = re.compile(
    r"\b(?:I argue|I contend|I claim|I will (?:argue|show)|this (?:essay|paper) "
    r"(?:argues|contends|shows|will argue)|should|must|ought to|because|therefore)\b",
    re.I,
)
_COUNTER_RE = re.compile(r"\b(?:counter-?argument\w*|rebuttal\w*|oppos\w+|objection\w*)\b", re.I)
_COUNTER_CUES_RE = re.compile(
    r"\b(?:critics|opponents|skeptics|some (?:argue|claim|say)|others (?:argue|claim)|"
    r"on the other hand|it could be argued|admittedly|although)\b",
    re.I,
)
_ORGANIZATION_RE = re.compile(r"\b(?:organi[sz]\w*|structure\w*|transitions?|flow)\b", re.I)
_TRANSITION_RE = re.compile(
    r"\b(?:however|therefore|moreover|furthermore|first|second|third|finally|in addition|"
    r"in contrast|as a result|consequently|for example|for instance|similarly|thus|"
    r"in conclusion)\b",
    re.I,
)
_QUESTION_RE = re.compile(r"\bquestions?\b", re.I)
_ENDING_QUESTION_RE = re.compile(r"\bend\w*\s+with\s+a\s+question\b", re.I)
_QUOTE_RE = re.compile(r"\bquot(?:e|es|ing|ation|ations)\b", re.I)
MIN_PARAGRAPHS = 3
MIN_TRANSITIONS = 2


@dataclass(frozen=True)
class Signal:
    passed: bool
    note: str
    spans: list[Span] = field(default_factory=list)


class _Reader:
    """The submission as the engine reads it: text addressed to a grader removed."""

    def __init__(self, request: FeedbackRequest) -> None:
        self.text = request.submission_text
        self.say = FEEDBACK_WORDING.for_language(request.plan.language).say
        ignored = _spans(request.analysis.addressed_to_grader)
        self.paragraphs = [p for p in request.analysis.paragraphs if not overlaps(p, ignored)]
        self.sentences = [s for s in sentences(self.text) if not overlaps(s, ignored)]
        self.stems = stems(" ".join(self.text[s:e] for s, e in self.sentences))

    def sentence_stems(self, span: Span) -> set[str]:
        return stems(self.text[span[0] : span[1]])

    def evidence(self, spans: list[Span]) -> list[Evidence]:
        return [Evidence(quote=self.text[s:e], start=s, end=e) for s, e in spans]

    def location(self, spans: list[Span]) -> str:
        if not spans:
            return self.say("missing")
        return self.say("paragraph", number=paragraph_number(self.paragraphs, spans[0][0]))

    def first_matching(self, pattern: re.Pattern[str], within: Span | None = None) -> Span | None:
        for start, end in self.sentences:
            if within is not None and not (within[0] <= start < within[1]):
                continue
            if pattern.search(self.text[start:end]):
                return start, end
        return None


def _thesis(reader: _Reader) -> Signal:
    opening = next(
        (p for p in reader.paragraphs if len(reader.text[p[0] : p[1]].split()) > 8), None
    )
    found = reader.first_matching(_CLAIM_CUES_RE, opening) if opening else None
    if found:
        return Signal(True, reader.say("thesis_yes"), [found])
    return Signal(False, reader.say("thesis_no"))


def _counterargument(reader: _Reader) -> Signal:
    found = reader.first_matching(_COUNTER_CUES_RE)
    if found:
        return Signal(True, reader.say("counter_yes"), [found])
    return Signal(False, reader.say("counter_no"))


def _organization(reader: _Reader) -> Signal:
    transitions = [s for s in reader.sentences if _TRANSITION_RE.search(reader.text[s[0] : s[1]])]
    paragraphs = len(reader.paragraphs)
    counts = {"paragraphs": paragraphs, "transitions": len(transitions)}
    if paragraphs >= MIN_PARAGRAPHS and len(transitions) >= MIN_TRANSITIONS:
        return Signal(True, reader.say("organization_yes", **counts), transitions[:1])
    return Signal(False, reader.say("organization_no", **counts))


def _question(reader: _Reader, *, at_end: bool) -> Signal:
    asked = [s for s in questions(reader.text) if s in reader.sentences]
    if at_end:
        last_start = reader.paragraphs[-1][0] if reader.paragraphs else 0
        closing = [s for s in asked if s[0] >= last_start]
        if closing:
            return Signal(True, reader.say("ending_question_yes"), closing[:1])
        return Signal(False, reader.say("ending_question_no"))
    if asked:
        return Signal(True, reader.say("question_yes"), asked[:1])
    return Signal(False, reader.say("question_no"))


def _quotation(reader: _Reader) -> Signal:
    quoted = [
        q for q in quotations(reader.text) if any(s[0] <= q[0] < s[1] for s in reader.sentences)
    ]
    if quoted:
        return Signal(True, reader.say("quotation_yes"), quoted[:1])
    return Signal(False, reader.say("quotation_no"))


def _signals(spec: CriterionSpec, reader: _Reader, checks: list[Check]) -> list[Signal]:
    wording = f"{spec.criterion} {spec.details}"
    detectors: list[tuple[re.Pattern[str], Callable[[], Signal]]] = [
        (_THESIS_RE, lambda: _thesis(reader)),
        (_COUNTER_RE, lambda: _counterargument(reader)),
        (_ORGANIZATION_RE, lambda: _organization(reader)),
        (_ENDING_QUESTION_RE, lambda: _question(reader, at_end=True)),
        (_QUOTE_RE, lambda: _quotation(reader)),
    ]
    found = [detect() for pattern, detect in detectors if pattern.search(wording)]
    if _QUESTION_RE.search(wording) and not _ENDING_QUESTION_RE.search(wording):
        found.append(_question(reader, at_end=False))
    for check in checks:
        if spec.id in check.criterion_ids and check.status != "warning":
            note = f"{check.requirement}: {check.detail}"
            found.append(Signal(check.status == "passed", note, _spans(check.evidence)))
    return found


def _terms(spec: CriterionSpec) -> dict[str, str]:
    terms = key_terms(f"{spec.criterion} {spec.details}")
    return {stem: word for stem, word in terms.items() if word not in _PLAN_WORDS}


def _level(signals: list[Signal], coverage: float | None) -> Level:
    """What the signals show decides; key terms decide only where no signal applies."""
    covered = coverage or 0.0
    if any(not s.passed for s in signals):
        partly = any(s.passed for s in signals) or covered >= PARTLY_COVERAGE
        return "partially_met" if partly else "not_met"
    if signals:
        return "met"
    if covered >= MET_COVERAGE:
        return "met"
    return "partially_met" if covered >= PARTLY_COVERAGE else "not_met"


def _estimate(spec: CriterionSpec, level: Level) -> tuple[float | None, str | None]:
    """Points and rubric rating for a level: the rating nearest the level's share of the
    points (``MET_POINTS_SHARE`` for ``met``: presence is checked here, not excellence),
    none for ``not_met``; the rating is the one Canvas shows for those points."""
    if spec.points_possible is None or level == "not_assessable":
        return None, None
    rated = [r for r in spec.ratings if r.points is not None and r.points <= spec.points_possible]
    if level == "not_met":
        points = 0.0
    else:
        share = MET_POINTS_SHARE if level == "met" else LEVEL_SHARE[level]
        target = share * spec.points_possible
        nearest = min(rated, key=lambda r: abs((r.points or 0.0) - target), default=None)
        points = nearest.points if nearest and nearest.points is not None else round(target * 2) / 2
    shown = rating_at(spec, points)
    return points, (shown.description or None) if shown else None


def _best_sentences(reader: _Reader, terms: set[str], limit: int = 2) -> list[Span]:
    scored = [(len(reader.sentence_stems(span) & terms), span) for span in reader.sentences]
    ranked = sorted((item for item in scored if item[0] >= MIN_EVIDENCE_TERMS), key=lambda i: -i[0])
    return sorted(span for _, span in ranked[:limit])


@dataclass(frozen=True)
class Judgement:
    spec: CriterionSpec
    score: CriterionScore
    signals: list[Signal]
    missing_terms: list[str]


def _judge(spec: CriterionSpec, reader: _Reader, checks: list[Check]) -> Judgement:
    if spec.not_assessable_reason is not None:
        score = not_assessable_score(spec, spec.not_assessable_reason, reader.say("not_judged"))
        return Judgement(spec, score, [], [])
    terms = _terms(spec)
    found = [word for stem, word in terms.items() if stem in reader.stems]
    missing = [word for stem, word in terms.items() if stem not in reader.stems]
    coverage = len(found) / len(terms) if terms else None
    signals = _signals(spec, reader, checks)
    level = _level(signals, coverage)
    points, rating = _estimate(spec, level)
    spans = [span for signal in signals if signal.passed for span in signal.spans]
    spans = list(dict.fromkeys(spans + _best_sentences(reader, set(terms))))
    say = reader.say
    notes = [say("signal_yes" if s.passed else "signal_no", note=s.note) for s in signals]
    if terms:
        listed = ", ".join(missing[:MAX_LISTED_TERMS])
        notes.append(
            say("terms_used", found=len(found), total=len(terms))
            + (say("terms_not_used", terms=listed) if missing else "")
        )
    score = CriterionScore(
        criterion_id=spec.id,
        criterion=spec.criterion,
        kind=spec.kind,
        points_possible=spec.points_possible,
        level=level,
        estimated_points=points,
        rating=rating,
        rationale=say("rationale", notes="; ".join(notes) or say("nothing_measurable")),
        evidence=reader.evidence(spans[:3]),
    )
    return Judgement(spec, score, signals, missing)


def _criterion_items(
    judgements: list[Judgement], reader: _Reader
) -> tuple[list[FeedbackItem], list[FeedbackItem], list[FeedbackItem]]:
    strengths: list[FeedbackItem] = []
    gaps: list[FeedbackItem] = []
    improvements: list[FeedbackItem] = []
    say = reader.say
    for j in judgements:
        score = j.score
        where = reader.location(_spans(score.evidence)) if score.evidence else say("whole")
        passed = [s.note for s in j.signals if s.passed]
        if score.level == "met":
            reason = passed[0] if passed else say("key_terms_used")
            strengths.append(
                FeedbackItem(
                    text=say("strength", criterion=score.criterion, reason=reason),
                    location=where,
                    criterion_id=score.criterion_id,
                    evidence=score.evidence[:2],
                )
            )
        elif score.level in ("partially_met", "not_met"):
            lacking = _lacking(j, reader)
            extent = "gap_partly" if score.level == "partially_met" else "gap_not_yet"
            gaps.append(
                FeedbackItem(
                    text=say(extent, criterion=score.criterion)
                    + (f": {lacking}." if lacking else "."),
                    location=where if score.level == "partially_met" else say("missing"),
                    criterion_id=score.criterion_id,
                    evidence=score.evidence[:1],
                )
            )
            if score.level == "partially_met":
                asked = j.spec.details or j.spec.criterion
                improvements.append(
                    FeedbackItem(
                        text=say("improvement", criterion=score.criterion, asked=asked),
                        location=where,
                        criterion_id=score.criterion_id,
                    )
                )
    return strengths, gaps, improvements


def _lacking(judgement: Judgement, reader: _Reader) -> str:
    failed = [signal.note for signal in judgement.signals if not signal.passed]
    if failed:
        return "; ".join(failed)
    if judgement.missing_terms:
        terms = ", ".join(judgement.missing_terms[:MAX_LISTED_TERMS])
        return reader.say("untouched_terms", terms=terms)
    return ""


def _spans(evidence: list[Evidence]) -> list[Span]:
    return [(e.start or 0, e.end or 0) for e in evidence]


def _check_items(
    checks: list[Check],
) -> tuple[list[FeedbackItem], list[FeedbackItem], list[FeedbackItem]]:
    def item(check: Check) -> FeedbackItem:
        return FeedbackItem(
            text=f"{check.requirement}: {check.detail}.",
            location=check.location,
            criterion_id=check.criterion_ids[0] if check.criterion_ids else None,
            evidence=check.evidence[:2],
        )

    return (
        # A passed check that bears on a criterion shows in that criterion's strength.
        [item(c) for c in checks if c.status == "passed" and not c.criterion_ids],
        [item(c) for c in checks if c.status == "failed"],
        [item(c) for c in checks if c.status == "warning"],
    )


def _task_items(request: FeedbackRequest, reader: _Reader) -> tuple[list[FeedbackItem], list[Task]]:
    """The milestone's tasks whose deliverable and done definition show in the text, and
    those that do not yet."""
    if request.milestone is None:
        return [], []
    shown: list[FeedbackItem] = []
    open_tasks: list[Task] = []
    for task in request.milestone.tasks:
        terms = {
            stem
            for stem, word in key_terms(f"{task.deliverable} {task.done_definition}").items()
            if word not in _PLAN_WORDS
        }
        if len(terms) < MIN_TASK_TERMS:
            continue  # too little said about the result to look for it in the text
        if len(terms & reader.stems) / len(terms) >= MET_COVERAGE:
            spans = _best_sentences(reader, terms, limit=1)
            shown.append(
                FeedbackItem(
                    text=reader.say("task_done", title=task.title, done=task.done_definition),
                    location=reader.location(spans) if spans else reader.say("whole"),
                    evidence=reader.evidence(spans),
                )
            )
        else:
            open_tasks.append(task)
    return shown, open_tasks


def _next_actions(
    request: FeedbackRequest,
    judgements: list[Judgement],
    fixes: list[FeedbackItem],
    open_tasks: list[Task],
    reader: _Reader,
) -> list[FeedbackItem]:
    say = reader.say
    actions: list[FeedbackItem] = []
    if fixes:
        first = fixes[0]
        actions.append(FeedbackItem(text=say("fix_first", fix=first.text), location=first.location))
    weakest = sorted(
        (j for j in judgements if j.score.level in ("not_met", "partially_met")),
        key=lambda j: (j.score.level != "not_met", -(j.score.points_possible or 0)),
    )
    if weakest:
        score = weakest[0].score
        points = say("points", points=score.points_possible) if score.points_possible else ""
        lacking = _lacking(weakest[0], reader) or say("reread")
        actions.append(
            FeedbackItem(
                text=say("work_on", criterion=score.criterion, points=points, lacking=lacking),
                location=say("missing" if score.level == "not_met" else "whole"),
                criterion_id=score.criterion_id,
            )
        )
    if open_tasks and request.milestone is not None:
        task = open_tasks[0]
        actions.append(
            FeedbackItem(
                text=say(
                    "next_task",
                    milestone=request.milestone.title,
                    title=task.title,
                    done=task.done_definition,
                ),
                location=say("missing"),
            )
        )
    for j in judgements:
        reason = j.spec.not_assessable_reason
        if reason and not j.spec.judged_elsewhere:
            actions.append(
                FeedbackItem(
                    text=say("check_yourself", criterion=j.spec.criterion, reason=reason),
                    location=say("outside"),
                    criterion_id=j.spec.id,
                )
            )
    actions.append(FeedbackItem(text=say("revise"), location=say("whole")))
    return actions[:MAX_NEXT_ACTIONS]


class OfflineFeedbackEngine:
    """Rule-based feedback: no network, no model, same output for the same input."""

    name = "offline"

    async def review(
        self, request: FeedbackRequest, session: EngineSession | None = None
    ) -> Feedback:
        # Up to SUBMISSION_MAX_CHARS of text: measured off the event loop.
        return await asyncio.to_thread(review, request)


def review(request: FeedbackRequest) -> Feedback:
    reader = _Reader(request)
    checks = request.analysis.checks
    judgements = [_judge(spec, reader, checks) for spec in request.criteria]
    strengths, gaps, improvements = _criterion_items(judgements, reader)
    passed, failed, warned = _check_items(checks)
    done_tasks, open_tasks = _task_items(request, reader)
    scores = [j.score for j in judgements]
    overall, percent = readiness(scores, blocking_issues=bool(failed))
    return Feedback(
        target=request.target,
        plan_version=request.plan_version,
        scorecard=Scorecard(
            criterion_scores=scores, overall_readiness=overall, readiness_score=percent
        ),
        strengths=passed + strengths + done_tasks,
        gaps=gaps,
        required_fixes=failed,
        suggested_improvements=warned + improvements,
        next_actions=_next_actions(request, judgements, failed, open_tasks, reader),
        checks=checks,
        submission_stats=request.analysis.stats,
        notices=[reader.say("notice")],
        generated_by=GeneratedBy(engine="offline", model=None, heuristic=True),
    )


__all__ = ["HEURISTIC_NOTICE", "OfflineFeedbackEngine", "review"]
