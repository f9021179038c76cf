"""The model engine never does worse than the offline one: real plan jobs over HTTP, the
real ``openai`` SDK talking to the scripted model server (the one stand-in: nothing real
can play a language model in a test).

- the offline rules' requirements reach the model as candidates;
- a rule the offline rules grounded that the model's plan left out is added back, quoted
  in ``generated_by.restored``;
- an answer that stays unusable gives the student the offline plan with a warning and
  ``generated_by.fallback`` saying why; ``LLM_FALLBACK=none`` fails the job instead, and
  configuration errors fail it either way (tests/test_llm_planning.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.text.grounding import find_quote, grounding_corpus
from tests.planning.llm_jobs import (
    ESSAY,
    add_assignment,
    assert_sound_essay_plan,
    job_of,
    plan_job,
    stored,
)
from tests.planning.model_answers import ESSAY_REPAIRS, essay_answer, reflection_plan
from tests.support.openai_engines import openai_engine
from tests.support.openai_server import Reply, answer, refusal, status

# Stated in the essay's description; the scripted model's plan leaves both out.
THESIS_RULE = "Your thesis must appear in the first paragraph."
DATE_RULE = "Do not use sources published before 2015"


async def test_the_offline_rules_requirements_reach_the_model_as_candidates(
    client, api, student, model, model_server
):
    model.script(answer(essay_answer()), answer(ESSAY_REPAIRS))
    async with openai_engine(api, model_server):
        workspace, _ = await plan_job(client, student)
    assert workspace["status"] == "ready"
    prompt = model.requests[0]["messages"][1]["content"]
    candidates = prompt[prompt.index("candidate requirements") :]
    assert THESIS_RULE in candidates
    assert "Candidate requirements, when given" in model.requests[0]["messages"][0]["content"]


async def test_a_rule_the_model_dropped_is_added_back_and_marked(
    client, api, student, model, model_server
):
    model.script(answer(essay_answer()), answer(ESSAY_REPAIRS))
    async with openai_engine(api, model_server):
        workspace, _ = await plan_job(client, student)
    plan, context = await stored(workspace)
    assert plan.generated_by.engine == "openai" and plan.generated_by.fallback is None
    assert any(THESIS_RULE in quote for quote in plan.generated_by.restored)
    assert any(DATE_RULE in quote for quote in plan.generated_by.restored)
    # The model's own constraints come first; every restored one is stated and grounded.
    assert plan.assignment_summary.hard_constraints[0] == "1,500–2,000 words"
    corpus = grounding_corpus(context)
    hard = [r for r in plan.source_references if "/hard_constraints/" in r.pointer]
    for quote in plan.generated_by.restored:
        reference = next(r for r in hard if r.quote == quote)
        assert find_quote(reference.quote, corpus[reference.source_id]) is not None
    # Rules the model did state are not added twice.
    assert not any("1,500" in quote for quote in plan.generated_by.restored)
    assert_sound_essay_plan(plan, context)


async def test_a_model_that_answers_garbage_ends_ready_with_the_offline_plan_and_a_warning(
    client, api, student, model, model_server
):
    model.script(answer("I think the essay is about technology."), answer("{not json"))
    async with openai_engine(api, model_server):
        workspace, events = await plan_job(client, student)
    assert workspace["status"] == "ready", workspace
    plan, context = await stored(workspace)
    generated_by = plan.generated_by
    assert generated_by.engine == "offline" and generated_by.heuristic is True
    assert generated_by.model == "scripted-model"
    assert generated_by.fallback is not None
    assert generated_by.fallback.startswith("llm_invalid_output: ")
    assert "offline rules" in plan.risks[0].risk
    assert_sound_essay_plan(plan, context)
    job = await job_of(workspace)
    assert [w["code"] for w in job.warnings] == ["llm_fallback"]
    assert "llm_invalid_output" in job.warnings[0]["message"]
    assert [e.event for e in events].count("warning") == 1
    assert events[-1].event == "plan_ready"
    assert [c["outcome"] for c in job.llm_usage] == ["invalid_output", "invalid_output"]
    served = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    assert served["generated_by"]["fallback"] == generated_by.fallback


@pytest.mark.parametrize(
    ("replies", "code", "settings"),
    [
        ([refusal("I can't help with that request.")], "llm_refused", {}),
        ([answer('{"requirements": [', finish_reason="length")], "llm_output_truncated", {}),
        ([status(500), status(503)], "llm_unavailable", {}),
        (
            [Reply(content="{}", delay=1.0), Reply(content="{}", delay=1.0)],
            "llm_timeout",
            {"llm_timeout_seconds": 0.3},
        ),
    ],
)
async def test_every_unusable_answer_falls_back_to_the_offline_plan(
    replies, code, settings, client, api, student, model, model_server
):
    model.script(*replies)
    async with openai_engine(api, model_server, **settings):
        workspace, _ = await plan_job(client, student)
    assert workspace["status"] == "ready", workspace
    plan, _ = await stored(workspace)
    assert plan.generated_by.engine == "offline"
    assert plan.generated_by.fallback is not None
    assert plan.generated_by.fallback.startswith(f"{code}: ")
    assert (await job_of(workspace)).warnings[0]["code"] == "llm_fallback"


async def test_a_failed_draft_call_after_a_good_distill_falls_back_too(
    client, api, student, model, model_server
):
    # A long source takes two calls: distill, then draft; the draft fails for good.
    async with openai_engine(api, model_server, llm_combined_call_max_source_tokens=10):
        model.script(
            answer({"requirements": essay_answer()["requirements"]}),
            refusal("No."),
        )
        workspace, _ = await plan_job(client, student)
    assert workspace["status"] == "ready", workspace
    plan, _ = await stored(workspace)
    assert plan.generated_by.engine == "offline"
    assert plan.generated_by.fallback is not None
    assert plan.generated_by.fallback.startswith("llm_refused: ")
    calls = (await job_of(workspace)).llm_usage
    assert [(c["purpose"], c["outcome"]) for c in calls] == [
        ("distill", "ok"),
        ("draft", "refused"),
    ]


async def test_the_instructors_dated_checkpoints_become_anchored_milestones_in_a_model_plan(
    client, api, student, model, model_server, simulator
):
    # Dates relative to the simulator's due date ("+14d"), written as the text would.
    soon = datetime.now(UTC) + timedelta(days=5)
    checkpoint = f"{soon:%b} {soon.day}: rough draft due for peer review."
    path = add_assignment(
        simulator,
        1903,
        f"<p>Write a 300-word reflection on one study technique.</p><p>{checkpoint}</p>",
    )
    model.script(answer({"requirements": [], "plan": reflection_plan()}))
    async with openai_engine(api, model_server):
        workspace, _ = await plan_job(client, student, path)
    assert workspace["status"] == "ready", workspace
    plan, _ = await stored(workspace)
    anchored = [m for m in plan.milestones if m.anchored]
    assert [m.id for m in anchored] == ["c1"]
    assert anchored[0].target_date == soon.date()
    assert checkpoint in anchored[0].acceptance_criteria
    assert plan.generated_by.engine == "openai"
