"""Facts the plan is fitted to: lengths, sources, style, formats, rules and Canvas's
dates, derived from the requirements; the kind of assignment; how numbers are written in a
plan. Facts keep numbers; the templates word them in the plan's language. Dates are written
on the student's clock (``server/text/dates.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypeVar

from models.context import (
    DESCRIPTION_SOURCE_ID,
    AssignmentFacts,
    AssignmentLock,
    DiscussionFacts,
    Requirements,
    RubricCriterion,
    SourceContext,
)
from server.planning.milestone_dates import closed_since, opening
from server.planning.offline.deliverables import names_this_one_of_its_series
from server.planning.offline.patterns import excluded_sources_in
from server.planning.offline.values import (
    DEADLINE_RE,
    ESSAY_RE,
    EXTENSION_RE,
    FILE_CONTEXT_RE,
    FORMAT_WORD_EXTENSIONS,
    FORMAT_WORD_RE,
    LAB_RE,
    LATE_POLICY_RE,
    LAYOUT_RE,
    PRESENTATION_RE,
    PROBLEM_SET_RE,
    PROGRAMMING_RE,
    REFLECTION_RE,
    SOURCES_RE,
    TITLE_PAGE_RE,
    CitationStyle,
    Range,
    citation_style_in,
    length_limits,
    parse_number,
    states_group_work,
)
from server.text.dates import StudentClock, as_utc, clock_for

_T = TypeVar("_T")
AssignmentKind = Literal[
    "essay",
    "lab",
    "presentation",
    "short_response",
    "problem_set",
    "programming",
    "reflection",
    "generic",
    "quiz",
    "tool",
    "in_class",
]
# Canvas says what the work is: a quiz (Classic or New Quizzes) or an external tool,
# whatever the text says. Work handed in on paper or outside Canvas ("none") is whatever
# the text shows (a paper handed in in class is still an essay), else work done in person.
_QUIZ_TYPES = frozenset({"online_quiz"})
_IN_PERSON_TYPES = frozenset({"on_paper", "none"})
_WRITTEN_TYPES = frozenset({"online_upload", "online_text_entry", "discussion_topic"})
_WRITTEN_UNITS = frozenset({"words", "pages"})
# Distinct words of writing code a page needs to be a programming assignment: fewer on a
# problem set ("Problem Set 2" with Python and "programming" is code to write).
_PROGRAMMING_WORDS = 3
_PROGRAMMING_WORDS_IN_A_PROBLEM_SET = 2


def handed_in_outside_canvas(submission_types: Iterable[str]) -> bool:
    """Nothing goes through Canvas: handed in on paper, or nothing to submit there."""
    types = set(submission_types)
    return bool(types) and types <= _IN_PERSON_TYPES


@dataclass(frozen=True)
class Facts:
    """What the plan is fitted to: the requirements' numbers and rules, and Canvas's facts."""

    kind: AssignmentKind
    clock: StudentClock  # the student's: every date the plan writes is on it
    now: datetime  # UTC, for arithmetic; shown with ``clock``
    due: datetime | None  # UTC
    lengths: dict[str, Range]
    citation_style: CitationStyle | None
    min_sources: int | None
    formats: tuple[str, ...]
    title_page: bool
    excluded_sources: tuple[str, ...]
    late_policy: str | None
    deadlines: tuple[str, ...]
    layout: tuple[str, ...]
    rules: tuple[str, ...]
    soft: tuple[str, ...]
    submission_notes: tuple[str, ...]
    group_work: bool
    rubric: tuple[RubricCriterion, ...]
    attachment_names: tuple[str, ...]
    submission_types: tuple[str, ...]
    scale: float = 1.0
    graded: bool = True  # False: not graded, or worth no points (no totals are shown)
    lock: AssignmentLock | None = None  # Canvas's lock for the student
    closed_on: date | None = None  # Canvas stopped accepting submissions that day
    discussion: DiscussionFacts | None = None
    group_assignment: bool = False  # Canvas's group_category_id: one submission per group
    new_quiz: bool = False  # New Quizzes (an LTI tool), not a Classic Quiz

    @property
    def in_person(self) -> bool:
        return handed_in_outside_canvas(self.submission_types)

    @property
    def withheld(self) -> bool:
        """Canvas withholds the instructions until the assignment opens."""
        return self.lock is not None and self.lock.instructions_withheld

    @property
    def waits_for_module(self) -> bool:
        return self.lock is not None and self.lock.module_name is not None

    @property
    def headline_length(self) -> tuple[str, Range] | None:
        """The length requirement a plan names first (words, else pages, slides, minutes),
        with its unit; the templates word it in the plan's language."""
        for unit in ("words", "pages", "slides", "minutes"):
            if unit in self.lengths:
                return unit, self.lengths[unit]
        return None

    @property
    def due_text(self) -> str | None:
        return self.clock.moment(self.due) if self.due else None


