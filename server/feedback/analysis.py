"""``analyze_against_plan_and_rubric``'s work: which criteria a submission is scored on,
which of them its text cannot show, and the measurable checks every engine gets.

Criteria: the rubric's, one per criterion (for a milestone, the criteria it does not work
on are marked as judged elsewhere); without a rubric, the milestone's acceptance
criteria, or the plan's hard constraints for the whole assignment. Checks: length against
the required word count, citations and sources when the assignment asks for them,
sections a criterion names, and text addressed to a grader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from models.context import Requirements, RubricCriterion, SourceContext
from models.feedback import Check, CheckStatus, Evidence, FeedbackTarget, SubmissionStats
from models.feedback_request import CriterionSpec, FeedbackRequest, SubmissionAnalysis
from models.plan import Milestone, Plan
from server.feedback.terms import term_pattern
from server.feedback.wording import FEEDBACK_WORDING
from server.planning.offline import Facts, Range, distill_requirements
from server.planning.offline import derive_facts as facts_from_requirements
from server.planning.offline.templating import length_text, style_text, templates_for
from server.planning.offline.values import CitationStyle
from server.text.language import DEFAULT_LANGUAGE
from server.text.submission import (
    CitationReport,
    Span,
    addressed_to_grader,
    find_citations,
    is_heading,
    paragraph_number,
    paragraph_spans,
    stems,
    word_count,
)
from server.text.wording import Say

# Styles and the in-text form they use.
_STYLE_FORMS = {
    "APA": "author-year",
    "Harvard": "author-year",
    "Chicago": "author-year",
    "Turabian": "author-year",
    "MLA": "author-page",
    "IEEE": "numeric",
    "Vancouver": "numeric",
    "ACS": "numeric",
    "AMA": "numeric",
    "CSE": "numeric",
}
_SECTION_WORDS = (
    "abstract",
    "introduction",
    "background",
    "hypothesis",
    "methods",
    "procedure",
    "results",
    "discussion",
    "conclusion",
    "references",
)
# "About 500 words" is met within this share either way.
_ABOUT_TOLERANCE = 0.1


def outside_text_reason(text: str, say: Say, *, name: str | None = None) -> str | None:
    """Why a criterion cannot be judged from submitted text, or None if it can.
    Visual words count only in the criterion's ``name`` when one is given (a long
    description may mention figures in passing)."""
    if term_pattern("live").search(text):
        return say("reason_live")
    if term_pattern("visual").search(name if name is not None else text):
        return say("reason_visual")
    if term_pattern("process").search(text):
        return say("reason_process")
    return None


def _rubric_spec(
    criterion: RubricCriterion, milestone: Milestone | None, say: Say, *, graded: bool
) -> CriterionSpec:
    """``milestone`` is set when the criterion belongs to another part of the plan.
    Points only where Canvas counts them: never for an ungraded assignment or a criterion
    ignored for scoring (and the context has none when Canvas hides them)."""
    reason = outside_text_reason(
        f"{criterion.description}\n{criterion.long_description}", say, name=criterion.description
    )
    judged_elsewhere = False
    if reason is None and milestone is not None:
        judged_elsewhere = True
        reason = say("reason_elsewhere", milestone=milestone.title)
    top = max(criterion.ratings, key=lambda r: r.points or 0, default=None)
    standard = top.long_description if top is not None else ""
    return CriterionSpec(
        id=criterion.id,
        kind="rubric_criterion",
        criterion=criterion.description,
        # The top rating's long description often states the actual standard.
        details="\n".join(text for text in (criterion.long_description, standard) if text),
        points_possible=criterion.scored_points if graded else None,
        ratings=criterion.ratings,
        use_range=criterion.criterion_use_range,
        not_assessable_reason=reason,
        judged_elsewhere=judged_elsewhere,
    )


def criteria_for(
    plan: Plan, context: SourceContext, milestone: Milestone | None
) -> list[CriterionSpec]:
    say = FEEDBACK_WORDING.for_language(plan.language).say
    if context.rubric:
        covered = set(milestone.covers_criteria) if milestone else set()
        return [
            _rubric_spec(
                criterion,
                milestone if covered and criterion.id not in covered else None,
                say,
                graded=context.assignment.graded,
            )
            for criterion in context.rubric
        ]
    if milestone is not None:
        texts, prefix, kind = milestone.acceptance_criteria, "ac", "acceptance_criterion"
    else:
        texts, prefix, kind = plan.assignment_summary.hard_constraints, "hc", "hard_constraint"
    return [
        CriterionSpec(
            id=f"{prefix}-{number}",
            kind=kind,
            criterion=text,
            not_assessable_reason=outside_text_reason(text, say),
        )
        for number, text in enumerate(texts, 1)
    ]


class _Measured:
    """The submission's measurements, shared by the checks."""

    def __init__(self, text: str, language: str | None) -> None:
        self.text = text
        # The checks are worded in the plan's language, its lengths as the plan words them.
        self.say = FEEDBACK_WORDING.for_language(language).say
        self.plan_say = templates_for(language or DEFAULT_LANGUAGE).say
        self.paragraphs = paragraph_spans(text)
        self.words = word_count(text)
        self.citations: CitationReport = find_citations(text)

    def location(self, span: Span | None) -> str:
        if span is None:
            return self.say("missing")
        return self.say("paragraph", number=paragraph_number(self.paragraphs, span[0]))

    def evidence(self, spans: Iterable[Span], limit: int = 3) -> list[Evidence]:
        return [
            Evidence(quote=self.text[start:end], start=start, end=end)
            for start, end in list(spans)[:limit]
        ]


