"""Fixtures of the planning tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio

from devkit.canvas_simulator import RunningSimulator
from models.context import SourceContext
from tests.planning.offline_plans import ASSIGNMENTS, simulator_context


@pytest_asyncio.fixture(params=ASSIGNMENTS, ids="-".join)
async def assignment_context(
    request: pytest.FixtureRequest,
    simulator: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> SourceContext:
    """Each assignment of the Canvas simulator, as a planning job fetches it."""
    course_id, assignment_id = request.param
    return await simulator_context(simulator, tmp_path, monkeypatch, course_id, assignment_id)
