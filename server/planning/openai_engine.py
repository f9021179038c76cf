"""The openai planning engine: a language model reads the assignment and drafts the plan.

Cost: sources that fit ``LLM_COMBINED_CALL_MAX_SOURCE_TOKENS`` are distilled and drafted
in one call. Longer ones are cut to ``LLM_SOURCE_TOKEN_BUDGET`` by relevance (what was
left out goes into the plan), distilled in one call, and drafted in a second call that
sees the distilled requirements with their quotes instead of the sources again.

Whatever the model writes is a draft: the pipeline's ``verify_against_source`` checks
every quote against the sources, and this engine's ``repair_claims`` gets one targeted
call to back the items that failed. Dates are scheduled here in code from the Canvas due
date, never taken from the model.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from models.context import (
    AssignmentFacts,
    Requirement,
    RequirementKind,
    Requirements,
    SourceContext,
)
from models.plan import (
    GeneratedBy,
    LeftOutText,
    Plan,
    Risk,
    SubmissionStrategy,
)
from server.llm.client import LlmClient, Prompt
from server.llm.prompts import DataBlock, DataFence, estimate_tokens, language_rule
from server.llm.session import DraftPreview, EngineSession
from server.planning.claims import ClaimRepair, UnbackedClaim
from server.planning.llm_sources import SourceText, select_sources
from server.planning.verification import HARD_CONSTRAINT_ID_PREFIX
from server.text.dates import StudentClock, as_utc, clock_for
from server.text.grounding import RUBRIC_SOURCE_ID, rubric_text

# --- what the model answers (strict JSON schemas are made from these) -----------------


class QuotedItem(BaseModel):
    text: str = Field(description="the requirement in your own short words; numbers as quoted")
    quote: str = Field(
        description="the words of one source block that state it, copied character for "
        "character (one sentence or less)"
    )
    source_id: str = Field(description="the id of the source block the quote is from")


class RequirementAnswer(BaseModel):
    kind: RequirementKind
    text: str = Field(description="the requirement in your own short words; numbers as quoted")
    quote: str = Field(description="copied character for character from one source block")
    source_id: str = Field(description="the id of the source block the quote is from")
    rubric_criterion_id: str | None = Field(description="the rubric criterion id, if any")


class TaskAnswer(BaseModel):
    id: str = Field(description='unique in the plan, e.g. "m2-t1"; letters, digits, "-", "_"')
    title: str
    description: str
    deliverable: str
    done_definition: str = Field(description="how the student knows the task is done")
    estimated_effort: str = Field(description='e.g. "~2 h"')
    estimated_minutes: int = Field(description="realistic minutes for a student")
    depends_on: list[str] = Field(description="ids of earlier tasks that must be done first")
    serves: list[str] = Field(
        description='ids of the hard constraints ("hc1", ...) and rubric criteria this task '
        "works toward"
    )


class MilestoneAnswer(BaseModel):
    id: str = Field(description='unique, e.g. "m1"; letters, digits, "-", "_"')
    title: str
    purpose: str
    acceptance_criteria: list[str] = Field(description="checks the student can make")
    due_strategy: str = Field(description="when to finish it, relative to the due date")
    covers_criteria: list[str] = Field(description="ids of the rubric criteria it works on")
    tasks: list[TaskAnswer]


class SummaryAnswer(BaseModel):
    title: str
    objective: str = Field(description="what the assignment asks for, in two sentences")
    success_definition: str
    hard_constraints: list[QuotedItem] = Field(
        description='the rules the work must meet; their ids are "hc1", "hc2", ... in this order'
    )
    grading_signals: list[QuotedItem] = Field(description="what earns marks, with weights")


class PlanAnswer(BaseModel):
    assignment_summary: SummaryAnswer
    milestones: list[MilestoneAnswer] = Field(description="3 to 7, in working order")
    risks: list[Risk]
    submission_strategy: SubmissionStrategy


class RequirementsAnswer(BaseModel):
    requirements: list[RequirementAnswer]


class RequirementsAndPlanAnswer(BaseModel):
    requirements: list[RequirementAnswer]
    plan: PlanAnswer


class ClaimRepairAnswer(BaseModel):
    pointer: str = Field(description="the claim's pointer, as given")
    supported: bool = Field(description="whether the sources state the claim")
    quote: str | None = Field(description="copied character for character; null if unsupported")
    source_id: str | None = Field(description="the quote's source block id; null if unsupported")
    corrected_text: str | None = Field(
        description="the claim reworded to match the quote (a number), or null to keep it"
    )


class ClaimRepairsAnswer(BaseModel):
    repairs: list[ClaimRepairAnswer]


# --- what the engine hands on --------------------------------------------------------


class ModelRequirements(Requirements):
    """Requirements a model distilled, with the source text it was not shown and, when
    one call also drafted the plan, that draft."""

    left_out: list[LeftOutText] = Field(default_factory=list)
    draft: Plan | None = None


# --- prompts -------------------------------------------------------------------------

PLANNER_INSTRUCTIONS = """\
You are an experienced teaching assistant. From one assignment's material you write a \
study plan a student can follow, as one JSON object.
- Requirements are every rule the material sets (length, format, citation style, sources, \
deadlines, how to submit, policies) and every grading signal (rubric criteria, weights). \
State each in your own short words and back it with a quote copied character for \
character from one source block, with that block's id. If you cannot quote it, leave it \
out. Numbers in your words must be the numbers in the quote.
- hard_constraints are the requirements the work must meet; grading_signals are what \
earns marks. Both are quoted the same way.
- Milestones come in working order, each with a purpose, acceptance criteria the student \
can check, the ids of the rubric criteria it works on (covers_criteria) and 2 to 6 tasks. \
Every rubric criterion is covered by at least one milestone. Task ids are unique in the \
plan; depends_on names only earlier tasks.
- Hard constraints are numbered hc1, hc2, ... in the order you list them. Each task names \
in serves the hard constraints (hc<n>) and rubric criteria (their ids) it works toward; \
every hard constraint and every rubric criterion is served by at least one task.
- due_strategy says when to finish a milestone relative to the due date; the service \
sets the calendar dates.
- Risks are what could go wrong with this assignment (time, scope, unclear or unreadable \
material, text left out) and how to avoid it.
- Candidate requirements, when given, were found in the material by simple rules, each \
with its quote: keep every one the material sets as a rule (as a requirement, and in \
hard_constraints if the work must meet it), drop one only if it is not a rule (an \
example, a suggestion, background), and add the rules they missed.
- Coach, never do the work: no drafted paragraphs, thesis statements or answers.
- Write to the student ("you"), specific to this assignment, without filler."""

VERIFIER_INSTRUCTIONS = """\
You check claims about an assignment against its material, as one JSON object.
- For each claim, find the words in the source blocks that state it and copy them \
character for character, with the block's id.
- If the material does not state the claim, answer supported=false with null quote.
- Reword a claim (corrected_text) only to match its quote, such as a wrong number."""


def _kind_facts(facts: AssignmentFacts, clock: StudentClock) -> list[str]:
    """What Canvas says about the kind of work and its own dates, which the material may
    not: when it opens and closes, a lock, an ungraded or group assignment, a quiz or a
    tool, and a graded discussion's post, replies and their own due dates."""
    lines = []
    if facts.unlock_at:
        lines.append(f"Opens: {clock.moment(facts.unlock_at)}")
    if facts.lock_at:
        lines.append(f"Closes (no submissions after): {clock.moment(facts.lock_at)}")
    if facts.lock is not None:
        lines.append(f"Locked by Canvas: {facts.lock.explanation}")
    if facts.grading_type == "not_graded":
        lines.append("Graded: no")
    if facts.group_category_id is not None:
        lines.append("Group assignment: one submission counts for the whole group")
    if facts.is_new_quiz:
        lines.append("Quiz: New Quizzes, taken inside the Canvas assignment")
    elif facts.is_quiz:
        lines.append("Quiz: a Canvas quiz, taken in Canvas")
    elif facts.external_tool_url:
        lines.append("Done in an external tool launched from the Canvas assignment")
    discussion = facts.discussion
    if discussion is not None:
        post = facts.initial_post_due
        lines.append(
            "Graded discussion: submitted by posting an initial reply"
            + (f", due {clock.moment(post)}" if post else "")
            + (
                " (classmates' posts show only after you post)"
                if discussion.require_initial_post
                else ""
            )
        )
        if discussion.required_replies:
            replies_due = discussion.reply_due_at or facts.due_at
            lines.append(
                f"Required replies to classmates: {discussion.required_replies}"
                + (f", due {clock.moment(replies_due)}" if replies_due else "")
            )
    return lines


