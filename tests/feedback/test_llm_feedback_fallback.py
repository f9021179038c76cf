"""The model feedback engine never leaves a student without feedback it could have had:
real feedback jobs over HTTP, the real ``openai`` SDK against the scripted model server.

- an answer that stays unusable gives the student the offline engine's feedback, its first
  notice saying so in the feedback's language, ``generated_by.fallback`` saying why, and a
  job warning, over REST and GraphQL;
- ``LLM_FALLBACK=none`` fails the job instead, and a configuration error fails it either
  way. The fallback under a "forbidden" AI rule: tests/planning/test_ai_policy.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from models.db import FeedbackRecord, ProcessingJob
from models.feedback import Feedback
from server.feedback.wording import FEEDBACK_WORDING
from tests.conftest import onboard_student
from tests.feedback.jobs import ESSAY, finished_job, job_events, submit
from tests.feedback.samples import sample
from tests.support.graphql import data_of, graphql
from tests.support.openai_engines import openai_feedback
from tests.support.openai_server import answer, refusal, status
from tests.support.plans import ready_plan

GARBAGE = (answer("The essay looks fine to me."), answer("{not json"))
FALLBACK_JOB = """
query ($jobId: ID!) {
  feedbackJob(courseId: "101", assignmentId: "1001", jobId: $jobId) {
    status warnings feedback { notices generatedBy { engine model heuristic fallback } }
  }
}
"""


async def feedback_job(client, api, model_server, student, **settings: Any) -> dict[str, Any]:
    """A feedback job on the essay outline with the model engine; the finished job."""
    async with openai_feedback(api, model_server, **settings):
        started = await submit(client, student, ESSAY, sample("essay_outline.md"))
        assert started.status_code == 202, started.text
        return await finished_job(client, student, ESSAY, started.json()["id"])


async def test_a_model_that_answers_garbage_gives_the_offline_feedback_and_a_warning(
    client, api, student, model, model_server
):
    await ready_plan(client, student.headers, ESSAY)
    offline = await finished_job(
        client,
        student,
        ESSAY,
        (await submit(client, student, ESSAY, sample("essay_outline.md"))).json()["id"],
    )
    model.script(*GARBAGE)
    done = await feedback_job(client, api, model_server, student)
    assert done["status"] == "succeeded", done
    feedback = Feedback.model_validate(done["feedback"])
    generated_by = feedback.generated_by
    assert generated_by.engine == "offline" and generated_by.heuristic is True
    assert generated_by.model == "scripted-model"
    assert generated_by.fallback is not None
    assert generated_by.fallback.startswith("llm_invalid_output: ")
    # What the offline engine says about this draft, told first that it stands in.
    expected = Feedback.model_validate(offline["feedback"])
    assert feedback.scorecard == expected.scorecard
    assert feedback.required_fixes == expected.required_fixes
    assert feedback.next_actions == expected.next_actions
    sentence = FEEDBACK_WORDING.for_language("en").say("fallback", reason=generated_by.fallback)
    assert feedback.notices == [sentence, *expected.notices]
    assert "offline rules" in sentence

    job = await ProcessingJob.get(id=done["id"])
    warning = {"code": "llm_fallback", "message": sentence}
    assert job.warnings == [warning]
    assert done["warnings"] == [warning], "the job's read says so too"
    assert [c["outcome"] for c in job.llm_usage] == ["invalid_output", "invalid_output"]
    events = await job_events(client, ESSAY, student.headers, done["id"])
    kinds = [e.event for e in events]
    assert kinds.count("warning") == 1 and kinds[-1] == "feedback_ready"

    read = await graphql(client, FALLBACK_JOB, {"jobId": done["id"]}, headers=student.headers)
    assert data_of(read)["feedbackJob"] == {
        "status": "succeeded",
        "warnings": [warning],
        "feedback": {
            "notices": feedback.notices,
            "generatedBy": {
                "engine": "offline",
                "model": "scripted-model",
                "heuristic": True,
                "fallback": generated_by.fallback,
            },
        },
    }


@pytest.mark.parametrize(
    ("replies", "code"),
    [
        ([refusal("I can't help with that request.")], "llm_refused"),
        ([answer('{"criterion_scores": [', finish_reason="length")], "llm_output_truncated"),
        ([status(500), status(503)], "llm_unavailable"),
    ],
)
async def test_every_unusable_answer_falls_back_to_the_offline_feedback(
    replies, code, client, api, student, model, model_server
):
    await ready_plan(client, student.headers, ESSAY)
    model.script(*replies)
    done = await feedback_job(client, api, model_server, student)
    assert done["status"] == "succeeded", done
    generated_by = done["feedback"]["generated_by"]
    assert generated_by["engine"] == "offline"
    assert generated_by["fallback"].startswith(f"{code}: ")
    job = await ProcessingJob.get(id=done["id"])
    assert [w["code"] for w in job.warnings] == ["llm_fallback"]


async def test_a_spanish_student_is_told_of_the_fallback_in_spanish(
    client, api, simulator, model, model_server
):
    student = await onboard_student(client, simulator, name="Ana Estudiante", locale="es")
    assert (await ready_plan(client, student.headers, ESSAY))["language"] == "es"
    model.script(*GARBAGE)
    done = await feedback_job(client, api, model_server, student)
    assert done["status"] == "succeeded", done
    feedback = done["feedback"]
    fallback = feedback["generated_by"]["fallback"]
    assert feedback["notices"][0] == FEEDBACK_WORDING.for_language("es").say(
        "fallback", reason=fallback
    )
    assert feedback["notices"][0].startswith("La respuesta del modelo de lenguaje no se pudo usar")
    assert feedback["notices"][1] == FEEDBACK_WORDING.for_language("es").say("notice")


@pytest.mark.parametrize(
    ("replies", "code", "fallback"),
    [
        (GARBAGE, "llm_invalid_output", "none"),
        ([refusal("No.")], "llm_refused", "none"),
        # A configuration error fails loudly even with the offline fallback on.
        ([status(401, message="Incorrect API key provided")], "llm_auth_failed", "offline"),
        ([status(401, message="Incorrect API key provided")], "llm_auth_failed", "none"),
    ],
)
async def test_without_the_fallback_or_on_a_configuration_error_the_job_fails(
    replies, code, fallback, client, api, student, model, model_server
):
    await ready_plan(client, student.headers, ESSAY)
    model.script(*replies)
    done = await feedback_job(client, api, model_server, student, llm_fallback=fallback)
    assert done["status"] == "failed", done
    assert done["error"]["code"] == code
    assert done["feedback"] is None
    assert not await FeedbackRecord.exists(job_id=done["id"])
    assert (await ProcessingJob.get(id=done["id"])).warnings == []
    assert len(model.requests) == len(replies)
