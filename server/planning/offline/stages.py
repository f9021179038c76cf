"""The parts of a plan template: ``Stage`` and ``Step``, and the steps every kind of
assignment shares (reading the instructions, the rubric, asking, submitting).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.context import (
    RubricCriterion,
)
from server.planning.offline.facts import Facts, format_points


@dataclass(frozen=True)
class Step:
    title: str
    description: str
    deliverable: str
    done_definition: str
    minutes: int
    scales: bool = False  # grows with the size of the piece (word count, talk length)
    closing: bool = False  # comes after the stage's rubric checks (submitting)


@dataclass(frozen=True)
class Stage:
    title: str
    purpose: str
    share: float  # cumulative fraction of the time to the deadline when this should be done
    keywords: str  # space-separated stems that attract rubric criteria to this stage
    acceptance: tuple[str, ...]
    steps: tuple[Step, ...]
    main: bool = False  # where a rubric criterion goes when no keyword matches


def present_parts(*parts: str | None) -> tuple[str, ...]:
    return tuple(part for part in parts if part)


def read_step(facts: Facts, focus: str) -> Step:
    attached = (
        f" and the attached {'file' if len(facts.attachment_names) == 1 else 'files'} "
        f"({', '.join(facts.attachment_names)})"
        if facts.attachment_names
        else ""
    )
    return Step(
        title="Read the instructions closely",
        description=(
            f"Read the assignment description{attached} twice. Mark the task verbs (analyse, "
            f"argue, compare, ...) and every rule on {focus}."
        ),
        deliverable="A short list, in your own words, of what is asked and every rule",
        done_definition=(
            "Every hard constraint in this plan is on your list and you know what it means"
        ),
        minutes=20,
    )


def rubric_step(facts: Facts) -> Step:
    if not facts.rubric:
        return Step(
            title="Set your own success criteria",
            description=(
                "Canvas has no rubric for this assignment. From the instructions, write down 3–5 "
                "things a strong submission must do, and ask the instructor how it will be graded."
            ),
            deliverable="3–5 success criteria of your own",
            done_definition="You can say how your work will be judged",
            minutes=15,
        )
    heaviest = sorted(
        (c for c in facts.rubric if c.points), key=lambda c: c.points or 0, reverse=True
    )[:2]
    weight_hint = (
        " The heaviest: " + " and ".join(criterion_label(c) for c in heaviest) + "."
        if heaviest
        else ""
    )
    return Step(
        title="Study the rubric",
        description=(
            f"For each of the {len(facts.rubric)} rubric criteria, note what the top rating asks "
            f"for.{weight_hint}"
        ),
        deliverable="One line per criterion: what full marks looks like",
        done_definition="You know what each criterion rewards and which carry the most points",
        minutes=15,
    )


def questions_step() -> Step:
    return Step(
        title="Ask about anything unclear",
        description=(
            "Note any unclear point (what counts toward the length, which sources are acceptable, "
            "the exact format) and ask the instructor or TA now, not the night before."
        ),
        deliverable="Questions sent, or a note that everything is clear",
        done_definition="No open question blocks the next step",
        minutes=10,
    )


_HOW_TO_SUBMIT = {
    "online_upload": "upload your file{formats} in Canvas",
    "online_text_entry": (
        "paste your text into the Canvas text box (keep a copy: formatting can be lost)"
    ),
    "online_url": "submit the link in Canvas (check it opens for someone who is not you)",
    "media_recording": "record or upload your media in Canvas",
    "discussion_topic": "post your reply in the Canvas discussion",
    "online_quiz": "complete the quiz in Canvas",
    "external_tool": "submit through the tool linked from the Canvas assignment",
    "on_paper": "hand in a paper copy as your instructor asks",
    "student_annotation": "annotate the document in Canvas",
}


def _how_to_submit(facts: Facts) -> str:
    formats = f" as {' or '.join(facts.formats)}" if facts.formats else ""
    ways = [
        _HOW_TO_SUBMIT[kind].format(formats=formats)
        for kind in facts.submission_types
        if kind in _HOW_TO_SUBMIT
    ]
    return " or ".join(ways) if ways else "hand in your work as the instructions say"


def submit_step(facts: Facts) -> Step:
    deadline = f" before {facts.due_text}" if facts.due_text else ""
    how = _how_to_submit(facts)
    return Step(
        title="Submit and confirm",
        description=(
            f"{how[0].upper()}{how[1:]}{deadline}. Then reopen the submission and check that the "
            "right version arrived."
        ),
        deliverable="A confirmed submission",
        done_definition=f"Canvas shows your submission{deadline}",
        minutes=15,
        closing=True,
    )


def sources_phrase(facts: Facts, *, with_exclusions: bool = True) -> str:
    count = f"at least {facts.min_sources}" if facts.min_sources else "enough"
    excluded = (
        " (" + "; ".join(f"not {what}" for what in facts.excluded_sources) + ")"
        if facts.excluded_sources and with_exclusions
        else ""
    )
    return f"{count} credible sources{excluded}"


def criterion_name(criterion: RubricCriterion) -> str:
    return criterion.description.strip() or f"criterion {criterion.id}"


def criterion_label(criterion: RubricCriterion) -> str:
    points = f" ({format_points(criterion.points)} pts)" if criterion.points is not None else ""
    return f"'{criterion_name(criterion)}'{points}"