def _facts_text(facts: AssignmentFacts, context: SourceContext) -> str:
    # The student's clock, so any date the model writes is the one the student lives by.
    clock = clock_for(facts)
    due = clock.moment(facts.due_at) if facts.due_at else "none in Canvas"
    lines = [
        f"Title: {facts.title}",
        f"Course: {facts.course_name or facts.course_id}",
        f"Due: {due}",
        f"Today: {clock.day(clock.day_of(context.fetched_at))} ({clock.name})",
        "Points possible: "
        + (f"{facts.points_possible:g}" if facts.points_possible is not None else "-"),
        f"Submission types: {', '.join(facts.submission_types) or '-'}",
        f"Allowed file extensions: {', '.join(facts.allowed_extensions) or 'any'}",
    ]
    if facts.group_name:
        weight = f" ({facts.group_weight:g}% of the grade)" if facts.group_weight else ""
        lines.append(f"Assignment group: {facts.group_name}{weight}")
    lines += _kind_facts(facts, clock)
    lines.append("Rubric criteria (id: name, points):" if context.rubric else "Rubric: none")
    lines += [
        f"- {c.id}: {c.description}" + (f" ({c.points:g} pts)" if c.points is not None else "")
        for c in context.rubric
    ]
    lines += [
        f"Could not be read: {w.file_name or w.source_id} ({w.message})"
        if w.file_name or w.source_id
        else f"Note: {w.message}"  # about Canvas itself, e.g. the student's time zone
        for w in context.warnings
    ]
    return "\n".join(lines)


