"""Distilling requirements: rubric criteria, rules quoted word for word from the
instructions (description first, restatements left out) and notes of Canvas's facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from models.context import (
    DESCRIPTION_SOURCE_ID,
    AssignmentFacts,
    Requirement,
    RequirementKind,
    Requirements,
    SourceContext,
)
from server.planning.offline.deliverables import (
    about_another_deliverable,
    names_this_one_of_its_series,
    names_this_or_every_deliverable,
    titles_another_deliverable,
    titles_work,
)
from server.planning.offline.facts import canvas_extensions, format_points
from server.planning.offline.patterns import requirement_kind
from server.planning.offline.places import document_places
from server.planning.offline.templating import LanguageTemplates, Say, templates_for
from server.planning.offline.values import (
    APPROX_RE,
    EDITION_RE,
    EXTENSION_RE,
    HARD_KINDS,
    LATE_POLICY_RE,
    MAX_RE,
    MIN_RE,
    NUMBER,
    RANGE_RE,
    SOURCES_RE,
    STYLE_RE,
    TYPE_VALUE_RE,
    citation_style_in,
    collapse_whitespace,
    length_limits,
    parse_number,
    states_deadline,
)
from server.text.dates import clock_for
from server.text.grounding import RUBRIC_SOURCE_ID, normalize

# Longer "sentences" are usually tables or lost punctuation, not one requirement.
_MAX_REQUIREMENT_CHARS = 400
_MIN_REQUIREMENT_WORDS = 3
_BARE_LEAD_IN_WORDS = 8
_THE_FOLLOWING_RE = re.compile(r"\bthe following(?:\s+[\w-]+)?\s*:?$", re.I)
_COUNTS_PARTS_RE = re.compile(
    rf"\b(?:{NUMBER}|one|all|each|any|both|either)\b|"
    r"\b(?:sections?|parts?|components?|elements?|items?|questions?|topics?|steps?)\b",
    re.I,
)


def _rubric_requirements(context: SourceContext, say: Say) -> list[Requirement]:
    assignment = context.assignment
    graded = assignment.graded
    total = assignment.points_possible
    requirements: list[Requirement] = []
    for criterion in context.rubric:
        description = criterion.description.strip()
        if not description:
            continue
        shown = criterion.points is not None and graded
        text = say(
            "grading_signal",
            name=description,
            feedback_only=criterion.ignore_for_scoring,
            points=format_points(criterion.points or 0) if shown else None,
            total=format_points(total) if total else None,
        )
        requirements.append(
            Requirement(
                id="",
                kind="grading",
                text=text,
                quote=description,
                source_id=RUBRIC_SOURCE_ID,
                rubric_criterion_id=criterion.id,
            )
        )
    return requirements


def _quoted(kind: str, quote: str, source_id: str) -> Requirement:
    """A requirement in the source's own words (ids are given once all are found)."""
    return Requirement(
        id="", kind=kind, text=collapse_whitespace(quote), quote=quote, source_id=source_id
    )


_STOP_WORDS = frozenset(
    "a an the your you of in to and or be is are with for on at by as it its this that each "
    "every all any".split()
)
_WORD_TOKEN_RE = re.compile(r"[^\W_]+")
# What a sentence's measurable values are written with; the rest is its residue.
_VALUE_PATTERNS = (
    RANGE_RE,
    MIN_RE,
    MAX_RE,
    APPROX_RE,
    SOURCES_RE,
    STYLE_RE,
    EDITION_RE,
    EXTENSION_RE,
)


@dataclass(frozen=True)
class _Gist:
    """What a requirement says: its measurable values and the other words, roughly stemmed."""

    values: frozenset[tuple[str, object]]
    words: frozenset[str]

    @classmethod
    def of(cls, quote: str) -> _Gist:
        values: set[tuple[str, object]] = {
            ("length", (unit, limits)) for unit, limits in length_limits(quote).items()
        }
        values |= {
            ("sources", parse_number(match["value"])) for match in SOURCES_RE.finditer(quote)
        }
        values |= {("format", ext.lower()) for ext in EXTENSION_RE.findall(quote)}
        style = citation_style_in(quote)
        if style:
            values.add(("style", style))
        rest = quote
        for pattern in _VALUE_PATTERNS:
            rest = pattern.sub(" ", rest)
        words = {
            word[:-1] if word.endswith("s") and len(word) > 3 and not word.endswith("ss") else word
            for word in _WORD_TOKEN_RE.findall(normalize(rest))
            if word not in _STOP_WORDS
        }
        return cls(frozenset(values), frozenset(words))

    def restates(self, other: _Gist) -> bool:
        """Whether this says nothing that ``other`` does not: same values, no new words.
        "Your essay must be 1,500–2,000 words." restates "Your final essay must be
        1,500–2,000 words."; the sources count phrase ("five peer-reviewed sources") is a
        value, so the adjective in it does not make a new rule."""
        return self.values <= other.values and self.words <= other.words


