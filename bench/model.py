"""The instant model: an OpenAI-compatible server whose every answer is ready at once, so
the rows that need the LLM engine measure the service and not a model.

It is the tests' scripted server (``tests/support/openai_server.py``), answering each
request by itself with what the offline engines made of the same assignment, in the shape
the openai engines ask for: the requirements and plan the offline engine draws from the
source context a plan job stored, and the feedback an offline feedback job gave on the
same draft. So the prompts are the service's own, the answers are realistic in size and
content, and token counts are the server's estimate (four characters a token).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import BaseModel

from bench.setups import Engine, ResponseTimes
from devkit.asgi_server import serve_in_background
from models.context import SourceContext
from models.plan import Plan
from server.feedback.openai_engine import CriterionAnswer, FeedbackAnswer, ItemAnswer
from server.llm.prompts import estimate_tokens
from server.planning.offline import OfflineEngine
from server.planning.openai_engine import (
    MilestoneAnswer,
    PlanAnswer,
    QuotedItem,
    RequirementAnswer,
    RequirementsAndPlanAnswer,
    RequirementsAnswer,
    SummaryAnswer,
    TaskAnswer,
)
from tests.support.openai_server import Reply, ScriptedModel, create_model_server, status

MODEL_NAME = "instant-model"
# Where a prompt names its assignment: the planner's Canvas facts, the feedback's target.
PLANNING_MARK = "Title: {title}\n"
FEEDBACK_MARK = "the assignment '{title}'"
DEFAULT_MINUTES = 60


@dataclass
class InstantModel(ScriptedModel):
    """Answers (answer type, assignment title) -> JSON text; anything else is a 500."""

    answers: dict[tuple[str, str], str] = field(default_factory=dict)
    # Every prompt received (its messages joined), by answer type: for the cacheable prefix.
    prompts: dict[str, list[str]] = field(default_factory=dict)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        answer_type = str(body["response_format"]["json_schema"]["name"])
        prompt = "".join(str(message.get("content") or "") for message in body["messages"])
        # As a provider sees it: the schema, then the messages.
        schema = json.dumps(body["response_format"], sort_keys=True)
        self.prompts.setdefault(answer_type, []).append(schema + prompt)
        mark = FEEDBACK_MARK if answer_type == FeedbackAnswer.__name__ else PLANNING_MARK
        for (kind, title), content in self.answers.items():
            if kind == answer_type and mark.format(title=title) in prompt:
                return Reply(content=content)
        return status(500, message=f"the instant model has no {answer_type} for this prompt")


def _quoted(plan: Plan, section: str) -> list[QuotedItem]:
    references = {reference.pointer: reference for reference in plan.source_references}
    items = []
    for index, text in enumerate(getattr(plan.assignment_summary, section)):
        reference = references.get(f"/assignment_summary/{section}/{index}")
        if reference is not None:
            items.append(
                QuotedItem(text=text, quote=reference.quote, source_id=reference.source_id)
            )
    return items


def plan_answer(plan: Plan) -> PlanAnswer:
    summary = plan.assignment_summary
    return PlanAnswer(
        assignment_summary=SummaryAnswer(
            title=summary.title,
            objective=summary.objective,
            success_definition=summary.success_definition,
            hard_constraints=_quoted(plan, "hard_constraints"),
            grading_signals=_quoted(plan, "grading_signals"),
        ),
        milestones=[
            MilestoneAnswer(
                id=milestone.id,
                title=milestone.title,
                purpose=milestone.purpose,
                acceptance_criteria=milestone.acceptance_criteria,
                due_strategy=milestone.due_strategy,
                covers_criteria=milestone.covers_criteria,
                tasks=[
                    TaskAnswer(
                        id=task.id,
                        title=task.title,
                        description=task.description,
                        deliverable=task.deliverable,
                        done_definition=task.done_definition,
                        estimated_effort=task.estimated_effort,
                        estimated_minutes=task.estimated_minutes or DEFAULT_MINUTES,
                        depends_on=task.depends_on,
                        serves=task.serves,
                    )
                    for task in milestone.tasks
                ],
            )
            for milestone in plan.milestones
        ],
        risks=plan.risks,
        submission_strategy=plan.submission_strategy,
    )


async def planning_answers(context: SourceContext) -> dict[str, BaseModel]:
    """Every planning answer the openai engine may ask for, from the offline engine."""
    engine = OfflineEngine()
    requirements = await engine.distill(context)
    plan = plan_answer(await engine.draft_plan(context, requirements))
    items = [RequirementAnswer(**item.model_dump(exclude={"id"})) for item in requirements.items]
    return {
        RequirementsAndPlanAnswer.__name__: RequirementsAndPlanAnswer(
            requirements=items, plan=plan
        ),
        RequirementsAnswer.__name__: RequirementsAnswer(requirements=items),
        PlanAnswer.__name__: plan,
    }


def feedback_answer(feedback: dict[str, Any]) -> FeedbackAnswer:
    """The openai feedback engine's answer carrying an offline job's ``feedback``."""

    def items(section: str) -> list[ItemAnswer]:
        return [
            ItemAnswer(
                text=item["text"],
                location=item["location"],
                criterion_id=item.get("criterion_id"),
                evidence=[{"quote": e["quote"]} for e in item.get("evidence", [])],
            )
            for item in feedback[section]
        ]

    return FeedbackAnswer(
        criterion_scores=[
            CriterionAnswer(
                criterion_id=score["criterion_id"],
                level=score["level"],
                rating=score.get("rating"),
                estimated_points=score.get("estimated_points"),
                rationale=score["rationale"],
                not_assessable_reason=score.get("not_assessable_reason"),
                evidence=[{"quote": e["quote"]} for e in score.get("evidence", [])],
            )
            for score in feedback["scorecard"]["criterion_scores"]
        ],
        strengths=items("strengths"),
        gaps=items("gaps"),
        required_fixes=items("required_fixes"),
        suggested_improvements=items("suggested_improvements"),
        next_actions=items("next_actions"),
    )


async def stored_contexts(database_url: str) -> list[SourceContext]:
    """The source context of each workspace's newest plan (what its plan job read)."""
    connection = await asyncpg.connect(database_url)
    try:
        blobs = await connection.fetch(
            "SELECT DISTINCT ON (workspace_id) context_blob FROM plan_versions"
            " ORDER BY workspace_id, version DESC"
        )
    finally:
        await connection.close()
    return [SourceContext.model_validate_json(row["context_blob"]) for row in blobs]