def canvas_extensions(assignment: AssignmentFacts) -> list[str]:
    return [f".{ext.strip().lstrip('.').lower()}" for ext in assignment.allowed_extensions if ext]


def _formats(assignment: AssignmentFacts, quotes: list[str]) -> tuple[str, ...]:
    """Canvas's allowed extensions are authoritative; otherwise what the text names."""
    if assignment.allowed_extensions:
        return tuple(dict.fromkeys(canvas_extensions(assignment)))
    named: list[str] = []
    for quote in quotes:
        named.extend(f".{match.lower()}" for match in EXTENSION_RE.findall(quote))
        if FILE_CONTEXT_RE.search(quote):
            named.extend(
                FORMAT_WORD_EXTENSIONS[word.lower()] for word in FORMAT_WORD_RE.findall(quote)
            )
    return tuple(dict.fromkeys(named))


def _first(values: list[_T | None]) -> _T | None:
    return next((value for value in values if value is not None), None)


def _min_sources(quotes: list[str]) -> int | None:
    counts = [
        parse_number(match["value"]) for quote in quotes for match in SOURCES_RE.finditer(quote)
    ]
    return _first([count for count in counts if count > 0])


SOURCE_WORD_RE = re.compile(r"\b(?:sources?|references?|citations?)\b", re.I)


def _excluded_sources(quotes: list[str]) -> tuple[str, ...]:
    found = [what for quote in quotes for what in excluded_sources_in(quote)]
    return tuple(dict.fromkeys(what for what in found if what))


def _merged_lengths(quotes: list[str], title: str) -> dict[str, Range]:
    """Each unit's length: the first stated for this very piece of a series ("The first
    paper (4-5 pages)" on "Paper 1", over "three papers ... 20-24 pages" before it), else
    the first stated."""
    merged: dict[str, Range] = {}
    own = [quote for quote in quotes if names_this_one_of_its_series(quote, title)]
    for quote in own + quotes:
        for unit, limits in length_limits(quote).items():
            merged.setdefault(unit, limits)
    return merged


def _classify(
    context: SourceContext,
    lengths: dict[str, Range],
    citation_style: CitationStyle | None,
    min_sources: int | None,
) -> AssignmentKind:
    title = context.assignment.title
    body = "\n".join(document.text for document in context.documents)
    types = set(context.assignment.submission_types)
    if context.assignment.is_quiz or context.assignment.is_new_quiz or types & _QUIZ_TYPES:
        return "quiz"
    if types == {"external_tool"}:
        return "tool"
    in_person = handed_in_outside_canvas(types)
    if PRESENTATION_RE.search(title) or "media_recording" in types:
        return "presentation"
    if LAB_RE.search(title):
        return "lab"
    # A title that names a paper ("Final Paper", "Literature Report") is one, whatever
    # talk, lab or code the page also mentions.
    paper = bool(ESSAY_RE.search(title))
    problem_set = bool(PROBLEM_SET_RE.search(title)) and not paper
    code_words = {match.lastgroup for match in PROGRAMMING_RE.finditer(f"{title}\n{body}")}
    needed = _PROGRAMMING_WORDS_IN_A_PROBLEM_SET if problem_set else _PROGRAMMING_WORDS
    if not paper and len(code_words) >= needed:
        return "programming"
    if problem_set:
        return "problem_set"
    presentation_words = {word.lower() for word in PRESENTATION_RE.findall(body)}
    if not paper and ("slides" in lengths or len(presentation_words) >= 2):
        return "presentation"
    lab_words = {word.lower() for word in LAB_RE.findall(body)}
    if not paper and len(lab_words) >= 3:
        return "lab"
    writes = not types or in_person or bool(types & _WRITTEN_TYPES)
    if in_person:  # a talk's minutes are no sign of a paper handed in
        lengths = {unit: limits for unit, limits in lengths.items() if unit in _WRITTEN_UNITS}
    words = lengths.get("words")
    is_short = (
        words is not None
        and words.target < 600
        and not min_sources
        and not citation_style
        and "pages" not in lengths
    )
    if writes and (is_short or "discussion_topic" in types):
        return "short_response"
    # A reflection or journal that asks for no sources is about one's own experience.
    if writes and REFLECTION_RE.search(title) and not (citation_style or min_sources):
        return "reflection"
    if writes and (lengths or citation_style or min_sources or paper):
        return "essay"
    return "in_class" if in_person else "generic"


