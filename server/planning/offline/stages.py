"""The parts of a plan template: ``Stage`` and ``Step``, and the steps every kind of
assignment shares (reading the instructions, the rubric, asking, submitting).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from models.context import (
    RubricCriterion,
)
from server.planning.offline.facts import Facts, format_day, format_points, format_timestamp


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
    if facts.withheld and facts.lock is not None:
        opens = (
            f" on {format_day(facts.lock.unlock_at.date())}"
            if facts.lock.unlock_at
            else " (once you meet the module's requirements)"
        )
        return Step(
            title="Read the instructions when Canvas opens them",
            description=(
                f"Canvas withholds the instructions for now: “{facts.lock.explanation}” When "
                f"the assignment opens{opens}, read them in Canvas and plan again (reprocess) "
                f"so this plan uses them. Then mark every rule on {focus}."
            ),
            deliverable="The instructions read, and this plan made again from them",
            done_definition="The plan was made again after the assignment opened",
            minutes=20,
        )
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
        (c for c in facts.rubric if c.scored_points and facts.graded),
        key=lambda c: c.scored_points or 0,
        reverse=True,
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
    "none": "there is nothing to submit in Canvas: take part as the instructions say",
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


def criterion_label(criterion: RubricCriterion, *, graded: bool = True) -> str:
    """The criterion's name with its points; no points on an ungraded assignment."""
    if criterion.ignore_for_scoring:
        return f"'{criterion_name(criterion)}' (feedback only, not scored)"
    shown = criterion.points is not None and graded
    points = f" ({format_points(criterion.points or 0)} pts)" if shown else ""
    return f"'{criterion_name(criterion)}'{points}"


def _post_and_reply_steps(facts: Facts) -> tuple[Step, ...]:
    """A graded discussion: the initial post, then the replies Canvas requires."""
    discussion = facts.discussion
    if discussion is None:
        return ()
    hidden = (
        " Canvas shows you classmates' posts only after you post."
        if discussion.require_initial_post
        else ""
    )
    deadline = (
        f" before {facts.due_text}" if facts.due_text and not discussion.required_replies else ""
    )
    post = Step(
        title="Post your initial reply",
        description=f"Post your answer to the prompt in the Canvas discussion{deadline}.{hidden}",
        deliverable="Your initial post in the discussion",
        done_definition="Your post appears in the Canvas discussion",
        minutes=15,
        closing=True,
    )
    if not discussion.required_replies:
        return (post,)
    replies = discussion.required_replies
    by = (
        f" by {format_timestamp(discussion.reply_due_at)}"
        if discussion.reply_due_at
        else f" before {facts.due_text}"
        if facts.due_text
        else ""
    )
    reply = Step(
        title=f"Reply to {replies} classmate{'s' if replies != 1 else ''}",
        description=(
            f"Canvas requires {replies} repl{'ies' if replies != 1 else 'y'} to classmates' "
            f"posts{by}. Read their posts and answer with something new: a question, an "
            "example or a source, not just agreement."
        ),
        deliverable=f"{replies} replies in the discussion",
        done_definition=f"Canvas shows your {replies} replies",
        minutes=15 * replies,
        closing=True,
    )
    return (post, reply)


def _group_step() -> Step:
    return Step(
        title="Agree on the work with your group",
        description=(
            "This is a group assignment in Canvas: one submission counts for the whole group. "
            "Meet your group, split the work, set internal deadlines, and agree who submits."
        ),
        deliverable="Who does what and by when, and who submits",
        done_definition="Every member knows their part and the group's internal deadlines",
        minutes=30,
    )


def with_canvas_steps(stages: list[Stage], facts: Facts) -> list[Stage]:
    """What Canvas says about the work, added to any template: a group assignment starts
    by agreeing on the work; a graded discussion is submitted by posting, then replying."""
    adjusted = list(stages)
    if facts.group_assignment and adjusted:
        first = adjusted[0]
        adjusted[0] = replace(first, steps=(_group_step(), *first.steps))
    posting = _post_and_reply_steps(facts)
    if posting and adjusted:
        last = adjusted[-1]
        kept = tuple(step for step in last.steps if not step.closing)
        adjusted[-1] = replace(last, steps=(*kept, *posting))
    return adjusted
