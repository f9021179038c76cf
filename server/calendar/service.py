"""The student's calendar feed (RFC 5545): milestone target dates and Canvas due dates.

Calendar apps cannot send headers, so the feed URL carries a calendar token: random,
long-lived, read-only and good for the feed alone (it is not a JWT, and no other route
accepts it; the feed accepts nothing else). Only its SHA-256 is stored; issuing a new one
replaces it, so the old URL stops working.

Event UIDs are derived from the workspace id and the milestone id, so after a reprocess a
calendar app updates the events it already has instead of adding copies; every event's
``SEQUENCE`` is the plan's revision (version 1 is 0, each reprocess adds one), so calendar
apps take the new dates as an update of the old event (RFC 5545 §3.8.7.4).

Dates are the student's (``server/text/dates.py``): milestone target dates are all-day
events on the student's calendar days, and the due date is a timed event in the student's
zone (``TZID`` with its ``VTIMEZONE``), so a 23:59 deadline in Chicago is on Thursday there.

Milestone events sit on the agenda's dates (``server/agenda``): the student's own date,
else the date balanced across all their assignments. Reminders are ``VALARM``s with
``ACTION:DISPLAY``: a milestone's goes off at the student's reminder time (default 18:00)
the day before, as a trigger relative to the all-day event's start, so the calendar app
rings at that local time wherever the student is; the Canvas due date's goes off a day
before the deadline. No alarms when the student turned reminders off. An event that is
done (a milestone the student finished; the due date once every milestone is done) has no
alarm and shows as done: RFC 5545 gives ``STATUS:COMPLETED`` to to-dos only (an event's
status is tentative, confirmed or cancelled), so the summary starts with "✓ ", the event
is transparent (free time), and ``X-CANVAS-WORKSPACE-DONE:TRUE`` says it to programs.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event
from icalendar.enums import TRANSP
from pydantic import BaseModel, Field
from tortoise.exceptions import IntegrityError

from models.context import AssignmentFacts
from models.db import AssignmentWorkspace, CalendarToken, User
from server.agenda.preferences import reminder_before_day
from server.agenda.schedule import ScheduledAssignment, ScheduledMilestone, student_schedule
from server.kernel.errors import Unauthorized
from server.kernel.settings import Settings
from server.text.dates import StudentClock, clock_for
from server.workspaces.service import find_workspace

# A recognisable shape, so the log redaction can find the token anywhere (server/kernel/logs.py).
CALENDAR_TOKEN_PREFIX = "cwcal_"  # noqa: S105 - a prefix, not a secret
PRODID = "-//Canvas Workspace//Calendar feed//EN"
UID_DOMAIN = "canvas-workspace"
DONE_MARK = "✓ "
DONE_PROPERTY = "X-CANVAS-WORKSPACE-DONE"
DUE_REMINDER = timedelta(days=1)


class FeedAssignment(BaseModel):
    course_id: str
    assignment_id: str


class IssuedCalendarToken(BaseModel):
    token: str
    created_at: datetime
    assignments: list[FeedAssignment] = Field(description="the workspaces with their own feed")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_calendar_token(user: User) -> IssuedCalendarToken:
    """A new calendar token for the user; the previous one stops working."""
    token = CALENDAR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    replaced: dict[str, Any] = {"token_hash": _hash(token), "created_at": now}
    if not await CalendarToken.filter(user_id=user.id).update(**replaced):
        try:
            await CalendarToken.create(user_id=user.id, **replaced)
        except IntegrityError:
            # A concurrent first issue created the row: replace its token instead.
            await CalendarToken.filter(user_id=user.id).update(**replaced)
    workspaces = AssignmentWorkspace.filter(user_id=user.id).order_by("id")
    return IssuedCalendarToken(
        token=token,
        created_at=now,
        assignments=[
            FeedAssignment(course_id=course_id, assignment_id=assignment_id)
            for course_id, assignment_id in await workspaces.values_list(
                "course_id", "assignment_id"
            )
        ],
    )


async def calendar_user(token: str | None) -> User:
    """The user a calendar token belongs to; 401 for anything else (a JWT included)."""
    user = await User.get_or_none(calendar_token__token_hash=_hash(token)) if token else None
    if user is None:
        raise Unauthorized(
            "Invalid or replaced calendar token; get a new feed URL with POST /me/calendar-token",
            code="invalid_token",
        )
    return user


def _uid(workspace_id: int, item: str) -> str:
    return f"workspace-{workspace_id}-{item}@{UID_DOMAIN}"


def _description(lines: Sequence[str | None]) -> str:
    return "\n".join(line for line in lines if line is not None)


def _sequence(workspace: AssignmentWorkspace) -> int:
    """The plan's revision: 0 for the first plan, one more for each reprocess."""
    return max(workspace.plan_version - 1, 0)


def _alarm(before: timedelta, description: str) -> Alarm:
    alarm = Alarm.new(description=description)
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -before)
    return alarm


def _event(summary: str, *, done: bool, reminder: Alarm | None, **fields: Any) -> Event:
    """An event; a done one is marked as done and has no alarm."""
    if done:
        event = Event.new(summary=DONE_MARK + summary, transparency=TRANSP.TRANSPARENT, **fields)
        event.add(DONE_PROPERTY, "TRUE")
        return event
    return Event.new(summary=summary, subcomponents=[reminder] if reminder else None, **fields)


