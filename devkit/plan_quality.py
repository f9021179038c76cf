"""How well a plan states an assignment's rules, scored against the corpus labels.

Definitions (also in the corpus README):

- A plan constraint is an entry of ``assignment_summary.hard_constraints``; its quote is
  the source reference whose pointer is ``/assignment_summary/hard_constraints/<i>``.
- Quotes are located in their source's text (the description, or the attachment as the
  service's extractor reads it) with the service's tolerant matcher
  (``server.text.grounding.find_quote``: case, quotes, dashes and spacing folded).
- A plan constraint **covers** a label when both sit in the same source and their spans
  overlap on at least half of the shorter of the two.
- **recall**: labelled constraints covered by some plan constraint / labelled constraints.
- **bloat**: plan constraints / labelled constraints.
- **grounding**: plan constraints whose quote is found in the source it names / plan
  constraints (a constraint with no quote is not grounded).
- **distractors taken**: labelled distractors covered by some plan constraint.
- **rubric coverage**: rubric criteria named by some milestone's ``covers_criteria`` /
  rubric criteria.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from devkit.corpus import CorpusAssignment, Label
from models.context import DESCRIPTION_SOURCE_ID, SourceContext
from server.text.grounding import find_quote, spans_overlap

_POINTER = re.compile(r"^/assignment_summary/hard_constraints/(\d+)$")
COVERING_SHARE = 0.5


@dataclass(frozen=True)
class Span:
    source_id: str
    start: int
    end: int

    def covers(self, other: Span) -> bool:
        return self.source_id == other.source_id and spans_overlap(
            (self.start, self.end), (other.start, other.end), COVERING_SHARE
        )


@dataclass
class Score:
    slug: str
    split: str
    labels: int
    plan_constraints: int
    covered: int
    grounded: int
    distractors: int
    distractors_taken: int
    criteria: int
    criteria_covered: int
    part: str | None = None  # the held-out part of a held-out assignment
    missed: list[Label] = field(default_factory=list)
    taken: list[Label] = field(default_factory=list)
    ungrounded: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.covered / self.labels if self.labels else 1.0

    @property
    def bloat(self) -> float:
        return self.plan_constraints / self.labels if self.labels else 0.0

    @property
    def grounding(self) -> float:
        return self.grounded / self.plan_constraints if self.plan_constraints else 1.0


def _source_id(entry: CorpusAssignment, label: Label) -> str:
    return DESCRIPTION_SOURCE_ID if label.source == "description" else f"file:{entry.file_id}"


def label_span(entry: CorpusAssignment, context: SourceContext, label: Label) -> Span | None:
    """Where a label's quote sits in the context, or None when it cannot be found."""
    source_id = _source_id(entry, label)
    document = context.document(source_id)
    found = find_quote(label.quote, document.text) if document else None
    return Span(source_id, *found) if found else None


def plan_spans(plan: dict[str, Any], context: SourceContext) -> tuple[int, list[Span], list[str]]:
    """The plan's constraint count, the spans of its grounded constraint quotes, and the
    constraints whose quote is missing or not in the source it names."""
    constraints = plan["assignment_summary"]["hard_constraints"]
    quotes: dict[int, dict[str, Any]] = {}
    for reference in plan.get("source_references", []):
        match = _POINTER.match(reference["pointer"])
        if match:
            quotes.setdefault(int(match.group(1)), reference)
    spans, ungrounded = [], []
    for index, text in enumerate(constraints):
        reference = quotes.get(index)
        document = context.document(reference["source_id"]) if reference else None
        found = find_quote(reference["quote"], document.text) if reference and document else None
        if reference and found:
            spans.append(Span(reference["source_id"], *found))
        else:
            ungrounded.append(text)
    return len(constraints), spans, ungrounded


def score_plan(entry: CorpusAssignment, context: SourceContext, plan: dict[str, Any]) -> Score:
    count, spans, ungrounded = plan_spans(plan, context)

    def covered(label: Label) -> bool:
        span = label_span(entry, context, label)
        if span is None:
            raise ValueError(f"{entry.slug}: label not in its source: {label.quote!r}")
        return any(plan_span.covers(span) for plan_span in spans)

    missed = [label for label in entry.constraints if not covered(label)]
    taken = [label for label in entry.distractors if covered(label)]
    criteria = {criterion.id for criterion in context.rubric}
    named = {c for milestone in plan["milestones"] for c in milestone.get("covers_criteria", [])}
    return Score(
        slug=entry.slug,
        split=entry.split,
        part=entry.held_out_part,
        labels=len(entry.constraints),
        plan_constraints=count,
        covered=len(entry.constraints) - len(missed),
        grounded=len(spans),
        distractors=len(entry.distractors),
        distractors_taken=len(taken),
        criteria=len(criteria),
        criteria_covered=len(criteria & named),
        missed=missed,
        taken=taken,
        ungrounded=ungrounded,
    )


def total(scores: list[Score], name: str) -> Score:
    """The scores summed (micro-averaged): a corpus figure weighs every label alike."""
    return Score(
        slug=name,
        split=name,
        labels=sum(s.labels for s in scores),
        plan_constraints=sum(s.plan_constraints for s in scores),
        covered=sum(s.covered for s in scores),
        grounded=sum(s.grounded for s in scores),
        distractors=sum(s.distractors for s in scores),
        distractors_taken=sum(s.distractors_taken for s in scores),
        criteria=sum(s.criteria for s in scores),
        criteria_covered=sum(s.criteria_covered for s in scores),
        missed=[label for s in scores for label in s.missed],
        taken=[label for s in scores for label in s.taken],
        ungrounded=[text for s in scores for text in s.ungrounded],
    )


def totals(scores: list[Score]) -> list[Score]:
    """Development, each held-out part, the held-out parts together, and all."""
    held_out = [s for s in scores if s.split == "held-out"]
    parts = sorted({s.part for s in held_out if s.part})
    return [
        total([s for s in scores if s.split == "development"], "development"),
        *(total([s for s in held_out if s.part == part], f"held-out, {part}") for part in parts),
        total(held_out, "held-out"),
        total(scores, "all"),
    ]


def table(scores: list[Score]) -> str:
    """The development part's assignments, then the development, held-out and overall
    figures, as markdown. The held-out part shows only its total: its rows would show
    which of its rules the engine misses, and whoever sees that tunes on it."""
    header = (
        "| assignment | split | labels | plan | recall | bloat | grounding | distractors taken "
        "| rubric covered |\n| --- | --- | --: | --: | --: | --: | --: | --: | --: |"
    )

    def row(s: Score, bold: bool = False) -> str:
        name = f"**{s.slug}**" if bold else s.slug
        rubric = f"{s.criteria_covered}/{s.criteria}" if s.criteria else "-"
        return (
            f"| {name} | {s.split} | {s.labels} | {s.plan_constraints} | {s.recall:.2f} "
            f"| {s.bloat:.2f} | {s.grounding:.2f} | {s.distractors_taken}/{s.distractors} "
            f"| {rubric} |"
        )

    development = (s for s in scores if s.split == "development")
    lines = [header, *(row(s) for s in development), *(row(s, True) for s in totals(scores))]
    return "\n".join(lines)


def misses_by_kind(scores: list[Score]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in (label for s in scores for label in s.missed):
        counts[label.kind or "?"] = counts.get(label.kind or "?", 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


__all__ = [
    "COVERING_SHARE",
    "Score",
    "Span",
    "label_span",
    "misses_by_kind",
    "plan_spans",
    "score_plan",
    "table",
    "total",
    "totals",
]
