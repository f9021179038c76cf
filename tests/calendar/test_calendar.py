"""The calendar feed: valid RFC 5545, stable UIDs, and a token scoped to the feed alone."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import httpx

from server.kernel.logs import redact
from tests.calendar.feeds import events_by_uid, feed_token, fetch_feed
from tests.conftest import onboard_student
from tests.support.errors import assert_error
from tests.support.logs import captured_logs
from tests.support.plans import ESSAY, ready_plan, reprocess


async def test_feed_has_milestones_and_due_date_with_uids_stable_across_reprocesses(
    client, student, simulator
):
    plan = await ready_plan(client, student.headers)
    feeds = await feed_token(client, student.headers)
    [workspace_feed] = feeds["assignments"]
    assert (workspace_feed["course_id"], workspace_feed["assignment_id"]) == ("101", "1001")
    assert workspace_feed["calendar_url"].endswith(f"{ESSAY}/calendar.ics?token={feeds['token']}")

    moved = plan["milestones"][0]
    await client.patch(
        f"{ESSAY}/milestones/{moved['id']}",
        json={"target_date": "2031-05-06", "plan_version": 1},
        headers=student.headers,
    )
    first = events_by_uid(await fetch_feed(client, workspace_feed["calendar_url"]))
    assert len(first) == len(plan["milestones"]) + 1
    # The feed's dates are the agenda's: balanced across assignments, the student's kept.
    agenda = await client.get(
        "/me/agenda", params={"to": str(date.today() + timedelta(days=60))}, headers=student.headers
    )
    agenda_dates = {
        milestone["milestone_id"]: milestone["target_date"]
        for day in agenda.json()["days"]
        for milestone in day["milestones"]
    }
    facts = (await client.get(ESSAY, headers=student.headers)).json()
    html_url = f"{simulator.base_url}/courses/101/assignments/1001"
    due = first[f"workspace-{facts['workspace_id']}-due@canvas-workspace"]
    async with httpx.AsyncClient(base_url=simulator.base_url) as canvas:
        canvas_assignment = await canvas.get(
            "/api/v1/courses/101/assignments/1001",
            headers={"Authorization": f"Bearer {student.canvas_token}"},
        )
    assert due["DTSTART"].dt == datetime.fromisoformat(canvas_assignment.json()["due_at"])
    assert html_url in due["DESCRIPTION"] and due["URL"] == html_url
    for milestone in plan["milestones"]:
        event = first[
            f"workspace-{facts['workspace_id']}-milestone-{milestone['id']}@canvas-workspace"
        ]
        expected = "2031-05-06" if milestone is moved else agenda_dates[milestone["id"]]
        assert event["DTSTART"].dt == date.fromisoformat(expected)
        assert milestone["title"] in event["SUMMARY"]
        for criterion in milestone["acceptance_criteria"]:
            assert criterion in event["DESCRIPTION"]
        assert html_url in event["DESCRIPTION"]

    # The all-workspaces feed carries the same events.
    assert events_by_uid(await fetch_feed(client, feeds["calendar_url"])).keys() == first.keys()

    assignment = simulator.state.assignments[1001]
    original_due = assignment["due_at"]
    assignment["due_at"] = "+40d23:59"  # moves every scheduled date
    try:
        await reprocess(client, student.headers)
        second = events_by_uid(await fetch_feed(client, workspace_feed["calendar_url"]))
        await reprocess(client, student.headers)
        third = events_by_uid(await fetch_feed(client, workspace_feed["calendar_url"]))
        assert first.keys() == second.keys() == third.keys()
        assert first[due["UID"]]["DTSTART"].dt < second[due["UID"]]["DTSTART"].dt
        # Same UIDs, a higher SEQUENCE per reprocess: calendar apps update the events.
        for uid in first:
            assert (first[uid]["SEQUENCE"], second[uid]["SEQUENCE"], third[uid]["SEQUENCE"]) == (
                0,
                1,
                2,
            )

        # Without a Canvas due date only the date the student set is left.
        assignment["due_at"] = None
        await reprocess(client, student.headers)
        left = events_by_uid(await fetch_feed(client, workspace_feed["calendar_url"]))
        assert [event["DTSTART"].dt for event in left.values()] == [date(2031, 5, 6)]
    finally:
        assignment["due_at"] = original_due


async def test_calendar_token_works_on_the_feed_alone_and_rotation_refuses_the_old_one(
    client, student, simulator
):
    await ready_plan(client, student.headers)
    old = await feed_token(client, student.headers)
    token = old["token"]

    # Useless on every other route: as a Bearer token, and in a query string.
    assert_error(
        await client.get("/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token"
    )
    assert_error(
        await client.get(f"{ESSAY}/plan", headers={"Authorization": f"Bearer {token}"}),
        401,
        "invalid_token",
    )
    assert_error(await client.get(f"{ESSAY}/events?access_token={token}"), 401, "invalid_token")
    # The feed takes nothing but the calendar token: not an access JWT, not a header.
    assert_error(
        await client.get(f"/calendar.ics?token={student.access_token}"), 401, "invalid_token"
    )
    assert_error(await client.get("/calendar.ics", headers=student.headers), 401, "invalid_token")

    # Another student's workspace is not found with my token.
    other = await onboard_student(client, simulator, name="Other Calendar Student")
    other_token = (await feed_token(client, other.headers))["token"]
    assert_error(
        await client.get(f"{ESSAY}/calendar.ics?token={other_token}"), 404, "workspace_not_found"
    )

    with captured_logs() as logs:
        new = await feed_token(client, student.headers)
        assert new["token"] != token
        assert_error(await client.get(old["calendar_url"]), 401, "invalid_token")
        assert_error(await client.get(old["assignments"][0]["calendar_url"]), 401, "invalid_token")
        await fetch_feed(client, new["calendar_url"])
    for line in logs.getvalue().splitlines():
        assert token not in line and new["token"] not in line, line
    assert any(
        "calendar.ics" in json.loads(line)["message"] for line in logs.getvalue().splitlines()
    )

    # The export says a token is stored, never what it is.
    export = (await client.get("/me/export", headers=student.headers)).json()
    [stored] = export["tables"]["calendar_tokens"]
    assert "token_hash" not in stored and new["token"] not in json.dumps(export)

    # Erasing the account ends the feed.
    assert (await client.delete("/me", headers=student.headers)).status_code == 204
    assert_error(await client.get(new["calendar_url"]), 401, "invalid_token")


def test_redaction_removes_a_calendar_token_wherever_it_appears():
    token = "cwcal_" + "Ab1-_" * 9
    for line in (f"GET /calendar.ics?token={token} 200", f"feed {token} failed"):
        assert token not in redact(line)


async def test_a_discussions_initial_post_has_its_own_event(client, student):
    """Canvas dates a graded discussion's initial post (its ``reply_to_topic`` checkpoint)
    before the replies: the feed has an event at that moment beside the due date's."""
    path = "/assignments/202/2010"
    await ready_plan(client, student.headers, path)
    context = (await client.get("/me/export", headers=student.headers)).json()
    [workspace] = [
        w for w in context["tables"]["assignment_workspaces"] if w["assignment_id"] == "2010"
    ]
    discussion = workspace["context_blob"]["assignment"]["discussion"]
    feeds = await feed_token(client, student.headers)
    [feed] = [f for f in feeds["assignments"] if f["assignment_id"] == "2010"]
    events = events_by_uid(await fetch_feed(client, feed["calendar_url"]))
    post = events[f"workspace-{workspace['id']}-initial-post@canvas-workspace"]
    due = events[f"workspace-{workspace['id']}-due@canvas-workspace"]
    assert post["DTSTART"].dt == datetime.fromisoformat(discussion["initial_post_due_at"])
    assert post["DTSTART"].dt < due["DTSTART"].dt
    assert str(post["SUMMARY"]).startswith("Initial post due: ")
