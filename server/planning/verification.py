"""``verify_against_source``: the deterministic stage between drafting and finalizing a plan.

Every hard constraint and grading signal must be backed by a quote that is really in the
sources (the assignment description, its files, the rubric); what is not is dropped, and a
quote found in another source than the one named is re-attributed. Every rubric criterion
must be covered by a milestone, task dependencies must form a DAG, and milestone order runs
1..n. Whatever was dropped or corrected is written into ``plan.verification``.

This is string matching and graph logic only, never a model: text inside the sources is
searched, not followed, so an instruction planted in an attachment cannot steer it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from typing import Any

from models.context import RubricCriterion, SourceContext
from models.plan import (
    CriterionCoverage,
    DroppedItem,
    Milestone,
    Plan,
    PlanCriterion,
    SourceReference,
    Task,
    VerificationReport,
)
from server.planning.serving import gather_milestone_serves, serve_unserved
from server.text.dates import clock_for
from server.text.grounding import find_quote, grounding_corpus, normalize
from server.text.relevance import most_relevant

GROUNDED_SECTIONS = ("hard_constraints", "grading_signals")
HARD_CONSTRAINT_ID_PREFIX = "hc"
# "1,500", "2.5", and dates written with dots ("13.11.2017" reads as 13.11 and 2017).
_NUMBER_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_NUMBER_WORDS = dict(
    zip(
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split(),
        range(1, 21),
        strict=True,
    )
)
_WORD_RE = re.compile(r"[a-z0-9]+")
_QUOTE_PREVIEW_CHARS = 80


@dataclass
class _Findings:
    grounded: int = 0
    dropped: list[DroppedItem] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _QUOTE_PREVIEW_CHARS else flat[: _QUOTE_PREVIEW_CHARS - 1] + "…"


# --- quotes ------------------------------------------------------------------------------


def _locate(
    reference: SourceReference, corpus: dict[str, str], findings: _Findings
) -> SourceReference | None:
    """The reference with the offsets of its quote, re-attributed if it is in another source."""
    named = corpus.get(reference.source_id)
    span = find_quote(reference.quote, named) if named is not None else None
    if span:
        return reference.model_copy(update={"start": span[0], "end": span[1]})
    for source_id, text in corpus.items():
        span = find_quote(reference.quote, text) if source_id != reference.source_id else None
        if span:
            findings.corrected.append(
                f"Quote “{_preview(reference.quote)}” is in '{source_id}', not "
                f"'{reference.source_id}': source fixed"
            )
            return reference.model_copy(
                update={"source_id": source_id, "start": span[0], "end": span[1]}
            )
    return None


def _numbers(text: str) -> set[str]:
    found = {f"{float(raw.replace(',', '')):g}" for raw in _NUMBER_RE.findall(text)}
    words = _WORD_RE.findall(text.lower())
    return found | {str(_NUMBER_WORDS[word]) for word in words if word in _NUMBER_WORDS}


def _ungrounded_reason(
    text: str,
    references: list[SourceReference],
    located: list[SourceReference],
    allowed_numbers: set[str],
) -> str | None:
    if not references:
        return "no source quote backs it"
    if not located:
        quotes = " / ".join(f"“{_preview(r.quote)}”" for r in references)
        return f"its quote is not in any source: {quotes}"
    # A quote can be real while the claim changes its numbers ("5 sources" -> "8 sources").
    backed = allowed_numbers.union(*(_numbers(r.quote) for r in located))
    unbacked = sorted(_numbers(text) - backed)
    if unbacked:
        return f"its numbers ({', '.join(unbacked)}) are not in its quote"
    return None


def _ground_section(
    section: str,
    items: list[str],
    references: dict[str, list[SourceReference]],
    corpus: dict[str, str],
    allowed_numbers: set[str],
    findings: _Findings,
) -> tuple[list[int], list[SourceReference]]:
    """The positions of the kept items and their located references, re-pointed to the
    items' new positions."""
    kept: list[int] = []
    kept_references: list[SourceReference] = []
    for index, text in enumerate(items):
        pointer = f"/assignment_summary/{section}/{index}"
        backing = references.get(pointer, [])
        located = [found for r in backing if (found := _locate(r, corpus, findings))]
        reason = _ungrounded_reason(text, backing, located, allowed_numbers)
        if reason:
            findings.dropped.append(DroppedItem(pointer=pointer, text=text, reason=reason))
            continue
        if len(located) < len(backing):
            findings.corrected.append(
                f"Removed {len(backing) - len(located)} quote(s) not found in the sources from "
                f"“{_preview(text)}”"
            )
        new_pointer = f"/assignment_summary/{section}/{len(kept)}"
        kept.append(index)
        kept_references.extend(r.model_copy(update={"pointer": new_pointer}) for r in located)
        findings.grounded += 1
    return kept, kept_references


