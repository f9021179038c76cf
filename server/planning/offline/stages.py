"""A plan template rendered for one assignment: its ``Stage``s and their ``Step``s, and
how the plan names a rubric criterion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.context import RubricCriterion
from server.planning.offline.facts import format_points
from server.text.wording import Say


@dataclass(frozen=True)
class Step:
    title: str
    description: str
    deliverable: str
    done_definition: str
    minutes: int
    scales: bool = False  # grows with the size of the piece (word count, talk length)
    closing: bool = False  # comes after the stage's rubric checks (submitting)
    serves: tuple[str, ...] = ()  # the requirement kinds whose hard constraints it works on


@dataclass(frozen=True)
class Stage:
    title: str
    purpose: str
    share: float  # cumulative fraction of the time to the deadline when this should be done
    keywords: str  # space-separated stems that attract rubric criteria to this stage
    acceptance: tuple[str, ...]
    steps: tuple[Step, ...]
    main: bool = False  # where a rubric criterion goes when no keyword matches
    day: date | None = None  # its own day (the replies' due day): an anchored milestone


def criterion_name(criterion: RubricCriterion, say: Say) -> str:
    return criterion.description.strip() or say("criterion_unnamed", id=criterion.id)


def criterion_label(criterion: RubricCriterion, say: Say, *, graded: bool = True) -> str:
    """The criterion's name with its points; no points on an ungraded assignment, and a
    criterion Canvas ignores for scoring says so."""
    shown = criterion.points is not None and graded and not criterion.ignore_for_scoring
    return say(
        "criterion_label",
        name=criterion_name(criterion, say),
        feedback_only=criterion.ignore_for_scoring,
        points=format_points(criterion.points or 0) if shown else None,
    )
