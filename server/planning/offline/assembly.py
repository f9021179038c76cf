"""Assembling the plan: milestones and tasks from the stages (rubric criteria placed by
keyword, a schedule worked back from the due date), the summary, the risks and the
submission checklist.
"""

from __future__ import annotations

import re
from datetime import date

from models.context import (
    Requirement,
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
from server.planning.offline.objective import task_statement
from server.planning.offline.patterns import excluded_sources_in
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
from server.planning.offline.templating import (
    PlanTemplate,
    Say,
    length_text,
    render_plan_template,
    style_text,
    templates_for,
)
from server.planning.offline.values import (
    LATE_POLICY_RE,
    hard_requirements,
)
from server.planning.serving import gather_milestone_serves
from server.planning.verification import HARD_CONSTRAINT_ID_PREFIX
from server.text.relevance import most_relevant, scores

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


def _criterion_step(criterion: RubricCriterion, facts: Facts, say: Say) -> Step:
    total = _scored_total(facts)
    points = criterion.scored_points if facts.graded else None
    share = points / total if points and total else 1 / len(facts.rubric)
    name = criterion_name(criterion, say)
    return Step(
        title=say("criterion_title", name=name),
        description=say(
            "criterion_description",
            points=format_points(points) if points is not None else None,
            total=format_points(total) if total else None,
            feedback_only=criterion.ignore_for_scoring,
            top=_top_rating(criterion),
        ),
        deliverable=say("criterion_deliverable", name=name),
        done_definition=say("criterion_done"),
        minutes=_round_minutes(_AVERAGE_CRITERION_MINUTES * len(facts.rubric) * share),
    )


def _schedule(
    stages: list[Stage], facts: Facts, days: list[date] | None, say: Say
) -> list[tuple[date | None, str]]:
    """A finish date and a human strategy per stage: the milestone schedule's own days
    (``spread_days``), so the plan's text and its target dates agree."""
    if facts.closed_on is not None:
        closed = say("schedule_closed", day=facts.clock.day(facts.closed_on))
        return [(None, closed) for _ in stages]
    if facts.waits_for_module and facts.lock is not None:
        waiting = say("schedule_waiting", module=facts.lock.module_name)
        return [(None, waiting) for _ in stages]
    if facts.due is None:
        shares = [stage.share for stage in stages]
        return [
            (
                None,
                say(
                    "schedule_no_due",
                    percent=round((share - (shares[i - 1] if i else 0)) * 100),
                    previous=stages[i - 1].title if i else None,
                ),
            )
            for i, share in enumerate(shares)
        ]
    if days is None or facts.due <= facts.now:
        # The due day, never a later one: no milestone lands after it (the scheduler agrees).
        passed = say("schedule_passed", due=facts.due_text)
        return [(day, passed) for day in days or [facts.clock.day_of(facts.due)] * len(stages)]
    schedule: list[tuple[date | None, str]] = []
    for stage, day in zip(stages, days, strict=True):
        if stage.share >= 1.0:
            text = say("schedule_submit", day=facts.clock.day(day), due=facts.due_text)
        else:
            text = say("schedule_finish", day=facts.clock.day(day))
        schedule.append((day, text))
    return schedule


def _task(task_id: str, step: Step, depends_on: list[str], facts: Facts, serves: list[str]) -> Task:
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
        serves=serves,
    )


def _stage_tasks(
    index: int,
    stage: Stage,
    criteria: list[RubricCriterion],
    previous_leaves: list[str],
    facts: Facts,
    placed: dict[tuple[int, int], list[str]],
    say: Say,
) -> tuple[list[Task], list[str]]:
    """The stage's tasks and the ids the next stage has to wait for.

    Template steps run in order; each rubric check follows the last of them; closing steps
    (submitting) wait for every check. A template step serves the hard constraints placed
    on it (``placed``, by stage and step position); a check, its criterion.
    """

    def serves(step: Step) -> list[str]:
        return placed.get((index - 1, stage.steps.index(step)), [])

    tasks: list[Task] = []
    leaves = previous_leaves
    for step in (s for s in stage.steps if not s.closing):
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts, serves(step)))
        leaves = [tasks[-1].id]
    checks: list[str] = []
    for criterion in criteria:
        step = _criterion_step(criterion, facts, say)
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts, [criterion.id]))
        checks.append(tasks[-1].id)
    leaves = checks or leaves
    for step in (s for s in stage.steps if s.closing):
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts, serves(step)))
        leaves = [tasks[-1].id]
    return tasks, leaves


