"""Reminders in the calendar feed: a VALARM on every open milestone (the student's time
the day before) and on the due date (a day before), none on what is done, none when off;
the feed stays strict RFC 5545."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Component

from tests.calendar.feeds import events_by_uid, feed_token, fetch_feed
from tests.support.plans import ESSAY, ready_plan


def alarms(event: Component) -> list[Component]:
    return [component for component in event.subcomponents if component.name == "VALARM"]


async def feed(client: Any, headers: dict[str, str]) -> dict[str, Component]:
    token = await feed_token(client, headers)
    return events_by_uid(await fetch_feed(client, token["calendar_url"]))


def split(events: dict[str, Component]) -> tuple[Component, dict[str, Component]]:
    [due] = [event for uid, event in events.items() if uid.endswith("-due@canvas-workspace")]
    milestones = {
        uid.split("-milestone-")[1].split("@")[0]: event
        for uid, event in events.items()
        if "-milestone-" in uid
    }
    return due, milestones


async def put_preferences(client: Any, headers: dict[str, str], **body: Any) -> None:
    response = await client.put("/me/preferences", json=body, headers=headers)
    assert response.status_code == 200, response.text


async def test_alarms_the_evening_before_and_a_day_before_the_deadline(client, student):
    plan = await ready_plan(client, student.headers)
    due, milestones = split(await feed(client, student.headers))
    assert milestones.keys() == {milestone["id"] for milestone in plan["milestones"]}
    for event in milestones.values():
        [alarm] = alarms(event)
        assert str(alarm["ACTION"]) == "DISPLAY"
        # 18:00 the day before the all-day event, in the calendar's own local time.
        assert alarm["TRIGGER"].dt == -timedelta(hours=6)
        assert str(event["SUMMARY"]) in str(alarm["DESCRIPTION"])
        assert not str(event["SUMMARY"]).startswith("✓")
    [due_alarm] = alarms(due)
    assert due_alarm["TRIGGER"].dt == -timedelta(days=1)
    assert str(due_alarm["ACTION"]) == "DISPLAY" and "Due:" in str(due_alarm["DESCRIPTION"])

    # The student's own time: 07:30 the day before.
    await put_preferences(client, student.headers, reminder="07:30")
    _, milestones = split(await feed(client, student.headers))
    for event in milestones.values():
        assert alarms(event)[0]["TRIGGER"].dt == -timedelta(hours=16, minutes=30)

    # Off: no alarm at all.
    await put_preferences(client, student.headers, reminder="off")
    due, milestones = split(await feed(client, student.headers))
    assert not alarms(due) and not any(alarms(event) for event in milestones.values())


async def test_done_events_show_as_done_without_alarms(client, student):
    plan = await ready_plan(client, student.headers)
    first, *rest = plan["milestones"]
    response = await client.patch(
        f"{ESSAY}/milestones/{first['id']}",
        json={"status": "done", "plan_version": 1},
        headers=student.headers,
    )
    assert response.status_code == 200, response.text
    due, milestones = split(await feed(client, student.headers))
    done = milestones[first["id"]]
    assert str(done["SUMMARY"]).startswith("✓ ") and first["title"] in str(done["SUMMARY"])
    assert not alarms(done)
    assert str(done["X-CANVAS-WORKSPACE-DONE"]) == "TRUE"
    assert str(done["TRANSP"]) == "TRANSPARENT"
    for milestone in rest:
        assert (
            alarms(milestones[milestone["id"]])
            and "X-CANVAS-WORKSPACE-DONE" not in (milestones[milestone["id"]])
        )
    assert alarms(due) and not str(due["SUMMARY"]).startswith("✓")

    # Every task ticked: every milestone is done, and so is the due date.
    for milestone in rest:
        for task in milestone["tasks"]:
            response = await client.patch(
                f"{ESSAY}/tasks/{task['id']}",
                json={"done": True, "plan_version": 1},
                headers=student.headers,
            )
            assert response.status_code == 200, response.text
    due, milestones = split(await feed(client, student.headers))
    for event in (due, *milestones.values()):
        assert str(event["SUMMARY"]).startswith("✓ ") and not alarms(event)
