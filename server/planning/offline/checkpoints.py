"""Instructor checkpoints: intermediate deadlines the instructions date ("Oct 9: introduction
due for peer review", "The rough draft is due March 3"), as milestones anchored to their
dates. The schedule spreads the other milestones around them (``milestone_dates``).

A checkpoint is a requirement that states a deadline, names a date by month and day, and
names a part of the work handed in early (a draft, an outline, a proposal ...); its date
falls after today and more than a day before the Canvas due date (a date on the due date
is the final deadline, said again). The year is the one that puts the date before the due
date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from models.context import Requirement, Requirements
from models.plan import Milestone, Task
from server.planning.offline.facts import Facts
from server.planning.offline.templating import Say
from server.planning.offline.values import MONTH_DAY_RE, collapse_whitespace, states_deadline
from server.text.dates import MONTH_NAMES, StudentClock

# What is handed in before the final work: the early parts a checkpoint collects.
_EARLY_PART_RE = re.compile(
    r"\b(?:drafts?|outlines?|proposals?|introductions?|abstracts?|(?:annotated )?bibliograph\w*|"
    r"peer[- ]review\w*|topics?|thesis|checkpoints?|progress|prospectus|plan|sketch\w*|"
    r"rough|first|partial|preliminary|pitch)\b",
    re.I,
)
_MONTHS = [name.lower() for name in MONTH_NAMES]
_SAME_DEADLINE_DAYS = 1
_TITLE_CHARS = 80
_CHECKPOINT_MINUTES = 30


@dataclass(frozen=True)
class Checkpoint:
    day: date
    requirement: Requirement


def _dates(text: str, facts: Facts) -> list[date]:
    """The month-day dates in ``text``, each in the year that puts it on or before the due
    date (the text gives no year)."""
    if facts.due is None:
        return []
    due = facts.clock.day_of(facts.due)  # the student's calendar day
    found = []
    for match in MONTH_DAY_RE.finditer(text):
        month = _MONTHS.index((match["month"] or match["month_after"]).lower()[:3]) + 1
        day = int(match["day"] or match["day_first"])
        for year in (due.year, due.year - 1):
            try:
                candidate = date(year, month, day)
            except ValueError:  # "February 30"
                break
            if candidate <= due:
                found.append(candidate)
                break
    return found


def find_checkpoints(requirements: Requirements, facts: Facts) -> list[Checkpoint]:
    if facts.due is None:
        return []
    last = facts.clock.day_of(facts.due) - timedelta(days=_SAME_DEADLINE_DAYS)
    checkpoints: dict[date, Checkpoint] = {}
    for item in requirements.items:
        if not (states_deadline(item.quote) and _EARLY_PART_RE.search(item.quote)):
            continue
        for day in _dates(item.quote, facts):
            if facts.clock.day_of(facts.now) <= day < last:
                checkpoints.setdefault(day, Checkpoint(day, item))
    return [checkpoints[day] for day in sorted(checkpoints)]


def _title(quote: str) -> str:
    text = collapse_whitespace(quote).rstrip(".")
    return text if len(text) <= _TITLE_CHARS else text[: _TITLE_CHARS - 1].rstrip() + "…"


def checkpoint_milestone(
    number: int, checkpoint: Checkpoint, clock: StudentClock, say: Say
) -> Milestone:
    quote = collapse_whitespace(checkpoint.requirement.quote)
    when = clock.day(checkpoint.day)
    return Milestone(
        id=f"c{number}",
        title=say("checkpoint_title", title=_title(quote)),
        purpose=say("checkpoint_purpose"),
        acceptance_criteria=[quote, say("checkpoint_handed_in", when=when)],
        due_strategy=say("checkpoint_due", when=when),
        order=0,  # placed among the others by date in ``with_checkpoints``
        tasks=[
            Task(
                id=f"c{number}-t1",
                title=say("checkpoint_task", when=when),
                description=say("checkpoint_task_description", quote=quote),
                deliverable=_title(quote),
                done_definition=say("checkpoint_done", when=when),
                estimated_effort=f"~{_CHECKPOINT_MINUTES} min",
                estimated_minutes=_CHECKPOINT_MINUTES,
            )
        ],
        suggested_date=checkpoint.day,
        anchored=True,
    )


def with_checkpoints(
    milestones: list[Milestone], requirements: Requirements, facts: Facts, say: Say
) -> list[Milestone]:
    """``milestones`` with a milestone per checkpoint, in date order (a milestone without a
    date keeps its place after the dated ones before it), renumbered."""
    checkpoints = [
        checkpoint_milestone(number, checkpoint, facts.clock, say)
        for number, checkpoint in enumerate(find_checkpoints(requirements, facts), 1)
    ]
    if not checkpoints:
        return milestones
    merged: list[Milestone] = []
    pending = list(checkpoints)
    for milestone in milestones:
        while (
            pending
            and milestone.suggested_date
            and pending[0].suggested_date
            and (pending[0].suggested_date <= milestone.suggested_date)
        ):
            merged.append(pending.pop(0))
        merged.append(milestone)
    merged += pending
    return [m.model_copy(update={"order": order}) for order, m in enumerate(merged, 1)]


__all__ = ["Checkpoint", "checkpoint_milestone", "find_checkpoints", "with_checkpoints"]