def _same_class(first: RequirementKind, second: RequirementKind) -> bool:
    return first == second or (first in HARD_KINDS and second in HARD_KINDS)


class _Restatements:
    """The requirements kept so far, indexed by word: a restatement uses only words of the
    one it restates, so only requirements holding all its words are compared (long
    handbooks stay fast)."""

    def __init__(self) -> None:
        self._kept: list[tuple[RequirementKind, _Gist]] = []
        self._by_word: dict[str, set[int]] = {}

    def restates_one(self, kind: RequirementKind, gist: _Gist) -> bool:
        if gist.words:
            holders = sorted((self._by_word.get(word, set()) for word in gist.words), key=len)
            candidates: Iterable[int] = set.intersection(*holders)
        else:
            candidates = range(len(self._kept))
        return any(
            _same_class(kind, self._kept[i][0]) and gist.restates(self._kept[i][1])
            for i in sorted(candidates)
        )

    def add(self, kind: RequirementKind, gist: _Gist) -> None:
        for word in gist.words:
            self._by_word.setdefault(word, set()).add(len(self._kept))
        self._kept.append((kind, gist))


# A table row's cells, and the clauses and sentences in a cell: "6 | Monte Carlo Simulation
# | Problem set 2 due; Problem set 3 out".
_CELL_BREAK_RE = re.compile(r"\s*\|\s*|;\s*|(?<=\.)\s+")


def _rules_in_row(
    text: str, start: int, end: int, title: str
) -> list[tuple[int, int, RequirementKind]]:
    """The rules a table row holds: a late policy ("Labs 1 - 6 | 70% (points deducted for
    lateness)", the whole row), or this work's own date: the cell or clause that names it by
    its number in the series and says it is due ("Problem set 2 due" on "Problem Set 2").
    The rest of a schedule (other work's dates, topics, optional problems) is no rule."""
    if LATE_POLICY_RE.search(text, start, end):
        return [(start, end, "hard_constraint")]
    spans: list[tuple[int, int, RequirementKind]] = []
    at = start
    for found in [*_CELL_BREAK_RE.finditer(text, start, end), None]:
        stop = found.start() if found else end
        piece = text[at:stop].strip()
        if piece and names_this_one_of_its_series(piece, title) and states_deadline(piece):
            first = at + text[at:stop].index(piece)
            spans.append((first, first + len(piece), "deadline"))
        at = found.end() if found else end
    return spans


