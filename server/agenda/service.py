"""One agenda across all the student's assignments, day by day in their time zone.

The REST route (``GET /me/agenda``) and the GraphQL query both call :func:`get_agenda`.
What the agenda holds and how the days are balanced: ``server/agenda/schedule.py`` and
``server/agenda/balance.py``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from models.db import User
from server.agenda import preferences as prefs
from server.agenda.effort import EffortSource
from server.agenda.preferences import Preferences, PreferencesUpdate
from server.agenda.schedule import (
    DateSource,
    ScheduledAssignment,
    ScheduledMilestone,
    StudentSchedule,
    student_schedule,
)
from server.kernel.errors import ValidationFailed
from server.kernel.settings import Settings
from server.tracking.service import MilestoneStatus

DEFAULT_DAYS = 14
MAX_DAYS = 366


class AssignmentRef(BaseModel):
    course_id: str
    assignment_id: str
    assignment_title: str
    course_name: str | None


class AgendaTask(AssignmentRef):
    milestone_id: str
    task_id: str
    title: str
    estimated_effort: str = Field(description="the plan's own words")
    estimated_minutes: int = Field(description="the task's minutes, as the agenda counts them")
    effort_source: EffortSource = Field(
        description='"plan_minutes", "plan_text" (read from estimated_effort) or "default" '
        "(AGENDA_DEFAULT_TASK_MINUTES; the plan gave no usable estimate)"
    )
    minutes: int = Field(description="minutes planned on this day")
    part: int = Field(ge=1, description="which of the task's days this is")
    parts: int = Field(ge=1, description="how many days the task is spread over")
    finish_by: date | None
    overdue: bool = Field(description="its deadline (due date or your own date) has passed")


class AgendaMilestone(AssignmentRef):
    milestone_id: str
    title: str
    target_date: date
    date_source: DateSource = Field(
        description='"student" (your own date, never moved), "balanced" (across your '
        'assignments) or "plan" (nothing left to plan: the plan\'s own date)'
    )
    plan_target_date: date | None = Field(description="the date the plan alone would give")
    status: MilestoneStatus
    remaining_minutes: int


class AgendaDue(AssignmentRef):
    due_at: datetime


class AgendaDay(BaseModel):
    date: date
    planned_minutes: int
    budget_minutes: int
    over_budget_minutes: int = Field(ge=0)
    tasks: list[AgendaTask]
    milestones: list[AgendaMilestone]
    due: list[AgendaDue] = Field(description="Canvas due dates on this day")


class OverloadedDay(BaseModel):
    date: date
    planned_minutes: int
    over_by_minutes: int


class AgendaWarning(BaseModel):
    code: Literal["effort_missing", "no_due_date"]
    message: str
    course_id: str
    assignment_id: str
    task_id: str | None = None


class Agenda(BaseModel):
    time_zone: str
    today: date
    from_date: date
    to_date: date
    preferences: Preferences
    budget_minutes: int
    daily_minutes: int = Field(
        description="the even daily load the agenda asks for (at most the budget)"
    )
    fits: bool = Field(description="no day from today on is over the budget")
    overloaded_days: list[OverloadedDay] = Field(
        description="every day from today on over the budget, inside the range or not"
    )
    days: list[AgendaDay]
    warnings: list[AgendaWarning]


def _ref(assignment: ScheduledAssignment) -> AssignmentRef:
    return AssignmentRef(
        course_id=assignment.workspace.course_id,
        assignment_id=assignment.workspace.assignment_id,
        assignment_title=assignment.facts.title,
        course_name=assignment.facts.course_name,
    )


def _milestone(
    assignment: ScheduledAssignment,
    milestone: ScheduledMilestone,
    day: date,
    source: DateSource,
) -> AgendaMilestone:
    return AgendaMilestone(
        **_ref(assignment).model_dump(),
        milestone_id=milestone.milestone["id"],
        title=milestone.milestone["title"],
        target_date=day,
        date_source=source,
        plan_target_date=milestone.plan_date,
        status=milestone.progress.status,
        remaining_minutes=sum(t.effort.minutes for t in milestone.tasks if not t.done),
    )


def _warnings(schedule: StudentSchedule) -> list[AgendaWarning]:
    warnings: list[AgendaWarning] = []
    for assignment in schedule.assignments:
        ref = _ref(assignment)
        if assignment.due_day is None:
            warnings.append(
                AgendaWarning(
                    code="no_due_date",
                    message=f"{ref.assignment_title!r} has no Canvas due date: only milestones "
                    "you gave a date of your own are planned",
                    course_id=ref.course_id,
                    assignment_id=ref.assignment_id,
                )
            )
        for milestone in assignment.milestones:
            warnings += [
                AgendaWarning(
                    code="effort_missing",
                    message=f"Task {task.task['title']!r} of {ref.assignment_title!r} has no "
                    f"usable effort estimate ({task.task.get('estimated_effort')!r}): counted "
                    f"as {task.effort.minutes} min",
                    course_id=ref.course_id,
                    assignment_id=ref.assignment_id,
                    task_id=task.task["id"],
                )
                for task in milestone.tasks
                if task.effort.source == "default" and not task.done
            ]
    return warnings


def _days(schedule: StudentSchedule, start: date, end: date) -> list[AgendaDay]:
    tasks: dict[date, list[AgendaTask]] = defaultdict(list)
    milestones: dict[date, list[AgendaMilestone]] = defaultdict(list)
    due: dict[date, list[AgendaDue]] = defaultdict(list)
    pieces_by_key = defaultdict(list)
    for piece in schedule.balanced.pieces:
        pieces_by_key[piece.key].append(piece)
    for assignment in schedule.assignments:
        ref = _ref(assignment)
        if assignment.due_day is not None and assignment.facts.due_at is not None:
            due[assignment.due_day].append(
                AgendaDue(**ref.model_dump(), due_at=assignment.facts.due_at)
            )
        for milestone in assignment.milestones:
            if milestone.date is not None and milestone.date_source is not None:
                milestones[milestone.date].append(
                    _milestone(assignment, milestone, milestone.date, milestone.date_source)
                )
            for task in milestone.tasks:
                pieces = pieces_by_key.get((assignment.workspace.id, task.task["id"]), [])
                for part, piece in enumerate(pieces, 1):
                    tasks[piece.day].append(
                        AgendaTask(
                            **ref.model_dump(),
                            milestone_id=milestone.milestone["id"],
                            task_id=task.task["id"],
                            title=task.task["title"],
                            estimated_effort=task.task.get("estimated_effort") or "",
                            estimated_minutes=task.effort.minutes,
                            effort_source=task.effort.source,
                            minutes=piece.minutes,
                            part=part,
                            parts=len(pieces),
                            finish_by=task.aim,
                            overdue=task.overdue,
                        )
                    )
    budget = schedule.balanced.budget_minutes
    days = []
    day = start
    while day <= end:
        planned = schedule.balanced.load.get(day, 0)
        days.append(
            AgendaDay(
                date=day,
                planned_minutes=planned,
                budget_minutes=budget,
                over_budget_minutes=max(0, planned - budget),
                tasks=tasks[day],
                milestones=milestones[day],
                due=due[day],
            )
        )
        day += timedelta(days=1)
    return days


def _range(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    start = start or today
    end = end or start + timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ValidationFailed("to must not be before from", details={"field": "to"})
    if (end - start).days >= MAX_DAYS:
        raise ValidationFailed(f"At most {MAX_DAYS} days at once", details={"field": "to"})
    return start, end


async def get_agenda(
    settings: Settings,
    user: User,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> Agenda:
    """The agenda from ``start`` (default today) to ``end`` (default two weeks on)."""
    schedule = await student_schedule(settings, user, now)
    start, end = _range(schedule.today, start, end)
    overloaded = schedule.balanced.overloaded()
    return Agenda(
        time_zone=schedule.zone.key,
        today=schedule.today,
        from_date=start,
        to_date=end,
        preferences=schedule.preferences,
        budget_minutes=schedule.balanced.budget_minutes,
        daily_minutes=schedule.balanced.daily_minutes,
        fits=not overloaded,
        overloaded_days=[
            OverloadedDay(
                date=day, planned_minutes=schedule.balanced.load[day], over_by_minutes=over
            )
            for day, over in overloaded.items()
        ],
        days=_days(schedule, start, end),
        warnings=_warnings(schedule),
    )


def get_preferences(settings: Settings, user: User) -> Preferences:
    return prefs.preferences_of(settings, user)


async def set_preferences(settings: Settings, user: User, update: PreferencesUpdate) -> Preferences:
    return await prefs.set_preferences(settings, user, update)
