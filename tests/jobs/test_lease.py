"""The lease keeper renews on a timer and on news that may mean its job was taken away,
not on the job's own progress events (each of those was written under the job's fence).

``_renew`` (one UPDATE) is replaced by a counter here: what is tested is when the keeper
asks, not the database write, which tests/production and tests/workspaces exercise."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from jobs import lease
from server.kernel.bus import LocalEventBus

WORKSPACE = 7


async def _settled() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_own_progress_does_not_renew_other_news_does(monkeypatch: pytest.MonkeyPatch) -> None:
    renewals: list[bool] = []
    answers = iter([True, True, True, False])

    async def renew(job: Any, seconds: float) -> bool:
        renewals.append(True)
        return next(answers)

    monkeypatch.setattr(lease, "_renew", renew)
    job = SimpleNamespace(id=uuid.uuid4(), workspace_id=WORKSPACE)
    bus = LocalEventBus()
    rt = SimpleNamespace(settings=SimpleNamespace(job_lease_seconds=30.0), bus=bus)
    lost = asyncio.Event()
    keeper = asyncio.create_task(lease._hold_lease(rt, job, lost))  # type: ignore[arg-type]
    await _settled()
    assert len(renewals) == 1  # on start

    own = {"job_id": str(job.id), "status": "running", "event_type": "stage_started"}
    for _ in range(3):
        await bus.notify(WORKSPACE, own)
    await _settled()
    assert len(renewals) == 1

    # This job's own event that it no longer runs (a reaper's retry), a deletion's bare
    # wake-up, and another job's event (a reprocess's successor) each renew at once.
    await bus.notify(WORKSPACE, {**own, "status": "queued"})
    await _settled()
    await bus.notify(WORKSPACE, None)
    await _settled()
    assert len(renewals) == 3
    await bus.notify(WORKSPACE, {"job_id": str(uuid.uuid4()), "status": "queued"})
    await _settled()
    assert len(renewals) == 4 and lost.is_set()  # the fourth renewal found the job gone
    await keeper
