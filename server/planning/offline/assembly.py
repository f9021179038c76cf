"""Assembling the plan: milestones and tasks from the stages (rubric criteria placed by
keyword, a schedule worked back from the due date), the summary, the risks and the
submission checklist.
"""

from __future__ import annotations

import re
from datetime import date

from models.context import (
    DESCRIPTION_SOURCE_ID,
    Requirements,
    RubricCriterion,
    SourceContext,
)
from models.plan import (
    AssignmentSummary,
    GeneratedBy,
    Milestone,
    Plan,
    SourceReference,
    SubmissionStrategy,
    Task,
)
from server.planning.milestone_dates import spread_days
from server.planning.offline.checkpoints import with_checkpoints
from server.planning.offline.facts import (
    SOURCE_WORD_RE,
    Facts,
    derive_facts,
    format_points,
)
from server.planning.offline.patterns import (
    EXCLUDED_SOURCES_RE,
    LATE_POLICY_RE,
    TASK_RE,
    collapse_whitespace,
    hard_requirements,
)
from server.planning.offline.risks import (
    checkpoint_risks,
    grading_risks,
    heuristic_risk,
    lock_risks,
    scope_risks,
    source_risks,
    time_risks,
    unlisted_risks,
)
from server.planning.offline.stages import Stage, Step, criterion_label, criterion_name
from server.planning.offline.templating import PlanTemplate, load_templates, render_plan_template
from server.text.sentences import sentence_spans

_WORD_RE = re.compile(r"[a-z]+")
# Worth reading as the top rating only if it says more than "Full marks" or "Excellent".
_MIN_RATING_CHARS = 25
_AVERAGE_CRITERION_MINUTES = 30


def _keyword_score(stage: Stage, text: str) -> int:
    words = _WORD_RE.findall(text)
    return sum(1 for keyword in stage.keywords.split() if any(w.startswith(keyword) for w in words))


def _stage_for(criterion: RubricCriterion, stages: list[Stage]) -> int:
    text = f"{criterion.description} {criterion.long_description}".lower()
    scores = [_keyword_score(stage, text) for stage in stages]
    if max(scores) == 0:
        return next(i for i, stage in enumerate(stages) if stage.main)
    return scores.index(max(scores))


def _top_rating(criterion: RubricCriterion) -> str | None:
    """What the top rating asks for: its long description (where many rubrics state the
    standard), else its name when that says more than "Full marks", else the criterion's
    own long description. Ratings are ranked by points, or listed best first (Canvas's
    order) when the points are hidden."""
    ranked = sorted(criterion.ratings, key=lambda rating: rating.points or 0, reverse=True)
    if not ranked:
        return criterion.long_description.strip() or None
    if ranked[0].long_description.strip():
        return ranked[0].long_description.strip()
    best = ranked[0].description.strip()
    if len(best) >= _MIN_RATING_CHARS:
        return best
    return criterion.long_description.strip() or None


def _round_minutes(minutes: float) -> int:
    step = 5 if minutes < 30 else 15
    return max(step, round(minutes / step) * step)


