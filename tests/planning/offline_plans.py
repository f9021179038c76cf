"""The offline engine's plans as a planning job makes them: each assignment of the Canvas
simulator fetched the way a job fetches it, at a pinned clock (``NOW``), and a context's
requirements and plan as ``finalize_plan`` stores the plan. The golden plans, the Spanish
audit and the planning fixtures (``conftest.py``) share them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devkit import canvas_simulator
from devkit.canvas_simulator import RunningSimulator, load_state
from models.context import SourceContext
from server.canvas.client import CanvasClient
from server.documents.extractor import DocumentExtractor
from server.documents.limits import ExtractionLimits
from server.planning.ai_policy import apply_ai_policy
from server.planning.milestone_dates import schedule_milestones
from server.planning.offline import OfflineEngine
from server.planning.pipeline import (
    AttachmentFetcher,
    fetch_and_parse_attachments,
    fetch_canvas_context,
    plan_sources,
)
from server.planning.verification import verify_against_source
from server.text.ai_policy import recognize_ai_policy
from tests.conftest import make_settings

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday morning
ASSIGNMENTS = sorted(
    (str(assignment["course_id"]), str(assignment_id))
    for assignment_id, assignment in load_state().assignments.items()
)


class RecordedWarnings:
    """Stands in for the job's context, whose only use here is recording warnings (the
    job's events are not what this test freezes)."""

    def __init__(self) -> None:
        self.warnings: list[dict[str, Any]] = []

    async def warn(self, warning: dict[str, Any]) -> None:
        self.warnings.append(warning)


async def simulator_context(
    simulator: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    course_id: str,
    assignment_id: str,
) -> SourceContext:
    """The assignment's context as a planning job builds it, fetched at ``NOW`` from a
    simulator whose clock is ``NOW``."""
    monkeypatch.setattr(canvas_simulator, "simulator_now", lambda: NOW)
    monkeypatch.setattr(simulator.state, "clock_origin", NOW)
    settings = make_settings(tmp_path, None)
    async with (
        CanvasClient.from_settings(simulator.base_url, simulator.demo_token, settings) as canvas,
        DocumentExtractor(ExtractionLimits.from_settings(settings), workers=1) as extractor,
    ):
        assignment = await fetch_canvas_context(canvas, course_id, assignment_id)
        # The fetcher reads only the runtime's settings and extractor.
        runtime = SimpleNamespace(settings=settings, extractor=extractor)
        fetcher = AttachmentFetcher(runtime, canvas, RecordedWarnings())
        context = await fetch_and_parse_attachments(fetcher, assignment)
    return context.model_copy(update={"fetched_at": NOW})


async def planned(context: SourceContext) -> dict[str, Any]:
    """The offline engine's requirements and plan, as ``finalize_plan`` stores the plan."""
    engine = OfflineEngine()
    requirements = await engine.distill(context)
    plan = verify_against_source(await engine.draft_plan(context, requirements), context)
    plan = plan.model_copy(update={"sources": plan_sources(context)})
    plan = apply_ai_policy(plan, recognize_ai_policy(context), plan.language or "en")
    plan = schedule_milestones(plan, context.assignment, context.fetched_at)
    return {
        "requirements": requirements.model_dump(mode="json"),
        "plan": plan.model_dump(mode="json"),
    }