def _source_blocks(sources: list[SourceText]) -> list[DataBlock]:
    return [
        DataBlock("source", source.text, {"id": source.source_id, "name": source.name})
        for source in sources
    ]


def _requirements_text(requirements: Requirements) -> str:
    return "\n".join(
        json.dumps(item.model_dump(exclude={"id"}), ensure_ascii=False)
        for item in requirements.items
    )


# --- turning answers into the service's models ------------------------------------------


def _requirements(answers: list[RequirementAnswer]) -> list[Requirement]:
    return [
        Requirement(id=f"r{index}", **answer.model_dump())
        for index, answer in enumerate(answers, 1)
    ]


def _suggested_dates(
    milestones: list[MilestoneAnswer], context: SourceContext
) -> list[date | None]:
    """Finish dates worked back from the due date in proportion to each milestone's
    estimated time; the last milestone finishes on the due date. Days are the student's."""
    clock = clock_for(context.assignment)
    due, now = context.assignment.due_at, as_utc(context.fetched_at)
    if due is None:
        return [None] * len(milestones)
    due = as_utc(due)
    if due <= now:
        return [clock.day_of(due)] * len(milestones)
    minutes = [max(1, sum(max(0, t.estimated_minutes) for t in m.tasks)) for m in milestones]
    total, done = sum(minutes), 0
    dates: list[date | None] = []
    for spent in minutes:
        done += spent
        dates.append(clock.day_of(now + (due - now) * (done / total)))
    return dates


def _left_out_risks(left_out: list[LeftOutText]) -> list[dict[str, str]]:
    risks = []
    for part in left_out:
        pages = f" (pages {', '.join(map(str, part.pages))})" if part.pages else ""
        risks.append(
            {
                "risk": f"The planner read only part of '{part.name}': {part.omitted_chars:,} "
                f"of {part.total_chars:,} characters{pages} were left out to keep the request "
                "small",
                "impact": "Requirements in the parts left out may be missing from this plan",
                "mitigation": "Read those parts yourself and add anything they require",
            }
        )
    return risks