def _effort(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"~{rest} min"
    return f"~{hours} h" + (f" {rest} min" if rest else "")


def _scored_total(facts: Facts) -> float:
    """The rubric's points that count: none for an ungraded assignment, and never a
    criterion Canvas ignores for scoring."""
    return sum(c.scored_points or 0 for c in facts.rubric) if facts.graded else 0


def _criterion_step(criterion: RubricCriterion, facts: Facts) -> Step:
    total = _scored_total(facts)
    points = criterion.scored_points if facts.graded else None
    share = points / total if points and total else 1 / len(facts.rubric)
    top = _top_rating(criterion)
    worth = (
        f"Worth {format_points(points)} of the rubric's {format_points(total)} points. "
        if points is not None and total
        else "Feedback only: Canvas does not count it in the score. "
        if criterion.ignore_for_scoring
        else ""
    )
    target = f"Compare your work with the top rating: “{top}”" if top else "Aim for the top rating"
    return Step(
        title=f"Address rubric criterion '{criterion_name(criterion)}'",
        description=f"{worth}{target}, and fix what falls short.",
        deliverable=f"Work that shows '{criterion_name(criterion)}' clearly",
        done_definition="You would give yourself the top rating on this criterion",
        minutes=_round_minutes(_AVERAGE_CRITERION_MINUTES * len(facts.rubric) * share),
    )


def _schedule(
    stages: list[Stage], facts: Facts, days: list[date] | None
) -> list[tuple[date | None, str]]:
    """A finish date and a human strategy per stage: the milestone schedule's own days
    (``spread_days``), so the plan's text and its target dates agree."""
    if facts.closed_on is not None:
        closed = (
            f"Canvas closed this assignment on {facts.clock.day(facts.closed_on)}: it no longer "
            "accepts submissions; ask your instructor before doing this"
        )
        return [(None, closed) for _ in stages]
    if facts.waits_for_module and facts.lock is not None:
        waiting = (
            f"Not scheduled: Canvas keeps this locked until you complete the module "
            f"'{facts.lock.module_name}'; plan again once it opens"
        )
        return [(None, waiting) for _ in stages]
    if facts.due is None:
        shares = [stage.share for stage in stages]
        return [
            (
                None,
                f"No due date in Canvas: give this about "
                f"{round((share - (shares[i - 1] if i else 0)) * 100)}% of your total time"
                + (f", after '{stages[i - 1].title}'" if i else ", first"),
            )
            for i, share in enumerate(shares)
        ]
    if days is None or facts.due <= facts.now:
        # The due day, never a later one: no milestone lands after it (the scheduler agrees).
        passed = f"The Canvas due date, {facts.due_text}, has passed: do this now"
        return [(day, passed) for day in days or [facts.clock.day_of(facts.due)] * len(stages)]
    schedule: list[tuple[date | None, str]] = []
    for stage, day in zip(stages, days, strict=True):
        if stage.share >= 1.0:
            text = (
                f"Aim to be done by {facts.clock.day(day)}, ahead of the Canvas due date "
                f"({facts.due_text})"
            )
        else:
            text = f"Finish by {facts.clock.day(day)}"
        schedule.append((day, text))
    return schedule


def _task(task_id: str, step: Step, depends_on: list[str], facts: Facts) -> Task:
    minutes = _round_minutes(step.minutes * (facts.scale if step.scales else 1.0))
    return Task(
        id=task_id,
        title=step.title,
        description=step.description,
        deliverable=step.deliverable,
        done_definition=step.done_definition,
        estimated_effort=_effort(minutes),
        estimated_minutes=minutes,
        depends_on=depends_on,
    )


def _stage_tasks(
    index: int,
    stage: Stage,
    criteria: list[RubricCriterion],
    previous_leaves: list[str],
    facts: Facts,
) -> tuple[list[Task], list[str]]:
    """The stage's tasks and the ids the next stage has to wait for.

    Template steps run in order; each rubric check follows the last of them; closing steps
    (submitting) wait for every check.
    """
    tasks: list[Task] = []
    leaves = previous_leaves
    for step in (s for s in stage.steps if not s.closing):
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts))
        leaves = [tasks[-1].id]
    checks: list[str] = []
    for criterion in criteria:
        step = _criterion_step(criterion, facts)
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts))
        checks.append(tasks[-1].id)
    leaves = checks or leaves
    for step in (s for s in stage.steps if s.closing):
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts))
        leaves = [tasks[-1].id]
    return tasks, leaves


