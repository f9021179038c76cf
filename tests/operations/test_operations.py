"""What an operator sees: liveness, readiness, Prometheus metrics and request ids, read
from the running API over HTTP."""

from __future__ import annotations

import asyncio
import multiprocessing

import httpx

from devkit.asgi_server import serve_in_background
from devkit.sse_client import iter_sse
from rest.observability import made_request_id
from server.app import create_app
from server.kernel.logs import LogContextFilter
from server.kernel.metrics import record_llm_call
from tests.conftest import make_settings, read_stream
from tests.support.metrics import grown, scrape, value

ESSAY = "/assignments/101/1001"
PLANNING_STAGES = [
    "fetch_canvas_context",
    "fetch_and_parse_attachments",
    "distill_assignment_requirements",
    "draft_plan",
    "verify_against_source",
    "finalize_plan",
]


async def test_healthz_says_the_process_is_alive(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_checks_the_database_redis_and_migrations(client, api):
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"] == "not configured"
    if api.settings.effective_database_url.startswith("sqlite"):
        assert checks["migrations"].startswith("not applicable")
    else:
        assert checks["migrations"] == "ok"  # the suite's database was built by migrate


async def test_metrics_count_requests_jobs_stages_and_canvas_calls(client, student):
    before = await scrape(client)
    assert (await client.post(f"{ESSAY}/start", headers=student.headers)).status_code == 202
    events = await read_stream(client, f"{ESSAY}/events", headers=student.headers)
    assert events[-1].event == "plan_ready"
    after = await scrape(client)

    route = {"method": "POST", "route": "/assignments/{course_id}/{assignment_id}/start"}
    requests = "canvas_workspace_http_requests_total"
    assert grown(before, after, requests, **route, status="202") == 1
    assert (
        grown(before, after, "canvas_workspace_http_request_duration_seconds_count", **route) == 1
    )
    assert (
        grown(before, after, "canvas_workspace_jobs_total", job_type="plan", outcome="succeeded")
        == 1
    )
    stages = "canvas_workspace_job_stage_duration_seconds_count"
    for stage in PLANNING_STAGES:
        assert grown(before, after, stages, job_type="plan", stage=stage) == 1, stage
    assert grown(before, after, "canvas_workspace_canvas_calls_total", outcome="ok") >= 3
    assert ("canvas_workspace_queue_depth", frozenset({("queue", "database")})) in after


async def test_a_path_no_route_matches_shares_one_metric_series(client):
    before = await scrape(client)
    for path in ("/no/such/thing", "/another/unknown/path"):
        assert (await client.get(path)).status_code == 404
    after = await scrape(client)
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    assert grown(before, after, "canvas_workspace_http_requests_total", **labels) == 2
    assert not any("/no/such/thing" in str(key) for key in after)


async def test_open_sse_streams_are_counted_while_open(client, student):
    await client.post(f"{ESSAY}/start", headers=student.headers)
    await read_stream(client, f"{ESSAY}/events", headers=student.headers)  # planned
    idle = value(await scrape(client), "canvas_workspace_sse_connections")
    async with client.stream("GET", f"{ESSAY}/events", headers=student.headers) as response:
        # Held, not abandoned with `break`: a dropped iterator is finalized at once, which
        # closes the connection before the scrape.
        messages = iter_sse(response)
        assert (await anext(messages)).event == "snapshot"
        assert value(await scrape(client), "canvas_workspace_sse_connections") == idle + 1
        await messages.aclose()
    for _ in range(200):  # the server notices the disconnect within moments
        if value(await scrape(client), "canvas_workspace_sse_connections") == idle:
            break
        await asyncio.sleep(0.05)
    assert value(await scrape(client), "canvas_workspace_sse_connections") == idle


async def test_llm_calls_and_tokens_are_counted(client):
    # No LLM runs in the suite (the offline engine is no LLM): the engine calls this.
    before = await scrape(client)
    record_llm_call("test-model", prompt_tokens=120, completion_tokens=30)
    record_llm_call("test-model", outcome="timeout")
    after = await scrape(client)
    calls, tokens = "canvas_workspace_llm_calls_total", "canvas_workspace_llm_tokens_total"
    assert grown(before, after, calls, model="test-model", outcome="ok") == 1
    assert grown(before, after, calls, model="test-model", outcome="timeout") == 1
    assert grown(before, after, tokens, model="test-model", kind="prompt") == 120
    assert grown(before, after, tokens, model="test-model", kind="completion") == 30


def test_a_forked_process_makes_request_ids_of_its_own():
    """Ids are a per-process random half and a counter: a forked worker (a pre-forking
    server) must not repeat its parent's."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply(made_request_id)
    parent = made_request_id()
    assert len(child) == len(parent) == 32
    assert child[:16] != parent[:16]


async def test_every_response_carries_a_request_id(client):
    made = await client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != (await client.get("/healthz")).headers["X-Request-ID"]
    kept = await client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.42"})
    assert kept.headers["X-Request-ID"] == "edge-7f3a.42"
    error = await client.get("/me")
    assert error.status_code == 401 and error.headers["X-Request-ID"]
    for forged in ("two words", "x" * 65, "a\tb"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": forged})
        assert replaced.headers["X-Request-ID"] != forged


async def test_an_unhandled_error_is_a_500_with_the_one_error_shape_and_a_request_id(
    tmp_path, caplog
):
    # No client input reaches a 500, so the test adds a route that fails (the app is the
    # real one, with its middleware and error handlers, over real HTTP; no lifespan).
    app = create_app(make_settings(tmp_path, None))
    app.state.serving = True  # no lifespan here, so no readiness check opens the gate

    @app.get("/test-only/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    caplog.handler.addFilter(LogContextFilter())  # as the service's log handlers have it
    async with (
        serve_in_background(app, lifespan="off") as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        answer = await http.get("/test-only/boom", headers={"X-Request-ID": "edge-500"})
    assert answer.status_code == 500
    assert answer.json() == {
        "code": "internal_error",
        "message": "Something went wrong on our side",
        "details": {},
    }
    assert answer.headers["X-Request-ID"] == "edge-500"
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error: RuntimeError"]
    assert logged and logged[0].request_id == "edge-500"