def _plan(
    answer: PlanAnswer, context: SourceContext, model: str, left_out: list[LeftOutText]
) -> Plan:
    summary = answer.assignment_summary
    references = [
        {"pointer": f"/assignment_summary/{section}/{index}", **item.model_dump(exclude={"text"})}
        for section in ("hard_constraints", "grading_signals")
        for index, item in enumerate(getattr(summary, section))
    ]
    dates = _suggested_dates(answer.milestones, context)
    milestones = [
        {**milestone.model_dump(), "order": order, "suggested_date": suggested}
        for order, (milestone, suggested) in enumerate(
            zip(answer.milestones, dates, strict=True), 1
        )
    ]
    return Plan.draft(
        {
            "assignment_summary": {
                **summary.model_dump(exclude={"hard_constraints", "grading_signals"}),
                "hard_constraints": [item.text for item in summary.hard_constraints],
                "hard_constraint_ids": [
                    f"{HARD_CONSTRAINT_ID_PREFIX}{index}"
                    for index in range(1, len(summary.hard_constraints) + 1)
                ],
                "grading_signals": [item.text for item in summary.grading_signals],
            },
            "milestones": milestones,
            "risks": [*(r.model_dump() for r in answer.risks), *_left_out_risks(left_out)],
            "submission_strategy": answer.submission_strategy.model_dump(),
            "source_references": references,
            "generated_by": GeneratedBy(
                engine="openai", model=model, heuristic=False, left_out=left_out
            ),
            "language": context.language,
        }
    )


class _Previewer:
    """Turns the growing answer into previews: the summary once written, then each
    milestone once the model has moved past it."""

    def __init__(self, session: EngineSession, *, nested: bool) -> None:
        self.session = session
        self.nested = nested
        self.last: DraftPreview | None = None

    async def __call__(self, partial: Any) -> None:
        plan = partial.get("plan") if self.nested and isinstance(partial, dict) else partial
        if not isinstance(plan, dict):
            return
        summary = plan.get("assignment_summary")
        objective = summary.get("objective") if isinstance(summary, dict) else None
        milestones = plan.get("milestones")
        milestones = milestones if isinstance(milestones, list) else []
        written = milestones if "risks" in plan else milestones[:-1]
        preview = DraftPreview(
            draft_summary=objective if isinstance(objective, str) else None,
            milestone_preview=[
                {
                    "id": m["id"],
                    "title": m["title"],
                    "order": order,
                    "tasks": len(m.get("tasks") or []),
                }
                for order, m in enumerate(written, 1)
                if isinstance(m, dict)
                and isinstance(m.get("id"), str)
                and isinstance(m.get("title"), str)
            ],
        )
        if preview != self.last and (preview.draft_summary or preview.milestone_preview):
            self.last = preview
            await self.session.preview(preview)


