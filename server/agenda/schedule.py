"""The student's week across assignments: every plan's open work, balanced.

Balanced dates are computed on read, never stored: they are a pure function of the
current plans, their effort estimates, the Canvas due dates, the student's ticked tasks,
moved dates and preferences, and today's date. So re-planning one assignment, ticking a
task or moving a milestone re-balances every other assignment's untouched dates at the
next read, and the agenda and the calendar feed can never disagree.

A workspace counts as soon as it has a plan (while a reprocess runs, its current plan
counts). Within an assignment milestones keep their order: a milestone's dates are never
later than those of the milestone after it. An instructor's checkpoint (an anchored
milestone) is a deadline, as the due date is; so is a graded discussion's initial post,
for every task but the replies.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from models.context import AssignmentFacts
from models.db import AssignmentWorkspace, User
from server.agenda.balance import Balanced, Work, balance
from server.agenda.effort import Effort, task_effort
from server.agenda.preferences import Preferences, budget_minutes, preferences_of
from server.kernel.settings import Settings
from server.text.dates import FALLBACK_ZONE, clock_for
from server.tracking.service import MilestoneProgress, MilestoneStatus, plan_progress

DateSource = Literal["student", "balanced", "plan"]
TaskKey = tuple[int, str]


def student_zone(workspaces: Sequence[AssignmentWorkspace]) -> ZoneInfo:
    """The one zone the agenda counts days in: the student's Canvas profile zone when a
    plan's context has it (the most common, should they differ between fetches), else the
    zone most of their courses use, else UTC (``server/text/dates.py`` picks each)."""
    clocks = [clock_for(_facts(workspace)) for workspace in workspaces]
    own = [clock for clock in clocks if clock.source == "canvas_profile"]
    names = Counter(clock.name for clock in own or clocks)
    return ZoneInfo(names.most_common(1)[0][0]) if names else ZoneInfo(FALLBACK_ZONE)


def _facts(workspace: AssignmentWorkspace) -> AssignmentFacts:
    return AssignmentFacts.model_validate((workspace.context_blob or {})["assignment"])


@dataclass
class ScheduledTask:
    task: dict[str, Any]
    effort: Effort
    done: bool
    aim: date | None
    overdue: bool


@dataclass
class ScheduledMilestone:
    milestone: dict[str, Any]
    progress: MilestoneProgress
    date: dt.date | None
    date_source: DateSource | None
    plan_date: dt.date | None
    tasks: list[ScheduledTask]

    @property
    def done(self) -> bool:
        return self.progress.status == MilestoneStatus.DONE


@dataclass
class ScheduledAssignment:
    workspace: AssignmentWorkspace
    facts: AssignmentFacts
    due_day: date | None
    milestones: list[ScheduledMilestone]

    @property
    def done(self) -> bool:
        return all(milestone.done for milestone in self.milestones)


@dataclass
class StudentSchedule:
    zone: ZoneInfo
    today: date
    preferences: Preferences
    balanced: Balanced
    assignments: list[ScheduledAssignment] = field(default_factory=list)


def _local_day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _plan_date(milestone: dict[str, Any]) -> date | None:
    value = milestone.get("target_date")
    return date.fromisoformat(value) if value else None


def _checkpoint_day(milestone: dict[str, Any], due_day: date | None) -> date | None:
    """An instructor's checkpoint's day (an anchored milestone's date, which the
    instructions set): a deadline like the due date's, not an aim to balance around."""
    day = _plan_date(milestone) if milestone.get("anchored") else None
    return min(day, due_day) if day is not None and due_day is not None else day


@dataclass
class _Limits:
    """A milestone's aim and deadline, before the milestones after it cap them."""

    aim: date | None
    deadline: date | None

    def no_later_than(self, other: _Limits) -> _Limits:
        """The earlier aim and the earlier deadline of the two (None: no limit)."""
        return _Limits(_earlier(self.aim, other.aim), _earlier(self.deadline, other.deadline))


def _earlier(*days: date | None) -> date | None:
    return min(filter(None, days), default=None)


def _limits(
    ordered: list[tuple[dict[str, Any], MilestoneProgress]], due_day: date | None
) -> list[_Limits]:
    scheduled = [d for milestone, _ in ordered if (d := _plan_date(milestone)) is not None]
    finish_by = max(scheduled) if scheduled and due_day is not None else due_day
    if finish_by is not None and due_day is not None:
        finish_by = min(finish_by, due_day)
    limits: list[_Limits] = []
    later = _Limits(None, None)
    for milestone, progress in reversed(ordered):
        own = progress.target_date if progress.target_date_set_by_student else None
        fixed = own or _checkpoint_day(milestone, due_day)
        aim, deadline = fixed or finish_by, fixed or due_day
        later = _Limits(aim, deadline).no_later_than(later)
        limits.append(later)
    return limits[::-1]


