"""The student's clock (server/text/dates.py) and everything that schedules or checks dates
with it: which zone is chosen, how a moment reads, daylight-saving changes, and that no
milestone lands after the due day in the student's zone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from models.context import AssignmentFacts, SourceContext, SourceDocument
from models.plan import Plan
from server.planning.milestone_dates import schedule_milestones
from server.planning.offline import OfflineEngine
from server.planning.verification import verify_against_source
from server.text.dates import clock_for, date_word_languages, date_words, format_day, format_time
from tests.planning.contexts import essay_context

# Canvas's serialization of a 23:59:59 deadline on Thursday 10 December 2026 in Chicago.
CHICAGO_THURSDAY_DEADLINE = datetime(2026, 12, 11, 5, 59, 59, tzinfo=UTC)


def facts(**changes: Any) -> AssignmentFacts:
    return AssignmentFacts(course_id="202", assignment_id="9", title="Essay", **changes)


def plan_with(milestones: int, suggested: list[date | None] | None = None) -> Plan:
    dates = suggested or [None] * milestones
    return Plan.model_validate(
        {
            "assignment_summary": {"title": "t", "objective": "o", "success_definition": "s"},
            "milestones": [
                {
                    "id": f"m{i}",
                    "title": "Step",
                    "purpose": "p",
                    "due_strategy": "d",
                    "order": i,
                    "suggested_date": dates[i - 1],
                }
                for i in range(1, milestones + 1)
            ],
            "submission_strategy": {"quality_bar": "q"},
            "generated_by": {"engine": "test", "heuristic": True},
        }
    )


def test_the_profile_zone_wins_then_the_course_then_utc_named():
    both = clock_for(facts(user_time_zone="America/Los_Angeles", time_zone="America/Chicago"))
    assert (both.name, both.source) == ("America/Los_Angeles", "canvas_profile")
    course = clock_for(facts(time_zone="America/Chicago"))
    assert (course.name, course.source) == ("America/Chicago", "course")
    neither = clock_for(facts())
    assert (neither.name, neither.source) == ("UTC", "utc_fallback")
    assert neither.moment(CHICAGO_THURSDAY_DEADLINE) == "Fri 11 Dec 2026, 5:59 am (UTC)"
    assert "Canvas gave no usable time zone" in neither.explanation()


def test_a_name_that_is_not_an_iana_zone_is_passed_over_and_said():
    # Canvas's user JSON with include[]=time_zone sends Rails names such as this one.
    clock = clock_for(
        facts(user_time_zone="Central Time (US & Canada)", time_zone="America/Chicago")
    )
    assert (clock.name, clock.source) == ("America/Chicago", "course")
    assert clock.rejections() == [
        "Canvas gave 'Central Time (US & Canada)' as your Canvas profile's time zone, which "
        "is not an IANA time zone name; it was not used."
    ]
    assert "Central Time (US & Canada)" in clock.plan_time_zone().note
    for hostile in ("../../etc/passwd", "/etc/localtime", "  "):
        assert clock_for(facts(time_zone=hostile)).source == "utc_fallback"


def test_a_chicago_deadline_at_2359_reads_thursday_there():
    clock = clock_for(facts(time_zone="America/Chicago"))
    assert clock.moment(CHICAGO_THURSDAY_DEADLINE) == "Thu 10 Dec 2026, 11:59 pm (America/Chicago)"
    assert clock.day_of(CHICAGO_THURSDAY_DEADLINE) == date(2026, 12, 10)
    # A naive timestamp is Canvas's UTC, not the server's local time.
    assert clock.day_of(CHICAGO_THURSDAY_DEADLINE.replace(tzinfo=None)) == date(2026, 12, 10)


def test_a_spanish_clock_spells_the_same_moment_in_spanish_on_24_hours():
    clock = clock_for(facts(time_zone="America/Chicago"), "es")
    assert clock.moment(CHICAGO_THURSDAY_DEADLINE) == "jue 10 dic 2026, 23:59 (America/Chicago)"
    assert clock.day(date(2027, 9, 5)) == "dom 5 sep 2027"
    assert date_words("es").time(datetime(2026, 1, 1, 9, 5)) == "09:05"
    # Only the words change: the zone and the student's day are the same.
    english = clock_for(facts(time_zone="America/Chicago"))
    assert clock.day_of(CHICAGO_THURSDAY_DEADLINE) == english.day_of(CHICAGO_THURSDAY_DEADLINE)


def test_a_language_without_date_words_is_spelled_in_english():
    assert {"en", "es"} <= date_word_languages()
    clock = clock_for(facts(time_zone="America/Chicago"), "de")
    assert clock.moment(CHICAGO_THURSDAY_DEADLINE) == "Thu 10 Dec 2026, 11:59 pm (America/Chicago)"


def test_twelve_hour_clock_edges():
    assert format_time(datetime(2026, 1, 1, 0, 5)) == "12:05 am"
    assert format_time(datetime(2026, 1, 1, 12, 0)) == "12:00 pm"
    assert format_time(datetime(2026, 1, 1, 9, 30)) == "9:30 am"


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Fall back on 1 Nov 2026: a November deadline is UTC-6 while today is UTC-5.
        (datetime(2026, 11, 6, 5, 59, 59, tzinfo=UTC), "Thu 5 Nov 2026, 11:59 pm"),
        # Spring forward on 14 Mar 2027: UTC-5 again, so 04:59Z is 23:59 the day before.
        (datetime(2027, 3, 19, 4, 59, 59, tzinfo=UTC), "Thu 18 Mar 2027, 11:59 pm"),
    ],
)
def test_daylight_saving_changes_before_the_due_date_are_applied(utc, expected):
    chicago = facts(time_zone="America/Chicago", due_at=utc)
    clock = clock_for(chicago)
    assert clock.moment(utc) == f"{expected} (America/Chicago)"
    now = datetime(2026, 10, 20, 15, tzinfo=UTC)  # daylight time in Chicago
    scheduled = schedule_milestones(plan_with(4), chicago, now)
    assert scheduled.schedule is not None
    assert scheduled.schedule.due_on == clock.day_of(utc)
    assert max(m.target_date for m in scheduled.milestones if m.target_date) < clock.day_of(utc)


def test_no_milestone_is_scheduled_after_the_local_due_day():
    chicago = facts(time_zone="America/Chicago", due_at=CHICAGO_THURSDAY_DEADLINE)
    now = datetime(2026, 12, 1, 15, tzinfo=UTC)
    scheduled = schedule_milestones(plan_with(5), chicago, now)
    targets = [m.target_date for m in scheduled.milestones]
    assert all(t is not None and date(2026, 12, 1) <= t < date(2026, 12, 10) for t in targets)
    assert scheduled.schedule is not None and scheduled.schedule.due_on == date(2026, 12, 10)
    assert "Thu 10 Dec 2026, 11:59 pm (America/Chicago)" in scheduled.schedule.note
    assert scheduled.time_zone is not None
    assert (scheduled.time_zone.name, scheduled.time_zone.source) == ("America/Chicago", "course")

    # Past the deadline: every milestone keeps the due day, never a later one.
    late = schedule_milestones(plan_with(3), chicago, datetime(2026, 12, 14, tzinfo=UTC))
    assert {m.target_date for m in late.milestones} == {date(2026, 12, 10)}
    assert late.schedule is not None and "every milestone keeps the due day" in late.schedule.note


def test_verification_clamps_suggested_dates_to_the_local_due_day():
    chicago = facts(time_zone="America/Chicago", due_at=CHICAGO_THURSDAY_DEADLINE)
    text = "Write the essay."
    context = SourceContext(
        assignment=chicago,
        documents=[
            SourceDocument(
                source_id="description",
                name="Assignment description",
                content_type="text/html",
                byte_size=len(text),
                sha256="0" * 64,
                text=text,
            )
        ],
        # 03:00 UTC on 2 Dec is still 1 Dec in Chicago.
        fetched_at=datetime(2026, 12, 2, 3, tzinfo=UTC),
    )
    draft = plan_with(3, [date(2026, 11, 30), date(2026, 12, 5), date(2026, 12, 11)])
    verified = verify_against_source(draft, context)
    assert [m.suggested_date for m in verified.milestones] == [
        date(2026, 12, 1),
        date(2026, 12, 5),
        date(2026, 12, 10),
    ]
    assert verified.verification is not None
    assert any(
        "Fri 11 Dec 2026 moved to Thu 10 Dec 2026" in line
        for line in verified.verification.corrected
    )


async def test_the_offline_engine_writes_every_date_on_the_students_clock():
    context = essay_context()
    context.assignment = context.assignment.model_copy(
        update={"time_zone": "America/Chicago", "due_at": CHICAGO_THURSDAY_DEADLINE}
    )
    context.fetched_at = datetime(2026, 11, 20, 15, tzinfo=UTC)
    engine = OfflineEngine()
    requirements = await engine.distill(context)
    plan = verify_against_source(await engine.draft_plan(context, requirements), context)
    plan = schedule_milestones(plan, context.assignment, context.fetched_at)

    deadline = "Thu 10 Dec 2026, 11:59 pm (America/Chicago)"
    assert f"Due (Canvas): {deadline}" in requirements.notes
    last = plan.milestones[-1]
    # The engine writes the milestone schedule's days: the last one leaves slack.
    assert last.suggested_date == last.target_date == date(2026, 12, 7)
    assert last.due_strategy == (
        f"Aim to be done by Mon 7 Dec 2026, ahead of the Canvas due date ({deadline})"
    )
    text = json.dumps(plan.model_dump(mode="json"))
    assert deadline in text
    assert "Fri 11 Dec" not in text and "UTC" not in text
    for milestone in plan.milestones:
        assert milestone.suggested_date is not None and milestone.target_date is not None
        assert max(milestone.suggested_date, milestone.target_date) <= date(2026, 12, 10)
        if milestone is not last:
            # "Finish by <weekday> ...": the weekday of the student's day, not UTC's.
            assert milestone.due_strategy.startswith(
                f"Finish by {format_day(milestone.suggested_date)}"
            )


async def test_a_spanish_offline_plan_writes_its_dates_in_spanish():
    context = essay_context()
    context.language = "es"
    context.assignment = context.assignment.model_copy(
        update={"time_zone": "America/Chicago", "due_at": CHICAGO_THURSDAY_DEADLINE}
    )
    context.fetched_at = datetime(2026, 11, 20, 15, tzinfo=UTC)
    engine = OfflineEngine()
    plan = await engine.draft_plan(context, await engine.distill(context))

    deadline = "jue 10 dic 2026, 23:59 (America/Chicago)"
    assert plan.language == "es"
    assert plan.milestones[-1].due_strategy == (
        f"Intenta terminar antes del lun 7 dic 2026, antes de la fecha de entrega de Canvas "
        f"({deadline})"
    )
    assert plan.milestones[0].due_strategy.startswith("Termina antes del ")
    assert plan.submission_strategy.final_checklist[-1].startswith("Entregado antes de")
    assert deadline in plan.submission_strategy.final_checklist[-1]
    text = json.dumps([m.due_strategy for m in plan.milestones], ensure_ascii=False)
    assert "Dec" not in text and " pm" not in text