def _canvas_numbers(context: SourceContext) -> set[str]:
    """Numbers a grading signal may take from Canvas rather than from a quote."""
    values = [criterion.points for criterion in context.rubric]
    values += [context.assignment.points_possible, context.assignment.group_weight]
    return {f"{value:g}" for value in values if value is not None}


def _resolve(document: Any, pointer: str) -> bool:
    """Whether an RFC 6901 pointer names an element of ``document``."""
    if pointer == "":
        return True
    if not pointer.startswith("/"):
        return False
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def _check_other_references(
    plan: Plan, references: list[SourceReference], corpus: dict[str, str], findings: _Findings
) -> list[SourceReference]:
    """References outside the grounded sections: kept when they point somewhere real and
    their quote is found; the element they back is never dropped for it."""
    document = plan.model_dump(mode="json")
    kept: list[SourceReference] = []
    for reference in references:
        if not _resolve(document, reference.pointer):
            findings.corrected.append(
                f"Removed a reference to {reference.pointer!r}, which is not in the plan"
            )
            continue
        located = _locate(reference, corpus, findings)
        if located is None:
            findings.corrected.append(
                f"Removed a quote not found in the sources from {reference.pointer}: "
                f"“{_preview(reference.quote)}”"
            )
            continue
        kept.append(located)
    return kept


def more_constraint_ids(
    existing: list[str], count: int, avoid: frozenset[str] = frozenset()
) -> list[str]:
    """``count`` new hard-constraint ids after ``existing`` ones ("hc4", "hc5", ...), none
    of them in ``avoid`` (ids a draft already names for something else)."""
    taken = set(existing) | avoid
    numbers = [
        int(ref.removeprefix(HARD_CONSTRAINT_ID_PREFIX))
        for ref in taken
        if ref.removeprefix(HARD_CONSTRAINT_ID_PREFIX).isdigit()
    ]
    start = max(numbers, default=0) + 1
    fresh = (f"{HARD_CONSTRAINT_ID_PREFIX}{n}" for n in range(start, start + 2 * count + 1))
    return [ref for ref in fresh if ref not in taken][:count]


