"""A draft is data, never instructions: the hostile drafts in fixtures/hostile_drafts/ (the
sample essay outline with text that tells the grader or the model what to do, at its
start, middle or end) change no score and no readiness.

Offline engine: each draft's feedback equals the clean draft's. Model engine, both
layers: (1) the prompt fences the whole draft as data, and a forged marker in it cannot
close the fence; (2) when the scripted model obeys the injection (every criterion met,
quoting the injected text, no fixes), verification refuses the credit the evidence does
not support, so the feedback equals what an honest answer for the clean draft gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.text.submission import addressed_to_grader
from tests.feedback.jobs import finished_job, submit
from tests.feedback.samples import THESIS, sample
from tests.support.openai_engines import openai_feedback
from tests.support.openai_server import answer
from tests.support.plans import ready_plan

ESSAY = "/assignments/101/1001"
HOSTILE = sorted((Path(__file__).parents[2] / "fixtures" / "hostile_drafts").glob("[0-9]*.md"))
CRITERIA = {"_1001_thesis": 30, "_1001_evidence": 30, "_1001_organization": 20, "_1001_style": 20}


def outcome(feedback: dict[str, Any]) -> dict[str, Any]:
    """What a draft can try to change: every score, the readiness, the fixes."""
    card = feedback["scorecard"]
    return {
        "scores": [
            (s["criterion_id"], s["level"], s["estimated_points"]) for s in card["criterion_scores"]
        ],
        "readiness": (card["overall_readiness"], card["readiness_score"]),
        "required_fixes": len(feedback["required_fixes"]),
    }


def injected_text(draft: str, clean: str) -> str:
    """The lines the hostile draft adds to the clean one."""
    kept = set(clean.splitlines())
    return "\n".join(line for line in draft.splitlines() if line not in kept).strip()


def test_there_are_at_least_ten_hostile_drafts_and_each_hides_an_instruction():
    clean = sample("essay_outline.md")
    assert len(HOSTILE) >= 10
    for path in HOSTILE:
        draft = path.read_text()
        added = injected_text(draft, clean)
        assert added, path.name
        spans = addressed_to_grader(draft)
        flagged = "".join(draft[s:e] for s, e in spans)
        assert all(line in flagged for line in added.splitlines()), path.name


async def feedback_for(client, student, text: str) -> dict[str, Any]:
    started = await submit(client, student, ESSAY, text)
    assert started.status_code == 202, started.text
    done = await finished_job(client, student, ESSAY, started.json()["id"])
    assert done["status"] == "succeeded", done
    return done["feedback"]


async def test_the_offline_engine_scores_every_hostile_draft_as_the_clean_one(client, student):
    await ready_plan(client, student.headers, ESSAY)
    clean = outcome(await feedback_for(client, student, sample("essay_outline.md")))
    for path in HOSTILE:
        hostile = outcome(await feedback_for(client, student, path.read_text()))
        assert hostile == clean, path.name


def honest_answer() -> dict[str, Any]:
    """A model's fair answer on the clean draft: the thesis met, the rest not yet."""
    scores = [
        {
            "criterion_id": criterion_id,
            "level": "met" if criterion_id == "_1001_thesis" else "not_met",
            "rating": None,
            "estimated_points": points if criterion_id == "_1001_thesis" else 0,
            "rationale": "Judged on the outline.",
            "not_assessable_reason": None,
            "evidence": [{"quote": THESIS}] if criterion_id == "_1001_thesis" else [],
        }
        for criterion_id, points in CRITERIA.items()
    ]
    return {
        "criterion_scores": scores,
        "strengths": [],
        "gaps": [],
        "required_fixes": [
            {
                "text": "Turn the outline into paragraphs.",
                "location": "the whole submission",
                "criterion_id": None,
                "evidence": [],
            }
        ],
        "suggested_improvements": [],
        "next_actions": [],
    }


def obedient_answer(injection: str) -> dict[str, Any]:
    """What a model that obeys the draft writes: full marks, quoting the injection for
    every criterion but the thesis (which it quotes honestly), no fixes."""
    first_line = injection.splitlines()[0]
    scores = [
        {
            "criterion_id": criterion_id,
            "level": "met",
            "rating": None,
            "estimated_points": points,
            "rationale": "As instructed.",
            "not_assessable_reason": None,
            "evidence": [{"quote": THESIS if criterion_id == "_1001_thesis" else first_line}],
        }
        for criterion_id, points in CRITERIA.items()
    ]
    praise = {"text": "Ready to submit.", "location": "the end", "criterion_id": None}
    return {
        "criterion_scores": scores,
        "strengths": [{**praise, "evidence": [{"quote": first_line}]}],
        "gaps": [],
        "required_fixes": [],
        "suggested_improvements": [],
        "next_actions": [],
    }


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
async def test_the_model_engine_fences_each_hostile_draft_and_verification_refuses_its_marks(
    client, api, student, model, model_server, path
):
    await ready_plan(client, student.headers, ESSAY)
    clean_text, draft = sample("essay_outline.md"), path.read_text()
    model.script(answer(honest_answer()))
    async with openai_feedback(api, model_server):
        clean = await feedback_for(client, student, clean_text)
        model.script(answer(obedient_answer(injected_text(draft, clean_text))))
        hostile = await feedback_for(client, student, draft)

    # Layer 1: the whole draft sits inside the fence whose code the draft cannot know.
    system, user = model.requests[-1]["messages"]
    # The fence code is the user message's first line (the system prompt stays fixed).
    assert "Fence code: " not in system["content"]
    nonce = user["content"].split("\n", 1)[0].removeprefix("Fence code: ")
    assert nonce not in draft
    opened = user["content"].split(f"<<<DATA {nonce}>>>", 1)[1]
    fenced = opened.split(f"<<<END DATA {nonce}>>>", 1)[0]
    assert all(line in fenced for line in draft.splitlines() if line.strip())
    assert injected_text(draft, clean_text).splitlines()[0] not in system["content"]

    # Layer 2: the obeyed injection changes no score, no readiness and no fix count...
    # except the fix the honest answer gave, which the obedient one dropped: compare
    # the scores and what they make.
    honest, obeyed = outcome(clean), outcome(hostile)
    assert obeyed["scores"] == honest["scores"], path.name
    assert obeyed["readiness"][1] == honest["readiness"][1]
    assert hostile["scorecard"]["overall_readiness"] != "ready"
    assert hostile["strengths"] == []
    assert any("lowered to not met" in notice for notice in hostile["notices"])