def _ids(criteria: list[CriterionSpec], pattern: re.Pattern[str]) -> list[str]:
    return [
        spec.id
        for spec in criteria
        if spec.not_assessable_reason is None and pattern.search(f"{spec.criterion} {spec.details}")
    ]


def _within(words: int, limits: Range) -> bool:
    if limits.low and limits.high and limits.low == limits.high:
        return abs(words - limits.low) <= limits.low * _ABOUT_TOLERANCE
    return (limits.low is None or words >= limits.low) and (
        limits.high is None or words <= limits.high
    )


def _length_check(
    measured: _Measured, facts: Facts, criteria: list[CriterionSpec], milestone: Milestone | None
) -> Check | None:
    limits = facts.lengths.get("words")
    if limits is None:
        return None
    if milestone is not None and not any(
        term_pattern("length").search(text) and term_pattern("words").search(text)
        for text in milestone.acceptance_criteria
    ):
        return None  # an outline or a source list is not held to the essay's length
    words, say = measured.words, measured.say
    passed = _within(words, limits)
    gap = ""
    if not passed and limits.low and words < limits.low:
        gap = say("short", count=limits.low - words)
    elif not passed and limits.high and words > limits.high:
        gap = say("over", count=words - limits.high)
    return Check(
        id="length",
        requirement=say(
            "length_requirement", limits=length_text(measured.plan_say, "words", limits)
        ),
        status="passed" if passed else "failed",
        detail=say("length_detail", words=words, gap=gap),
        location=say("whole"),
        criterion_ids=[
            spec.id
            for spec in criteria
            if spec.kind != "rubric_criterion" and term_pattern("words").search(spec.criterion)
        ],
    )


def _citation_spans(report: CitationReport) -> list[Span]:
    if report.citations:
        return [citation.span for citation in report.citations]
    return [report.reference_heading] if report.reference_heading else []


def _citation_check(
    measured: _Measured, named: CitationStyle | None, criteria: list[CriterionSpec], asked: bool
) -> Check | None:
    """Citations present, in the form the required style uses."""
    bearing = _ids(criteria, term_pattern("cite"))
    style = style_text(measured.plan_say, named) if named else None
    if not (style or bearing or asked):
        return None
    report, say = measured.citations, measured.say
    forms = sorted(report.styles())
    expected_form = _STYLE_FORMS.get(named.name) if named else None
    status: CheckStatus = "passed"
    if not report.citations and not report.reference_entries:
        status, detail = "failed", say("citations_none")
    else:
        detail = say("citations_count", count=len(report.citations))
        joined = f" {say('and')} ".join(forms)
        detail += say("citations_forms", forms=joined) if forms else ""
        if report.reference_heading is not None:
            detail += say("citations_list", count=len(report.reference_entries))
        if expected_form and report.citations and expected_form not in forms:
            status = "warning"
            detail += say("citations_wrong_form", style=style, form=expected_form)
    spans = _citation_spans(report)
    return Check(
        id="citations",
        requirement=say("citations_in_style", style=style) if style else say("citations_any"),
        status=status,
        detail=detail,
        location=measured.location(spans[0] if spans else None),
        criterion_ids=bearing,
        evidence=measured.evidence(spans, limit=2),
    )


