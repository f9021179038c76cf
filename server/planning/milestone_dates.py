"""Concrete milestone target dates that fit the real deadline.

The rule (README, "Progress, history, calendar"): milestones, in order, are spread evenly
from the start (today, or the assignment's ``unlock_at`` when later) to the due date minus
a slack of 15 % of the span (at least one day, when the span allows it), counted in
calendar days of the student's time zone (``server/text/dates.py``). The last milestone
lands on the day the slack begins, and no milestone ever lands after the due day there
(when the due date has already passed, every milestone keeps the due day and the note
says so). An anchored milestone (an instructor's checkpoint) keeps the date the
instructions set; the others are spread as before. Without a Canvas due date no milestone
gets a target date, and the plan's ``schedule.note`` says so.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.context import AssignmentFacts
from models.plan import Milestone, Plan, Schedule
from server.text.dates import clock_for

SLACK_SHARE = 0.15
MIN_SLACK_DAYS = 1


def _spread(milestones: list[Milestone], start: date, last: date) -> dict[str, date]:
    ordered = sorted(milestones, key=lambda milestone: milestone.order)
    span = (last - start).days
    return {
        milestone.id: start + timedelta(days=round(span * rank / len(ordered)))
        for rank, milestone in enumerate(ordered, 1)
    }


def schedule_milestones(plan: Plan, facts: AssignmentFacts, now: datetime) -> Plan:
    """The plan with each milestone's ``target_date`` and the ``schedule`` explaining them."""
    clock = clock_for(facts)
    opens = max(now, facts.unlock_at) if facts.unlock_at else now
    start = clock.day_of(opens)
    if facts.due_at is None:
        schedule = Schedule(
            time_zone=clock.name,
            starts_on=start,
            note="Canvas has no due date for this assignment, so the milestones have no "
            "target dates; set your own.",
        )
        targets: dict[str, date] = {}
    else:
        due = clock.day_of(facts.due_at)
        if due < start:
            targets = {milestone.id: due for milestone in plan.milestones}
            note = (
                f"The due date, {clock.moment(facts.due_at)}, is before "
                f"{clock.day(start)}, so every milestone keeps the due day."
            )
        else:
            span = (due - start).days
            slack = min(max(MIN_SLACK_DAYS, round(span * SLACK_SHARE)), span)
            last = due - timedelta(days=slack)
            spread = [milestone for milestone in plan.milestones if not milestone.anchored]
            targets = _spread(spread, start, last) if spread else {}
            targets |= {
                milestone.id: milestone.suggested_date
                for milestone in plan.milestones
                if milestone.anchored and milestone.suggested_date is not None
            }
            note = (
                f"Milestones spread from {clock.day(start)} to {clock.day(last)}, leaving "
                f"{slack} day(s) of slack before the due date, {clock.moment(facts.due_at)}."
            )
        schedule = Schedule(time_zone=clock.name, starts_on=start, due_on=due, note=note)
    milestones = [
        milestone.model_copy(update={"target_date": targets.get(milestone.id)})
        for milestone in plan.milestones
    ]
    return plan.model_copy(
        update={
            "milestones": milestones,
            "schedule": schedule,
            "time_zone": clock.plan_time_zone(),
        }
    )
