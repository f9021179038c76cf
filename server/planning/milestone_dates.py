"""Concrete milestone target dates that fit the real deadline.

The rule (README, "Progress, history, calendar"): milestones, in order, are spread evenly
from the start (today, or when Canvas unlocks the assignment if later: ``unlock_at`` or
``lock_info.unlock_at``) to the due date minus
a slack of 15 % of the span (at least one day, when the span allows it), counted in
calendar days of the student's time zone (``server/text/dates.py``). The last milestone
lands on the day the slack begins, and no milestone ever lands after the due day there
(when the due date has already passed, every milestone keeps the due day and the note
says so). An anchored milestone (an instructor's checkpoint) keeps the date the
instructions set; the others are spread as before. Without a Canvas due date no milestone
gets a target date, and the plan's ``schedule.note`` says so; neither do the milestones
of an assignment Canvas has closed (``lock_at`` passed) or keeps locked behind a module's
prerequisites (no opening date). A graded discussion whose initial post is due before
the assignment (Canvas's ``reply_to_topic`` checkpoint) has its milestones spread up to
the initial post's day instead: only the replies come after it. ``spread_days`` gives an
engine the same days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.context import AssignmentFacts
from models.plan import Plan, Schedule
from server.planning.wording import PLANNING_WORDING
from server.text.dates import StudentClock, clock_for
from server.text.language import DEFAULT_LANGUAGE
from server.text.wording import Say

SLACK_SHARE = 0.15
MIN_SLACK_DAYS = 1


def _spread(count: int, start: date, last: date) -> list[date]:
    span = (last - start).days
    return [start + timedelta(days=round(span * rank / count)) for rank in range(1, count + 1)]


def _window(due: date, start: date) -> tuple[date, int]:
    """The last spread milestone's day and the days of slack left before the due day."""
    span = (due - start).days
    slack = min(max(MIN_SLACK_DAYS, round(span * SLACK_SHARE)), span)
    return due - timedelta(days=slack), slack


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


def _unscheduled(
    facts: AssignmentFacts, now: datetime, clock: StudentClock, say: Say
) -> str | None:
    """Why nothing can be scheduled now (closed, or locked behind a module), or None."""
    closed = closed_since(facts, now)
    if closed is not None:
        return say("schedule_closed", day=clock.day(clock.day_of(closed)))
    if facts.lock is not None and facts.lock.module_name is not None:
        return say("schedule_module", module=facts.lock.module_name)
    return None


def _spread_end(facts: AssignmentFacts, clock: StudentClock, start: date, due: date) -> date:
    """The day the spread milestones work towards: the due day, or the initial post's day
    while it is still ahead."""
    post = facts.initial_post_due
    if post is not None and clock.day_of(post) >= start:
        return clock.day_of(post)
    return due


def spread_days(count: int, facts: AssignmentFacts, now: datetime) -> list[date] | None:
    """The target day of each of ``count`` spread (not anchored) milestones, in order: the
    days ``schedule_milestones`` sets, so an engine can write the same dates into its plan.
    None when nothing is scheduled (no due date, closed, or locked behind a module)."""
    clock = clock_for(facts)
    unscheduled = _unscheduled(facts, now, clock, PLANNING_WORDING.load().say)
    if facts.due_at is None or count < 1 or unscheduled is not None:
        return None
    start, due = clock.day_of(opening(facts, now)), clock.day_of(facts.due_at)
    if due < start:
        return [due] * count
    return _spread(count, start, _window(_spread_end(facts, clock, start, due), start)[0])


def schedule_milestones(plan: Plan, facts: AssignmentFacts, now: datetime) -> Plan:
    """The plan with each milestone's ``target_date`` and the ``schedule`` explaining them,
    in the plan's language."""
    language = plan.language or DEFAULT_LANGUAGE
    clock, say = clock_for(facts, language), PLANNING_WORDING.for_language(language).say
    start = clock.day_of(opening(facts, now))
    unscheduled = _unscheduled(facts, now, clock, say)
    if unscheduled is not None:
        schedule = Schedule(time_zone=clock.name, note=unscheduled)
        targets: dict[str, date] = {}
    elif facts.due_at is None:
        schedule = Schedule(
            time_zone=clock.name,
            starts_on=start,
            note=say("schedule_no_due"),
        )
        targets = {}
    else:
        due = clock.day_of(facts.due_at)
        if due < start:
            targets = {milestone.id: due for milestone in plan.milestones}
            note = say("schedule_passed", due=clock.moment(facts.due_at), start=clock.day(start))
        else:
            end = _spread_end(facts, clock, start, due)
            last, slack = _window(end, start)
            spread = sorted(
                (milestone for milestone in plan.milestones if not milestone.anchored),
                key=lambda milestone: milestone.order,
            )
            days = _spread(len(spread), start, last) if spread else []
            targets = {m.id: day for m, day in zip(spread, days, strict=True)}
            targets |= {
                milestone.id: milestone.suggested_date
                for milestone in plan.milestones
                if milestone.anchored and milestone.suggested_date is not None
            }
            note = say(
                "schedule_spread",
                start=clock.day(start),
                last=clock.day(last),
                slack=slack,
                due=clock.moment(facts.due_at),
            )
            post = facts.initial_post_due
            if post is not None and end < due:
                note = say(
                    "schedule_spread_initial_post",
                    start=clock.day(start),
                    last=clock.day(last),
                    slack=slack,
                    post=clock.moment(post),
                    due=clock.moment(facts.due_at),
                )
            if start > clock.day_of(now):
                note += say("schedule_not_open")
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
