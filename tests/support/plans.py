"""A ready plan to test against: an assignment (the simulator's essay, course 101,
assignment 1001, by default) planned through the API, one milestone's progress in an
answer, and a reprocess that waits for the new plan."""

from __future__ import annotations

from typing import Any

from tests.conftest import wait_for_status

ESSAY = "/assignments/101/1001"


async def ready_plan(client: Any, headers: dict[str, str], path: str = ESSAY) -> dict[str, Any]:
    """The plan of an assignment started now (202), once ready."""
    started = await client.post(f"{path}/start", headers=headers)
    assert started.status_code == 202, started.text
    ready = await wait_for_status(client, path, headers, {"ready", "failed"})
    assert ready["status"] == "ready", ready
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