class OpenAIPlanningEngine:
    name = "openai"

    def __init__(self, llm: LlmClient) -> None:
        self.llm = llm

    async def distill(
        self,
        context: SourceContext,
        session: EngineSession | None = None,
        candidates: Requirements | None = None,
    ) -> ModelRequirements:
        """The requirements the model finds; ``candidates`` (what the offline rules found,
        each with its quote) are shown to it to confirm, drop or add to."""
        session = session or EngineSession()
        budget = self.llm.settings.llm_source_token_budget
        sources = await asyncio.to_thread(select_sources, context, budget)
        left_out = [source.left_out for source in sources if source.left_out]
        size = sum(estimate_tokens(source.text) for source in sources)
        if size <= self.llm.settings.llm_combined_call_max_source_tokens:
            return await self._distill_and_draft(context, sources, left_out, session, candidates)
        fence = DataFence()
        prompt = Prompt(
            purpose="distill",
            stage="distill",
            system=f"{PLANNER_INSTRUCTIONS}\n{fence.rules()}",
            user=self._material(fence, context, sources, candidates)
            + "\nTask: list every requirement and grading signal of this assignment, each "
            "with its quote and source id. Do not draft a plan yet.",
        )
        return await self.llm.structured(
            prompt,
            RequirementsAnswer,
            lambda answer: ModelRequirements(
                items=_requirements(answer.requirements), left_out=left_out
            ),
            session,
        )

    async def draft_plan(
        self,
        context: SourceContext,
        requirements: Requirements,
        session: EngineSession | None = None,
    ) -> Plan:
        if isinstance(requirements, ModelRequirements) and requirements.draft is not None:
            return requirements.draft
        session = session or EngineSession()
        left_out = requirements.left_out if isinstance(requirements, ModelRequirements) else []
        fence = DataFence()
        blocks = [
            DataBlock("canvas facts", _facts_text(context.assignment, context)),
            DataBlock("source", rubric_text(context), {"id": RUBRIC_SOURCE_ID, "name": "Rubric"}),
            DataBlock("requirements", _requirements_text(requirements)),
        ]
        prompt = Prompt(
            purpose="draft",
            stage="draft",
            system=f"{PLANNER_INSTRUCTIONS}\n{fence.rules()}",
            user=fence.wrap(blocks)
            + "\nTask: draft the plan from these requirements. Quote hard constraints and "
            "grading signals with the exact quote and source id of the requirement (or "
            "rubric line) they come from. " + language_rule(context.language),
        )
        model = self.llm.model("draft")
        return await self.llm.structured(
            prompt,
            PlanAnswer,
            lambda answer: _plan(answer, context, model, left_out),
            session,
            on_partial=_Previewer(session, nested=False),
        )

    async def repair_claims(
        self, context: SourceContext, claims: list[UnbackedClaim], session: EngineSession
    ) -> list[ClaimRepair]:
        budget = self.llm.settings.llm_source_token_budget
        sources = await asyncio.to_thread(select_sources, context, budget)
        fence = DataFence()
        listed = "\n".join(
            json.dumps(
                {"pointer": c.pointer, "claim": c.text, "quotes": c.quotes, "problem": c.reason},
                ensure_ascii=False,
            )
            for c in claims
        )
        prompt = Prompt(
            purpose="verify",
            stage="verify",
            system=f"{VERIFIER_INSTRUCTIONS}\n{fence.rules()}",
            user=fence.wrap([*_source_blocks(sources), DataBlock("claims", listed)])
            + "\nTask: for each claim, give a quote from the sources that states it, or "
            "supported=false.",
        )
        asked = {claim.pointer for claim in claims}
        return await self.llm.structured(
            prompt,
            ClaimRepairsAnswer,
            lambda answer: [
                ClaimRepair(
                    pointer=r.pointer,
                    quote=r.quote,
                    source_id=r.source_id,
                    corrected_text=r.corrected_text,
                )
                for r in answer.repairs
                if r.pointer in asked and r.supported and r.quote and r.source_id
            ],
            session,
        )

    async def _distill_and_draft(
        self,
        context: SourceContext,
        sources: list[SourceText],
        left_out: list[LeftOutText],
        session: EngineSession,
        candidates: Requirements | None,
    ) -> ModelRequirements:
        fence = DataFence()
        prompt = Prompt(
            purpose="plan",
            stage="draft",
            system=f"{PLANNER_INSTRUCTIONS}\n{fence.rules()}",
            user=self._material(fence, context, sources, candidates)
            + "\nTask: list every requirement and grading signal, then draft the plan. "
            + language_rule(context.language),
        )
        model = self.llm.model("draft")

        def convert(answer: RequirementsAndPlanAnswer) -> ModelRequirements:
            return ModelRequirements(
                items=_requirements(answer.requirements),
                left_out=left_out,
                draft=_plan(answer.plan, context, model, left_out),
            )

        return await self.llm.structured(
            prompt,
            RequirementsAndPlanAnswer,
            convert,
            session,
            on_partial=_Previewer(session, nested=True),
        )

    @staticmethod
    def _material(
        fence: DataFence,
        context: SourceContext,
        sources: list[SourceText],
        candidates: Requirements | None = None,
    ) -> str:
        blocks = [
            *_source_blocks(sources),
            DataBlock("canvas facts", _facts_text(context.assignment, context)),
        ]
        if candidates is not None and candidates.items:
            blocks.append(DataBlock("candidate requirements", _requirements_text(candidates)))
        return fence.wrap(blocks)

    async def aclose(self) -> None:
        await self.llm.aclose()


__all__ = ["ModelRequirements", "OpenAIPlanningEngine", "PlanAnswer", "RequirementsAndPlanAnswer"]