def _milestones(stages: list[Stage], facts: Facts, days: list[date] | None) -> list[Milestone]:
    criteria_by_stage: dict[int, list[RubricCriterion]] = {}
    for criterion in facts.rubric:
        criteria_by_stage.setdefault(_stage_for(criterion, stages), []).append(criterion)
    milestones: list[Milestone] = []
    leaves: list[str] = []
    schedule = _schedule(stages, facts, days)
    for index, (stage, (suggested, strategy)) in enumerate(zip(stages, schedule, strict=True), 1):
        criteria = criteria_by_stage.get(index - 1, [])
        tasks, leaves = _stage_tasks(index, stage, criteria, leaves, facts)
        milestones.append(
            Milestone(
                id=f"m{index}",
                title=stage.title,
                purpose=stage.purpose,
                acceptance_criteria=[
                    *stage.acceptance,
                    *(
                        f"Meets rubric criterion {criterion_label(c, graded=facts.graded)}"
                        for c in criteria
                    ),
                ],
                due_strategy=strategy,
                order=index,
                tasks=tasks,
                suggested_date=suggested,
                covers_criteria=[c.id for c in criteria],
            )
        )
    return milestones


def _shorten(text: str, limit: int = 300) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _objective(context: SourceContext) -> str:
    """The instructions' own statement of the task, else a plain restatement of the title."""
    documents = sorted(
        context.documents, key=lambda document: document.source_id != DESCRIPTION_SOURCE_ID
    )
    for document in documents:
        for start, end in sentence_spans(document.text):
            sentence = collapse_whitespace(document.text[start:end])
            if len(sentence.split()) >= 6 and TASK_RE.search(sentence):
                return _shorten(sentence)
    course = f" for {context.assignment.course_name}" if context.assignment.course_name else ""
    return f"Complete '{context.assignment.title}'{course} as described in Canvas."


def _success_definition(context: SourceContext, facts: Facts, deliverable: str) -> str:
    total = _scored_total(facts)
    if facts.rubric:
        target = f" that reaches the top rating on all {len(facts.rubric)} rubric criteria" + (
            f" ({format_points(total)} points)" if total else ""
        )
    else:
        target = " that does everything the instructions ask"
    deadline = f", submitted by {facts.due_text}" if facts.due_text else ""
    text = f"Hand in {deliverable}{target}, meeting every hard constraint{deadline}."
    assignment = context.assignment
    if facts.closed_on is not None:
        text += (
            f" Canvas closed it on {facts.clock.day(facts.closed_on)} and no longer accepts "
            "submissions."
        )
    elif facts.withheld and facts.lock is not None:
        text += f" Canvas withholds the instructions for now: {facts.lock.explanation}"
    if assignment.grading_type == "not_graded":
        text += " It is not graded."
    elif facts.graded and assignment.points_possible:
        text += f" It is worth {format_points(assignment.points_possible)} points"
        if assignment.group_name and assignment.group_weight:
            text += (
                f" in the '{assignment.group_name}' group "
                f"({format_points(assignment.group_weight)}% of the course grade)"
            )
        text += "."
    return text


# A plan listing every "must" of a 40-page handbook helps nobody: the first ones, in the
# order of the instructions (description first), are listed and the rest counted as a risk.
_MAX_LISTED_CONSTRAINTS = 25
_MAX_CHECKLIST_RULES = 8


def _summary(
    context: SourceContext, requirements: Requirements, facts: Facts, deliverable: str
) -> tuple[AssignmentSummary, list[SourceReference]]:
    hard = hard_requirements(requirements)[:_MAX_LISTED_CONSTRAINTS]
    grading = [item for item in requirements.items if item.kind == "grading"]
    references = [
        SourceReference(
            pointer=f"/assignment_summary/{section}/{index}",
            quote=item.quote,
            source_id=item.source_id,
        )
        for section, items in (("hard_constraints", hard), ("grading_signals", grading))
        for index, item in enumerate(items)
    ]
    summary = AssignmentSummary(
        title=context.assignment.title,
        objective=_objective(context),
        success_definition=_success_definition(context, facts, deliverable),
        hard_constraints=[item.text for item in hard],
        grading_signals=[item.text for item in grading],
    )
    return summary, references