@dataclass(frozen=True)
class RunningInstantModel:
    url: str
    response_times: ResponseTimes
    model: InstantModel

    def fixed_prefixes(self) -> dict[str, tuple[int, int, float]]:
        """By answer type: the tokens of the prefix (schema and messages) every prompt of
        that type shares byte for byte, what a provider's prompt cache can reuse; how many
        prompts; their median size in tokens."""
        return {
            answer_type: (
                # Characters, not path components: the text all prompts share.
                estimate_tokens(os.path.commonprefix(prompts)),  # noqa: RUF071
                len(prompts),
                statistics.median(estimate_tokens(prompt) for prompt in prompts),
            )
            for answer_type, prompts in self.model.prompts.items()
            if len(prompts) > 1
        }

    @property
    def engine(self) -> Engine:
        return Engine(
            "instant LLM server",
            {
                "LLM_ENGINE": "openai",
                "OPENAI_BASE_URL": f"{self.url}/v1",
                "OPENAI_API_KEY": "bench-instant-model",  # the server takes any key
                "LLM_MODEL": MODEL_NAME,
            },
        )


@asynccontextmanager
async def instant_model(
    contexts: list[SourceContext], feedback: dict[str, dict[str, Any]]
) -> AsyncIterator[RunningInstantModel]:
    """The instant model, answering for ``contexts`` and for ``feedback`` (assignment
    title -> the Feedback JSON an offline job gave)."""
    answers: dict[tuple[str, str], str] = {}
    for context in contexts:
        for kind, answer in (await planning_answers(context)).items():
            answers[kind, context.assignment.title] = answer.model_dump_json()
    for title, given in feedback.items():
        answers[FeedbackAnswer.__name__, title] = feedback_answer(given).model_dump_json()
    times = ResponseTimes()
    model = InstantModel(answers=answers)
    app = times.wrap(create_model_server(model))
    async with serve_in_background(app, lifespan="off") as url:
        yield RunningInstantModel(url, times, model)
