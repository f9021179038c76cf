"""Start / resume / reprocess, plan retrieval and the design's behaviour rules."""

from __future__ import annotations

import asyncio

from models.db import (
    AssignmentWorkspace,
    CanvasCredential,
    JobStatus,
    PlanVersion,
    ProcessingJob,
)
from models.plan import Plan
from tests.conftest import onboard_student, read_stream, wait_for_status
from tests.support.errors import assert_error
from tests.support.gate import gated_engine

ESSAY = "/assignments/101/1001"


async def test_start_plans_the_assignment_and_resume_returns_the_same_workspace(client, student):
    started = await client.post(f"{ESSAY}/start", headers=student.headers)
    assert started.status_code == 202, started.text
    workspace = started.json()
    assert workspace["status"] in {"queued", "running"}
    assert (workspace["course_id"], workspace["assignment_id"]) == ("101", "1001")
    job_id = workspace["latest_plan_job"]["id"]

    done = await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    assert done["status"] == "ready", done
    assert done["progress"] == 100
    assert done["plan_version"] == 1
    assert done["last_error"] is None

    plan = Plan.model_validate((await client.get(f"{ESSAY}/plan", headers=student.headers)).json())
    assert plan.assignment_summary.title == "Argumentative Essay"
    assert plan.milestones and all(m.tasks for m in plan.milestones)
    assert any("1,500" in c or "1500" in c for c in plan.assignment_summary.hard_constraints)

    again = await client.post(f"{ESSAY}/start", headers=student.headers)
    assert again.status_code == 200
    assert again.json()["workspace_id"] == workspace["workspace_id"]
    assert again.json()["latest_plan_job"]["id"] == job_id
    assert await ProcessingJob.filter(workspace_id=workspace["workspace_id"]).count() == 1


async def test_plan_is_not_ready_while_planning_runs(client, api, student):
    with gated_engine(api.runtime) as gate:
        assert (await client.post(f"{ESSAY}/start", headers=student.headers)).status_code == 202
        await asyncio.wait_for(gate.arrived.wait(), 10)
        assert_error(
            await client.get(f"{ESSAY}/plan", headers=student.headers), 400, "plan_not_ready"
        )
        running = await client.post(f"{ESSAY}/start", headers=student.headers)
        assert running.status_code == 200
        assert running.json()["status"] == "running"
        assert running.json()["stage"] == "distill_assignment_requirements"
        gate.release.set()
        done = await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    assert done["status"] == "ready"


async def test_concurrent_identical_starts_create_one_workspace_and_one_job(client, student):
    responses = await asyncio.gather(
        *[client.post(f"{ESSAY}/start", headers=student.headers) for _ in range(8)]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [202], [r.text for r in responses]
    workspace_ids = {r.json()["workspace_id"] for r in responses}
    assert len(workspace_ids) == 1
    assert await ProcessingJob.filter(workspace_id=workspace_ids.pop()).count() == 1
    await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})


async def test_reprocess_rebuilds_the_plan_in_place_as_a_new_version(client, student):
    await client.post(f"{ESSAY}/start", headers=student.headers)
    first = await wait_for_status(client, ESSAY, student.headers, {"ready"})
    response = await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
    assert response.status_code == 202
    assert response.json()["workspace_id"] == first["workspace_id"]
    assert response.json()["latest_plan_job"]["id"] != first["latest_plan_job"]["id"]
    assert response.json()["latest_plan_job"]["reprocess"] is True
    second = await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    assert second["status"] == "ready"
    assert second["plan_version"] == 2
    versions = await PlanVersion.filter(workspace_id=first["workspace_id"]).order_by("version")
    assert [v.version for v in versions] == [1, 2]


async def test_reprocess_fences_off_the_running_job_and_a_second_reprocess_conflicts(
    client, api, student
):
    with gated_engine(api.runtime) as gate:
        first = (await client.post(f"{ESSAY}/start", headers=student.headers)).json()
        await asyncio.wait_for(gate.arrived.wait(), 10)
        reprocess = await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
        assert reprocess.status_code == 202
        conflict = await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
        assert_error(conflict, 409, "reprocess_in_progress")
        gate.release.set()
        done = await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})

    assert done["status"] == "ready"
    old_job = await ProcessingJob.get(id=first["latest_plan_job"]["id"])
    assert old_job.status == JobStatus.CANCELLED
    assert old_job.error_code == "superseded"
    versions = await PlanVersion.filter(workspace_id=first["workspace_id"]).prefetch_related("job")
    assert [str(v.job.id) for v in versions] == [reprocess.json()["latest_plan_job"]["id"]]
    events = await read_stream(
        client, f"{ESSAY}/events", headers=student.headers, until={"snapshot"}
    )
    assert events[0].json()["plan_version"] == 1


async def test_concurrent_reprocesses_start_exactly_one_job(client, api, student):
    await client.post(f"{ESSAY}/start", headers=student.headers)
    await wait_for_status(client, ESSAY, student.headers, {"ready"})
    with gated_engine(api.runtime):
        responses = await asyncio.gather(
            *[
                client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
                for _ in range(5)
            ]
        )
        assert sorted(r.status_code for r in responses) == [202] + [409] * 4
    await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})


