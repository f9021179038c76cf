"""Golden plans: the offline engine's output for every assignment of the Canvas simulator,
frozen in ``tests/planning/golden/<assignment id>.json``.

Restructuring the engine (moving code, turning templates into data) must not change a
plan; a change that is meant to change plans regenerates the files and the diff shows
every sentence that moved::

    UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/planning/test_golden_plans.py -p no:cacheprovider

For the simulator's assignments (``<assignment id>.json``) the context is built the way a
planning job builds it: the real simulator over HTTP, the real Canvas client, the
pipeline's own fetch stages and the document extractor's worker processes. Then the
engine's stages (distill, draft), verification, the plan's sources and the milestone
schedule, as ``finalize_plan`` stores them. The hand-written contexts of the engine's
unit tests (``context-<name>.json``) add what the simulator lacks: an assignment of no
known kind, no due date, a truncated file.

Nothing in a Plan records when it was generated (no timestamp field to exclude); what
depends on the clock is pinned instead: the simulator's clock is ``NOW``, so its relative
dates ("+21d23:59") and lock states resolve against it, and the context's ``fetched_at``
(the engine's "now", from which the schedule is worked back) is ``NOW``. The hand-written
contexts carry their own fixed ``fetched_at``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
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
from tests.planning.test_offline_engine import ALL_CONTEXTS

GOLDEN_DIR = Path(__file__).parent / "golden"
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


def _compare_with_golden(produced: dict[str, Any], name: str) -> None:
    golden = GOLDEN_DIR / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN_DIR.mkdir(exist_ok=True)
        text = json.dumps(produced, indent=2, ensure_ascii=False, sort_keys=True)
        golden.write_text(text + "\n", encoding="utf-8")
    assert golden.is_file(), f"{golden.name} is missing: run with UPDATE_GOLDEN=1"
    frozen = json.loads(golden.read_text(encoding="utf-8"))
    assert produced["requirements"] == frozen["requirements"]
    assert produced["plan"] == frozen["plan"]


async def test_simulator_plans_match_the_frozen_ones(assignment_context: SourceContext) -> None:
    produced = await planned(assignment_context)
    _compare_with_golden(produced, assignment_context.assignment.assignment_id)


@pytest.mark.parametrize("make_context", ALL_CONTEXTS, ids=lambda make: make.__name__)
async def test_unit_test_context_plans_match_the_frozen_ones(
    make_context: Callable[[], SourceContext],
) -> None:
    produced = await planned(make_context())
    _compare_with_golden(produced, f"context-{make_context.__name__}")


def test_every_golden_file_is_checked() -> None:
    frozen = sorted(path.stem for path in GOLDEN_DIR.glob("*.json"))
    expected = [assignment_id for _, assignment_id in ASSIGNMENTS]
    expected += [f"context-{make.__name__}" for make in ALL_CONTEXTS]
    assert frozen == sorted(expected)