def _ground_claims(plan: Plan, context: SourceContext, findings: _Findings) -> None:
    corpus = grounding_corpus(context)
    by_pointer: dict[str, list[SourceReference]] = {}
    for reference in plan.source_references:
        by_pointer.setdefault(reference.pointer, []).append(reference)
    summary = plan.assignment_summary
    # Ids stay with their constraint when others are dropped; constraints without one
    # (a draft without ids, or rules added after the engine numbered its own) get one.
    given = summary.hard_constraint_ids[: len(summary.hard_constraints)]
    # A draft without ids numbers its constraints hc1, hc2, ... in order (what its tasks'
    # serves mean); ids added after the given ones avoid any its tasks name.
    named = frozenset(ref for m in plan.milestones for t in m.tasks for ref in t.serves)
    avoid = named if given else frozenset()
    hard_ids = given + more_constraint_ids(given, len(summary.hard_constraints) - len(given), avoid)
    hard, hard_references = _ground_section(
        "hard_constraints", summary.hard_constraints, by_pointer, corpus, set(), findings
    )
    grading, grading_references = _ground_section(
        "grading_signals",
        summary.grading_signals,
        by_pointer,
        corpus,
        _canvas_numbers(context),
        findings,
    )
    claims = {
        f"/assignment_summary/{section}/{index}"
        for section in GROUNDED_SECTIONS
        for index in range(len(getattr(summary, section)))
    }
    # Pointers to claims that do not exist are checked (and removed) with the rest.
    others = [r for r in plan.source_references if r.pointer not in claims]
    summary.hard_constraint_ids = [hard_ids[index] for index in hard]
    summary.hard_constraints = [summary.hard_constraints[index] for index in hard]
    summary.grading_signals = [summary.grading_signals[index] for index in grading]
    plan.source_references = [
        *hard_references,
        *grading_references,
        *_check_other_references(plan, others, corpus, findings),
    ]


# --- rubric coverage -----------------------------------------------------------------------


def _milestone_text(milestone: Milestone) -> str:
    tasks = " ".join(f"{task.title} {task.description}" for task in milestone.tasks)
    return " ".join([milestone.title, milestone.purpose, *milestone.acceptance_criteria, tasks])


def _covers(milestone: Milestone, criterion: RubricCriterion) -> bool:
    if criterion.id in milestone.covers_criteria:
        return True
    name = normalize(criterion.description)
    return bool(name) and any(name in normalize(text) for text in milestone.acceptance_criteria)


def _most_relevant(milestones: list[Milestone], criterion: RubricCriterion) -> Milestone:
    """The milestone sharing most words with the criterion; on a tie (or none shared), the
    later one. The last milestone is left out when there are others: it is submitting."""
    candidates = milestones[:-1] or milestones
    wanted = f"{criterion.description} {criterion.long_description}"
    return candidates[most_relevant(wanted, [_milestone_text(m) for m in candidates])]


def _criterion_label(criterion: RubricCriterion) -> str:
    points = f" ({criterion.points:g} pts)" if criterion.points is not None else ""
    return f"'{criterion.description.strip() or criterion.id}'{points}"


def _drop_unknown_criteria(
    milestones: list[Milestone], rubric: list[RubricCriterion], findings: _Findings
) -> None:
    known = {criterion.id for criterion in rubric}
    for milestone in milestones:
        unknown = [cid for cid in milestone.covers_criteria if cid not in known]
        if unknown:
            milestone.covers_criteria = [c for c in milestone.covers_criteria if c in known]
            findings.corrected.append(
                f"Milestone {milestone.id} named rubric criteria that do not exist "
                f"({', '.join(unknown)}): removed"
            )


def _cover_rubric(
    milestones: list[Milestone], rubric: list[RubricCriterion], findings: _Findings
) -> list[CriterionCoverage]:
    _drop_unknown_criteria(milestones, rubric, findings)
    coverage: list[CriterionCoverage] = []
    for criterion in rubric:
        covering = [m for m in milestones if _covers(m, criterion)]
        if not covering and milestones:
            target = _most_relevant(milestones, criterion)
            target.acceptance_criteria.append(
                f"Meets rubric criterion {_criterion_label(criterion)}"
            )
            covering = [target]
            findings.corrected.append(
                f"Rubric criterion {_criterion_label(criterion)} was not covered by any "
                f"milestone: added to {target.id} ('{target.title}')"
            )
        for milestone in covering:
            if criterion.id not in milestone.covers_criteria:
                milestone.covers_criteria.append(criterion.id)
        coverage.append(
            CriterionCoverage(
                criterion_id=criterion.id,
                description=criterion.description,
                milestone_ids=[m.id for m in covering],
            )
        )
    return coverage


