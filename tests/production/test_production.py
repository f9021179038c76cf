"""The production path with real processes: two API servers and arq workers against
PostgreSQL and Redis (run in the PostgreSQL pass of the suite: ``-m production``)."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from devkit.asgi_server import free_port
from devkit.sse_client import iter_sse
from models.db import JobStatus, PlanVersion, ProcessingJob
from tests.conftest import onboard_student, read_stream
from tests.support.processes import Stack, redis_test_url, require_clean_redis

pytestmark = pytest.mark.production

LEASE_SECONDS = 2.0


@pytest_asyncio.fixture
async def stack(api, database_url, simulator, tmp_path) -> AsyncIterator[Stack]:
    """API and worker processes on the suite's PostgreSQL database (so the test can read
    what they wrote) and a Redis database of their own."""
    if database_url.startswith("sqlite"):
        pytest.skip("the production tests run in the PostgreSQL pass (TEST_DATABASE_URL)")
    url = redis_test_url()
    await require_clean_redis(url)
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": database_url,
        "REDIS_URL": url,
        "JWT_SECRET": secrets.token_urlsafe(32),
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "CANVAS_ALLOW_LOCAL": "true",
        "RATE_LIMIT_ENABLED": "false",
        "MAX_ACTIVE_JOBS_PER_USER": "50",
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "SSE_HEARTBEAT_SECONDS": "1",
        "CANVAS_BACKOFF_SECONDS": "0.01",
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
    }
    stack = Stack(env=env, log_dir=tmp_path)
    try:
        yield stack
    finally:
        stack.stop_all()


async def follow_to_end(api: str, path: str, headers: dict[str, str]) -> list:
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        return await read_stream(http, f"{path}/events", headers=headers)


def contiguous(ids: list[int]) -> bool:
    return ids == list(range(ids[0], ids[0] + len(ids)))


async def test_two_apis_and_two_workers_plan_a_dozen_workspaces(stack, simulator):
    api_a, api_b = await stack.start_api("api-a"), await stack.start_api("api-b")
    stack.start_worker("worker-1")
    stack.start_worker("worker-2")
    paths = [f"/assignments/101/{a}" for a in (1001, 1003, 1004, 1005)]
    async with httpx.AsyncClient(base_url=api_a, timeout=30) as http:
        students = [await onboard_student(http, simulator) for _ in range(3)]
    work = [
        (s, p, (api_a, api_b)[i % 2])
        for i, (s, p) in enumerate((s, p) for s in students for p in paths)
    ]
    for student, path, api in work:
        async with httpx.AsyncClient(base_url=api, timeout=30) as http:
            assert (await http.post(f"{path}/start", headers=student.headers)).status_code == 202

    async def finish(student, path, api) -> list:
        other = api_b if api == api_a else api_a
        return await follow_to_end(other, path, student.headers)

    streams = await asyncio.wait_for(asyncio.gather(*(finish(*item) for item in work)), timeout=120)
    for messages in streams:
        events = messages[1:]
        assert events[0].event == "job_queued"
        assert events[-1].event == "plan_ready", [m.event for m in events]
        assert contiguous([int(m.id) for m in events])
    ran_on = {stack.log("worker-1").count("run_job"), stack.log("worker-2").count("run_job")}
    assert min(ran_on) > 0, "both workers took jobs"


async def test_a_worker_killed_mid_stage_leaves_no_job_running(stack, simulator):
    api = await stack.start_api("api")
    stack.start_worker("doomed")
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        student = await onboard_student(http, simulator)
        simulator.state.slow("/api/v1/courses/101/assignments/1001", 60)
        path = "/assignments/101/1001"
        await http.post(f"{path}/start", headers=student.headers)
        async with (
            asyncio.timeout(30),
            http.stream("GET", f"{path}/events", headers=student.headers) as response,
        ):
            async for message in iter_sse(response):
                if message.json().get("stage") == "fetch_canvas_context":
                    break
        stack.kill("doomed")
        simulator.state.faults.clear()  # Canvas answers promptly again
        stack.start_worker("rescuer")
        events = await asyncio.wait_for(follow_to_end(api, path, student.headers), 60)
    kinds = [m.event for m in events]
    assert "job_retrying" in kinds
    assert kinds[-1] == "plan_ready", events[-1].data
    job = await ProcessingJob.get(id=events[-1].json()["job_id"])
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    assert await PlanVersion.filter(job_id=job.id).count() == 1


async def test_an_idle_worker_is_woken_by_each_enqueue_and_each_freed_slot(stack, simulator):
    # No help from polling (once a minute) or from the reaper's re-enqueue (30 s leases):
    # these jobs start because the worker is woken.
    stack.env["JOB_LEASE_SECONDS"] = "30"
    api = await stack.start_api("api")
    stack.start_worker("worker", WORKER_POLL_SECONDS="60", WORKER_MAX_JOBS="1")
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        student = await onboard_student(http, simulator)
        first = "/assignments/101/1001"
        await http.post(f"{first}/start", headers=student.headers)
        await asyncio.wait_for(follow_to_end(api, first, student.headers), 20)
        # The worker is idle now; it runs one job at a time, so the second of these waits
        # for the first's slot.
        paths = ["/assignments/101/1003", "/assignments/101/1004"]
        for path in paths:
            assert (await http.post(f"{path}/start", headers=student.headers)).status_code == 202
        streams = await asyncio.wait_for(
            asyncio.gather(*(follow_to_end(api, path, student.headers) for path in paths)), 20
        )
    assert [messages[-1].event for messages in streams] == ["plan_ready", "plan_ready"]


async def test_reprocess_on_another_api_stops_the_running_job_in_its_worker(stack, simulator):
    api_a, api_b = await stack.start_api("api-a"), await stack.start_api("api-b")
    stack.start_worker("worker")
    path = "/assignments/101/1001"
    async with httpx.AsyncClient(base_url=api_a, timeout=30) as http:
        student = await onboard_student(http, simulator)
    async with httpx.AsyncClient(timeout=30) as http:
        simulator.state.slow("/api/v1/courses/101/assignments/1001", 60)
        first = (await http.post(f"{api_a}{path}/start", headers=student.headers)).json()
        old_job = first["latest_plan_job"]["id"]
        for _ in range(100):
            if (await ProcessingJob.get(id=old_job)).status == JobStatus.RUNNING:
                break
            await asyncio.sleep(0.1)
        response = await http.post(f"{api_b}{path}/start?reprocess=true", headers=student.headers)
        assert response.status_code == 202
        simulator.state.faults.clear()
    events = await asyncio.wait_for(follow_to_end(api_a, path, student.headers), 60)
    assert events[-1].event == "plan_ready"
    new_job = response.json()["latest_plan_job"]["id"]
    assert events[-1].json()["job_id"] == new_job
    assert (await ProcessingJob.get(id=old_job)).status == JobStatus.CANCELLED
    reprocess_at = next(i for i, m in enumerate(events) if m.json().get("job_id") == new_job)
    assert all(m.json().get("job_id") != old_job for m in events[reprocess_at:])
    versions = await PlanVersion.filter(workspace_id=first["workspace_id"]).prefetch_related("job")
    assert [str(v.job.id) for v in versions] == [new_job]


async def test_concurrent_starts_across_two_apis_make_one_workspace_and_one_job(stack, simulator):
    apis = [await stack.start_api("api-a"), await stack.start_api("api-b")]
    async with httpx.AsyncClient(base_url=apis[0], timeout=30) as http:
        student = await onboard_student(http, simulator)
    async with httpx.AsyncClient(timeout=30) as http:
        responses = await asyncio.gather(
            *(
                http.post(f"{apis[i % 2]}/assignments/101/1003/start", headers=student.headers)
                for i in range(8)
            )
        )
    assert sorted(r.status_code for r in responses) == [200] * 7 + [202]
    workspace_ids = {r.json()["workspace_id"] for r in responses}
    assert len(workspace_ids) == 1
    assert await ProcessingJob.filter(workspace_id=workspace_ids.pop()).count() == 1


async def test_sse_resumes_on_the_other_api_with_last_event_id(stack, simulator):
    api_a, api_b = await stack.start_api("api-a"), await stack.start_api("api-b")
    stack.start_worker("worker")
    path = "/assignments/101/1001"
    async with httpx.AsyncClient(base_url=api_a, timeout=30) as http:
        student = await onboard_student(http, simulator)
        await http.post(f"{path}/start", headers=student.headers)
        first_part = await read_stream(
            http, f"{path}/events", headers=student.headers, until={"stage_started"}
        )
    last_seen = first_part[-1].id
    async with httpx.AsyncClient(base_url=api_b, timeout=30) as http:
        rest = await read_stream(
            http,
            f"{path}/events",
            headers={**student.headers, "Last-Event-ID": last_seen},
            from_start=False,
        )
    ids = [int(m.id) for m in first_part[1:]] + [int(m.id) for m in rest[1:]]
    assert contiguous(ids) and ids[0] == 1
    assert rest[-1].event == "plan_ready"


def start_redis(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )


async def test_a_redis_outage_is_a_503_and_the_service_recovers_by_itself(stack, simulator):
    port = free_port()
    redis_process = start_redis(port)
    try:
        stack.env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        await asyncio.sleep(0.3)
        api = await stack.start_api("api")
        stack.start_worker("worker")
        path = "/assignments/101/1003"
        async with httpx.AsyncClient(base_url=api, timeout=30) as http:
            student = await onboard_student(http, simulator)
            redis_process.terminate()
            redis_process.wait(10)
            during = await http.post(f"{path}/start", headers=student.headers)
            assert during.status_code == 503, during.text
            assert during.json()["code"] == "service_unavailable"
            assert int(during.headers["Retry-After"]) > 0
            not_ready = await http.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["details"]["checks"]["redis"].startswith("unreachable")
            redis_process = start_redis(port)
            await asyncio.sleep(0.3)
            assert (await http.get("/readyz")).status_code == 200
            after = await http.post(f"{path}/start", headers=student.headers)
            assert after.status_code == 200  # the workspace was kept, nothing was lost
            events = await asyncio.wait_for(
                read_stream(http, f"{path}/events", headers=student.headers), 60
            )
        assert events[-1].event == "plan_ready"
    finally:
        redis_process.terminate()
        redis_process.wait(10)