# The words of a piece of writing whose instructions give no length, by kind.
_TYPICAL_WORDS: dict[str, int] = {"essay": 1500, "reflection": 1000, "short_response": 400}


def _scale(kind: AssignmentKind, lengths: dict[str, Range]) -> float:
    """How much bigger or smaller than a typical piece of its kind (effort multiplier)."""
    if kind in _TYPICAL_WORDS:
        words = lengths["words"].target if "words" in lengths else 0
        pages = lengths["pages"].target if "pages" in lengths else 0
        size = words or pages * 275 or _TYPICAL_WORDS[kind]
        return min(max(size / 1500, 0.3), 3.0)
    if kind == "presentation":
        minutes = lengths["minutes"].target if "minutes" in lengths else 0
        slides = lengths["slides"].target if "slides" in lengths else 0
        return min(max((minutes or slides or 10) / 10, 0.5), 3.0)
    return 1.0


def derive_facts(context: SourceContext, requirements: Requirements) -> Facts:
    items = [item for item in requirements.items if item.kind != "grading"]
    quotes = [item.quote for item in items]
    lengths = _merged_lengths(quotes, context.assignment.title)
    citation_style = _first([citation_style_in(quote) for quote in quotes])
    min_sources = _min_sources(quotes)
    kind = _classify(context, lengths, citation_style, min_sources)
    assignment = context.assignment
    body = "\n".join(document.text for document in context.documents)
    closed = closed_since(assignment, context.fetched_at)
    return Facts(
        kind=kind,
        clock=clock_for(assignment, context.language),
        # Work starts when Canvas opens the assignment, as the milestone schedule does.
        now=as_utc(opening(assignment, context.fetched_at)),
        due=as_utc(assignment.due_at) if assignment.due_at else None,
        lengths=lengths,
        citation_style=citation_style,
        min_sources=min_sources,
        formats=_formats(assignment, quotes),
        title_page=any(TITLE_PAGE_RE.search(quote) for quote in quotes),
        excluded_sources=_excluded_sources(quotes),
        late_policy=_first([item.text for item in items if LATE_POLICY_RE.search(item.quote)]),
        # Any kind: "The annotated bibliography is due May 3" is a citation rule and a date.
        deadlines=tuple(item.text for item in items if DEADLINE_RE.search(item.quote)),
        layout=tuple(
            item.text for item in items if item.kind == "format" and LAYOUT_RE.search(item.quote)
        ),
        rules=tuple(item.text for item in items if item.kind == "hard_constraint"),
        soft=tuple(item.text for item in items if item.kind == "soft_constraint"),
        submission_notes=tuple(item.text for item in items if item.kind == "submission"),
        group_work=assignment.group_category_id is not None
        or states_group_work(f"{assignment.title}\n{body}"),
        rubric=tuple(context.rubric),
        attachment_names=tuple(
            document.name
            for document in context.documents
            if document.source_id != DESCRIPTION_SOURCE_ID
        ),
        submission_types=tuple(assignment.submission_types),
        scale=_scale(kind, lengths),
        graded=assignment.graded,
        lock=assignment.lock,
        closed_on=clock_for(assignment).day_of(closed) if closed else None,
        discussion=assignment.discussion,
        group_assignment=assignment.group_category_id is not None,
        new_quiz=assignment.is_new_quiz,
    )


def format_points(value: float) -> str:
    return f"{value:g}"
