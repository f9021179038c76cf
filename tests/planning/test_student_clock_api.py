"""The student's clock over real HTTP: a Chicago course's 23:59 deadline, planned through the
API against the Canvas simulator, is on Thursday everywhere the student reads it (plan,
milestone dates, calendar feed), whether the zone comes from the profile or the course."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devkit.canvas_simulator import RunningSimulator
from tests.calendar.feeds import events_by_uid, feed_token, fetch_feed
from tests.conftest import Student
from tests.support.canvas_dates import canvas_time
from tests.support.plans import ready_plan

CHICAGO = ZoneInfo("America/Chicago")
ESSAY_TEMPLATE = 1001  # ENG 101's essay, copied into the Chicago course (BIO 110, id 202)


def next_thursday_deadline(now: datetime) -> datetime:
    """23:59:59 in Chicago on the first Thursday at least three days away, in UTC as Canvas
    sends it. Run in early December 2026 this is 2026-12-11T05:59:59Z."""
    day = now.astimezone(CHICAGO).date() + timedelta(days=3)
    day += timedelta(days=(3 - day.weekday()) % 7)
    local = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CHICAGO)
    return local.astimezone(UTC)


async def chicago_student(
    client: Any, simulator: RunningSimulator, time_zone: str | None
) -> Student:
    token = f"canvas-{secrets.token_hex(12)}"
    simulator.state.add_user(token, "Chicago Student", time_zone=time_zone)
    response = await client.post(
        "/auth/canvas", json={"canvas_base_url": simulator.base_url, "canvas_token": token}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Student(canvas_token=token, access_token=body["access_token"], user=body["user"])


def assert_on_the_local_due_day(plan: dict[str, Any], due_day: date) -> None:
    assert plan["schedule"]["due_on"] == due_day.isoformat()
    assert plan["schedule"]["time_zone"] == "America/Chicago"
    for milestone in plan["milestones"]:
        for field in ("target_date", "suggested_date"):
            assert milestone[field] is not None, (field, milestone["id"])
            assert date.fromisoformat(milestone[field]) <= due_day, (field, milestone)


async def test_a_chicago_deadline_is_thursday_in_the_plan_and_the_calendar(client, simulator):
    deadline = next_thursday_deadline(datetime.now(UTC))
    due_day = deadline.astimezone(CHICAGO).date()
    assert due_day.weekday() == 3 and deadline.date() == due_day + timedelta(days=1)
    essay = simulator.state.copy_assignment(
        ESSAY_TEMPLATE, course_id=202, due_at=canvas_time(deadline), lock_at=None
    )
    student = await chicago_student(client, simulator, "America/Chicago")
    path = f"/assignments/202/{essay['id']}"

    plan = await ready_plan(client, student.headers, path)

    assert plan["time_zone"]["name"] == "America/Chicago"
    assert plan["time_zone"]["source"] == "canvas_profile"
    assert_on_the_local_due_day(plan, due_day)
    assert simulator.state.requests_to("canvas", "/api/v1/users/self/profile")

    feeds = await feed_token(client, student.headers)
    [feed] = feeds["assignments"]
    events = events_by_uid(await fetch_feed(client, feed["calendar_url"]))
    workspace_id = (await client.get(path, headers=student.headers)).json()["workspace_id"]
    due_event = events[f"workspace-{workspace_id}-due@canvas-workspace"]
    start = due_event["DTSTART"].dt
    assert start == deadline  # the same instant...
    assert str(start.tzinfo) == "America/Chicago"  # ...written on the student's clock
    assert (start.date(), start.hour, start.minute) == (due_day, 23, 59)
    assert due_event["DTSTART"].params["TZID"] == "America/Chicago"
    assert "11:59 pm (America/Chicago)" in str(due_event["DESCRIPTION"])
    milestone_days = [event["DTSTART"].dt for uid, event in events.items() if "-milestone-" in uid]
    assert len(milestone_days) == len(plan["milestones"])
    assert all(day <= due_day for day in milestone_days)


async def test_without_the_profile_the_course_zone_is_used_and_said(client, simulator):
    deadline = next_thursday_deadline(datetime.now(UTC))
    essay = simulator.state.copy_assignment(
        ESSAY_TEMPLATE, course_id=202, due_at=canvas_time(deadline), lock_at=None
    )
    student = await chicago_student(client, simulator, None)
    path = f"/assignments/202/{essay['id']}"
    # Canvas refuses the profile (401 without WWW-Authenticate: not allowed, token fine).
    simulator.state.fail("/api/v1/users/self/profile", 401, www_authenticate=False)

    plan = await ready_plan(client, student.headers, path)

    assert (plan["time_zone"]["name"], plan["time_zone"]["source"]) == (
        "America/Chicago",
        "course",
    )
    assert_on_the_local_due_day(plan, deadline.astimezone(CHICAGO).date())
    job = (await client.get(path, headers=student.headers)).json()["latest_plan_job"]
    [warning] = [w for w in job["warnings"] if w["code"] == "time_zone_unavailable"]
    assert "course's time zone" in warning["message"]


async def test_the_profile_zone_wins_over_the_course_zone(client, simulator):
    # The account default (America/New_York) when the student set none, as Canvas does.
    deadline = next_thursday_deadline(datetime.now(UTC))
    essay = simulator.state.copy_assignment(
        ESSAY_TEMPLATE, course_id=202, due_at=canvas_time(deadline), lock_at=None
    )
    student = await chicago_student(client, simulator, None)
    plan = await ready_plan(client, student.headers, f"/assignments/202/{essay['id']}")
    assert (plan["time_zone"]["name"], plan["time_zone"]["source"]) == (
        "America/New_York",
        "canvas_profile",
    )
    # 23:59 in Chicago is 00:59 on Friday in New York: the student's own clock says Friday.
    assert (
        plan["schedule"]["due_on"]
        == (deadline.astimezone(ZoneInfo("America/New_York"))).date().isoformat()
    )


async def test_a_zone_name_canvas_cannot_mean_is_named_and_utc_is_said(client, simulator):
    # A course whose time_zone is not an IANA name, and a profile Canvas refuses: nothing
    # usable is left, so dates are UTC, named, and the warning names what was passed over.
    course = {**simulator.state.courses[202], "id": 303, "time_zone": "Central Time (US & Canada)"}
    simulator.state.courses[303] = course
    simulator.state.assignment_groups[303] = simulator.state.assignment_groups[202]
    deadline = next_thursday_deadline(datetime.now(UTC))
    essay = simulator.state.copy_assignment(
        ESSAY_TEMPLATE, course_id=303, due_at=canvas_time(deadline), lock_at=None
    )
    student = await chicago_student(client, simulator, None)
    path = f"/assignments/303/{essay['id']}"
    simulator.state.fail("/api/v1/users/self/profile", 404)

    plan = await ready_plan(client, student.headers, path)

    assert (plan["time_zone"]["name"], plan["time_zone"]["source"]) == ("UTC", "utc_fallback")
    assert "'Central Time (US & Canada)'" in plan["time_zone"]["note"]
    assert plan["schedule"]["due_on"] == deadline.date().isoformat()  # Friday in UTC
    # 23:59:59 in Chicago is 04:59:59 or 05:59:59 UTC on Friday (daylight or standard time).
    friday = f"{deadline.strftime('%a')} {deadline.day} {deadline.strftime('%b %Y')}"
    expected = f"{friday}, {deadline.hour}:59 am (UTC)"
    assert expected in plan["assignment_summary"]["success_definition"]
    job = (await client.get(path, headers=student.headers)).json()["latest_plan_job"]
    codes = {warning["code"]: warning["message"] for warning in job["warnings"]}
    assert "time_zone_unavailable" in codes
    assert "Central Time (US & Canada)" in codes["time_zone_unknown"]