# --- what each task serves ----------------------------------------------------------------


def _servable(plan: Plan, rubric: list[RubricCriterion]) -> dict[str, str]:
    """Every id a task may serve, with the text that says what it is."""
    summary = plan.assignment_summary
    texts = dict(zip(summary.hard_constraint_ids, summary.hard_constraints, strict=True))
    texts.update({c.id: f"{c.description} {c.long_description}" for c in rubric})
    return texts


def _drop_unknown_serves(plan: Plan, servable: dict[str, str], findings: _Findings) -> None:
    items: list[tuple[str, Milestone | Task]] = []
    for milestone in plan.milestones:
        items.append((f"Milestone {milestone.id}", milestone))
        items.extend((f"Task {task.id}", task) for task in milestone.tasks)
    for what, item in items:
        unknown = [ref for ref in item.serves if ref not in servable]
        if unknown:
            item.serves = [ref for ref in item.serves if ref in servable]
            findings.corrected.append(
                f"{what} named {', '.join(unknown)} in serves, which is no hard "
                "constraint or rubric criterion of this plan: removed"
            )


def _serve_everything(plan: Plan, rubric: list[RubricCriterion], findings: _Findings) -> None:
    """Every hard constraint and rubric criterion served by a task, unknown ids removed,
    and each milestone serving what its tasks and covered criteria serve."""
    servable = _servable(plan, rubric)
    _drop_unknown_serves(plan, servable, findings)
    hard_ids = set(plan.assignment_summary.hard_constraint_ids)
    for ref, task in serve_unserved(plan.milestones, servable):
        what = "Hard constraint" if ref in hard_ids else "Rubric criterion"
        findings.corrected.append(
            f"{what} {ref} (“{_preview(servable[ref])}”) was served by no task: attached to "
            f"{task.id} ('{task.title}')"
        )
    gather_milestone_serves(plan.milestones)


# --- structure -----------------------------------------------------------------------------


def _remove_dangling(tasks: list[Task], findings: _Findings) -> None:
    known = {task.id for task in tasks}
    for task in tasks:
        valid = [dep for dep in dict.fromkeys(task.depends_on) if dep in known and dep != task.id]
        dangling = [dep for dep in task.depends_on if dep not in valid]
        if dangling:
            findings.corrected.append(
                f"Task {task.id} depended on {', '.join(dangling)}, which is not another task "
                "of this plan: dependency removed"
            )
        task.depends_on = valid


def _break_cycles(tasks: list[Task], findings: _Findings) -> None:
    """Remove one edge per cycle until none is left: the one that points furthest back in
    plan order, since later work depending on earlier work is the plan's intent."""
    position = {task.id: index for index, task in enumerate(tasks)}
    by_id = {task.id: task for task in tasks}
    while True:
        try:
            TopologicalSorter({task.id: task.depends_on for task in tasks}).prepare()
            return
        except CycleError as error:
            cycle: list[str] = error.args[1]
        # graphlib lists a cycle so that each node is a prerequisite of the next one.
        edges = list(pairwise(cycle))
        prerequisite, dependent = max(edges, key=lambda edge: position[edge[0]] - position[edge[1]])
        by_id[dependent].depends_on.remove(prerequisite)
        findings.corrected.append(
            f"Task dependencies formed a cycle ({' -> '.join(cycle)}): {dependent} no longer "
            f"waits for {prerequisite}"
        )


def _normalize_order(milestones: list[Milestone], findings: _Findings) -> None:
    # Only the numbers change, not the list, so pointers into /milestones stay valid.
    ranked = sorted(enumerate(milestones), key=lambda pair: (pair[1].order, pair[0]))
    before = [m.order for m in milestones]
    for rank, (_, milestone) in enumerate(ranked, 1):
        milestone.order = rank
    if before != [m.order for m in milestones]:
        findings.corrected.append(f"Milestone order {before} renumbered to 1..{len(milestones)}")


