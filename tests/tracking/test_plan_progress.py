"""Progress on a plan (ticks, milestone status and dates), plan history and the carry-over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models.context import AssignmentFacts
from models.db import PlanVersion, ProgressMark
from models.plan import Plan
from server.planning.milestone_dates import schedule_milestones
from server.tracking.service import carry_progress, diff_plans
from tests.conftest import onboard_student, read_stream, wait_for_status
from tests.support.errors import assert_error
from tests.support.plans import ESSAY, milestone_of, ready_plan


async def test_ticking_tasks_drives_milestone_status_and_is_streamed(client, student):
    plan = await ready_plan(client, student.headers)
    assert plan["plan_version"] == 1 and plan["changes"] is None
    first = plan["milestones"][0]
    assert milestone_of(plan["progress"], first["id"])["status"] == "not_started"
    after_events = (await client.get(ESSAY, headers=student.headers)).json()["last_event_id"]

    body = {"done": True, "plan_version": 1}
    response = await client.patch(
        f"{ESSAY}/tasks/{first['tasks'][0]['id']}", json=body, headers=student.headers
    )
    assert response.status_code == 200, response.text
    ticked = milestone_of(response.json(), first["id"])
    assert ticked["status"] == ("done" if len(first["tasks"]) == 1 else "in_progress")
    assert ticked["progress"] == round(100 / len(first["tasks"]))
    assert ticked["tasks"][0] == {"task_id": first["tasks"][0]["id"], "done": True}

    for task in first["tasks"][1:]:
        await client.patch(f"{ESSAY}/tasks/{task['id']}", json=body, headers=student.headers)
    plan = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    assert milestone_of(plan["progress"], first["id"])["status"] == "done"
    assert milestone_of(plan["progress"], first["id"])["progress"] == 100
    assert 0 < plan["progress"]["progress"] < 100

    # Another tab sees every change on the workspace stream.
    events = await read_stream(
        client,
        f"{ESSAY}/events",
        headers={**student.headers, "Last-Event-ID": str(after_events)},
        until=set(),
        limit=1 + len(first["tasks"]),
    )
    updates = [e.json() for e in events if e.event == "progress_updated"]
    assert [u["progress_update"]["id"] for u in updates] == [t["id"] for t in first["tasks"]]
    assert updates[0]["progress_update"] == {
        "kind": "task",
        "id": first["tasks"][0]["id"],
        "done": True,
    }
    assert updates[0]["plan_version"] == 1


async def test_milestone_status_and_date_set_by_the_student(client, student):
    plan = await ready_plan(client, student.headers)
    milestone = plan["milestones"][-1]
    scheduled = milestone["target_date"]
    assert scheduled is not None
    path = f"{ESSAY}/milestones/{milestone['id']}"
    moved = (date.fromisoformat(scheduled) - timedelta(days=2)).isoformat()
    response = await client.patch(
        path,
        json={"status": "in_progress", "target_date": moved, "plan_version": 1},
        headers=student.headers,
    )
    assert response.status_code == 200, response.text
    own = milestone_of(response.json(), milestone["id"])
    assert (own["status"], own["status_set_by_student"]) == ("in_progress", True)
    assert (own["target_date"], own["target_date_set_by_student"]) == (moved, True)

    # null returns to the derived status; the date, not sent, stays.
    response = await client.patch(
        path, json={"status": None, "plan_version": 1}, headers=student.headers
    )
    own = milestone_of(response.json(), milestone["id"])
    assert (own["status"], own["status_set_by_student"]) == ("not_started", False)
    assert own["target_date"] == moved


async def test_progress_routes_refuse_bad_input(client, student, simulator):
    plan = await ready_plan(client, student.headers)
    task_id = plan["milestones"][0]["tasks"][0]["id"]
    milestone_id = plan["milestones"][0]["id"]
    headers = student.headers
    ok = {"done": True, "plan_version": 1}
    assert_error(
        await client.patch(f"{ESSAY}/tasks/nope", json=ok, headers=headers), 404, "task_not_found"
    )
    assert_error(
        await client.patch(
            f"{ESSAY}/milestones/nope", json={"status": "done", "plan_version": 1}, headers=headers
        ),
        404,
        "milestone_not_found",
    )
    assert_error(
        await client.patch("/assignments/101/9999/tasks/x", json=ok, headers=headers),
        404,
        "workspace_not_found",
    )
    for bad in (
        {"done": "maybe", "plan_version": 1},
        {"done": True},
        {"done": True, "plan_version": 0},
    ):
        assert_error(
            await client.patch(f"{ESSAY}/tasks/{task_id}", json=bad, headers=headers),
            422,
            "validation_error",
        )
    milestone_path = f"{ESSAY}/milestones/{milestone_id}"
    for bad in (
        {"status": "finished", "plan_version": 1},
        {"target_date": "next week", "plan_version": 1},
        {"plan_version": 1},
    ):
        assert_error(
            await client.patch(milestone_path, json=bad, headers=headers), 422, "validation_error"
        )
    stale = assert_error(
        await client.patch(
            f"{ESSAY}/tasks/{task_id}", json={"done": True, "plan_version": 2}, headers=headers
        ),
        409,
        "plan_version_conflict",
    )
    assert stale["details"] == {"plan_version": 1}
    assert_error(
        await client.get(f"{ESSAY}/plan?version=7", headers=headers), 404, "plan_version_not_found"
    )
    assert_error(
        await client.get(f"{ESSAY}/plan?version=0", headers=headers), 422, "validation_error"
    )

    # Another user's workspace does not exist for them.
    other = await onboard_student(client, simulator, name="Other student")
    assert_error(
        await client.patch(f"{ESSAY}/tasks/{task_id}", json=ok, headers=other.headers),
        404,
        "workspace_not_found",
    )
    assert_error(
        await client.get(f"{ESSAY}/plans", headers=other.headers), 404, "workspace_not_found"
    )


async def test_reprocess_keeps_history_diffs_and_carries_progress(client, student, simulator):
    plan = await ready_plan(client, student.headers)
    ticked = plan["milestones"][0]["tasks"][0]["id"]
    await client.patch(
        f"{ESSAY}/tasks/{ticked}", json={"done": True, "plan_version": 1}, headers=student.headers
    )
    assignment = simulator.state.assignments[1001]
    original_due = assignment["due_at"]
    assignment["due_at"] = "+40d23:59"  # a later deadline moves every milestone's date
    try:
        await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
        await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    finally:
        assignment["due_at"] = original_due
    # A write against the replaced version is refused.
    assert_error(
        await client.patch(
            f"{ESSAY}/tasks/{ticked}",
            json={"done": False, "plan_version": 1},
            headers=student.headers,
        ),
        409,
        "plan_version_conflict",
    )
    current = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    assert current["plan_version"] == 2
    assert (
        milestone_of(current["progress"], current["milestones"][0]["id"])["tasks"][0]["done"]
        is True
    )
    assert current["progress_not_carried"] == []
    changes = current["changes"]
    assert changes["from_version"] == 1 and not changes["added"] and not changes["removed"]
    assert {c["id"] for c in changes["changed"] if "target_date" in c["fields"]} == {
        m["id"] for m in current["milestones"]
    }

    versions = (await client.get(f"{ESSAY}/plans", headers=student.headers)).json()
    assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
    assert versions[0]["engine"] == current["generated_by"]["engine"]
    assert versions[0]["source_hash"] != versions[1]["source_hash"]  # the due date changed
    old = (await client.get(f"{ESSAY}/plan?version=1", headers=student.headers)).json()
    assert (
        old["plan_version"] == 1
        and old["milestones"][0]["target_date"] < current["milestones"][0]["target_date"]
    )


async def test_carry_over_rule_matches_renamed_tasks_and_lists_what_is_lost(client, student):
    await ready_plan(client, student.headers)
    workspace_id = (await client.get(ESSAY, headers=student.headers)).json()["workspace_id"]
    row = await PlanVersion.get(workspace_id=workspace_id, version=1)
    old = row.plan_blob
    first = old["milestones"][0]
    kept, renamed, dropped = first["tasks"][0], first["tasks"][1], first["tasks"][-1]
    for task in (kept, renamed, dropped):
        await ProgressMark.create(
            workspace_id=row.workspace_id,
            plan_version=1,
            kind="task",
            item_id=task["id"],
            done=True,
        )
    await ProgressMark.create(
        workspace_id=row.workspace_id,
        plan_version=1,
        kind="milestone",
        item_id=first["id"],
        status="done",
    )
    new = Plan.model_validate(old)
    new_first = new.milestones[0]
    new_first.tasks[1] = new_first.tasks[1].model_copy(
        update={"id": "renamed-1", "title": new_first.tasks[1].title + "."}
    )
    new_first.tasks = [t for t in new_first.tasks if t.id != dropped["id"]]
    for task in new_first.tasks:
        task.depends_on = [d for d in task.depends_on if d in {t.id for t in new.tasks()}]

    lost = await carry_progress(row.workspace_id, 1, old, 2, new)

    carried = {
        (m.kind, m.item_id)
        for m in await ProgressMark.filter(workspace_id=row.workspace_id, plan_version=2)
    }
    assert carried == {("task", kept["id"]), ("task", "renamed-1"), ("milestone", first["id"])}
    assert [(item.id, item.lost) for item in lost] == [(dropped["id"], ["done"])]
    changes = diff_plans(1, old, new.model_dump(mode="json"))
    assert {(i.kind, i.id) for i in changes.added} == {("task", "renamed-1")}
    assert {(i.kind, i.id) for i in changes.removed} == {
        ("task", renamed["id"]),
        ("task", dropped["id"]),
    }


def facts(**changes: Any) -> AssignmentFacts:
    return AssignmentFacts(course_id="1", assignment_id="2", title="Essay", **changes)


def test_target_dates_spread_in_the_course_time_zone_with_slack(plan_fixture):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    # 23:59 in New York on March 21 is already March 22 in UTC.
    due = datetime(2026, 3, 21, 23, 59, tzinfo=ZoneInfo("America/New_York"))
    scheduled = schedule_milestones(
        plan_fixture, facts(due_at=due, time_zone="America/New_York"), now
    )
    dates = [m.target_date for m in sorted(scheduled.milestones, key=lambda m: m.order)]
    assert dates == sorted(dates) and dates[0] > date(2026, 3, 1)
    assert dates[-1] == date(2026, 3, 21) - timedelta(days=3)  # 15 % of 20 days of slack
    assert scheduled.schedule.due_on == date(2026, 3, 21)

    later_unlock = facts(due_at=due, unlock_at=datetime(2026, 3, 11, tzinfo=UTC))
    assert min(
        m.target_date for m in schedule_milestones(plan_fixture, later_unlock, now).milestones
    ) > date(2026, 3, 11)

    undated = schedule_milestones(plan_fixture, facts(), now)
    assert all(m.target_date is None for m in undated.milestones)
    assert "no due date" in undated.schedule.note


@pytest.fixture
def plan_fixture() -> Plan:
    milestone = {"title": "Step", "purpose": "p", "due_strategy": "d", "tasks": []}
    return Plan.model_validate(
        {
            "assignment_summary": {"title": "t", "objective": "o", "success_definition": "s"},
            "milestones": [{**milestone, "id": f"m{i}", "order": i} for i in (1, 2, 3, 4)],
            "submission_strategy": {"quality_bar": "q"},
            "generated_by": {"engine": "test", "heuristic": True},
        }
    )
