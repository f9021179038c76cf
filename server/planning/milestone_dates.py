"""Concrete milestone target dates that fit the real deadline.

The rule (README, "Progress, history, calendar"): milestones, in order, are spread evenly
from the start (today, or when Canvas unlocks the assignment if later: ``unlock_at`` or
``lock_info.unlock_at``) to the due date minus
a slack of 15 % of the span (at least one day, when the span allows it), counted in
calendar days of the course's time zone. The last milestone lands on the day the slack
begins. Without a Canvas due date no milestone gets a target date, and the plan's
``schedule.note`` says so; neither do the milestones of an assignment Canvas has closed
(``lock_at`` passed) or keeps locked behind a module's prerequisites (no opening date).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.context import AssignmentFacts
from models.plan import Plan, Schedule

SLACK_SHARE = 0.15
MIN_SLACK_DAYS = 1
FALLBACK_ZONE = "UTC"


def course_zone(facts: AssignmentFacts) -> ZoneInfo:
    try:
        return ZoneInfo(facts.time_zone or FALLBACK_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def _spread(count: int, start: date, last: date) -> list[date]:
    span = (last - start).days
    return [start + timedelta(days=round(span * rank / count)) for rank in range(1, count + 1)]


def _window(facts: AssignmentFacts, due: date, start: date) -> tuple[date, int]:
    """The last milestone's day and the days of slack left before the due day."""
    span = max((due - start).days, 0)
    slack = min(max(MIN_SLACK_DAYS, round(span * SLACK_SHARE)), span)
    return max(due - timedelta(days=slack), start), slack


def spread_days(count: int, facts: AssignmentFacts, now: datetime) -> list[date] | None:
    """The target day of each of ``count`` milestones, in order: the days
    ``schedule_milestones`` sets, so an engine can write the same dates into its plan.
    None when nothing is scheduled (no due date, closed, or locked behind a module)."""
    zone = course_zone(facts)
    if facts.due_at is None or count < 1 or _unscheduled(facts, now, zone) is not None:
        return None
    start = opening(facts, now).astimezone(zone).date()
    last, _ = _window(facts, facts.due_at.astimezone(zone).date(), start)
    return _spread(count, start, last)


def opening(facts: AssignmentFacts, now: datetime) -> datetime:
    """When work can start: now, or when Canvas unlocks the assignment if that is later
    (its own ``unlock_at``, or the date in ``lock_info``)."""
    unlocks = [d for d in (facts.unlock_at, facts.lock.unlock_at if facts.lock else None) if d]
    return max([now, *unlocks])


def closed_since(facts: AssignmentFacts, now: datetime) -> datetime | None:
    """When Canvas stopped accepting submissions (``lock_at`` in the past), or None."""
    closes = [d for d in (facts.lock_at, facts.lock.lock_at if facts.lock else None) if d]
    past = [d for d in closes if d <= now]
    return min(past) if past else None


def waits_for_module(facts: AssignmentFacts) -> bool:
    """Locked by a module's prerequisites: Canvas gives no date it opens."""
    return facts.lock is not None and facts.lock.module_name is not None


def _unscheduled(facts: AssignmentFacts, now: datetime, zone: ZoneInfo) -> Schedule | None:
    """The schedule of an assignment that cannot be planned in dates now, or None."""
    closed = closed_since(facts, now)
    if closed is not None:
        return Schedule(
            time_zone=zone.key,
            note=f"Canvas closed this assignment on {closed.astimezone(zone).date().isoformat()}"
            " and no longer accepts submissions, so the milestones have no target dates.",
        )
    if waits_for_module(facts):
        return Schedule(
            time_zone=zone.key,
            note="Canvas keeps this assignment locked until you complete the module "
            f"'{facts.lock.module_name if facts.lock else ''}', so nothing is scheduled yet; "
            "plan again once it opens.",
        )
    return None


def schedule_milestones(plan: Plan, facts: AssignmentFacts, now: datetime) -> Plan:
    """The plan with each milestone's ``target_date`` and the ``schedule`` explaining them."""
    zone = course_zone(facts)
    start = opening(facts, now).astimezone(zone).date()
    unscheduled = _unscheduled(facts, now, zone)
    if unscheduled is not None:
        schedule = unscheduled
        targets: dict[str, date] = {}
    elif facts.due_at is None:
        schedule = Schedule(
            time_zone=zone.key,
            starts_on=start,
            note="Canvas has no due date for this assignment, so the milestones have no "
            "target dates; set your own.",
        )
        targets = {}
    else:
        due = facts.due_at.astimezone(zone).date()
        last, slack = _window(facts, due, start)
        ordered = sorted(plan.milestones, key=lambda milestone: milestone.order)
        days = _spread(len(ordered), start, last) if ordered else []
        targets = {milestone.id: day for milestone, day in zip(ordered, days, strict=True)}
        opens_later = start > now.astimezone(zone).date()
        schedule = Schedule(
            time_zone=zone.key,
            starts_on=start,
            due_on=due,
            note=f"Milestones spread from {start.isoformat()} to {last.isoformat()}, "
            f"leaving {slack} day(s) of slack before the due date."
            + (" Nothing is scheduled before Canvas opens the assignment." if opens_later else ""),
        )
    milestones = [
        milestone.model_copy(update={"target_date": targets.get(milestone.id)})
        for milestone in plan.milestones
    ]
    return plan.model_copy(update={"milestones": milestones, "schedule": schedule})
