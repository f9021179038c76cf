from typing import Any

import pytest
from pydantic import ValidationError

from models.plan import Plan


def _task(task_id: str, depends_on: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": task_id,
        "title": f"Task {task_id}",
        "description": "Do the thing.",
        "deliverable": "The thing",
        "done_definition": "The thing is done",
        "estimated_effort": "~30 min",
        "depends_on": depends_on or [],
    }


def _milestone(milestone_id: str, order: int, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": milestone_id,
        "title": f"Milestone {milestone_id}",
        "purpose": "Move the work forward.",
        "acceptance_criteria": ["It is done"],
        "due_strategy": "Finish early",
        "order": order,
        "tasks": tasks,
    }


def _plan(milestones: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "assignment_summary": {
            "title": "Essay",
            "objective": "Write an essay.",
            "success_definition": "A good essay.",
            "hard_constraints": ["Your essay must be 1,500 words."],
            "grading_signals": ["Thesis: 10 points"],
        },
        "milestones": milestones,
        "risks": [{"risk": "Little time", "impact": "Rushed work", "mitigation": "Start now"}],
        "submission_strategy": {
            "final_checklist": ["Submitted"],
            "quality_bar": "Top rating everywhere.",
            "common_failure_modes": ["Late"],
        },
        "generated_by": {"engine": "test", "model": None, "heuristic": True},
    }


def _valid_milestones() -> list[dict[str, Any]]:
    return [
        _milestone("m1", 1, [_task("m1-t1"), _task("m1-t2", ["m1-t1"])]),
        _milestone("m2", 2, [_task("m2-t1", ["m1-t2"])]),
    ]


def test_valid_plan_has_design_fields_and_defaults():
    plan = Plan.model_validate(_plan(_valid_milestones()))
    assert plan.schema_version == 1
    assert plan.source_references == []
    assert plan.verification is None
    assert [task.id for task in plan.tasks()] == ["m1-t1", "m1-t2", "m2-t1"]
    assert plan.milestones[0].suggested_date is None


def test_duplicate_milestone_ids_are_rejected():
    milestones = _valid_milestones()
    milestones[1]["id"] = "m1"
    with pytest.raises(ValidationError, match="duplicate milestone id: m1"):
        Plan.model_validate(_plan(milestones))


def test_task_ids_must_be_unique_across_the_plan():
    milestones = _valid_milestones()
    milestones[1]["tasks"][0]["id"] = "m1-t1"
    milestones[1]["tasks"][0]["depends_on"] = []
    with pytest.raises(ValidationError, match="duplicate task id: m1-t1"):
        Plan.model_validate(_plan(milestones))


def test_duplicate_orders_are_rejected():
    milestones = _valid_milestones()
    milestones[1]["order"] = 1
    with pytest.raises(ValidationError, match="duplicate milestone order: 1"):
        Plan.model_validate(_plan(milestones))


def test_dangling_dependency_is_rejected():
    milestones = _valid_milestones()
    milestones[1]["tasks"][0]["depends_on"] = ["m9-t9"]
    with pytest.raises(ValidationError, match=r"m2-t1 depends on unknown task\(s\): m9-t9"):
        Plan.model_validate(_plan(milestones))


def test_dependency_cycle_is_rejected():
    milestones = _valid_milestones()
    milestones[0]["tasks"][0]["depends_on"] = ["m2-t1"]
    with pytest.raises(ValidationError, match="task dependencies form a cycle"):
        Plan.model_validate(_plan(milestones))


def test_self_dependency_is_a_cycle():
    milestones = _valid_milestones()
    milestones[0]["tasks"][0]["depends_on"] = ["m1-t1"]
    with pytest.raises(ValidationError, match="cycle: m1-t1 -> m1-t1"):
        Plan.model_validate(_plan(milestones))


def test_draft_allows_what_verification_repairs_but_not_duplicate_ids():
    milestones = _valid_milestones()
    milestones[1]["order"] = 1
    milestones[1]["tasks"][0]["depends_on"] = ["m9-t9"]
    draft = Plan.draft(_plan(milestones))
    assert draft.milestones[1].tasks[0].depends_on == ["m9-t9"]
    milestones[1]["id"] = "m1"
    with pytest.raises(ValidationError, match="duplicate milestone id"):
        Plan.draft(_plan(milestones))


def test_empty_text_and_unsafe_ids_are_rejected():
    blank = _plan(_valid_milestones())
    blank["assignment_summary"]["objective"] = "   "
    with pytest.raises(ValidationError, match="must not be empty"):
        Plan.model_validate(blank)
    unsafe = _valid_milestones()
    unsafe[0]["id"] = "m 1/x"
    with pytest.raises(ValidationError, match="pattern"):
        Plan.model_validate(_plan(unsafe))


def test_plan_needs_at_least_one_milestone():
    with pytest.raises(ValidationError, match="at least 1 item"):
        Plan.model_validate(_plan([]))


def test_json_schema_publishes_the_design_contract():
    schema = Plan.model_json_schema()
    definitions = schema["$defs"]
    assert {"assignment_summary", "milestones", "risks", "submission_strategy"} <= set(
        schema["properties"]
    )
    assert {"source_references", "verification", "generated_by", "schema_version"} <= set(
        schema["properties"]
    )
    assert set(definitions["Task"]["properties"]) >= {
        "id",
        "title",
        "description",
        "deliverable",
        "done_definition",
        "estimated_effort",
        "depends_on",
    }
    assert set(definitions["Milestone"]["properties"]) >= {
        "id",
        "title",
        "purpose",
        "acceptance_criteria",
        "due_strategy",
        "order",
        "tasks",
        "suggested_date",
        "covers_criteria",
    }
    assert set(definitions["SubmissionStrategy"]["properties"]) == {
        "final_checklist",
        "quality_bar",
        "common_failure_modes",
    }


def test_plan_round_trips_through_json():
    plan = Plan.model_validate(_plan(_valid_milestones()))
    assert Plan.model_validate_json(plan.model_dump_json()) == plan
