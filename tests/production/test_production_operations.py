"""Operating the production stack: readiness against PostgreSQL and Redis, a worker's own
metrics and JSON logs, with real API and worker processes (PostgreSQL pass)."""

from __future__ import annotations

import json

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devkit.asgi_server import free_port
from server.operations.service import expected_migrations
from tests.conftest import onboard_student, read_stream
from tests.production import test_production
from tests.support.postgres import admin_url, temporary_postgres_database

pytestmark = pytest.mark.production
stack = test_production.stack  # the same API and worker processes fixture

ESSAY = "/assignments/101/1001"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_worker_serves_its_metrics_and_logs_json_lines_with_its_job_id(stack, simulator):
    api = await stack.start_api("api")
    metrics_port = free_port()
    stack.start_worker("worker", WORKER_METRICS_PORT=str(metrics_port))
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "migrations": "ok"}
        student = await onboard_student(http, simulator)
        assert (await http.post(f"{ESSAY}/start", headers=student.headers)).status_code == 202
        events = await read_stream(http, f"{ESSAY}/events", headers=student.headers)
        assert events[-1].event == "plan_ready"
        api_metrics = samples((await http.get("/metrics")).text)
        worker_metrics = samples((await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text)
    assert ("canvas_workspace_queue_depth", frozenset({("queue", "arq")})) in api_metrics
    plan_succeeded = frozenset({("job_type", "plan"), ("outcome", "succeeded")})
    assert worker_metrics[("canvas_workspace_jobs_total", plan_succeeded)] == 1
    assert api_metrics.get(("canvas_workspace_jobs_total", plan_succeeded), 0) == 0
    draft = frozenset({("job_type", "plan"), ("stage", "draft_plan")})
    assert worker_metrics[("canvas_workspace_job_stage_duration_seconds_count", draft)] == 1
    assert worker_metrics[("canvas_workspace_canvas_calls_total", frozenset({("outcome", "ok")}))]

    job_id = events[-1].json()["job_id"]
    lines = [json.loads(line) for line in stack.log("worker").splitlines() if line.startswith("{")]
    assert any(line.get("job_id") == job_id for line in lines), "the job's lines carry its id"


async def test_readyz_is_503_until_every_migration_is_applied(stack):
    async with temporary_postgres_database(admin_url(), migrate=True) as url:
        connection = await asyncpg.connect(url)
        try:
            latest = expected_migrations()[-1]
            row = await connection.fetchrow("SELECT * FROM aerich WHERE version = $1", latest)
            await connection.execute("DELETE FROM aerich WHERE version = $1", latest)
            stack.env["DATABASE_URL"] = url
            api = await stack.start_api("api")
            async with httpx.AsyncClient(base_url=api, timeout=30) as http:
                pending = await http.get("/readyz")
                assert pending.status_code == 503
                assert pending.json()["code"] == "not_ready"
                assert pending.headers["Retry-After"]
                checks = pending.json()["details"]["checks"]
                assert checks["migrations"].startswith(f"1 pending ({latest})"), checks
                assert checks["database"] == "ok" and checks["redis"] == "ok"
                await connection.execute(
                    "INSERT INTO aerich (version, app, content) VALUES ($1, $2, $3)",
                    row["version"],
                    row["app"],
                    row["content"],
                )
                assert (await http.get("/readyz")).status_code == 200
        finally:
            stack.stop_all()
            await connection.close()
