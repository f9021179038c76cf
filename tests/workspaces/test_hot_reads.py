"""The snapshot and plan reads answered before FastAPI's routing (``rest/hot_reads.py``):
the same answers as the routes, counted and logged under the routes' names, and every
failure left to the routes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from models.db import AssignmentWorkspace
from rest.hot_reads import HotReads, Read
from tests.support.errors import assert_error
from tests.support.metrics import grown, scrape
from tests.support.plans import ESSAY, ready_plan

SNAPSHOT_ROUTE = "/assignments/{course_id}/{assignment_id}"
# Headers that may differ between two answers to the same read.
PER_REQUEST = {"x-request-id", "date"}


def _answer(response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    return response.status_code, response.content, headers


async def test_the_shortcut_answers_what_the_route_answers(client, student):
    """A query string sends a read through FastAPI's route: the answers must be the same,
    byte for byte and header for header, 200 or 304."""
    await ready_plan(client, student.headers)
    for path, routed in (
        (ESSAY, f"{ESSAY}?via=route"),
        (f"{ESSAY}/plan", f"{ESSAY}/plan?version=1"),
    ):
        short = await client.get(path, headers=student.headers)
        full = await client.get(routed, headers=student.headers)
        assert short.status_code == 200, short.text
        assert _answer(short) == _answer(full), path
        tag = {**student.headers, "If-None-Match": short.headers["etag"]}
        short_304 = await client.get(path, headers=tag)
        full_304 = await client.get(routed, headers=tag)
        assert short_304.status_code == 304
        assert _answer(short_304) == _answer(full_304), path


async def test_shortcut_answers_are_counted_and_logged_under_the_route(client, student, caplog):
    await ready_plan(client, student.headers)
    before = await scrape(client)
    with caplog.at_level(logging.INFO, logger="canvas_workspace.access"):
        assert (await client.get(ESSAY, headers=student.headers)).status_code == 200
        plan = await client.get(f"{ESSAY}/plan", headers=student.headers)
        assert plan.status_code == 200
    after = await scrape(client)
    requests = "canvas_workspace_http_requests_total"
    for route in (SNAPSHOT_ROUTE, f"{SNAPSHOT_ROUTE}/plan"):
        assert grown(before, after, requests, method="GET", route=route, status="200") == 1
    lines = [r for r in caplog.records if r.name == "canvas_workspace.access"]
    assert [(r.route, r.status) for r in lines] == [
        (SNAPSHOT_ROUTE, 200),
        (f"{SNAPSHOT_ROUTE}/plan", 200),
    ]
    assert plan.headers["x-request-id"]


async def test_failures_are_the_routes_to_answer(client, student):
    """Missing or bad tokens, bad ids and absent workspaces get the routes' errors, in the
    one error shape, with the Bearer challenge where the route gives it."""
    missing = await client.get(ESSAY)
    assert_error(missing, 401, "missing_token")
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = await client.get(ESSAY, headers={"Authorization": "Bearer not-a-jwt"})
    assert_error(forged, 401, "invalid_token")
    assert forged.headers["www-authenticate"] == "Bearer"
    bad_id = await client.get("/assignments/101/a%20b/plan", headers=student.headers)
    assert_error(bad_id, 422, "validation_error")
    absent = await client.get("/assignments/101/9999", headers=student.headers)
    assert_error(absent, 404, "workspace_not_found")


async def test_a_repeated_read_is_answered_from_memory_until_its_workspace_wakes(
    api, client, student
):
    """The second read of a snapshot or plan does not touch the database while no wake-up
    for its workspace came: a row changed behind the bus's back shows only after a wake-up,
    or once the remembered read is a heartbeat old."""
    await ready_plan(client, student.headers)
    snapshot = (await client.get(ESSAY, headers=student.headers)).json()
    plan = (await client.get(f"{ESSAY}/plan", headers=student.headers)).content
    workspace = AssignmentWorkspace.filter(id=snapshot["workspace_id"])
    await workspace.update(progress=41)

    remembered = await client.get(ESSAY, headers=student.headers)
    assert remembered.json() == snapshot
    assert (await client.get(f"{ESSAY}/plan", headers=student.headers)).content == plan
    routed = await client.get(f"{ESSAY}?via=route", headers=student.headers)
    assert routed.json()["progress"] == 41, "the route reads the database"

    await api.runtime.bus.notify(snapshot["workspace_id"])
    woken = await client.get(ESSAY, headers=student.headers)
    assert woken.json()["progress"] == 41
    assert woken.headers["etag"] != remembered.headers["etag"]

    await workspace.update(progress=42)
    assert (await client.get(ESSAY, headers=student.headers)).json()["progress"] == 41
    await asyncio.sleep(api.settings.sse_heartbeat_seconds)
    aged = await client.get(ESSAY, headers=student.headers)
    assert aged.json()["progress"] == 42, "at most a heartbeat old"


async def test_a_deleted_workspace_is_not_answered_from_memory(client, student):
    await ready_plan(client, student.headers)
    assert (await client.get(f"{ESSAY}/plan", headers=student.headers)).status_code == 200
    deleted = await client.delete(ESSAY, headers=student.headers)
    assert deleted.status_code == 204, deleted.text
    assert_error(
        await client.get(f"{ESSAY}/plan", headers=student.headers), 404, "workspace_not_found"
    )
    assert_error(await client.get(ESSAY, headers=student.headers), 404, "workspace_not_found")


def _hot_reads(app: Any) -> HotReads:
    layer = app.middleware_stack
    while not isinstance(layer, HotReads):
        layer = layer.app
    return layer


class _SlowRead:
    """The real snapshot read, counted, each call held after reading until ``release``:
    a read still running when other requests for it arrive."""

    def __init__(self, read: Read) -> None:
        self.read = read
        self.calls = 0
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, user_id: int, course_id: str, assignment_id: str) -> Any:
        self.calls += 1
        representation = await self.read(user_id, course_id, assignment_id)
        self.reading.set()
        async with asyncio.timeout(10):
            await self.release.wait()
        return representation

    async def started(self) -> None:
        async with asyncio.timeout(10):
            await self.reading.wait()


async def _held_reads(api: Any, client: Any, student: Any, monkeypatch: Any) -> _SlowRead:
    """A ready plan, nothing of its snapshot remembered (its workspace woke), and the
    snapshot read held by a ``_SlowRead``."""
    await ready_plan(client, student.headers)
    snapshot = (await client.get(f"{ESSAY}?via=route", headers=student.headers)).json()
    await api.runtime.bus.notify(snapshot["workspace_id"])
    hot = _hot_reads(api.app)
    route, read = hot.reads[False]
    slow = _SlowRead(read)
    monkeypatch.setitem(hot.reads, False, (route, slow))
    return slow


async def test_requests_arriving_together_share_one_read(api, client, student, monkeypatch):
    slow = await _held_reads(api, client, student, monkeypatch)

    requests = [asyncio.create_task(client.get(ESSAY, headers=student.headers)) for _ in range(20)]
    await slow.started()
    await asyncio.sleep(0.2)  # every request has arrived and joined the running read
    slow.release.set()
    answers = await asyncio.gather(*requests)
    assert {(a.status_code, a.content) for a in answers} == {(200, answers[0].content)}
    assert slow.calls == 1


async def test_a_request_arriving_after_a_wake_up_does_not_take_the_older_read(
    api, client, student, monkeypatch
):
    slow = await _held_reads(api, client, student, monkeypatch)

    first = asyncio.create_task(client.get(ESSAY, headers=student.headers))
    await slow.started()
    snapshot = (await client.get(f"{ESSAY}?via=route", headers=student.headers)).json()
    await AssignmentWorkspace.filter(id=snapshot["workspace_id"]).update(progress=43)
    await api.runtime.bus.notify(snapshot["workspace_id"])
    later = asyncio.create_task(client.get(ESSAY, headers=student.headers))
    await asyncio.sleep(0.2)  # it has joined the running read
    slow.release.set()
    assert (await first).json()["progress"] == snapshot["progress"]
    assert (await later).json()["progress"] == 43
    assert slow.calls == 2


async def test_a_shared_read_outlives_the_request_that_started_it(
    api, client, student, monkeypatch
):
    slow = await _held_reads(api, client, student, monkeypatch)

    async with httpx.AsyncClient(base_url=api.url, timeout=30) as leaving:
        first = asyncio.create_task(leaving.get(ESSAY, headers=student.headers))
        await slow.started()
        joined = asyncio.create_task(client.get(ESSAY, headers=student.headers))
        await asyncio.sleep(0.2)
        first.cancel()
    slow.release.set()
    answer = await joined
    assert answer.status_code == 200, answer.text
    assert slow.calls == 1