_DATE_SOURCES = {
    "student": "Your own date.",
    "balanced": "Planned across all your assignments, to fit your hours a day.",
    "plan": "The plan's date.",
}


def _milestone_event(
    workspace: AssignmentWorkspace,
    facts: AssignmentFacts,
    milestone: ScheduledMilestone,
    reminder: timedelta | None,
) -> Event | None:
    if milestone.date is None or milestone.date_source is None:
        return None
    plan, progress = milestone.milestone, milestone.progress
    summary = f"{facts.title}: {plan['title']}"
    criteria = [f"- {criterion}" for criterion in plan["acceptance_criteria"]]
    return _event(
        summary,
        done=milestone.done,
        reminder=_alarm(reminder, f"Tomorrow: {summary}") if reminder else None,
        uid=_uid(workspace.id, f"milestone-{plan['id']}"),
        sequence=_sequence(workspace),
        start=milestone.date,
        end=milestone.date + timedelta(days=1),
        description=_description(
            [
                str(plan["purpose"]),
                f"Status: {progress.status.replace('_', ' ')} ({progress.progress}% of tasks done)",
                _DATE_SOURCES[milestone.date_source],
                "",
                "Acceptance criteria:" if criteria else None,
                *criteria,
                f"\nCanvas assignment: {facts.html_url}" if facts.html_url else None,
            ]
        ),
        url=facts.html_url,
    )


@dataclass(frozen=True)
class _Deadline:
    """A Canvas deadline the feed shows as a timed event."""

    item: str  # in the event's UID
    moment: datetime
    summary: str
    sentence: str


def _deadline_event(
    workspace: AssignmentWorkspace,
    facts: AssignmentFacts,
    clock: StudentClock,
    deadline: _Deadline,
    *,
    done: bool,
    remind: bool,
) -> Event:
    summary, sentence = deadline.summary, deadline.sentence
    return _event(
        summary,
        done=done,
        reminder=_alarm(DUE_REMINDER, f"In 24 hours: {summary}") if remind else None,
        uid=_uid(workspace.id, deadline.item),
        sequence=_sequence(workspace),
        start=clock.local(deadline.moment),
        description=_description(
            [
                f"{facts.course_name}: {sentence}" if facts.course_name else sentence,
                f"Canvas assignment: {facts.html_url}" if facts.html_url else None,
            ]
        ),
        url=facts.html_url,
    )


def _deadlines(facts: AssignmentFacts, clock: StudentClock) -> list[_Deadline]:
    """The Canvas due date, and a graded discussion's initial post when Canvas dates it
    before the replies."""
    if facts.due_at is None:
        return []
    due = clock.moment(facts.due_at)
    deadlines = [
        _Deadline(
            "due", facts.due_at, f"Due: {facts.title}", f"{facts.title} is due on Canvas: {due}."
        )
    ]
    post = facts.initial_post_due
    if post is not None:
        sentence = (
            f"Your initial post in {facts.title} is due on Canvas: {clock.moment(post)}; "
            f"the replies to classmates by {due}."
        )
        deadlines.append(
            _Deadline("initial-post", post, f"Initial post due: {facts.title}", sentence)
        )
    return deadlines


def _workspace_events(
    workspace: AssignmentWorkspace,
    scheduled: ScheduledAssignment | None,
    reminder: timedelta | None,
) -> list[Event]:
    if workspace.context_blob is None:
        return []
    facts = AssignmentFacts.model_validate(workspace.context_blob["assignment"])
    done = scheduled is not None and scheduled.done
    clock, remind = clock_for(facts), reminder is not None
    events: list[Event | None] = [
        _deadline_event(workspace, facts, clock, deadline, done=done, remind=remind)
        for deadline in _deadlines(facts, clock)
    ]
    if scheduled is not None:
        events += [
            _milestone_event(workspace, facts, milestone, reminder)
            for milestone in scheduled.milestones
        ]
    return [event for event in events if event is not None]


async def _calendar(
    settings: Settings, user: User, workspaces: Sequence[AssignmentWorkspace], name: str
) -> bytes:
    # Dates are balanced across all the student's assignments, also in a one-workspace feed.
    schedule = await student_schedule(settings, user)
    scheduled = {assignment.workspace.id: assignment for assignment in schedule.assignments}
    reminder = reminder_before_day(schedule.preferences)
    calendar = Calendar.new(prodid=PRODID, name=name, uid=f"user-{user.id}-calendar@{UID_DOMAIN}")
    for workspace in workspaces:
        for event in _workspace_events(workspace, scheduled.get(workspace.id), reminder):
            calendar.add_component(event)
    # A VTIMEZONE for every TZID the due dates use, so any calendar app can place them.
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()  # icalendar leaves to_ical unannotated
    return ical


async def user_calendar(settings: Settings, user: User) -> bytes:
    """Every workspace of the user: its milestone target dates and its Canvas due date."""
    workspaces = await AssignmentWorkspace.filter(user_id=user.id).order_by("id")
    return await _calendar(settings, user, workspaces, "Canvas Workspace")


async def workspace_calendar(
    settings: Settings, user: User, course_id: str, assignment_id: str
) -> bytes:
    """One workspace's milestone target dates and Canvas due date."""
    workspace = await find_workspace(user, course_id, assignment_id)
    facts = workspace.context_blob and workspace.context_blob["assignment"]
    title = facts["title"] if facts else f"Assignment {assignment_id}"
    return await _calendar(settings, user, [workspace], f"Canvas Workspace: {title}")