def _place_constraints(
    stages: list[Stage], listed: list[tuple[str, Requirement]]
) -> dict[tuple[int, int], list[str]]:
    """The hard constraints each step serves, by (stage, step) position.

    A length, format, citation or deadline rule goes to the step naming its kind that is
    most about it; any other rule to the step sharing most words with it, else to a step
    naming ``hard_constraint`` (the final check), else to the most relevant step.
    """
    positions = [(i, j) for i, stage in enumerate(stages) for j in range(len(stage.steps))]
    texts = [_step_text(stages[i].steps[j]) for i, j in positions]
    placed: dict[tuple[int, int], list[str]] = {}
    for ref, item in listed:
        naming = [k for k, (i, j) in enumerate(positions) if item.kind in stages[i].steps[j].serves]
        shared = scores(item.text, texts)
        if item.kind == "hard_constraint" and max(shared, default=0) > 0:
            naming = [k for k, score in enumerate(shared) if score == max(shared)]
        pool = naming or list(range(len(positions)))
        if pool:
            best = pool[most_relevant(item.text, [texts[k] for k in pool])]
            placed.setdefault(positions[best], []).append(ref)
    return placed


def _step_text(step: Step) -> str:
    return f"{step.title} {step.description} {step.deliverable} {step.done_definition}"


def _milestones(
    stages: list[Stage],
    facts: Facts,
    days: list[date] | None,
    placed: dict[tuple[int, int], list[str]],
    say: Say,
) -> list[Milestone]:
    criteria_by_stage: dict[int, list[RubricCriterion]] = {}
    for criterion in facts.rubric:
        criteria_by_stage.setdefault(_stage_for(criterion, stages), []).append(criterion)
    milestones: list[Milestone] = []
    leaves: list[str] = []
    schedule = _schedule(stages, facts, days, say)
    for index, (stage, (suggested, strategy)) in enumerate(zip(stages, schedule, strict=True), 1):
        criteria = criteria_by_stage.get(index - 1, [])
        tasks, leaves = _stage_tasks(index, stage, criteria, leaves, facts, placed, say)
        milestones.append(
            Milestone(
                id=f"m{index}",
                title=stage.title,
                purpose=stage.purpose,
                acceptance_criteria=[
                    *stage.acceptance,
                    *(
                        say("meets_criterion", label=criterion_label(c, say, graded=facts.graded))
                        for c in criteria
                    ),
                ],
                due_strategy=strategy,
                order=index,
                tasks=tasks,
                suggested_date=suggested,
                covers_criteria=[c.id for c in criteria],
                anchored=stage.day is not None,
            )
        )
    return milestones


def _shorten(text: str, limit: int = 300) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _objective(context: SourceContext, say: Say) -> str:
    """The instructions' own statement of the task, else a plain restatement of the title."""
    statement = task_statement(context)
    if statement:
        return _shorten(statement)
    assignment = context.assignment
    return say("objective_fallback", title=assignment.title, course=assignment.course_name)


def _success_definition(context: SourceContext, facts: Facts, deliverable: str, say: Say) -> str:
    total = _scored_total(facts)
    assignment = context.assignment
    withheld = facts.withheld and facts.lock is not None and facts.closed_on is None
    return say(
        "success_definition",
        deliverable=deliverable,
        criteria=len(facts.rubric),
        total=format_points(total) if total else None,
        due=facts.due_text,
        closed=facts.clock.day(facts.closed_on) if facts.closed_on is not None else None,
        withheld=facts.lock.explanation if withheld and facts.lock else None,
        not_graded=assignment.grading_type == "not_graded",
        points=format_points(assignment.points_possible)
        if facts.graded and assignment.points_possible
        else None,
        group=assignment.group_name,
        weight=format_points(assignment.group_weight) if assignment.group_weight else None,
    )


# A plan listing every "must" of a 40-page handbook helps nobody: the first ones, in the
# order of the instructions (description first), are listed and the rest counted as a risk.
_MAX_LISTED_CONSTRAINTS = 25
_MAX_CHECKLIST_RULES = 8


def _listed_constraints(requirements: Requirements) -> list[tuple[str, Requirement]]:
    """The hard constraints the plan lists, with their ids ("hc1", ...)."""
    hard = hard_requirements(requirements)[:_MAX_LISTED_CONSTRAINTS]
    return [(f"{HARD_CONSTRAINT_ID_PREFIX}{index}", item) for index, item in enumerate(hard, 1)]


def _summary(
    context: SourceContext,
    listed: list[tuple[str, Requirement]],
    requirements: Requirements,
    facts: Facts,
    deliverable: str,
    say: Say,
) -> tuple[AssignmentSummary, list[SourceReference]]:
    hard = [item for _, item in listed]
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
        objective=_objective(context, say),
        success_definition=_success_definition(context, facts, deliverable, say),
        hard_constraints=[item.text for item in hard],
        hard_constraint_ids=[ref for ref, _ in listed],
        grading_signals=[item.text for item in grading],
    )
    return summary, references


