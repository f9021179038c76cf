"""The SSE stream: snapshot first, ids, replay after Last-Event-ID, stream tokens."""

from __future__ import annotations

import asyncio

import httpx
from sse_starlette.sse import AppStatus

from devkit.sse_client import iter_sse
from server.events import feed
from server.events.service import EventDraft, publish
from tests.conftest import read_stream, wait_for_status
from tests.support.errors import assert_error

ESSAY = "/assignments/101/1001"


async def planned(client, student) -> list:
    await client.post(f"{ESSAY}/start", headers=student.headers)
    return await read_stream(client, f"{ESSAY}/events", headers=student.headers)


async def test_stream_starts_with_a_snapshot_then_ordered_events_to_plan_ready(client, student):
    messages = await planned(client, student)
    assert messages[0].event == "snapshot"
    snapshot = messages[0].json()
    assert {"status", "stage", "progress", "updated_at", "workspace_id"} <= set(snapshot)
    events = messages[1:]
    assert events[-1].event == "plan_ready"
    ids = [int(m.id) for m in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids == list(range(ids[0], ids[0] + len(ids))), "ids have no gap"
    stages = [m.json()["stage"] for m in events if m.event == "stage_started"]
    assert stages[-6:] == [
        "fetch_canvas_context",
        "fetch_and_parse_attachments",
        "distill_assignment_requirements",
        "draft_plan",
        "verify_against_source",
        "finalize_plan",
    ]
    progress = [m.json()["progress"] for m in events]
    assert progress == sorted(progress), "progress never goes back"
    for message in events:
        body = message.json()
        assert {
            "event_type",
            "workspace_id",
            "stage",
            "status",
            "progress",
            "message",
            "timestamp",
            "id",
            "job_id",
            "job_type",
        } <= set(body)
        assert body["id"] == int(message.id)
        assert body["event_type"] == message.event
    draft = next(m.json() for m in events if m.event == "draft_ready")
    assert draft["draft_summary"]
    assert draft["milestone_preview"][0]["id"]
    assert events[-1].json()["plan_version"] == 1


async def test_reconnecting_with_last_event_id_replays_exactly_what_was_missed(client, student):
    full = (await planned(client, student))[1:]
    cut = full[2]
    resumed = await read_stream(
        client,
        f"{ESSAY}/events",
        headers={**student.headers, "Last-Event-ID": cut.id},
    )
    assert resumed[0].event == "snapshot"
    assert [m.id for m in resumed[1:]] == [m.id for m in full[3:]]
    assert [m.data for m in resumed[1:]] == [m.data for m in full[3:]]


async def test_an_unknown_or_pruned_last_event_id_says_the_history_is_gone(client, api, student):
    messages = await planned(client, student)
    head = int(messages[-1].id)
    resumed = await read_stream(
        client,
        f"{ESSAY}/events",
        headers={**student.headers, "Last-Event-ID": str(head + 50)},
        until={"snapshot"},
    )
    assert [m.event for m in resumed] == ["history_gone", "snapshot"]
    assert resumed[1].json()["status"] == "ready"

    settings = api.runtime.settings
    retention, settings.event_retention = settings.event_retention, 3
    try:
        await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
        await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
        pruned = await read_stream(
            client,
            f"{ESSAY}/events",
            headers={**student.headers, "Last-Event-ID": "1"},
            until={"snapshot"},
        )
    finally:
        settings.event_retention = retention
    assert [m.event for m in pruned] == ["history_gone", "snapshot"]


async def test_a_live_follower_sees_events_as_they_happen(client, student):
    path = "/assignments/202/2001"
    follower = asyncio.create_task(read_stream(client, f"{path}/events", headers=student.headers))
    # The workspace must exist before the stream opens: start first, then follow.
    await client.post(f"{path}/start", headers=student.headers)
    follower.cancel()
    messages = await read_stream(client, f"{path}/events", headers=student.headers)
    assert messages[0].event == "snapshot"
    assert messages[-1].event in {"plan_ready"}


async def test_an_event_reaches_followers_in_its_wake_up_without_a_database_read(
    client, api, student, monkeypatch
):
    await planned(client, student)
    rt = api.runtime
    monkeypatch.setattr(rt.settings, "sse_heartbeat_seconds", 60.0)
    async with client.stream("GET", f"{ESSAY}/events", headers=student.headers) as response:
        messages = iter_sse(response)
        snapshot = (await anext(messages)).json()

        async def unreadable(*args: object) -> None:
            raise AssertionError("the feed read the database")

        monkeypatch.setattr(feed, "events_after", unreadable)
        draft = EventDraft("stage_started", "carried", None, "ready", 100, {})
        await publish(rt, snapshot["workspace_id"], draft)
        async with asyncio.timeout(10):
            received = await anext(messages)
    assert received.json()["message"] == "carried"
    assert int(received.id) == snapshot["last_event_id"] + 1


async def test_a_follower_whose_wake_up_was_lost_reads_the_missed_event_from_the_database(
    client, api, student, monkeypatch
):
    """A wake-up carries its event, so followers need not read it; the one after a lost
    wake-up shows a gap, and the feed reads what is missing, in order, long before its
    heartbeat re-read."""
    await planned(client, student)
    rt = api.runtime
    monkeypatch.setattr(rt.settings, "sse_heartbeat_seconds", 60.0)
    deliver = rt.bus.notify

    async def lose_one(workspace_id: int, news: object = None) -> None:
        monkeypatch.setattr(rt.bus, "notify", deliver)

    async with client.stream("GET", f"{ESSAY}/events", headers=student.headers) as response:
        messages = iter_sse(response)
        snapshot = (await anext(messages)).json()
        monkeypatch.setattr(rt.bus, "notify", lose_one)
        for text in ("lost wake-up", "carried"):
            draft = EventDraft("stage_started", text, None, "ready", 100, {})
            await publish(rt, snapshot["workspace_id"], draft)
        async with asyncio.timeout(10):
            received = [await anext(messages), await anext(messages)]
    assert [m.json()["message"] for m in received] == ["lost wake-up", "carried"]
    head = snapshot["last_event_id"]
    assert [int(m.id) for m in received] == [head + 1, head + 2]


async def test_stream_tokens_open_one_stream_without_a_header(client, student):
    await planned(client, student)
    issued = await client.post(f"{ESSAY}/events/token", headers=student.headers)
    assert issued.status_code == 200
    token = issued.json()["token"]
    assert issued.json()["events_url"].endswith(f"{ESSAY}/events?access_token={token}")
    messages = await read_stream(client, f"{ESSAY}/events?access_token={token}", until={"snapshot"})
    assert messages[0].json()["status"] == "ready"

    other = await client.get(f"/assignments/202/2001/events?access_token={token}")
    assert_error(other, 401, "invalid_token")
    as_query = await client.get(f"{ESSAY}/events?access_token={student.access_token}")
    assert_error(as_query, 401, "invalid_token")
    assert_error(await client.get(f"{ESSAY}/events"), 401, "missing_token")


async def test_idle_streams_get_heartbeats(api, student):
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
        await planned(http, student)
        lines: list[str] = []
        async with http.stream("GET", f"{ESSAY}/events", headers=student.headers) as response:

            async def collect() -> None:
                async for line in response.aiter_lines():
                    lines.append(line)

            try:
                await asyncio.wait_for(collect(), timeout=api.settings.sse_heartbeat_seconds * 3)
            except TimeoutError:
                pass
    assert any(line.startswith(":") for line in lines), lines


async def test_streams_end_when_the_server_exits(client, student, monkeypatch):
    """Else the server would wait for every open stream before it stops."""
    await planned(client, student)
    async with client.stream("GET", f"{ESSAY}/events", headers=student.headers) as response:
        messages = iter_sse(response)
        assert (await anext(messages)).event == "snapshot"
        monkeypatch.setattr(AppStatus, "should_exit", True)  # what uvicorn's exit sets
        async with asyncio.timeout(5):  # sse-starlette's exit watcher looks twice a second
            rest = [message async for message in messages]
    assert rest == []


async def test_a_malformed_last_event_id_is_a_validation_error(client, student):
    await planned(client, student)
    response = await client.get(
        f"{ESSAY}/events", headers={**student.headers, "Last-Event-ID": "abc"}
    )
    assert_error(response, 422, "validation_error")