def _sources_check(
    measured: _Measured, minimum: int | None, criteria: list[CriterionSpec]
) -> Check | None:
    """Enough distinct sources: in-text keys or reference list entries, whichever more."""
    if not minimum:
        return None
    distinct = measured.citations.distinct_sources
    passed = distinct >= minimum
    say = measured.say
    short = "" if passed else say("short", count=minimum - distinct)
    spans = _citation_spans(measured.citations)
    return Check(
        id="sources",
        requirement=say("sources_requirement", minimum=minimum),
        status="passed" if passed else "failed",
        detail=say("sources_detail", count=distinct, short=short),
        location=measured.location(spans[0] if spans else None),
        criterion_ids=_ids(criteria, term_pattern("sources")),
        evidence=measured.evidence(spans, limit=2),
    )


def _reference_checks(
    measured: _Measured, facts: Facts, criteria: list[CriterionSpec], milestone: Milestone | None
) -> list[Check | None]:
    """For a milestone, only what its acceptance criteria talk about."""
    scope = milestone.acceptance_criteria if milestone else []
    asked = any(term_pattern("cite").search(text) for text in scope)
    counted = milestone is None or any(term_pattern("sources").search(text) for text in scope)
    named = facts.citation_style if milestone is None or asked else None
    return [
        _citation_check(measured, named, criteria, asked),
        _sources_check(measured, facts.min_sources if counted else None, criteria),
    ]


def _section_span(measured: _Measured, word: str) -> Span | None:
    wanted = stems(word)
    for start, end in measured.paragraphs:
        first_line = measured.text[start:end].split("\n", 1)[0]
        line_end = start + len(first_line)
        if is_heading(first_line) and wanted & stems(first_line):
            return start, line_end
        if wanted & stems(" ".join(first_line.split()[:2])):
            return start, line_end  # "In conclusion, ..." opens the section without a title
    return None


def _section_checks(measured: _Measured, criteria: list[CriterionSpec]) -> list[Check]:
    checks: list[Check] = []
    for spec in criteria:
        if spec.not_assessable_reason is not None:
            continue
        name = spec.criterion.lower()
        word = next((w for w in _SECTION_WORDS if re.search(rf"\b{w}", name)), None)
        if word is None or spec.kind != "rubric_criterion":
            continue
        span = _section_span(measured, word)
        section, say = word.capitalize(), measured.say
        checks.append(
            Check(
                id=f"section-{word}",
                requirement=say("section_requirement", section=section, criterion=spec.criterion),
                status="passed" if span else "failed",
                detail=say("section_found", opening=measured.text[span[0] : span[1]])
                if span
                else say("section_missing", section=section),
                location=measured.location(span),
                criterion_ids=[spec.id],
                evidence=measured.evidence([span] if span else []),
            )
        )
    return checks


def _grader_check(measured: _Measured, spans: list[Span]) -> Check | None:
    if not spans:
        return None
    return Check(
        id="addressed_to_grader",
        requirement=measured.say("grader_requirement"),
        status="failed",
        detail=measured.say("grader_detail", count=len(spans)),
        location=measured.location(spans[0]),
        evidence=measured.evidence(spans),
    )


def analyze(
    plan: Plan,
    context: SourceContext,
    target: FeedbackTarget,
    milestone: Milestone | None,
    text: str,
    plan_version: int,
) -> FeedbackRequest:
    criteria = criteria_for(plan, context, milestone)
    facts = assignment_facts(context)
    measured = _Measured(text, plan.language)
    grader_spans = addressed_to_grader(text)
    checks = [
        check
        for check in (
            _length_check(measured, facts, criteria, milestone),
            *_reference_checks(measured, facts, criteria, milestone),
            *_section_checks(measured, criteria),
            _grader_check(measured, grader_spans),
        )
        if check is not None
    ]
    analysis = SubmissionAnalysis(
        stats=SubmissionStats(
            characters=len(text), words=measured.words, paragraphs=len(measured.paragraphs)
        ),
        paragraphs=measured.paragraphs,
        checks=checks,
        addressed_to_grader=measured.evidence(grader_spans, limit=len(grader_spans)),
    )
    return FeedbackRequest(
        target=target,
        plan_version=plan_version,
        plan=plan,
        context=context,
        milestone=milestone,
        criteria=criteria,
        submission_text=text,
        analysis=analysis,
    )


def assignment_facts(context: SourceContext) -> Facts:
    """The assignment's numbers and rules (length, citation style, source count), read
    from its own text the way the offline planner reads them."""
    requirements: Requirements = distill_requirements(context)
    return facts_from_requirements(context, requirements)


__all__ = ["analyze", "assignment_facts", "criteria_for", "outside_text_reason"]