def _document_requirements(context: SourceContext) -> list[Requirement]:
    """Requirements in the order of the instructions, the description (the most
    authoritative text) first. A requirement that restates an earlier one (the prompt PDF
    repeating the description) is left out: the earlier one, with its source, stands."""
    requirements: list[Requirement] = []
    kept = _Restatements()
    seen: set[str] = set()
    documents = sorted(
        context.documents, key=lambda document: document.source_id != DESCRIPTION_SOURCE_ID
    )
    title = context.assignment.title
    for document in documents:
        # Under a line that titles another piece of work ("Fourth Essay (5-7 pages)" on the
        # page of the third), its date and prompt are that work's, not this one's.
        another = ""  # the line that opened another work's part, if any
        places = document_places(document.text)
        lead_ins = {place.lead_in for place in places if place.lead_in}
        for place in places:
            quote = document.text[place.start : place.end]
            # (not an item of a list: "Essay style guide" there names a linked file)
            heading = place.role == "heading"
            if (heading or (place.role == "sentence" and not place.listed)) and titles_work(
                quote, heading
            ):
                another = quote if titles_another_deliverable(quote, title) else ""
            if place.role == "table_row":
                for first, last, row_kind in _rules_in_row(
                    document.text, place.start, place.end, title
                ):
                    cell = document.text[first:last]
                    if normalize(cell) not in seen:
                        seen.add(normalize(cell))
                        requirements.append(_quoted(row_kind, cell, document.source_id))
            if place.role != "sentence":
                # headings are context, table rows are schedules: rules only where a row
                # states a late policy or gives this work's own date (above)
                continue
            # Under another work's heading, or in a paragraph that opens on another work's
            # rule ("Final paper: ... Papers should be 7-10 pp." on "Paper 1"; not on a
            # description: "Exercises will help students develop a topic ...").
            elsewhere = another or (
                place.opener
                if about_another_deliverable(place.opener, title)
                and requirement_kind(place.opener, place.section) in HARD_KINDS
                else ""
            )
            if elsewhere and not names_this_or_every_deliverable(quote, title, elsewhere):
                continue
            key = normalize(quote)
            if key in seen or len(quote) > _MAX_REQUIREMENT_CHARS:
                continue
            if len(quote.split()) < _MIN_REQUIREMENT_WORDS and not TYPE_VALUE_RE.search(quote):
                continue  # a fragment, unless it states a layout value ("1” margins")
            kind = requirement_kind(
                quote, place.section, listed=place.listed, lead_in=place.lead_in
            )
            if kind is None or about_another_deliverable(quote, title):
                continue
            # A sentence that only opens a list ("Your notebook entry should contain:", "It
            # must include:"): its items are the rules, itself it adds nothing. One that
            # counts or names the parts ("do one of the following:", "The following sections
            # should be included:") says something of its own.
            flat = collapse_whitespace(quote)
            if (
                kind == "hard_constraint"
                and (len(flat.split()) <= _BARE_LEAD_IN_WORDS or _THE_FOLLOWING_RE.search(flat))
                and not _COUNTS_PARTS_RE.search(flat)
                and any(lead.endswith(flat) for lead in lead_ins)
            ):
                continue
            seen.add(key)
            gist = _Gist.of(quote)
            if kept.restates_one(kind, gist):
                continue
            requirements.append(_quoted(kind, quote, document.source_id))
            kept.add(kind, gist)
    return requirements


def _canvas_notes(assignment: AssignmentFacts, templates: LanguageTemplates) -> list[str]:
    """What Canvas says about the assignment, one note each, in the plan's language."""
    say, type_names = templates.say, templates.common.submission_types
    notes: list[str] = []
    clock = clock_for(assignment, templates.language)
    if assignment.due_at:
        notes.append(say("note_due", when=clock.moment(assignment.due_at)))
    if assignment.unlock_at:
        notes.append(say("note_available", when=clock.moment(assignment.unlock_at)))
    if assignment.lock_at:
        notes.append(say("note_closes", when=clock.moment(assignment.lock_at)))
    if assignment.lock is not None:
        notes.append(say("note_locked", explanation=assignment.lock.explanation))
    if assignment.grading_type == "not_graded":
        notes.append(say("note_not_graded"))
    elif assignment.points_possible is not None:
        notes.append(say("note_points", points=format_points(assignment.points_possible)))
    if assignment.submission_types:
        kinds = [type_names.get(kind, kind) for kind in assignment.submission_types]
        notes.append(say("note_submission_types", kinds=kinds))
    if assignment.allowed_extensions:
        notes.append(say("note_file_types", extensions=canvas_extensions(assignment)))
    if assignment.group_category_id is not None:
        notes.append(say("note_group_assignment"))
    if assignment.discussion is not None and assignment.discussion.required_replies:
        notes.append(say("note_replies", count=assignment.discussion.required_replies))
    if assignment.group_name:
        weight = format_points(assignment.group_weight) if assignment.group_weight else None
        notes.append(say("note_group", group=assignment.group_name, weight=weight))
    return notes


def distill_requirements(context: SourceContext) -> Requirements:
    templates = templates_for(context.language)
    items = _rubric_requirements(context, templates.say) + _document_requirements(context)
    numbered = [item.model_copy(update={"id": f"r{i}"}) for i, item in enumerate(items, 1)]
    return Requirements(items=numbered, notes=_canvas_notes(context.assignment, templates))
