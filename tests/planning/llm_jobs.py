"""Plan jobs through the API as the LLM planning tests run them, and what they store: the
job, the plan and the context of version 1, the checks every engine's essay plan passes,
and an assignment added to the simulator's course 101."""

from __future__ import annotations

from typing import Any

from models.context import SourceContext
from models.db import PlanVersion, ProcessingJob
from models.plan import Plan
from server.text.grounding import find_quote, grounding_corpus
from tests.conftest import read_stream

ESSAY = "/assignments/101/1001"
RUBRIC_IDS = ["_1001_thesis", "_1001_evidence", "_1001_organization", "_1001_style"]


async def plan_job(client, student, path: str = ESSAY) -> tuple[dict[str, Any], list[Any]]:
    started = await client.post(f"{path}/start", headers=student.headers)
    assert started.status_code == 202, started.text
    events = await read_stream(client, f"{path}/events", headers=student.headers)
    return (await client.get(path, headers=student.headers)).json(), events[1:]


async def job_of(workspace: dict[str, Any]) -> ProcessingJob:
    return await ProcessingJob.get(id=workspace["latest_plan_job"]["id"])


async def stored(workspace: dict[str, Any]) -> tuple[Plan, SourceContext]:
    version = await PlanVersion.get(workspace_id=workspace["workspace_id"], version=1)
    return Plan.model_validate(version.plan_blob), SourceContext.model_validate(
        version.context_blob
    )


def assert_sound_essay_plan(plan: Plan, context: SourceContext) -> None:
    """What every engine's essay plan must satisfy after verification."""
    summary = plan.assignment_summary
    assert summary.title == "Argumentative Essay"
    assert plan.milestones and all(m.tasks for m in plan.milestones)
    assert any("1,500" in c or "1500" in c for c in summary.hard_constraints)
    assert [m.order for m in plan.milestones] == list(range(1, len(plan.milestones) + 1))
    report = plan.verification
    assert report is not None and report.uncovered_criteria == []
    covered = {c for m in plan.milestones for c in m.covers_criteria}
    assert covered >= set(RUBRIC_IDS)
    corpus = grounding_corpus(context)
    for section in ("hard_constraints", "grading_signals"):
        for index in range(len(getattr(summary, section))):
            pointer = f"/assignment_summary/{section}/{index}"
            backing = [r for r in plan.source_references if r.pointer == pointer]
            assert backing, f"{pointer} has no quote"
            for reference in backing:
                span = find_quote(reference.quote, corpus[reference.source_id])
                assert span == (reference.start, reference.end), reference
    assert_every_task_says_what_it_serves(plan)
    due = context.assignment.due_at
    assert due is not None
    for m in plan.milestones:
        assert m.suggested_date is not None
        assert context.fetched_at.date() <= m.suggested_date <= due.date()


def assert_every_task_says_what_it_serves(plan: Plan) -> None:
    """Every hard constraint and rubric criterion is served by a task, every id served
    exists in the plan, and a milestone serves what its tasks serve."""
    known = [*plan.assignment_summary.hard_constraint_ids, *(c.id for c in plan.rubric_criteria)]
    assert len(plan.assignment_summary.hard_constraint_ids) == len(
        plan.assignment_summary.hard_constraints
    )
    assert {c.id for c in plan.rubric_criteria} == set(RUBRIC_IDS)
    served = [ref for task in plan.tasks() for ref in task.serves]
    assert set(served) == set(known)
    for m in plan.milestones:
        assert set(m.serves) >= {ref for task in m.tasks for ref in task.serves}
        assert set(m.serves) <= set(known)


def add_assignment(simulator, assignment_id: int, description: str, **extra: Any) -> str:
    simulator.state.assignments[assignment_id] = {
        "id": assignment_id,
        "course_id": 101,
        "name": "Reflection with a planted instruction",
        "assignment_group_id": 11,
        "description": description,
        "due_at": "+14d23:59",
        "points_possible": 20,
        "submission_types": ["online_text_entry"],
        "rubric": [],
        **extra,
    }
    return f"/assignments/101/{assignment_id}"
