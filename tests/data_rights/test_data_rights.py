"""Export, workspace deletion and complete erasure of a user's data, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tortoise import Tortoise

from models.db import JobStatus, ProcessingJob, User
from tests.conftest import onboard_student, wait_for_status
from tests.feedback.jobs import job_events
from tests.support.errors import assert_error
from tests.support.gate import gated_engine

ESSAY = "/assignments/101/1001"
OTHER = "/assignments/101/1004"


async def planned(client: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    await client.post(f"{path}/start", headers=headers)
    workspace = await wait_for_status(client, path, headers, {"ready", "failed"})
    assert workspace["status"] == "ready", workspace
    return workspace


async def with_history(client: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    """A ready workspace with a ticked task and a finished feedback job."""
    workspace = await planned(client, headers, path)
    plan = (await client.get(f"{path}/plan", headers=headers)).json()
    task_id = plan["milestones"][0]["tasks"][0]["id"]
    body = {"done": True, "plan_version": 1}
    assert (await client.patch(f"{path}/tasks/{task_id}", json=body, headers=headers)).is_success
    text = "My essay argues that phones help students. " * 20
    started = await client.post(f"{path}/submissions/start", json={"text": text}, headers=headers)
    assert started.status_code == 202, started.text
    events = await job_events(client, path, headers, started.json()["id"])
    assert events[-1].event == "feedback_ready", events
    return workspace


async def rows_referring_to(
    user_id: int, workspace_ids: list[int], job_ids: list[Any]
) -> dict[str, int]:
    """Rows of every table that point at the user, their workspaces or their jobs, found
    by each model's columns rather than by the code under test."""
    found: dict[str, int] = {}
    for model in Tortoise.apps["models"].values():
        columns = model._meta.fields_map
        filters: list[dict[str, Any]] = []
        if model is User:
            filters.append({"id": user_id})
        if "user" in columns:
            filters.append({"user_id": user_id})
        if "workspace" in columns:
            filters.append({"workspace_id__in": workspace_ids})
        if model is ProcessingJob or "job" in columns:
            filters.append({"id__in" if model is ProcessingJob else "job_id__in": job_ids})
        for where in filters:
            count = await model.filter(**where).count()
            if count:
                found[model._meta.db_table] = found.get(model._meta.db_table, 0) + count
    return found


async def test_export_holds_everything_but_secrets(client, student):
    workspace = await with_history(client, student.headers, ESSAY)
    response = await client.get("/me/export", headers=student.headers)
    assert response.status_code == 200
    export = response.json()
    assert export["canvas_credentials"]["stored"] is True
    assert export["canvas_credentials"]["last_checked_at"]
    tables = export["tables"]
    assert [w["id"] for w in tables["assignment_workspaces"]] == [workspace["workspace_id"]]
    assert {
        len(tables[name]) > 0
        for name in (
            "processing_jobs",
            "plan_versions",
            "milestone_submissions",
            "feedback_records",
            "workspace_events",
            "progress_marks",
        )
    } == {True}
    assert "canvas_credentials" not in tables
    assert student.canvas_token not in response.text
    assert "ciphertext" not in response.text
    assert_error(await client.get("/me/export"), 401, "missing_token")


async def test_delete_one_workspace_keeps_the_others(client, student):
    gone = await with_history(client, student.headers, ESSAY)
    kept = await planned(client, student.headers, OTHER)
    jobs = await ProcessingJob.filter(workspace_id=gone["workspace_id"]).values_list(
        "id", flat=True
    )
    response = await client.delete(ESSAY, headers=student.headers)
    assert response.status_code == 204
    assert_error(await client.get(ESSAY, headers=student.headers), 404, "workspace_not_found")
    assert_error(await client.delete(ESSAY, headers=student.headers), 404, "workspace_not_found")
    assert await rows_referring_to(-1, [gone["workspace_id"]], list(jobs)) == {}
    assert (await client.get(OTHER, headers=student.headers)).json()["workspace_id"] == kept[
        "workspace_id"
    ]
    assert_error(
        await client.delete("/assignments/101/bad id", headers=student.headers),
        422,
        "validation_error",
    )


async def test_erasure_cancels_running_jobs_and_leaves_no_row(client, api, student, simulator):
    bystander = await onboard_student(client, simulator, name="Bystander")
    await planned(client, bystander.headers, ESSAY)
    before_bystander = await client.get("/me/export", headers=bystander.headers)

    await with_history(client, student.headers, ESSAY)
    user_id = (await client.get("/me", headers=student.headers)).json()["id"]
    with gated_engine(api.runtime) as gate:
        await client.post(f"{ESSAY}/start?reprocess=true", headers=student.headers)
        await asyncio.wait_for(gate.arrived.wait(), 10)
        workspace_ids = [
            w["workspace_id"]
            for w in (await client.get("/assignments", headers=student.headers)).json()["items"]
        ]
        job_ids = list(
            await ProcessingJob.filter(workspace_id__in=workspace_ids).values_list("id", flat=True)
        )
        running = await ProcessingJob.get(workspace_id__in=workspace_ids, status=JobStatus.RUNNING)
        assert (await client.delete("/me", headers=student.headers)).status_code == 204
        gate.release.set()  # the cancelled job wakes up and must write nothing
        await asyncio.sleep(0.3)
    assert await rows_referring_to(user_id, workspace_ids, job_ids) == {}
    assert not await ProcessingJob.exists(id=running.id)
    assert_error(await client.get("/me", headers=student.headers), 401, "invalid_token")
    after_bystander = await client.get("/me/export", headers=bystander.headers)
    assert json.loads(after_bystander.text) == json.loads(before_bystander.text)
