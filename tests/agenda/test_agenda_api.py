"""One agenda across five assignments of two courses, over real HTTP with the Canvas
simulator, on REST and GraphQL: the daily budget, overload notices, the student's own
dates, re-balancing after a re-plan, and the preferences."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.errors import assert_error
from tests.support.graphql import camelized, data_of, error_of, graphql, selection
from tests.support.plans import ready_plan, reprocess

# The simulator's five assignments (two courses), all due within the same fortnight.
FORTNIGHT = {
    (101, 1003): "+3d23:59",
    (101, 1005): "+5d23:59",
    (202, 2001): "+7d23:59",
    (101, 1001): "+10d23:59",
    (101, 1004): "+13d23:59",
}


@contextmanager
def due_dates(simulator: Any, dates: dict[tuple[int, int], str]) -> Iterator[None]:
    assignments = simulator.state.assignments
    original = {key: assignments[key[1]]["due_at"] for key in dates}
    for (_, assignment_id), due in dates.items():
        assignments[assignment_id]["due_at"] = due
    try:
        yield
    finally:
        for (_, assignment_id), due in original.items():
            assignments[assignment_id]["due_at"] = due


def path(key: tuple[int, int]) -> str:
    return f"/assignments/{key[0]}/{key[1]}"


async def plan_all(client: Any, headers: dict[str, str]) -> dict[tuple[int, int], Any]:
    return {key: await ready_plan(client, headers, path(key)) for key in FORTNIGHT}


async def set_hours(client: Any, headers: dict[str, str], hours: float) -> None:
    response = await client.put("/me/preferences", json={"hours_per_day": hours}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["hours_per_day"] == hours


async def get_agenda(client: Any, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/me/agenda", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def open_minutes(plans: dict[tuple[int, int], Any]) -> int:
    return sum(
        max(task["estimated_minutes"], 5)
        for plan in plans.values()
        for milestone in plan["milestones"]
        for task in milestone["tasks"]
    )


def milestone_dates(agenda: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (m["assignment_id"], m["milestone_id"]): m
        for day in agenda["days"]
        for m in day["milestones"]
    }


def assert_consistent(agenda: dict[str, Any]) -> None:
    """Each day's total is its tasks' minutes, and what is over the budget is said."""
    for day in agenda["days"]:
        assert day["planned_minutes"] == sum(task["minutes"] for task in day["tasks"]), day
        assert day["over_budget_minutes"] == max(0, day["planned_minutes"] - day["budget_minutes"])
    over = {d["date"]: d["over_by_minutes"] for d in agenda["overloaded_days"]}
    for day in agenda["days"]:
        assert over.get(day["date"], 0) == day["over_budget_minutes"], day
    assert agenda["fits"] == (not over)


async def test_five_assignments_fit_the_budget_and_an_overload_is_named(client, student, simulator):
    # About 40 hours of work in two weeks: 4 hours a day hold it, 2 do not.
    await set_hours(client, student.headers, 4)
    with due_dates(simulator, FORTNIGHT):
        plans = await plan_all(client, student.headers)
        two_weeks = await get_agenda(client, student.headers)
    today = date.fromisoformat(two_weeks["today"])
    assert two_weeks["from_date"] == two_weeks["today"]
    assert len(two_weeks["days"]) == 14
    # Sixteen days: the last one is due at 23:59 UTC thirteen days on, maybe day 15 locally.
    agenda = await get_agenda(client, student.headers, to=(today + timedelta(15)).isoformat())
    assert agenda["days"][:14] == two_weeks["days"]
    assert agenda["time_zone"] == "America/New_York"  # most of the courses' zone
    assert agenda["preferences"] == {
        "hours_per_day": 4.0,
        "hours_per_day_is_default": False,
        "reminder": "18:00",
        "reminder_is_default": True,
    }
    assert agenda["budget_minutes"] == 240
    assert_consistent(agenda)

    # Everything fits: no day over the budget, all the work planned, an even load.
    assert agenda["fits"] and agenda["overloaded_days"] == []
    assert all(day["planned_minutes"] <= agenda["daily_minutes"] <= 240 for day in agenda["days"])
    assert agenda["daily_minutes"] < 240, "the least even load, not the whole budget"
    planned = sum(day["planned_minutes"] for day in agenda["days"])
    assert planned == open_minutes(plans)
    assert {task["assignment_id"] for day in agenda["days"] for task in day["tasks"]} == {
        str(key[1]) for key in FORTNIGHT
    }
    # Every task names its assignment and its effort; a split task adds up.
    parts: dict[tuple[str, str], int] = {}
    for day in agenda["days"]:
        for task in day["tasks"]:
            assert task["assignment_title"] and task["estimated_effort"]
            assert task["effort_source"] == "plan_minutes"
            parts[(task["assignment_id"], task["task_id"])] = (
                parts.get((task["assignment_id"], task["task_id"]), 0) + task["minutes"]
            )
            assert date.fromisoformat(day["date"]) <= date.fromisoformat(task["finish_by"])
    for plan_key, plan in plans.items():
        for milestone in plan["milestones"]:
            for task in milestone["tasks"]:
                assert parts[(str(plan_key[1]), task["id"])] == max(task["estimated_minutes"], 5)
    # Milestones land on or before their Canvas due day, in plan order.
    due_days = {d["assignment_id"]: day["date"] for day in agenda["days"] for d in day["due"]}
    assert set(due_days) == {str(key[1]) for key in FORTNIGHT}
    dates = milestone_dates(agenda)
    for plan_key, plan in plans.items():
        ordered = sorted(plan["milestones"], key=lambda m: m["order"])
        days = [dates[(str(plan_key[1]), m["id"])]["target_date"] for m in ordered]
        assert days == sorted(days) and days[-1] <= due_days[str(plan_key[1])]
        assert {dates[(str(plan_key[1]), m["id"])]["date_source"] for m in ordered} == {"balanced"}
    # Earlier-due work first: the first assignment's work is all before the last's starts.
    first_due, last_due = "1003", "1004"
    last_of_first = max(
        day["date"]
        for day in agenda["days"]
        for t in day["tasks"]
        if t["assignment_id"] == first_due
    )
    first_of_last = min(
        day["date"]
        for day in agenda["days"]
        for t in day["tasks"]
        if t["assignment_id"] == last_due
    )
    assert last_of_first <= first_of_last

    # The default two hours a day cannot hold it: the agenda names the overloaded days.
    response = await client.put("/me/preferences", json={}, headers=student.headers)
    assert response.status_code == 200, response.text
    assert response.json()["hours_per_day_is_default"] is True
    tight = await get_agenda(client, student.headers, to=(today + timedelta(days=20)).isoformat())
    assert tight["budget_minutes"] == 120 and not tight["fits"]
    assert_consistent(tight)
    assert tight["overloaded_days"], tight
    # The excess is the least possible: the most, over the due days, of the work due by
    # that day minus that many days' budgets.
    excess = sum(d["over_by_minutes"] for d in tight["overloaded_days"])
    least = max(
        open_minutes({key: plan for key, plan in plans.items() if due_days[str(key[1])] <= day})
        - 120 * ((date.fromisoformat(day) - today).days + 1)
        for day in due_days.values()
    )
    assert excess == least
    for overloaded in tight["overloaded_days"]:
        assert overloaded["over_by_minutes"] == overloaded["planned_minutes"] - 120 > 0
        # Overload only where a deadline forces it: the day is some assignment's due day.
        assert overloaded["date"] in due_days.values()
    assert sum(day["planned_minutes"] for day in tight["days"]) == open_minutes(plans)


async def test_own_dates_stay_and_a_replan_rebalances_the_others(client, student, simulator):
    await set_hours(client, student.headers, 4)
    with due_dates(simulator, FORTNIGHT):
        plans = await plan_all(client, student.headers)
        before = await get_agenda(client, student.headers)
        essay = plans[(101, 1001)]
        own = essay["milestones"][0]
        own_day = date.fromisoformat(before["today"]) + timedelta(days=9)
        response = await client.patch(
            f"{path((101, 1001))}/milestones/{own['id']}",
            json={"target_date": own_day.isoformat(), "plan_version": 1},
            headers=student.headers,
        )
        assert response.status_code == 200, response.text
        moved = await get_agenda(client, student.headers)
        mine = milestone_dates(moved)[("1001", own["id"])]
        assert (mine["target_date"], mine["date_source"]) == (own_day.isoformat(), "student")
        assert moved["fits"]

        # The lab report is now due in two days: re-planning it moves the others' work.
        with due_dates(simulator, {(202, 2001): "+2d23:59"}):
            await reprocess(client, student.headers, path((202, 2001)))
            after = await get_agenda(client, student.headers)
    assert_consistent(after)
    # The student's date is never overridden.
    mine = milestone_dates(after)[("1001", own["id"])]
    assert (mine["target_date"], mine["date_source"]) == (own_day.isoformat(), "student")
    others_before = {
        key: m["target_date"]
        for key, m in milestone_dates(moved).items()
        if key[0] != "2001" and m["date_source"] == "balanced"
    }
    others_after = {key: milestone_dates(after)[key]["target_date"] for key in others_before}
    assert others_before != others_after, "the other assignments' dates follow the re-plan"
    lab_days = [m["target_date"] for k, m in milestone_dates(after).items() if k[0] == "2001"]
    assert max(lab_days) <= (date.fromisoformat(after["today"]) + timedelta(days=2)).isoformat()


async def test_an_instructors_checkpoint_is_a_deadline_the_agenda_keeps(client, student, simulator):
    """A checkpoint the instructions date ("Oct 9: introduction due for peer review") is an
    anchored milestone: however full the days before it, the agenda plans its work, and the
    work of the milestones before it, no later than that day (not up to the due date)."""
    await set_hours(client, student.headers, 0.5)
    soon = datetime.now(UTC) + timedelta(days=3)
    checkpoint = f"{soon:%b} {soon.day}: introduction due for peer review."
    essay = simulator.state.copy_assignment(1001, due_at="+20d23:59")
    essay["description"] += f"<p>{checkpoint}</p>"
    with due_dates(simulator, FORTNIGHT):
        await plan_all(client, student.headers)
        plan = await ready_plan(client, student.headers, path((101, essay["id"])))
        today = date.fromisoformat((await get_agenda(client, student.headers))["today"])
        agenda = await get_agenda(client, student.headers, to=(today + timedelta(25)).isoformat())
    anchored = [m for m in plan["milestones"] if m["anchored"]]
    assert len(anchored) == 1, plan["milestones"]
    checkpoint_day, order = anchored[0]["target_date"], anchored[0]["order"]
    assert not agenda["fits"]  # the days before the checkpoint are full
    dates = milestone_dates(agenda)
    for milestone in plan["milestones"]:
        planned = dates[(str(essay["id"]), milestone["id"])]["target_date"]
        if milestone["order"] <= order:
            assert planned <= checkpoint_day, (milestone["title"], planned, checkpoint_day)
    assert_consistent(agenda)


async def test_a_discussions_initial_post_is_planned_by_its_own_due_day(client, student, simulator):
    """Canvas dates a graded discussion's initial post three days before the replies: the
    agenda plans every task but the replies (the plan's last task) by the post's day,
    however full the days before it; only the replies may come after."""
    await set_hours(client, student.headers, 0.25)
    with due_dates(simulator, FORTNIGHT):
        await plan_all(client, student.headers)
        plan = await ready_plan(client, student.headers, "/assignments/202/2010")
        today = date.fromisoformat((await get_agenda(client, student.headers))["today"])
        agenda = await get_agenda(client, student.headers, to=(today + timedelta(15)).isoformat())
    export = (await client.get("/me/export", headers=student.headers)).json()
    [workspace] = [
        w for w in export["tables"]["assignment_workspaces"] if w["assignment_id"] == "2010"
    ]
    posted_by = datetime.fromisoformat(
        workspace["context_blob"]["assignment"]["discussion"]["initial_post_due_at"]
    )
    post_day = posted_by.astimezone(ZoneInfo(agenda["time_zone"])).date().isoformat()
    assert not agenda["fits"]
    last_day: dict[str, str] = {}
    for day in agenda["days"]:
        for task in day["tasks"]:
            if task["assignment_id"] == "2010":
                last_day[task["task_id"]] = day["date"]
    tasks = [task for milestone in plan["milestones"] for task in milestone["tasks"]]
    *before_replies, replies = tasks
    assert replies["title"].startswith("Reply to 2 classmates")
    for task in before_replies:
        assert task["id"] in last_day, task["title"]
        assert last_day[task["id"]] <= post_day, (task["title"], last_day[task["id"]], post_day)
    assert_consistent(agenda)


async def test_graphql_gives_the_same_agenda_and_preferences(client, student, simulator):
    with due_dates(simulator, FORTNIGHT):
        await plan_all(client, student.headers)
    rest = await get_agenda(
        client, student.headers, to=(date.today() + timedelta(days=16)).isoformat()
    )
    query = f"""query($from: Date, $to: Date) {{
        agenda(from: $from, to: $to) {selection("Agenda")} }}"""
    body = await graphql(
        client,
        query,
        {"from": rest["from_date"], "to": rest["to_date"]},
        headers=student.headers,
    )
    got, want = data_of(body)["agenda"], camelized(rest)
    for day in want["days"]:
        for milestone in day["milestones"]:  # a GraphQL enum: its value's name
            milestone["status"] = milestone["status"].upper()
    for day in (*got["days"], *want["days"]):
        for due in day["due"]:  # "Z" or "+00:00": the same instant
            due["dueAt"] = datetime.fromisoformat(due["dueAt"])
    assert got == want

    mutation = """mutation($hours: Float, $reminder: String) {
        setPreferences(hoursPerDay: $hours, reminder: $reminder) {
            hoursPerDay hoursPerDayIsDefault reminder reminderIsDefault } }"""
    body = await graphql(client, mutation, {"hours": 1.5, "reminder": "off"}, student.headers)
    assert data_of(body)["setPreferences"] == {
        "hoursPerDay": 1.5,
        "hoursPerDayIsDefault": False,
        "reminder": "off",
        "reminderIsDefault": False,
    }
    rest_preferences = await client.get("/me/preferences", headers=student.headers)
    assert rest_preferences.json()["reminder"] == "off"
    body = await graphql(client, "{ preferences { hoursPerDay } }", headers=student.headers)
    assert data_of(body)["preferences"] == {"hoursPerDay": 1.5}

    for variables, field in (({"hours": 0}, "hours_per_day"), ({"reminder": "25:00"}, "reminder")):
        error = error_of(await graphql(client, mutation, variables, student.headers))
        assert error["extensions"]["code"] == "validation_error"
        assert error["extensions"]["details"]["field"] == field
    # Null goes back to the defaults.
    body = await graphql(client, mutation, {}, student.headers)
    assert data_of(body)["setPreferences"]["reminderIsDefault"] is True


async def test_bad_input_is_a_422_never_a_500(client, student):
    for params in (
        {"from": "2027-01-10", "to": "2027-01-01"},
        {"from": "2027-01-01", "to": "2029-01-01"},
        {"from": "soon"},
    ):
        assert_error(
            await client.get("/me/agenda", params=params, headers=student.headers),
            422,
            "validation_error",
        )
    for body in (
        {"hours_per_day": 0},
        {"hours_per_day": 25},
        {"reminder": "6pm"},
        {"colour": "red"},
    ):
        assert_error(
            await client.put("/me/preferences", json=body, headers=student.headers),
            422,
            "validation_error",
        )
    assert_error(await client.get("/me/agenda"), 401, "missing_token")
    # No plan yet: an empty agenda, every day within the budget.
    empty = await get_agenda(client, student.headers)
    assert empty["fits"] and all(not day["tasks"] for day in empty["days"])
    assert empty["time_zone"] == "UTC"
