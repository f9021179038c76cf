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
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from pydantic import BaseModel, Field
from tortoise.exceptions import IntegrityError

from models.context import AssignmentFacts
from models.db import AssignmentWorkspace, CalendarToken, User
from server.kernel.errors import Unauthorized
from server.text.dates import StudentClock, clock_for
from server.tracking.service import MilestoneProgress, plan_progress
from server.workspaces.service import find_workspace

# A recognisable shape, so the log redaction can find the token anywhere (server/kernel/logs.py).
CALENDAR_TOKEN_PREFIX = "cwcal_"  # noqa: S105 - a prefix, not a secret
PRODID = "-//Canvas Workspace//Calendar feed//EN"
UID_DOMAIN = "canvas-workspace"


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


def _milestone_event(
    workspace: AssignmentWorkspace,
    facts: AssignmentFacts,
    milestone: dict[str, Any],
    progress: MilestoneProgress,
) -> Event | None:
    if progress.target_date is None:
        return None
    title = facts.title
    criteria = [f"- {criterion}" for criterion in milestone["acceptance_criteria"]]
    return Event.new(
        uid=_uid(workspace.id, f"milestone-{milestone['id']}"),
        sequence=_sequence(workspace),
        start=progress.target_date,
        end=progress.target_date + timedelta(days=1),
        summary=f"{title}: {milestone['title']}",
        description=_description(
            [
                str(milestone["purpose"]),
                f"Status: {progress.status.replace('_', ' ')} ({progress.progress}% of tasks done)",
                "",
                "Acceptance criteria:" if criteria else None,
                *criteria,
                f"\nCanvas assignment: {facts.html_url}" if facts.html_url else None,
            ]
        ),
        url=facts.html_url,
    )


def _due_event(
    workspace: AssignmentWorkspace, facts: AssignmentFacts, clock: StudentClock
) -> Event | None:
    if facts.due_at is None:
        return None
    title = facts.title
    due = f"{title} is due on Canvas: {clock.moment(facts.due_at)}."
    return Event.new(
        uid=_uid(workspace.id, "due"),
        sequence=_sequence(workspace),
        start=clock.local(facts.due_at),
        summary=f"Due: {title}",
        description=_description(
            [
                f"{facts.course_name}: {due}" if facts.course_name else due,
                f"Canvas assignment: {facts.html_url}" if facts.html_url else None,
            ]
        ),
        url=facts.html_url,
    )


async def _workspace_events(workspace: AssignmentWorkspace) -> list[Event]:
    if workspace.context_blob is None:
        return []
    facts = AssignmentFacts.model_validate(workspace.context_blob["assignment"])
    events = [_due_event(workspace, facts, clock_for(facts))]
    if workspace.plan_blob is not None:
        progress = await plan_progress(workspace.id, workspace.plan_version, workspace.plan_blob)
        events += [
            _milestone_event(workspace, facts, milestone, milestone_progress)
            for milestone, milestone_progress in zip(
                workspace.plan_blob["milestones"], progress.milestones, strict=True
            )
        ]
    return [event for event in events if event is not None]


async def _calendar(user: User, workspaces: Sequence[AssignmentWorkspace], name: str) -> bytes:
    calendar = Calendar.new(prodid=PRODID, name=name, uid=f"user-{user.id}-calendar@{UID_DOMAIN}")
    for workspace in workspaces:
        for event in await _workspace_events(workspace):
            calendar.add_component(event)
    # A VTIMEZONE for every TZID the due dates use, so any calendar app can place them.
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()  # icalendar leaves to_ical unannotated
    return ical


async def user_calendar(user: User) -> bytes:
    """Every workspace of the user: its milestone target dates and its Canvas due date."""
    workspaces = await AssignmentWorkspace.filter(user_id=user.id).order_by("id")
    return await _calendar(user, workspaces, "Canvas Workspace")


async def workspace_calendar(user: User, course_id: str, assignment_id: str) -> bytes:
    """One workspace's milestone target dates and Canvas due date."""
    workspace = await find_workspace(user, course_id, assignment_id)
    facts = workspace.context_blob and workspace.context_blob["assignment"]
    title = facts["title"] if facts else f"Assignment {assignment_id}"
    return await _calendar(user, [workspace], f"Canvas Workspace: {title}")
