"""A ready plan to test against: the simulator's essay (course 101, assignment 1001)
planned through the API, one milestone's progress in an answer, and a reprocess that
waits for the new plan.

``planned`` is a copy of ``ready_plan`` that takes the Student and a path (and checks the
202 and the 200 too), as the student-clock tests wrote it; ``tests.feedback.jobs`` has a
third, ``ready_plan(client, student, path)``. They are kept as they were, not merged."""

from __future__ import annotations

from typing import Any

from tests.conftest import Student, wait_for_status

ESSAY = "/assignments/101/1001"


async def ready_plan(client: Any, headers: dict[str, str], path: str = ESSAY) -> dict[str, Any]:
    await client.post(f"{path}/start", headers=headers)
    assert (await wait_for_status(client, path, headers, {"ready", "failed"}))["status"] == "ready"
    response = await client.get(f"{path}/plan", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def milestone_of(progress: dict[str, Any], milestone_id: str) -> dict[str, Any]:
    """One milestone's progress, from a plan's ``progress`` or a PATCH answer."""
    return next(m for m in progress["milestones"] if m["milestone_id"] == milestone_id)


async def reprocess(client: Any, headers: dict[str, str], path: str = ESSAY) -> None:
    started = await client.post(f"{path}/start?reprocess=true", headers=headers)
    assert started.status_code == 202, started.text
    assert (await wait_for_status(client, path, headers, {"ready", "failed"}))["status"] == "ready"


async def planned(client: Any, student: Student, path: str) -> dict[str, Any]:
    started = await client.post(f"{path}/start", headers=student.headers)
    assert started.status_code == 202, started.text
    ready = await wait_for_status(client, path, student.headers, {"ready", "failed"})
    assert ready["status"] == "ready", ready
    response = await client.get(f"{path}/plan", headers=student.headers)
    assert response.status_code == 200, response.text
    return response.json()
