"""Streams end with their rights, and a browser can always resume (over real HTTP and
websockets): a final ``stream_ended`` naming why when the token expires, the Canvas
credentials or the workspace are deleted; ``?last_event_id=`` with a fresh stream token
gives every missed event once, in order; a GraphQL subscription whose connection's token
expires ends, then its websocket closes with 4401."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from devkit.sse_client import iter_sse
from server.kernel.auth import mint_access_token, mint_stream_token
from tests.conftest import read_stream, wait_for_status
from tests.support.plans import ESSAY, ready_plan
from tests.support.subscriptions import TRANSPORT_WS, ws_url

SHORT_SECONDS = 2


def short_lived(api: Any) -> Any:
    return api.settings.model_copy(
        update={
            "stream_token_ttl_seconds": SHORT_SECONDS,
            "access_token_ttl_seconds": SHORT_SECONDS,
        }
    )


async def follow_to_the_end(client, url: str, headers: dict[str, str] | None = None) -> list:
    messages = []
    async with asyncio.timeout(30), client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for message in iter_sse(response):
            messages.append(message)
            if message.event == "stream_ended":
                break
    return messages


async def test_an_expired_stream_token_ends_the_stream_and_a_fresh_one_resumes_it(
    api, client, student
):
    await ready_plan(client, student.headers)
    token, _ = mint_stream_token(short_lived(api), int(student.user["id"]), "101", "1001")
    ended = await follow_to_the_end(client, f"{ESSAY}/events?access_token={token}")
    assert [m.event for m in ended] == ["snapshot", "stream_ended"]
    assert ended[-1].json()["reason"] == "token_expired"
    last_seen = int(ended[0].id)

    # Missed while the page had no stream: a whole re-plan.
    await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
    await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})

    issued = (await client.post(f"{ESSAY}/events/token", headers=student.headers)).json()
    resumed = await read_stream(
        client, f"{issued['events_url']}&last_event_id={last_seen}", from_start=False
    )
    ids = [int(m.id) for m in resumed[1:]]
    assert resumed[0].event == "snapshot"
    assert ids == list(range(last_seen + 1, last_seen + 1 + len(ids)))  # once, in order
    assert resumed[1].event == "job_queued" and resumed[-1].event == "plan_ready"
    # The header wins over the query parameter (an EventSource's own reconnect).
    newest = await read_stream(
        client,
        f"{issued['events_url']}&last_event_id={last_seen}",
        headers={"Last-Event-ID": str(ids[-1])},
        until=set(),
        limit=1,
        from_start=False,
    )
    assert newest[0].event == "snapshot" and int(newest[0].id) == ids[-1]


async def test_a_bad_last_event_id_parameter_is_refused(client, student):
    await ready_plan(client, student.headers)
    answer = await client.get(f"{ESSAY}/events?last_event_id=soon", headers=student.headers)
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"


async def _ends_when(client, student, act) -> dict[str, Any]:
    await ready_plan(client, student.headers)
    async with (
        asyncio.timeout(30),
        client.stream("GET", f"{ESSAY}/events", headers=student.headers) as response,
    ):
        messages = iter_sse(response)
        assert (await anext(messages)).event == "snapshot"
        await act()
        async for message in messages:
            if message.event == "stream_ended":
                return message.json()
    raise AssertionError("the stream did not end")


async def test_deleting_the_workspace_ends_its_streams(client, student):
    async def delete() -> None:
        assert (await client.delete(ESSAY, headers=student.headers)).status_code == 204

    ended = await _ends_when(client, student, delete)
    assert ended["reason"] == "workspace_deleted"


async def test_deleting_the_canvas_credentials_ends_the_users_streams(client, student):
    async def forget() -> None:
        answer = await client.delete("/me/canvas-credentials", headers=student.headers)
        assert answer.status_code == 204, answer.text

    ended = await _ends_when(client, student, forget)
    assert ended["reason"] == "credentials_deleted"


async def test_a_subscription_ends_and_its_websocket_closes_4401_when_its_token_expires(
    api, client, student
):
    await ready_plan(client, student.headers)
    token, _ = mint_access_token(short_lived(api), int(student.user["id"]))
    query = 'subscription { workspaceEvents(courseId: "101", assignmentId: "1001") {'
    query += " __typename ... on StreamEnded { reason } } }"
    received = []
    async with websockets.connect(ws_url(api), subprotocols=[TRANSPORT_WS]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        try:
            async with asyncio.timeout(30):
                while True:
                    received.append(json.loads(await ws.recv()))
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
    kinds = [m["payload"]["data"]["workspaceEvents"] for m in received if m["type"] == "next"]
    assert kinds == [
        {"__typename": "Workspace"},
        {"__typename": "StreamEnded", "reason": "token_expired"},
    ]
