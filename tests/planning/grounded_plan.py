"""A small, valid, fully grounded plan, as the dict a model would answer, over the context of
``test_verification`` (its ``_context()``); the AI-policy tests reuse it."""

from __future__ import annotations

from typing import Any


def _task(
    task_id: str, title: str, depends_on: list[str] | None = None, serves: list[str] | None = None
) -> dict[str, Any]:
    return {
        "serves": serves or [],
        "id": task_id,
        "title": title,
        "description": f"{title}.",
        "deliverable": title,
        "done_definition": f"{title} done",
        "estimated_effort": "~1 h",
        "depends_on": depends_on or [],
    }


def _plan_data() -> dict[str, Any]:
    """A small, valid, fully grounded plan over ``_context()``."""
    return {
        "assignment_summary": {
            "title": "Essay",
            "objective": "Write an argumentative essay.",
            "success_definition": "A strong essay.",
            "hard_constraints": [
                "Your essay must be 1,500–2,000 words.",
                "Do not use Wikipedia as a source.",
                "Cite at least five peer-reviewed sources in APA 7th edition format.",
            ],
            "grading_signals": ["Evidence & Sources: 40 of 100 points", "Argument: 40 points"],
        },
        "milestones": [
            {
                "id": "m1",
                "title": "Research sources",
                "purpose": "Find peer-reviewed sources.",
                "acceptance_criteria": ["Five sources found"],
                "due_strategy": "Early",
                "order": 1,
                "tasks": [_task("m1-t1", "Find peer-reviewed sources", None, ["hc2", "hc3", "c1"])],
                "covers_criteria": ["c1"],
            },
            {
                "id": "m2",
                "title": "Write the draft",
                "purpose": "Draft the essay.",
                "acceptance_criteria": ["Meets rubric criterion 'Argument'"],
                "due_strategy": "Middle",
                "order": 2,
                "tasks": [_task("m2-t1", "Draft the essay", ["m1-t1"], ["hc1", "c2", "c3"])],
                "covers_criteria": ["c3"],
            },
            {
                "id": "m3",
                "title": "Submit",
                "purpose": "Hand it in.",
                "acceptance_criteria": ["Submitted"],
                "due_strategy": "Due date",
                "order": 3,
                "tasks": [_task("m3-t1", "Upload the file", ["m2-t1"])],
            },
        ],
        "risks": [],
        "submission_strategy": {
            "final_checklist": ["Submitted"],
            "quality_bar": "Top marks.",
            "common_failure_modes": ["Late"],
        },
        "source_references": [
            {
                "pointer": "/assignment_summary/hard_constraints/0",
                "quote": "Your essay must be 1,500–2,000 words.",
                "source_id": "description",
            },
            {
                "pointer": "/assignment_summary/hard_constraints/1",
                "quote": "Do not use Wikipedia as a source.",
                "source_id": "description",
            },
            {
                "pointer": "/assignment_summary/hard_constraints/2",
                "quote": "Cite at least five peer-reviewed sources in APA 7th edition format.",
                "source_id": "file:501",
            },
            {
                "pointer": "/assignment_summary/grading_signals/0",
                "quote": "Evidence & Sources",
                "source_id": "rubric",
            },
            {
                "pointer": "/assignment_summary/grading_signals/1",
                "quote": "Argument",
                "source_id": "rubric",
            },
        ],
        "generated_by": {"engine": "test", "model": None, "heuristic": True},
    }
