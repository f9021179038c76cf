"""The audit of a Spanish offline plan: for every assignment of the Canvas simulator and
every hand-written context of the engine's tests, the plan a Spanish student gets has no
English left in its prose (``tests/support/english_words.txt``), apart from what the
sources say in their own words: quotes, rubric names, file names, Canvas's own texts.

What is known to stay English is left out by name, so the test fails on anything new:
``sources[].reason`` and the messages of unreadable files quoted in risks come from the
documents domain, whose messages are English (README, "Not built yet").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from models.context import SourceContext
from server.text.sentences import sentence_spans
from tests.planning.contexts import ALL_CONTEXTS
from tests.planning.offline_plans import planned
from tests.support.english_words import english_left


def source_texts(context: SourceContext, requirements: dict[str, Any]) -> Iterator[str]:
    """What the plan may repeat in the sources' own language."""
    assignment = context.assignment
    yield from (assignment.title, assignment.course_name or "", assignment.group_name or "")
    if assignment.lock is not None:
        yield from (assignment.lock.explanation or "", assignment.lock.module_name or "")
    for document in context.documents:
        yield document.name
        yield from (document.text[start:end] for start, end in sentence_spans(document.text))
    for item in requirements["items"]:
        yield from (item["text"], item["quote"])
    for criterion in context.rubric:
        yield from (criterion.description.strip(), criterion.long_description.strip())
        for rating in criterion.ratings:
            yield from (rating.description.strip(), rating.long_description.strip())
    yield from (warning.message for warning in context.warnings)  # the documents domain's


async def assert_spanish(context: SourceContext) -> dict[str, Any]:
    produced = await planned(context.model_copy(update={"language": "es"}))
    plan = produced["plan"]
    assert plan["language"] == "es"
    verbatim = list(source_texts(context, produced["requirements"]))
    left = english_left({**plan, "sources": []}, verbatim)
    left |= english_left({"notes": produced["requirements"]["notes"]}, verbatim)
    assert not left, {pointer: (words, _at(produced, pointer)) for pointer, words in left.items()}
    return plan


def _at(produced: dict[str, Any], pointer: str) -> Any:
    node: Any = {**produced["plan"], **produced["requirements"]}
    for key in pointer.strip("/").split("/"):
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


async def test_a_spanish_plan_of_every_simulator_assignment_has_no_english_of_its_own(
    assignment_context: SourceContext,
) -> None:
    await assert_spanish(assignment_context)


@pytest.mark.parametrize("make_context", ALL_CONTEXTS, ids=lambda make: make.__name__)
async def test_a_spanish_plan_of_every_engine_test_context_has_no_english_of_its_own(
    make_context: Callable[[], SourceContext],
) -> None:
    await assert_spanish(make_context())


def test_the_scan_finds_english_a_spanish_plan_must_not_have() -> None:
    plan = {
        "milestones": [{"due_strategy": "Termina antes del lun 2 mar 2026", "id": "m1"}],
        "risks": [{"risk": "Only about 5 hours until the deadline: “Do not use Wikipedia”"}],
    }
    assert english_left(plan, ["Do not use Wikipedia."]) == {
        "/risks/0/risk": ["about", "only", "the"]
    }


@pytest.mark.parametrize("make_context", ALL_CONTEXTS, ids=lambda make: make.__name__)
async def test_a_spanish_success_definition_agrees_with_any_deliverable(
    make_context: Callable[[], SourceContext],
) -> None:
    # "una reflexión terminada ..., entregado antes de ..." did not agree: the deadline is
    # said of the handing in, not of the deliverable.
    plan = await assert_spanish(make_context())
    definition = plan["assignment_summary"]["success_definition"]
    assert "entregado antes" not in definition
    if plan["schedule"]["due_on"] is not None:
        assert ", con la entrega antes de " in definition
