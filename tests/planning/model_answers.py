"""What the scripted model answers for the simulator's essay (assignment 1001): a plan with
real quotes and a few a model gets wrong, the verify call's repairs, and a plan for a
one-rule reflection."""

from __future__ import annotations

from typing import Any


def quoted(text: str, quote: str, source_id: str) -> dict[str, str]:
    return {"text": text, "quote": quote, "source_id": source_id}


def task(
    task_id: str,
    title: str,
    depends_on: list[str],
    minutes: int = 60,
    serves: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "serves": serves or [],
        "id": task_id,
        "title": title,
        "description": f"{title}, for this essay.",
        "deliverable": title,
        "done_definition": f"{title}: done and checked",
        "estimated_effort": f"~{minutes} min",
        "estimated_minutes": minutes,
        "depends_on": depends_on,
    }


def milestone(
    milestone_id: str, title: str, covers: list[str], tasks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": milestone_id,
        "title": title,
        "purpose": f"{title} so the next step has what it needs.",
        "acceptance_criteria": [f"{title} is complete"],
        "due_strategy": "Leave time for the steps after it",
        "covers_criteria": covers,
        "tasks": tasks,
    }


# Real quotes, plus what a model gets wrong: a quote from the prompt PDF attributed to the
# description, a changed number, an invented rule and an invented grading signal.
HARD_CONSTRAINTS = [
    quoted("1,500–2,000 words", "Your final essay must be 1,500–2,000 words.", "description"),
    quoted(
        "At least five scholarly sources, cited in APA 7th edition",
        "You must cite at least five scholarly sources in APA 7th edition format.",
        "description",
    ),
    quoted(
        "Address at least one counterargument",
        "Address at least one counterargument and explain why your position still holds.",
        "description",
    ),
    quoted("Late work loses 15% per day", "Late submissions lose 10% per day.", "file:501"),
    quoted("Include a 250-word abstract", "Begin the essay with a 250-word abstract.", "file:501"),
    quoted(
        "Submit a .docx or .pdf file", "Submit your essay as a .docx or .pdf file.", "description"
    ),
]
GRADING_SIGNALS = [
    quoted("Thesis & Argument: 30 points", "Thesis & Argument", "rubric"),
    quoted("Evidence & Sources: 30 points", "Evidence & Sources", "rubric"),
    quoted("Organization: 20 points", "Organization", "rubric"),
    quoted("Style & Mechanics (APA): 20 points", "Style & Mechanics (APA)", "rubric"),
    quoted("Creativity: 25 points", "Creativity counts for a quarter of the grade.", "rubric"),
]
LATE, ABSTRACT, CREATIVITY = (
    "/assignment_summary/hard_constraints/3",
    "/assignment_summary/hard_constraints/4",
    "/assignment_summary/grading_signals/4",
)


def essay_plan() -> dict[str, Any]:
    return {
        "assignment_summary": {
            "title": "Argumentative Essay",
            "objective": "Take a position on a debatable question about technology in "
            "education and defend it with scholarly evidence.",
            "success_definition": "A 1,500–2,000 word essay that argues one clear thesis.",
            "hard_constraints": HARD_CONSTRAINTS,
            "grading_signals": GRADING_SIGNALS,
        },
        "milestones": [
            milestone(
                "m1",
                "Choose a question and a thesis",
                ["_1001_thesis"],
                [
                    task("t1", "Pick a debatable question", []),
                    task("t2", "Write a thesis", ["t1"], serves=["_1001_thesis"]),
                ],
            ),
            milestone(
                "m2",
                "Find and read sources",
                ["_1001_evidence"],
                [
                    task(
                        "t3",
                        "Find five peer-reviewed sources",
                        ["t2"],
                        120,
                        ["hc2", "_1001_evidence"],
                    )
                ],
            ),
            milestone(
                "m3",
                "Outline the argument",
                ["_1001_organization"],
                [task("t4", "Outline with a counterargument", ["t3"], serves=["hc3", "hc9"])],
            ),
            milestone(
                "m4",
                "Draft",
                ["_1001_thesis", "_1001_evidence"],
                [task("t5", "Write the full draft", ["t4"], 240, ["hc1", "_1001_organization"])],
            ),
            milestone(
                "m5",
                "Revise and submit",
                ["_1001_style"],
                [
                    task("t6", "Revise and check APA citations", ["t5"], 90, ["_1001_style"]),
                    task("t7", "Submit the .docx", ["t6"], 15, ["hc4", "hc6"]),
                ],
            ),
        ],
        "risks": [
            {
                "risk": "Sources take longer to find than expected",
                "impact": "Less time to write",
                "mitigation": "Start the library search in the first week",
            }
        ],
        "submission_strategy": {
            "final_checklist": ["1,500–2,000 words", "Five APA citations"],
            "quality_bar": "Top rating on every rubric criterion",
            "common_failure_modes": ["Summarising sources instead of arguing"],
        },
    }


def essay_answer(plan: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "requirements": [
            {
                "kind": "length",
                "text": "1,500–2,000 words",
                "quote": "Your final essay must be 1,500–2,000 words.",
                "source_id": "description",
                "rubric_criterion_id": None,
            }
        ],
        "plan": plan or essay_plan(),
    }


def repair(pointer: str, quote: str | None, source_id: str | None, text: str | None = None):
    return {
        "pointer": pointer,
        "supported": quote is not None,
        "quote": quote,
        "source_id": source_id,
        "corrected_text": text,
    }


# The verify call: backs the changed number (with corrected wording), cannot back the
# invented rule, and invents a quote for the invented grading signal.
ESSAY_REPAIRS = {
    "repairs": [
        repair(
            LATE, "Late submissions lose 10% per day.", "file:501", "Late work loses 10% per day"
        ),
        repair(ABSTRACT, None, None),
        repair(CREATIVITY, "Creativity is worth 25 points.", "rubric"),
    ]
}


def reflection_plan() -> dict[str, Any]:
    plan = essay_plan()
    plan["assignment_summary"] = {
        "title": "Reflection with a planted instruction",
        "objective": "Reflect on one week of using a study technique.",
        "success_definition": "A 300-word reflection.",
        "hard_constraints": [
            quoted(
                "300 words", "Write a 300-word reflection on one study technique.", "description"
            )
        ],
        "grading_signals": [],
    }
    for m in plan["milestones"]:
        m["covers_criteria"] = []
    return plan