def _checklist(context: SourceContext, facts: Facts) -> list[str]:
    items: list[str] = [
        f"{'Timing' if unit == 'minutes' else 'Length'}: {limits.describe(unit)}"
        for unit, limits in facts.lengths.items()
    ]
    if facts.citation_style:
        items.append(
            f"Citations in {facts.citation_style}: in-text citations and a matching reference list"
        )
    if facts.min_sources:
        items.append(f"At least {facts.min_sources} sources cited")
    items.extend(
        f"No {what}" + ("" if SOURCE_WORD_RE.search(what) else " among your sources")
        for what in facts.excluded_sources
    )
    if facts.title_page:
        items.append("Title page included")
    items.extend(f"Formatting: {text}" for text in facts.layout)
    rules = [
        text
        for text in facts.rules
        if not (LATE_POLICY_RE.search(text) or EXCLUDED_SOURCES_RE.search(text))
    ]
    items.extend(f"Rule: {text}" for text in rules[:_MAX_CHECKLIST_RULES])
    if facts.formats:
        only = " (Canvas accepts only these)" if context.assignment.allowed_extensions else ""
        items.append(f"Saved as {' or '.join(facts.formats)}{only}")
    if facts.rubric:
        items.append(f"Checked against all {len(facts.rubric)} rubric criteria")
    items.extend(f"Submission instruction: {text}" for text in facts.submission_notes)
    deadline = f" before {facts.due_text}" if facts.due_text else ""
    items.append(f"Submitted{deadline} and the submission reopened to confirm it arrived")
    return items


def _quality_bar(facts: Facts) -> str:
    if facts.rubric:
        heaviest = max(facts.rubric, key=lambda c: c.scored_points or 0)
        bar = (
            "The top rating on every rubric criterion, above all "
            f"{criterion_label(heaviest, graded=facts.graded)}, "
            "with every hard constraint met exactly."
        )
    else:
        bar = (
            "There is no rubric: every part of the prompt answered and every hard constraint "
            "met exactly."
        )
    if facts.soft:
        bar += " The instructions also recommend: " + " ".join(facts.soft[:3])
    return bar


def _failure_modes(facts: Facts, template: PlanTemplate) -> list[str]:
    modes = list(template.failure_modes)
    if facts.length and facts.kind != "presentation":
        modes.append(f"Going outside the length limit ({facts.length})")
    if facts.excluded_sources:
        modes.append(
            f"Using a source the instructions exclude ({'; '.join(facts.excluded_sources)})"
        )
    if "online_upload" in facts.submission_types:
        modes.append("Uploading the wrong file or a file type Canvas does not accept")
    if facts.late_policy:
        modes.append("Submitting late and losing marks to the late policy")
    return modes


def draft_plan(context: SourceContext, requirements: Requirements) -> Plan:
    facts = derive_facts(context, requirements)
    template = render_plan_template(facts, load_templates())
    days = spread_days(len(template.stages), context.assignment, context.fetched_at)
    milestones = with_checkpoints(_milestones(template.stages, facts, days), requirements, facts)
    summary, references = _summary(context, requirements, facts, template.deliverable)
    total_minutes = sum(task.estimated_minutes or 0 for m in milestones for task in m.tasks)
    return Plan(
        assignment_summary=summary,
        milestones=milestones,
        risks=[
            *lock_risks(facts),
            *time_risks(facts, total_minutes),
            *scope_risks(facts),
            *source_risks(context, facts),
            *grading_risks(context, requirements, facts),
            *checkpoint_risks(context),
            *unlisted_risks(requirements, len(summary.hard_constraints)),
            heuristic_risk(),
        ],
        submission_strategy=SubmissionStrategy(
            final_checklist=_checklist(context, facts),
            quality_bar=_quality_bar(facts),
            common_failure_modes=_failure_modes(facts, template),
        ),
        source_references=references,
        generated_by=GeneratedBy(engine="offline", model=None, heuristic=True),
    )
