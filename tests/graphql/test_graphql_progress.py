"""GraphQL's progress, plan history and data-rights operations: the REST services' answers."""

from __future__ import annotations

from models.db import AssignmentWorkspace, User
from tests.support.graphql import data_of, error_of, graphql
from tests.support.plans import ESSAY, milestone_of, ready_plan

TICK = """
mutation ($task: String!, $version: Int!) {
  setTaskDone(courseId: "101", assignmentId: "1001", taskId: $task, done: true,
              planVersion: $version) {
    planVersion milestones { milestoneId status progress tasks { taskId done } } } }
"""
MILESTONE = """
mutation ($milestone: String!) {
  updateMilestone(courseId: "101", assignmentId: "1001", milestoneId: $milestone,
                  planVersion: 1, status: DONE, targetDate: "2031-01-02") {
    milestones { milestoneId status statusSetByStudent targetDate } } }
"""


async def test_progress_history_and_data_rights_through_graphql(client, student):
    plan = await ready_plan(client, student.headers)
    first = plan["milestones"][0]
    ticked = data_of(
        await graphql(
            client, TICK, {"task": first["tasks"][0]["id"], "version": 1}, student.headers
        )
    )["setTaskDone"]
    ticked_milestone = next(m for m in ticked["milestones"] if m["milestoneId"] == first["id"])
    assert ticked_milestone["tasks"][0] == {"taskId": first["tasks"][0]["id"], "done": True}
    rest = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    assert milestone_of(rest["progress"], first["id"])["tasks"][0]["done"] is True

    stale = error_of(
        await graphql(
            client, TICK, {"task": first["tasks"][0]["id"], "version": 7}, student.headers
        )
    )
    assert stale["extensions"]["code"] == "plan_version_conflict"
    assert stale["extensions"]["status"] == 409

    moved = data_of(await graphql(client, MILESTONE, {"milestone": first["id"]}, student.headers))
    assert moved["updateMilestone"]["milestones"][0] == {
        "milestoneId": first["id"],
        "status": "DONE",
        "statusSetByStudent": True,
        "targetDate": "2031-01-02",
    }

    history = data_of(
        await graphql(
            client,
            '{ planVersions(courseId: "101", assignmentId: "1001") { version current engine }'
            ' plan(courseId: "101", assignmentId: "1001", version: 1) { planVersion changes '
            "{ fromVersion } } myData }",
            headers=student.headers,
        )
    )
    assert history["planVersions"] == [
        {"version": 1, "current": True, "engine": plan["generated_by"]["engine"]}
    ]
    assert history["plan"] == {"planVersion": 1, "changes": None}
    export = (await client.get("/me/export", headers=student.headers)).json()
    assert history["myData"]["tables"].keys() == export["tables"].keys()
    assert history["myData"]["user_id"] == student.user["id"]

    deleted = await graphql(
        client,
        'mutation { deleteWorkspace(courseId: "101", assignmentId: "1001") }',
        headers=student.headers,
    )
    assert data_of(deleted) == {"deleteWorkspace": True}
    assert not await AssignmentWorkspace.filter(user_id=student.user["id"]).exists()

    assert data_of(await graphql(client, "mutation { deleteMe }", headers=student.headers)) == {
        "deleteMe": True
    }
    assert not await User.filter(id=student.user["id"]).exists()


async def test_rotating_the_calendar_token_through_graphql_retires_the_old_one(client, student):
    await ready_plan(client, student.headers)
    rotate = "mutation { rotateCalendarToken { token assignments { courseId assignmentId } } }"
    first = data_of(await graphql(client, rotate, headers=student.headers))["rotateCalendarToken"]
    assert first["assignments"] == [{"courseId": "101", "assignmentId": "1001"}]
    feed = await client.get(f"/calendar.ics?token={first['token']}")
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")

    second = data_of(await graphql(client, rotate, headers=student.headers))["rotateCalendarToken"]
    assert second["token"] != first["token"]
    assert (await client.get(f"/calendar.ics?token={first['token']}")).status_code == 401
    assert (await client.get(f"/calendar.ics?token={second['token']}")).status_code == 200