def _before_the_initial_post(
    facts: AssignmentFacts, ordered: list[tuple[dict[str, Any], MilestoneProgress]], zone: ZoneInfo
) -> Callable[[str, _Limits], _Limits]:
    """A task's limits, capped at a graded discussion's initial post's day when Canvas dates
    the post before the replies: every task but the replies, which are the plan's last
    task when Canvas requires replies (the post's own step is the one before them)."""
    post_day = _local_day(facts.initial_post_due, zone)
    task_ids = [task["id"] for milestone, _ in ordered for task in milestone["tasks"]]
    if post_day is None or not task_ids:
        return lambda _, limits: limits
    replies = task_ids[-1] if facts.discussion and facts.discussion.required_replies else None

    def limits_of(task_id: str, limits: _Limits) -> _Limits:
        return limits if task_id == replies else limits.no_later_than(_Limits(post_day, post_day))

    return limits_of


async def _assignment(
    workspace: AssignmentWorkspace, zone: ZoneInfo, today: date, default_minutes: int
) -> tuple[ScheduledAssignment, list[Work]]:
    plan = workspace.plan_blob or {}
    facts = _facts(workspace)
    due_day = _local_day(facts.due_at, zone)
    release = max(today, _local_day(facts.unlock_at, zone) or today)
    progress = await plan_progress(workspace.id, workspace.plan_version, plan)
    ordered = sorted(
        zip(plan["milestones"], progress.milestones, strict=True), key=lambda m: m[0]["order"]
    )
    work: list[Work] = []
    milestones: list[ScheduledMilestone] = []
    posting = _before_the_initial_post(facts, ordered, zone)
    for (milestone, milestone_progress), milestone_limits in zip(
        ordered, _limits(ordered, due_day), strict=True
    ):
        done_ids = {task.task_id for task in milestone_progress.tasks if task.done}
        tasks: list[ScheduledTask] = []
        for index, task in enumerate(milestone["tasks"]):
            limits = posting(task["id"], milestone_limits)
            effort = task_effort(task, default_minutes)
            done = task["id"] in done_ids or milestone_progress.status == MilestoneStatus.DONE
            tasks.append(
                ScheduledTask(
                    task,
                    effort,
                    done,
                    limits.aim,
                    limits.deadline is not None and limits.deadline < today,
                )
            )
            if done or limits.aim is None or limits.deadline is None:
                continue
            work.append(
                Work(
                    key=(workspace.id, task["id"]),
                    minutes=effort.minutes,
                    release=min(release, max(limits.deadline, today)),
                    aim=max(limits.aim, today),
                    deadline=max(limits.deadline, today),
                    order=(due_day or date.max, workspace.id, milestone["order"], index),
                )
            )
        milestones.append(
            ScheduledMilestone(
                milestone, milestone_progress, None, None, _plan_date(milestone), tasks
            )
        )
    return ScheduledAssignment(workspace, facts, due_day, milestones), work


def _settle_dates(assignment: ScheduledAssignment, last_day: dict[Any, date]) -> None:
    """Each milestone's date: the student's; else the day its last open task is planned;
    else (nothing left to plan) the plan's own."""
    for milestone in assignment.milestones:
        own = milestone.progress
        planned = [
            last_day[key]
            for task in milestone.tasks
            if (key := (assignment.workspace.id, task.task["id"])) in last_day
        ]
        if own.target_date_set_by_student:
            milestone.date, milestone.date_source = own.target_date, "student"
        elif planned:
            milestone.date, milestone.date_source = max(planned), "balanced"
        elif milestone.plan_date is not None:
            milestone.date, milestone.date_source = milestone.plan_date, "plan"


async def student_schedule(
    settings: Settings, user: User, now: datetime | None = None
) -> StudentSchedule:
    """Every planned workspace of the user, with balanced milestone dates."""
    workspaces = await AssignmentWorkspace.filter(
        user_id=user.id, plan_blob__isnull=False, context_blob__isnull=False
    ).order_by("id")
    zone = student_zone(workspaces)
    today = (now or datetime.now(zone)).astimezone(zone).date()
    preferences = preferences_of(settings, user)
    assignments: list[ScheduledAssignment] = []
    work: list[Work] = []
    for workspace in workspaces:
        assignment, assignment_work = await _assignment(
            workspace, zone, today, settings.agenda_default_task_minutes
        )
        assignments.append(assignment)
        work += assignment_work
    balanced = balance(work, today, budget_minutes(preferences))
    last_day = balanced.last_day()
    for assignment in assignments:
        _settle_dates(assignment, last_day)
    return StudentSchedule(zone, today, preferences, balanced, assignments)