def _clamp_dates(milestones: list[Milestone], context: SourceContext, findings: _Findings) -> None:
    """Suggested dates between today and the due day, both on the student's clock; the
    due day wins when the due date has passed (no milestone after the due day)."""
    clock = clock_for(context.assignment)
    earliest = clock.day_of(context.fetched_at)
    due_at = context.assignment.due_at
    latest = clock.day_of(due_at) if due_at else None
    for milestone in milestones:
        suggested = milestone.suggested_date
        if suggested is None:
            continue
        clamped = max(suggested, earliest)
        clamped = min(clamped, latest) if latest else clamped
        if clamped != suggested:
            milestone.suggested_date = clamped
            findings.corrected.append(
                f"Milestone {milestone.id}'s date {clock.day(suggested)} moved to "
                f"{clock.day(clamped)} (between the fetch date and the due date, in "
                f"{clock.name})"
            )


# --- the stage -----------------------------------------------------------------------------


def _checks(
    plan: Plan, context: SourceContext, findings: _Findings, total_claims: int
) -> list[str]:
    covered = sum(
        1 for criterion in context.rubric if any(_covers(m, criterion) for m in plan.milestones)
    )
    rubric = (
        f"Rubric coverage: {covered} of {len(context.rubric)} criteria covered by a milestone."
        if context.rubric
        else "Rubric coverage: Canvas has no rubric for this assignment."
    )
    return [
        f"Quotes: {findings.grounded} of {total_claims} hard constraints and grading signals are "
        "backed by a quote found in the sources (ignoring case, whitespace, accents and "
        "punctuation style).",
        "Numbers: every number in a hard constraint is in its quote; grading signals may also "
        "use Canvas's rubric points, points possible and group weight.",
        rubric,
        f"Dependencies: {len(plan.tasks())} tasks; every depends_on names another task of the "
        "plan and there are no cycles.",
        f"Milestone order: 1..{len(plan.milestones)}.",
        "Serves: every hard constraint and rubric criterion is served by at least one task; "
        "serves names only ids of this plan.",
        "Dates: suggested dates lie between the fetch date and the Canvas due date, as "
        f"calendar days in {clock_for(context.assignment).name}."
        if context.assignment.due_at
        else "Dates: Canvas has no due date, so only past dates were checked.",
        "Method: string matching and graph checks only; text in the assignment or its files "
        "cannot instruct this step.",
    ]


def verify_against_source(plan: Plan, context: SourceContext) -> Plan:
    """A new, fully validated plan: grounded, rubric-covered, acyclic, with its report."""
    draft = plan.model_copy(deep=True)
    findings = _Findings()
    summary = plan.assignment_summary
    total_claims = len(summary.hard_constraints) + len(summary.grading_signals)
    _ground_claims(draft, context, findings)
    coverage = _cover_rubric(draft.milestones, context.rubric, findings)
    draft.rubric_criteria = [
        PlanCriterion(id=c.id, description=c.description, points=c.points) for c in context.rubric
    ]
    _serve_everything(draft, context.rubric, findings)
    tasks = draft.tasks()
    _remove_dangling(tasks, findings)
    _break_cycles(tasks, findings)
    _normalize_order(draft.milestones, findings)
    _clamp_dates(draft.milestones, context, findings)
    draft.verification = VerificationReport(
        grounded=findings.grounded,
        dropped=findings.dropped,
        corrected=findings.corrected,
        rubric_coverage=coverage,
        uncovered_criteria=[c.criterion_id for c in coverage if not c.milestone_ids],
        checks=_checks(draft, context, findings, total_claims),
    )
    # Re-validated without the draft allowances: the result must be a well-formed plan.
    return Plan.model_validate(draft.model_dump())


__all__ = [
    "GROUNDED_SECTIONS",
    "HARD_CONSTRAINT_ID_PREFIX",
    "more_constraint_ids",
    "verify_against_source",
]