def _checklist(context: SourceContext, facts: Facts, say: Say) -> list[str]:
    items: list[str] = [
        say("check_length", unit=unit, limits=length_text(say, unit, limits))
        for unit, limits in facts.lengths.items()
    ]
    if facts.citation_style:
        items.append(say("check_citations", style=style_text(say, facts.citation_style)))
    if facts.min_sources:
        items.append(say("check_min_sources", count=facts.min_sources))
    items.extend(
        say("check_excluded", what=what, names_sources=bool(SOURCE_WORD_RE.search(what)))
        for what in facts.excluded_sources
    )
    if facts.title_page:
        items.append(say("check_title_page"))
    items.extend(say("check_formatting", text=text) for text in facts.layout)
    rules = [
        text
        for text in facts.rules
        if not (LATE_POLICY_RE.search(text) or excluded_sources_in(text))
    ]
    items.extend(say("check_rule", text=text) for text in rules[:_MAX_CHECKLIST_RULES])
    if facts.formats:
        only = bool(context.assignment.allowed_extensions)
        items.append(say("check_formats", formats=facts.formats, only=only))
    if facts.rubric:
        items.append(say("check_rubric", count=len(facts.rubric)))
    items.extend(say("check_submission_note", text=text) for text in facts.submission_notes)
    on_paper = "on_paper" in facts.submission_types
    items.append(
        say("check_submitted", due=facts.due_text, in_person=facts.in_person, on_paper=on_paper)
    )
    return items


def _quality_bar(facts: Facts, say: Say) -> str:
    if facts.rubric:
        heaviest = max(facts.rubric, key=lambda c: c.scored_points or 0)
        bar = say("quality_rubric", heaviest=criterion_label(heaviest, say, graded=facts.graded))
    else:
        bar = say("quality_no_rubric")
    if facts.soft:
        bar = say("quality_recommend", bar=bar, soft=" ".join(facts.soft[:3]))
    return bar


def _failure_modes(facts: Facts, template: PlanTemplate, say: Say) -> list[str]:
    modes = list(template.failure_modes)
    if facts.headline_length and facts.kind != "presentation":
        modes.append(say("failure_length", length=length_text(say, *facts.headline_length)))
    if facts.excluded_sources:
        modes.append(say("failure_excluded", excluded="; ".join(facts.excluded_sources)))
    if "online_upload" in facts.submission_types:
        modes.append(say("failure_upload"))
    if facts.late_policy:
        modes.append(say("failure_late"))
    return modes


def _stage_days(stages: list[Stage], context: SourceContext) -> list[date] | None:
    """Each stage's day: its own (the replies' due day), else the schedule's spread of the
    others (``spread_days``, so the plan's text and its target dates agree)."""
    spread = spread_days(
        sum(stage.day is None for stage in stages), context.assignment, context.fetched_at
    )
    if spread is None:
        return None
    remaining = iter(spread)
    return [stage.day or next(remaining) for stage in stages]


def draft_plan(context: SourceContext, requirements: Requirements) -> Plan:
    facts = derive_facts(context, requirements)
    templates = templates_for(context.language)
    say = templates.say
    template = render_plan_template(facts, templates)
    days = _stage_days(template.stages, context)
    listed = _listed_constraints(requirements)
    placed = _place_constraints(template.stages, listed)
    milestones = with_checkpoints(
        _milestones(template.stages, facts, days, placed, say), requirements, facts, say
    )
    gather_milestone_serves(milestones)
    summary, references = _summary(context, listed, requirements, facts, template.deliverable, say)
    total_minutes = sum(task.estimated_minutes or 0 for m in milestones for task in m.tasks)
    return Plan(
        assignment_summary=summary,
        milestones=milestones,
        risks=[
            *lock_risks(facts, say),
            *time_risks(facts, total_minutes, say),
            *scope_risks(facts, say),
            *source_risks(context, facts, say),
            *grading_risks(context, requirements, facts, say),
            *checkpoint_risks(context, say),
            *unlisted_risks(requirements, len(summary.hard_constraints), say),
            heuristic_risk(say),
        ],
        submission_strategy=SubmissionStrategy(
            final_checklist=_checklist(context, facts, say),
            quality_bar=_quality_bar(facts, say),
            common_failure_modes=_failure_modes(facts, template, say),
        ),
        source_references=references,
        generated_by=GeneratedBy(engine="offline", model=None, heuristic=True),
        language=templates.language,
    )
