"""Change awareness over real HTTP: a resumed workspace is compared with Canvas (the
simulator, edited between calls as a teacher would) and answers with what changed, over
REST and GraphQL, without re-planning; a Canvas failure never breaks the resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import wait_for_status
from tests.support.canvas_dates import canvas_time
from tests.support.graphql import data_of, graphql
from tests.support.plans import ready_plan

ESSAY_TEMPLATE = 1001
NEW_LINK = (
    '<p>Also read the <a href="$CANVAS_BASE/courses/101/files/508?wrap=1" '
    'data-api-endpoint="$CANVAS_BASE/api/v1/courses/101/files/508" '
    'data-api-returntype="File">seminar notes</a>.</p>'
)
RESUME = """
mutation ($course: String!, $assignment: String!) {
  startPlanning(courseId: $course, assignmentId: $assignment) {
    started
    workspace { planVersion canvasChanged { outcome planVersion summary
      changes { field before after message } error { code message } } }
  }
}
"""


async def resume(client: Any, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(f"{path}/start", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def an_essay(simulator: Any, due: datetime) -> dict[str, Any]:
    return simulator.state.copy_assignment(
        ESSAY_TEMPLATE,
        due_at=canvas_time(due),
        lock_at=None,
        updated_at=canvas_time(datetime.now(UTC) - timedelta(days=3)),
    )


async def test_a_resume_says_what_changed_on_canvas_without_replanning(client, student, simulator):
    due = (datetime.now(UTC) + timedelta(days=20)).replace(
        hour=4, minute=59, second=59, microsecond=0
    )
    essay = an_essay(simulator, due)
    path = f"/assignments/101/{essay['id']}"
    await ready_plan(client, student.headers, path)
    plan_job = (await client.get(path, headers=student.headers)).json()["latest_plan_job"]

    unchanged = await resume(client, path, student.headers)
    assert unchanged["canvas_changed"]["outcome"] == "unchanged"
    assert unchanged["canvas_changed"]["changes"] == []
    assert unchanged["canvas_changed"]["plan_version"] == 1

    # The teacher moves the deadline two days and links another file.
    moved = due + timedelta(days=2)
    simulator.state.edit_assignment(
        essay["id"], due_at=canvas_time(moved), description=essay["description"] + NEW_LINK
    )
    changed = await resume(client, path, student.headers)

    check = changed["canvas_changed"]
    assert check["outcome"] == "changed"
    by_field = {change["field"]: change for change in check["changes"]}
    assert set(by_field) == {"due_at", "description", "file_added"}
    new_york = ZoneInfo("America/New_York")  # the student's profile zone (account default)
    old_local, new_local = due.astimezone(new_york), moved.astimezone(new_york)
    assert datetime.fromisoformat(by_field["due_at"]["before"]) == due
    assert datetime.fromisoformat(by_field["due_at"]["after"]) == moved
    assert f"{old_local.day} " in by_field["due_at"]["message"]
    assert f"{new_local.day} " in by_field["due_at"]["message"]
    assert "(America/New_York)" in by_field["due_at"]["message"]
    assert by_field["file_added"]["after"] == "508"
    assert '"seminar notes" (Canvas file 508)' in by_field["file_added"]["message"]
    assert "Reprocess" in check["summary"]
    # Nothing was re-planned, and the snapshot keeps the comparison.
    assert changed["plan_version"] == 1 and changed["latest_plan_job"]["id"] == plan_job["id"]
    assert (await client.get(path, headers=student.headers)).json()["canvas_changed"] == check

    # GraphQL answers the same comparison (the same service).
    body = await graphql(
        client,
        RESUME,
        {"course": "101", "assignment": str(essay["id"])},
        headers=student.headers,
    )
    result = data_of(body)["startPlanning"]
    assert result["started"] is False
    assert result["workspace"]["canvasChanged"]["outcome"] == "changed"
    assert {c["field"] for c in result["workspace"]["canvasChanged"]["changes"]} == set(by_field)

    # A reprocess makes the plan from Canvas as it is now: the comparison is cleared, and
    # the next resume finds nothing new.
    reprocessed = await client.post(f"{path}/start?reprocess=true", headers=student.headers)
    assert reprocessed.status_code == 202
    # Until the new plan is saved the current one is still version 1, still out of date.
    assert reprocessed.json()["canvas_changed"]["plan_version"] == 1
    plan = await planned_again(client, student.headers, path)
    assert (await client.get(path, headers=student.headers)).json()["canvas_changed"] is None
    assert plan["schedule"]["due_on"] == new_local.date().isoformat()
    again = await resume(client, path, student.headers)
    assert again["canvas_changed"]["outcome"] == "unchanged"
    assert again["canvas_changed"]["plan_version"] == 2


async def planned_again(client: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    ready = await wait_for_status(client, path, headers, {"ready", "failed"})
    assert ready["status"] == "ready", ready
    return (await client.get(f"{path}/plan", headers=headers)).json()


async def test_a_removed_file_is_named_as_the_plan_knew_it(client, student, simulator):
    essay = an_essay(simulator, datetime.now(UTC) + timedelta(days=10))
    path = f"/assignments/101/{essay['id']}"
    await ready_plan(client, student.headers, path)
    # The teacher drops the prompt PDF's link (its title is the file's name) from the text.
    start = essay["description"].index("<a class=")
    end = essay["description"].index("</a>", start) + len("</a>")
    simulator.state.edit_assignment(
        essay["id"],
        description=essay["description"][:start] + "essay prompt" + essay["description"][end:],
    )
    check = (await resume(client, path, student.headers))["canvas_changed"]
    removed = [c for c in check["changes"] if c["field"] == "file_removed"]
    assert [c["before"] for c in removed] == ["501"]
    assert removed[0]["message"] == (
        'A file was removed from the instructions: "essay_prompt.pdf" (Canvas file 501).'
    )


async def test_an_edit_to_nothing_the_plan_reads_is_still_reported(client, student, simulator):
    essay = an_essay(simulator, datetime.now(UTC) + timedelta(days=10))
    path = f"/assignments/101/{essay['id']}"
    await ready_plan(client, student.headers, path)
    simulator.state.edit_assignment(essay["id"], peer_reviews=True)
    check = (await resume(client, path, student.headers))["canvas_changed"]
    assert check["outcome"] == "changed"
    assert [change["field"] for change in check["changes"]] == ["edited"]


async def test_a_canvas_failure_during_the_comparison_does_not_break_the_resume(
    client, student, simulator
):
    essay = an_essay(simulator, datetime.now(UTC) + timedelta(days=10))
    path = f"/assignments/101/{essay['id']}"
    await ready_plan(client, student.headers, path)
    simulator.state.fail(f"/api/v1/courses/101/assignments/{essay['id']}", 503, times=20)
    try:
        resumed = await resume(client, path, student.headers)
    finally:
        simulator.state.faults.clear()

    check = resumed["canvas_changed"]
    assert check["outcome"] == "unavailable" and check["changes"] == []
    assert check["error"]["code"] == "canvas_unavailable"
    assert "could not be checked" in check["summary"]
    assert resumed["status"] == "ready" and resumed["has_plan"] is True
    plan = await client.get(f"{path}/plan", headers=student.headers)
    assert plan.status_code == 200

    # A token Canvas no longer accepts is a failed comparison too, not a failed resume.
    simulator.state.fail(f"/api/v1/courses/101/assignments/{essay['id']}", 401)
    check = (await resume(client, path, student.headers))["canvas_changed"]
    assert (check["outcome"], check["error"]["code"]) == ("unavailable", "canvas_unauthorized")


async def test_an_assignment_in_an_unexpected_shape_is_a_failed_comparison(
    client, student, simulator
):
    essay = an_essay(simulator, datetime.now(UTC) + timedelta(days=10))
    path = f"/assignments/101/{essay['id']}"
    await ready_plan(client, student.headers, path)
    simulator.state.edit_assignment(essay["id"], points_possible="a hundred")

    resumed = await resume(client, path, student.headers)

    check = resumed["canvas_changed"]
    assert (check["outcome"], check["error"]["code"]) == ("unavailable", "canvas_bad_response")
    assert resumed["status"] == "ready"


async def test_a_lock_that_canvas_puts_on_the_assignment_is_reported(client, student, simulator):
    """Closing the assignment early (its lock date now past) locks it for the student: the
    resume says so in Canvas's own words, beside the date that moved."""
    essay = an_essay(simulator, datetime.now(UTC) + timedelta(days=10))
    path = f"/assignments/101/{essay['id']}"
    await ready_plan(client, student.headers, path)
    simulator.state.edit_assignment(
        essay["id"], lock_at=canvas_time(datetime.now(UTC) - timedelta(hours=1))
    )
    check = (await resume(client, path, student.headers))["canvas_changed"]
    by_field = {change["field"]: change for change in check["changes"]}
    assert set(by_field) == {"lock_at", "lock"}
    assert by_field["lock"]["before"] is None
    assert by_field["lock"]["after"].startswith("This assignment was locked")
    assert by_field["lock"]["message"].startswith("Canvas now locks the assignment: ")


async def test_a_new_discussion_prompt_is_an_edit_of_the_instructions(client, student, simulator):
    """A graded discussion's instructions are its topic's message: a new prompt is
    reported as edited instructions (Canvas copies the message into the description too;
    here only the topic changes, so the check cannot lean on the description)."""
    discussion = simulator.state.copy_assignment(2010)
    path = f"/assignments/{discussion['course_id']}/{discussion['id']}"
    await ready_plan(client, student.headers, path)
    topic = {
        **discussion["discussion_topic"],
        "message": "<p>A new prompt: argue the other side.</p>",
    }
    simulator.state.edit_assignment(discussion["id"], discussion_topic=topic)
    check = (await resume(client, path, student.headers))["canvas_changed"]
    assert [change["field"] for change in check["changes"]] == ["description"]
    assert check["changes"][0]["message"] == "The assignment's instructions were edited."
