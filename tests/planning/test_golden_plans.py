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
from pathlib import Path
from typing import Any

import pytest

from models.context import SourceContext
from tests.planning.contexts import ALL_CONTEXTS
from tests.planning.offline_plans import ASSIGNMENTS, planned

GOLDEN_DIR = Path(__file__).parent / "golden"


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
