"""GraphQL subscriptions over real websockets (the gql client) against the running API:
the same events as SSE, resume after a reconnect, per-user isolation, job streams, auth
at connection_init, and the per-connection subscription cap."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError, TransportServerError
from gql.transport.websockets import WebsocketsTransport

from graphql_api.types import Workspace
from tests.conftest import TERMINAL, onboard_student, read_stream, wait_for_status
from tests.graphql.documents import EVENT_FIELDS, JOB_EVENTS, START
from tests.support.gate import gated_engine
from tests.support.graphql import camelized, data_of, graphql, normalized
from tests.support.subscriptions import TRANSPORT_WS, collect, connected, events_of, never, ws_url

ESSAY = "/assignments/101/1001"
WORKSPACE_EVENTS = f"""
subscription ($lastEventId: Int) {{
  workspaceEvents(courseId: "101", assignmentId: "1001", lastEventId: $lastEventId) {{
    ... on Workspace {{ workspaceId status lastEventId }}
    {EVENT_FIELDS}
  }}
}}
"""
LEGACY_WS = WebsocketsTransport.APOLLO_SUBPROTOCOL  # graphql-ws


def without_nulls(event: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in normalized(event).items() if value is not None}


async def start(client, student) -> dict[str, Any]:
    body = await graphql(client, START, headers=student.headers)
    return data_of(body)["startPlanning"]["workspace"]


async def test_a_subscription_delivers_the_same_events_as_sse(client, api, student):
    await start(client, student)
    async with connected(api, student) as session:
        messages = await collect(session, WORKSPACE_EVENTS, {"lastEventId": 0})
    assert messages[0]["__typename"] == "Workspace"
    events = events_of(messages)
    assert events[-1]["eventType"] == "plan_ready"

    sse = (await read_stream(client, f"{ESSAY}/events", headers=student.headers))[1:]
    assert [e["id"] for e in events] == [int(m.id) for m in sse]
    for event, message in zip(events, sse, strict=True):
        # SSE leaves out the previews an event does not have; GraphQL answers them with null.
        assert without_nulls(event) == without_nulls(
            {"__typename": "ProgressEvent", **camelized(message.json())}
        )


NARROW_WORKSPACE_EVENTS = """
subscription {
  workspaceEvents(courseId: "101", assignmentId: "1001") {
    __typename
    ... on ProgressEvent { kind: eventType id }
  }
}
"""


async def test_live_subscribers_each_get_what_their_own_operation_selects(client, api, student):
    """Each event's result is made once per operation and shared (graphql_api/shared_events):
    subscribers of the same operation get the same, another operation its own fields."""
    await start(client, student)
    await wait_for_status(client, ESSAY, student.headers, {"ready"})
    opened = [asyncio.Event() for _ in range(3)]

    async def follow(query: str, number: int) -> list[dict[str, Any]]:
        async with connected(api, student) as session:
            messages = []
            request = GraphQLRequest(query)
            async with asyncio.timeout(60):
                async for result in session.subscribe(request):
                    opened[number].set()  # the snapshot: following live from now on
                    message = result["workspaceEvents"]
                    messages.append(message)
                    if message.get("eventType", message.get("kind")) in TERMINAL:
                        return messages
        return messages

    live = [
        asyncio.create_task(follow(WORKSPACE_EVENTS, 0)),
        asyncio.create_task(follow(WORKSPACE_EVENTS, 1)),
        asyncio.create_task(follow(NARROW_WORKSPACE_EVENTS, 2)),
    ]
    async with asyncio.timeout(30):
        for event in opened:
            await event.wait()
    reprocess = await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
    assert reprocess.status_code == 202, reprocess.text
    full, same, narrow = await asyncio.gather(*live)
    assert events_of(full) == events_of(same) and events_of(full)
    assert [e for e in narrow if e["__typename"] == "ProgressEvent"] == [
        {"__typename": "ProgressEvent", "kind": e["eventType"], "id": e["id"]}
        for e in events_of(full)
    ]


def held_at_distill(message: dict[str, Any]) -> bool:
    return message.get("stage") == "distill_assignment_requirements"


async def test_a_reconnect_resumes_after_the_last_event_id_seen(client, api, student):
    with gated_engine(api.runtime) as gate:
        await start(client, student)
        await asyncio.wait_for(gate.arrived.wait(), 10)
        async with connected(api, student) as session:
            first = await collect(
                session, WORKSPACE_EVENTS, {"lastEventId": 0}, stop=held_at_distill
            )
        # The connection is gone; the job goes on without it.
        gate.release.set()
        await wait_for_status(client, ESSAY, student.headers, {"ready"})
        seen = events_of(first)[-1]["id"]
        async with connected(api, student) as session:
            resumed = await collect(session, WORKSPACE_EVENTS, {"lastEventId": seen})
    assert first[0]["__typename"] == resumed[0]["__typename"] == "Workspace"
    sse = (await read_stream(client, f"{ESSAY}/events", headers=student.headers))[1:]
    ids = [e["id"] for e in events_of(first) + events_of(resumed)]
    assert ids == [int(m.id) for m in sse], "every event once, in order, across the reconnect"


async def test_an_unknown_last_event_id_says_the_history_is_gone(client, api, student):
    await start(client, student)
    done = await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    async with connected(api, student) as session:
        messages = await collect(
            session, WORKSPACE_EVENTS, {"lastEventId": done["last_event_id"] + 50}, limit=2
        )
    assert [m["__typename"] for m in messages] == ["HistoryGone", "Workspace"]
    assert messages[0]["requestedLastEventId"] == done["last_event_id"] + 50
    assert messages[1]["status"] == "ready"


async def test_a_subscription_never_sees_another_users_workspace_or_job(
    client, api, simulator, student
):
    other = await onboard_student(client, simulator, name="Other Student")
    mine = await start(client, student)
    theirs = await start(client, other)
    async with connected(api, student) as session:
        messages = await collect(session, WORKSPACE_EVENTS, {"lastEventId": 0})
        with pytest.raises(TransportQueryError) as refused:
            await collect(
                session, JOB_EVENTS, {"jobId": theirs["latestPlanJob"]["id"], "lastEventId": 0}
            )
    assert refused.value.errors[0]["extensions"]["code"] == "job_not_found"
    assert {m["workspaceId"] for m in messages} == {mine["workspaceId"]}
    assert {e["jobId"] for e in events_of(messages)} == {mine["latestPlanJob"]["id"]}

    async with connected(api, other) as session:
        with pytest.raises(TransportQueryError) as not_found:
            await collect(session, WORKSPACE_EVENTS.replace('"1001"', '"1003"'))
    assert not_found.value.errors[0]["extensions"] == {
        "code": "workspace_not_found",
        "status": 404,
        "details": {},
    }
    await wait_for_status(client, ESSAY, other.headers, {"ready", "failed"})


async def test_a_job_stream_carries_only_that_job_and_completes_after_it(client, api, student):
    job_id = (await start(client, student))["latestPlanJob"]["id"]
    async with connected(api, student) as session:
        messages = await collect(
            session, JOB_EVENTS, {"jobId": job_id, "lastEventId": 0}, stop=never
        )
        assert messages[0] == {
            "__typename": "Job",
            "job": job_id,
            "status": messages[0]["status"],
        }
        assert events_of(messages)[-1]["eventType"] == "plan_ready"
        assert {e["jobId"] for e in events_of(messages)} == {job_id}

        # A finished job, followed from now: its snapshot, then the stream completes.
        finished = await collect(session, JOB_EVENTS, {"jobId": job_id}, stop=never)
        assert finished == [{"__typename": "Job", "job": job_id, "status": "succeeded"}]


async def test_a_job_cancelled_by_a_reprocess_ends_its_stream_with_a_snapshot(client, api, student):
    with gated_engine(api.runtime) as gate:
        job_id = (await start(client, student))["latestPlanJob"]["id"]
        await asyncio.wait_for(gate.arrived.wait(), 10)
        async with connected(api, student) as session:
            request = GraphQLRequest(JOB_EVENTS, variable_values={"jobId": job_id})
            stream = session.subscribe(request)
            first = (await asyncio.wait_for(anext(stream), 10))["jobEvents"]
            replan = await graphql(client, START, {"reprocess": True}, headers=student.headers)
            assert data_of(replan)["startPlanning"]["started"] is True
            async with asyncio.timeout(10):
                messages = [first] + [result["jobEvents"] async for result in stream]
        gate.release.set()
    assert messages[0] == {"__typename": "Job", "job": job_id, "status": "running"}
    assert messages[-1] == {"__typename": "Job", "job": job_id, "status": "cancelled"}
    await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})


async def raw_connection_init(api, protocol: str, payload: dict[str, Any]) -> Any:
    """What the server does with this connection_init: the close frame, or the ack."""
    async with websockets.connect(ws_url(api), subprotocols=[protocol]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            return json.loads(await asyncio.wait_for(ws.recv(), 5))
        except websockets.ConnectionClosed as closed:
            return closed.rcvd


async def test_a_websocket_is_authenticated_by_its_connection_init_payload(api, student):
    for payload in ({}, {"Authorization": "Bearer not-a-token"}):
        closed = await raw_connection_init(api, TRANSPORT_WS, payload)
        assert (closed.code, closed.reason) == (4403, "Forbidden")
    accepted = await raw_connection_init(
        api, TRANSPORT_WS, {"authorization": student.headers["Authorization"]}
    )
    assert accepted["type"] == "connection_ack"

    # The legacy protocol says why.
    with pytest.raises(TransportServerError, match="missing_token"):
        transport = WebsocketsTransport(url=ws_url(api), subprotocols=[LEGACY_WS])
        async with Client(transport=transport):
            pass


async def test_the_legacy_graphql_ws_protocol_streams_too(client, api, student):
    await start(client, student)
    async with connected(api, student, LEGACY_WS) as session:
        messages = await collect(session, WORKSPACE_EVENTS, {"lastEventId": 0})
    assert messages[0]["__typename"] == "Workspace"
    assert events_of(messages)[-1]["eventType"] == "plan_ready"


async def test_subscriptions_per_connection_are_capped(client, api, student):
    await start(client, student)
    await wait_for_status(client, ESSAY, student.headers, {"ready"})
    cap = api.settings.graphql_max_subscriptions_per_connection
    request = GraphQLRequest(WORKSPACE_EVENTS)
    async with connected(api, student) as session:
        streams = [session.subscribe(request) for _ in range(cap + 1)]
        for stream in streams[:cap]:
            first = await asyncio.wait_for(anext(stream), 10)
            assert first["workspaceEvents"]["__typename"] == "Workspace"
        with pytest.raises(TransportQueryError, match="Subscription limit reached"):
            await asyncio.wait_for(anext(streams[cap]), 10)
        for stream in streams[:cap]:
            await stream.aclose()


async def raw_exchange(api, student, *messages: dict[str, Any]) -> list[Any]:
    """Send ``messages`` after the acknowledged connection_init; what comes back, until
    the first ``complete`` or ``error``, or the close frame."""
    received: list[Any] = []
    async with websockets.connect(ws_url(api), subprotocols=[TRANSPORT_WS]) as ws:
        init = {"Authorization": student.headers["Authorization"]}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        for message in messages:
            await ws.send(json.dumps(message))
        try:
            while not received or received[-1]["type"] not in {"complete", "error"}:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        except websockets.ConnectionClosed as closed:
            received.append(closed.rcvd)
    return received


def subscribe(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = {"query": query, "variables": variables or {}}
    return {"id": "1", "type": "subscribe", "payload": payload}


async def test_what_is_not_a_valid_subscription_is_answered_as_strawberry_answers_it(
    client, api, student
):
    await start(client, student)
    # A query over the websocket: its result, then complete.
    answered = await raw_exchange(api, student, subscribe("{ __typename }"))
    assert answered == [
        {"id": "1", "type": "next", "payload": {"data": {"__typename": "Query"}}},
        {"id": "1", "type": "complete"},
    ]
    # A document the schema rejects: an error with its code.
    [refused] = await raw_exchange(api, student, subscribe("subscription { nothing }"))
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "validation_error"
    # Variables that do not fit: an error, their values not echoed back.
    [refused] = await raw_exchange(api, student, subscribe(WORKSPACE_EVENTS, {"lastEventId": "x"}))
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "validation_error"
    assert "values are not echoed back" in refused["payload"][0]["message"]


async def test_an_idle_subscription_holds_neither_its_last_event_nor_its_result(
    client, api, student
):
    """After its snapshot, a waiting subscription keeps no reference to it (issue 17:
    thousands idle on one process)."""
    await start(client, student)
    await wait_for_status(client, ESSAY, student.headers, {"ready"})
    async with connected(api, student) as session:
        stream = session.subscribe(GraphQLRequest(WORKSPACE_EVENTS))
        first = await asyncio.wait_for(anext(stream), 10)
        assert first["workspaceEvents"]["__typename"] == "Workspace"
        await asyncio.sleep(0.2)
        gc.collect()
        held = [o for o in gc.get_objects() if type(o) is Workspace]
        await stream.aclose()
    assert held == []