async def test_a_reprocess_at_the_cap_on_active_jobs_is_refused_and_writes_nothing(
    client, api, simulator, student
):
    """The cap counts the user's other workspaces' jobs: with three planning elsewhere, a
    reprocess is refused and its workspace is left as it was; a workspace whose own job is
    among the three may be reprocessed (that job is replaced, not added to)."""
    cap = api.runtime.settings.max_active_jobs_per_user
    await client.post(f"{ESSAY}/start", headers=student.headers)
    ready = await wait_for_status(client, ESSAY, student.headers, {"ready"})
    before = await AssignmentWorkspace.get(id=ready["workspace_id"])
    copies = [f"/assignments/101/{simulator.state.copy_assignment(1001)['id']}" for _ in range(cap)]
    with gated_engine(api.runtime):
        for path in copies:
            assert (await client.post(f"{path}/start", headers=student.headers)).status_code == 202

        refused = await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
        assert_error(refused, 429, "too_many_active_jobs")
        after = await AssignmentWorkspace.get(id=ready["workspace_id"])
        assert (after.generation, after.status, after.last_event_id) == (
            before.generation,
            before.status,
            before.last_event_id,
        )
        assert await ProcessingJob.filter(workspace_id=before.id).count() == 1

        replaced = await client.post(f"{copies[0]}/start?reprocess=true", headers=student.headers)
        assert replaced.status_code == 202, replaced.text
    for path in copies:
        await wait_for_status(client, path, student.headers, {"ready", "failed"})


async def test_a_canvas_failure_fails_the_workspace_and_start_returns_the_failed_state(
    client, student
):
    path = "/assignments/101/999999"
    assert (await client.post(f"{path}/start", headers=student.headers)).status_code == 202
    failed = await wait_for_status(client, path, student.headers, {"failed", "ready"})
    assert failed["status"] == "failed"
    assert failed["last_error"]["code"] == "canvas_not_found"
    again = await client.post(f"{path}/start", headers=student.headers)
    assert again.status_code == 200
    assert again.json()["status"] == "failed"
    assert again.json()["last_error"]["code"] == "canvas_not_found"


async def test_a_bad_attachment_is_a_warning_and_planning_goes_on(client, student):
    path = "/assignments/101/1004"
    await client.post(f"{path}/start", headers=student.headers)
    events = await read_stream(client, f"{path}/events", headers=student.headers)
    assert events[-1].event == "plan_ready"
    warnings = [e.json()["warning"] for e in events if e.event == "warning"]
    named = {w["file_name"] for w in warnings}
    assert {"encrypted.pdf", "scanned.pdf", "truncated.pdf"} <= named
    # The inline image (an <img> the editor inserted from the course files) is content,
    # not an attachment: never downloaded, never a warning.
    assert "image.png" not in named
    codes = {w["file_name"]: w["code"] for w in warnings}
    assert codes["encrypted.pdf"] == "encrypted"
    context_sources = (await client.get(f"{path}/plan", headers=student.headers)).json()
    assert context_sources["milestones"]


async def test_another_users_workspace_is_not_found(client, simulator, student):
    await client.post(f"{ESSAY}/start", headers=student.headers)
    other = await onboard_student(client, simulator)
    assert_error(await client.get(ESSAY, headers=other.headers), 404, "workspace_not_found")
    assert_error(
        await client.get(f"{ESSAY}/plan", headers=other.headers), 404, "workspace_not_found"
    )
    assert_error(
        await client.get(f"{ESSAY}/events", headers=other.headers), 404, "workspace_not_found"
    )
    await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})


async def test_malformed_ids_are_validation_errors(client, student):
    assert_error(
        await client.post("/assignments/101/bad%20id/start", headers=student.headers),
        422,
        "validation_error",
    )
    assert_error(
        await client.get(f"/assignments/{'9' * 80}/1", headers=student.headers),
        422,
        "validation_error",
    )
    assert_error(
        await client.post(f"{ESSAY}/start?reprocess=maybe", headers=student.headers),
        422,
        "validation_error",
    )


async def test_starts_over_the_per_user_limit_get_429_with_retry_after(client, api, student):
    limiter = api.runtime.rate_limiter
    limiter.enabled, saved = True, dict(limiter.per_minute)
    limiter.per_minute["start"] = 2
    try:
        codes = [
            (await client.post(f"{ESSAY}/start", headers=student.headers)).status_code
            for _ in range(2)
        ]
        limited = await client.post(f"{ESSAY}/start", headers=student.headers)
    finally:
        limiter.enabled, limiter.per_minute = False, saved
    assert codes == [202, 200]
    assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})


async def test_a_start_is_refused_for_the_rate_limit_before_missing_credentials(
    client, api, student
):
    """The start's checks run at once; their refusals still come in one order, and a
    refused start counts toward the limit, as before."""
    await CanvasCredential.filter(user_id=student.user["id"]).delete()
    limiter = api.runtime.rate_limiter
    limiter.enabled, saved = True, dict(limiter.per_minute)
    limiter.per_minute["start"] = 1
    try:
        first = await client.post(f"{ESSAY}/start", headers=student.headers)
        second = await client.post(f"{ESSAY}/start", headers=student.headers)
    finally:
        limiter.enabled, limiter.per_minute = False, saved
    assert_error(first, 400, "canvas_credentials_missing")
    assert_error(second, 429, "rate_limited")
