"""The instructor's rule on generative AI: recognized from the sources with its quote,
respected by the plan (a disclosure step, a no-AI check), and in feedback under a
"forbidden" rule no suggested wording, over REST and GraphQL with both engines."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from models.context import AssignmentFacts, SourceContext, SourceDocument
from models.feedback import Feedback
from models.plan import AiPolicy, Plan
from server.planning.ai_policy import DISCLOSURE_TASK_ID, apply_ai_policy
from server.text.ai_policy import load_phrases, recognize_ai_policy
from tests.feedback.jobs import finished_job, submit
from tests.planning.grounded_plan import _plan_data
from tests.planning.no_ai_assignment import NARRATIVE, NO_AI, STORY
from tests.support.graphql import data_of, graphql
from tests.support.openai_engines import openai_feedback
from tests.support.openai_server import answer
from tests.support.plans import ready_plan


def _context(*texts: str) -> SourceContext:
    documents = [
        SourceDocument(
            source_id="description" if i == 0 else f"file:{i}",
            name="description" if i == 0 else f"file {i}",
            content_type="text/plain",
            byte_size=len(text.encode()),
            sha256="0" * 64,
            text=text,
        )
        for i, text in enumerate(texts)
    ]
    return SourceContext(
        assignment=AssignmentFacts(course_id="1", assignment_id="2", title="Essay"),
        documents=documents,
        fetched_at=datetime(2026, 2, 20, 9, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("sentence", "stance"),
    [
        (NO_AI, "forbidden"),
        ("You must not use ChatGPT or other AI tools for this essay.", "forbidden"),
        ("Using AI-generated text will be treated as academic misconduct.", "forbidden"),
        (
            "You may use generative AI for brainstorming if you disclose how you used it.",
            "allowed_with_disclosure",
        ),
        (
            "Acknowledge any use of AI tools in a short statement at the end.",
            "allowed_with_disclosure",
        ),
        ("You are welcome to use AI tools such as Grammarly GO to check spelling.", "allowed"),
    ],
)
def test_the_rule_and_its_stance_are_recognized_with_the_sentence_as_quote(sentence, stance):
    text = f"Write 800 words about a turning point. {sentence} Submit a .docx file."
    policy = recognize_ai_policy(_context(text))
    assert policy.stance == stance
    assert policy.quote == sentence
    assert policy.source_id == "description"
    assert text[policy.start : policy.end] == sentence


def test_no_rule_is_unstated_and_ai_as_a_topic_is_no_rule():
    policy = recognize_ai_policy(
        _context("Write about the history of artificial intelligence in medicine.")
    )
    assert policy == AiPolicy(stance="unstated")


def test_the_rule_in_an_attachment_is_found_and_the_description_comes_first():
    policy = recognize_ai_policy(
        _context("Write 800 words.", "Course policy: AI tools are prohibited in all work.")
    )
    assert (policy.stance, policy.source_id) == ("forbidden", "file:1")
    both = recognize_ai_policy(
        _context("You may use AI tools freely.", "AI tools are prohibited in all work.")
    )
    assert (both.stance, both.source_id) == ("allowed", "description")


def test_the_phrases_are_data():
    phrases = load_phrases("en")
    assert phrases.mentions and phrases.forbidden and phrases.wording_cues
    assert phrases.pattern("forbidden").search("This is prohibited.")


def test_a_disclosure_rule_adds_a_disclosure_step_before_submitting():
    quote = "You may use generative AI if you disclose how you used it."
    policy = AiPolicy(stance="allowed_with_disclosure", quote=quote, source_id="description")
    plan = Plan.model_validate(_plan_data())

    respected = apply_ai_policy(plan, policy)

    last = respected.milestones[-1]
    assert [t.id for t in last.tasks] == [DISCLOSURE_TASK_ID, "m3-t1"]
    disclosure, upload = last.tasks
    assert quote in disclosure.description
    assert upload.depends_on == [DISCLOSURE_TASK_ID]
    assert disclosure.depends_on == ["m2-t1"]
    assert respected.ai_policy == policy
    assert any("disclosure" in item for item in respected.submission_strategy.final_checklist)
    # Applying it twice adds nothing more.
    assert len(apply_ai_policy(respected, policy).tasks()) == len(respected.tasks())


def test_a_forbidden_rule_adds_a_check_and_no_task():
    plan = Plan.model_validate(_plan_data())
    respected = apply_ai_policy(plan, AiPolicy(stance="forbidden", quote=NO_AI))
    assert len(respected.tasks()) == len(plan.tasks())
    assert any("no generative AI" in c for c in respected.milestones[-1].acceptance_criteria)
    assert any("No generative AI" in c for c in respected.submission_strategy.final_checklist)


# --- over HTTP: the simulator's assignment 1006 forbids AI ---------------------------------

AI_POLICY_QUERY = """
{ plan(courseId: "101", assignmentId: "1006") {
    aiPolicy { stance quote sourceId start end }
} }
"""


async def test_the_plan_shows_the_policy_over_rest_and_graphql(client, student):
    plan = await ready_plan(client, student.headers, NARRATIVE)
    policy = plan["ai_policy"]
    assert policy["stance"] == "forbidden"
    assert policy["quote"] == NO_AI
    assert policy["source_id"] == "description"
    # Grounded: the quote is the stored description's text at its offsets, and it is also
    # listed as a hard constraint the plan's tasks serve.
    assert NO_AI in plan["assignment_summary"]["hard_constraints"]
    assert any(
        "No generative AI" in item for item in plan["submission_strategy"]["final_checklist"]
    )
    answer_ = data_of(await graphql(client, AI_POLICY_QUERY, headers=student.headers))["plan"]
    assert answer_["aiPolicy"] == {
        "stance": "forbidden",
        "quote": NO_AI,
        "sourceId": "description",
        "start": policy["start"],
        "end": policy["end"],
    }


def _suggests_wording(feedback: dict[str, Any], submission: str) -> list[str]:
    cues = load_phrases("en").pattern("wording_cues")
    offending = []
    for name in ("gaps", "required_fixes", "suggested_improvements", "next_actions"):
        for item in feedback[name]:
            quoted = re.findall(r"[“\"]([^”\"\n]{3,})[”\"]", item["text"])
            if cues.search(item["text"]) or any(q not in submission for q in quoted):
                offending.append(item["text"])
    return offending


async def test_offline_feedback_under_a_no_ai_rule_suggests_no_wording(client, student):
    await ready_plan(client, student.headers, NARRATIVE)
    started = await submit(client, student, NARRATIVE, STORY)
    assert started.status_code == 202, started.text
    done = await finished_job(client, student, NARRATIVE, started.json()["id"])
    assert done["status"] == "succeeded", done
    feedback = done["feedback"]
    Feedback.model_validate(feedback)
    assert {s["criterion_id"] for s in feedback["scorecard"]["criterion_scores"]} >= {
        "_1006_story",
        "_1006_voice",
    }
    assert _suggests_wording(feedback, STORY) == []
    assert load_phrases("en").texts.forbidden_feedback_notice in feedback["notices"]


def _wordy_answer() -> dict[str, Any]:
    """A model that ignores the rule and hands the student sentences to use."""

    def item(text: str) -> dict[str, Any]:
        return {
            "text": text,
            "location": "paragraph 2",
            "criterion_id": "_1006_story",
            "evidence": [],
        }

    def score(criterion_id: str, quote: str) -> dict[str, Any]:
        return {
            "criterion_id": criterion_id,
            "level": "partially_met",
            "rating": None,
            "estimated_points": None,
            "rationale": "The moment is clear; the reflection is short.",
            "not_assessable_reason": None,
            "evidence": [{"quote": quote}],
        }

    return {
        "criterion_scores": [
            score("_1006_story", "I sat in the library every afternoon"),
            score("_1006_voice", "I stopped pretending to understand"),
        ],
        "strengths": [],
        "gaps": [item("The reflection on what changed is one sentence long.")],
        "required_fixes": [],
        "suggested_improvements": [
            item("Rewrite the ending as “That winter taught me that confusion is a door.”"),
            item("Add detail, for example: the smell of the library and the clock ticking."),
            item("What did you feel when your friends understood you?"),
        ],
        "next_actions": [item("Ask yourself which moment best shows the change.")],
    }


async def test_model_feedback_under_a_no_ai_rule_is_told_and_its_wording_removed(
    client, api, student, model, model_server
):
    await ready_plan(client, student.headers, NARRATIVE)
    model.script(answer(_wordy_answer()))
    async with openai_feedback(api, model_server):
        started = await submit(client, student, NARRATIVE, STORY)
        done = await finished_job(client, student, NARRATIVE, started.json()["id"])
    assert done["status"] == "succeeded", done
    feedback = done["feedback"]
    assert _suggests_wording(feedback, STORY) == []
    # Status, evidence and questions stay.
    assert [i["text"] for i in feedback["suggested_improvements"]] == [
        "What did you feel when your friends understood you?"
    ]
    assert feedback["gaps"] and feedback["next_actions"]
    assert all(s["evidence"] for s in feedback["scorecard"]["criterion_scores"])
    removed = [n for n in feedback["verification"]["corrected"] if "no-AI rule" in n]
    assert len(removed) == 2
    assert load_phrases("en").texts.forbidden_feedback_notice in feedback["notices"]
    system = model.requests[0]["messages"][0]["content"]
    assert "forbids generative AI" in system


async def test_the_offline_fallback_under_a_no_ai_rule_suggests_no_wording(
    client, api, student, model, model_server
):
    await ready_plan(client, student.headers, NARRATIVE)
    model.script(answer("Here is a better ending for you."), answer("{not json"))
    async with openai_feedback(api, model_server):
        started = await submit(client, student, NARRATIVE, STORY)
        done = await finished_job(client, student, NARRATIVE, started.json()["id"])
    assert done["status"] == "succeeded", done
    feedback = done["feedback"]
    assert feedback["generated_by"]["fallback"].startswith("llm_invalid_output: ")
    assert feedback["next_actions"]  # advice is given, none of it wording
    assert _suggests_wording(feedback, STORY) == []
    assert load_phrases("en").texts.forbidden_feedback_notice in feedback["notices"]


async def test_feedback_without_a_rule_keeps_its_suggestions(
    client, api, student, model, model_server
):
    await ready_plan(client, student.headers, "/assignments/101/1001")
    wordy = _wordy_answer()
    model.script(answer(wordy))
    async with openai_feedback(api, model_server):
        started = await submit(client, student, "/assignments/101/1001", STORY)
        done = await finished_job(client, student, "/assignments/101/1001", started.json()["id"])
    assert done["status"] == "succeeded", done
    assert len(done["feedback"]["suggested_improvements"]) == 3
    assert "forbids generative AI" not in model.requests[0]["messages"][0]["content"]
