"""The feedback pipeline: four named stages from a pasted draft to stored feedback.

The submission is judged against the plan version it was submitted on (immutable in
``plan_versions``), so a later re-plan never changes what an old job looked at; a
reprocess cancels feedback jobs still running, and fencing stops their writes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from models.context import SourceContext
from models.db import FeedbackRecord, MilestoneSubmission, PlanVersion
from models.feedback import Feedback, FeedbackTarget
from models.feedback_request import FeedbackRequest
from models.plan import Milestone, Plan
from server.events.job_context import JobContext
from server.events.service import events_after_commit
from server.events.types import EventType
from server.feedback.analysis import analyze
from server.feedback.verification import verify_feedback
from server.kernel.errors import AppError
from server.llm.session import EngineSession, usage_totals
from server.runtime import FeedbackEngine, Runtime
from server.text.submission import word_count


@dataclass(frozen=True)
class IngestedSubmission:
    """Stage 1's output: the text and what it is judged against."""

    text: str
    target: FeedbackTarget
    milestone: Milestone | None
    plan: Plan
    context: SourceContext
    plan_version: int


async def ingest_submission(ctx: JobContext) -> IngestedSubmission:
    submission = await MilestoneSubmission.get(job_id=ctx.job.id)
    version = await PlanVersion.get_or_none(
        workspace_id=ctx.workspace_id, version=submission.plan_version
    )
    if version is None:
        raise AppError("The plan this draft was submitted on is gone", code="plan_not_found")
    plan = Plan.model_validate(version.plan_blob)
    context = SourceContext.model_validate(version.context_blob)
    milestone = None
    if submission.milestone_id is None:
        target = FeedbackTarget(
            type="assignment",
            id=context.assignment.assignment_id,
            title=plan.assignment_summary.title,
        )
    else:
        milestone = next((m for m in plan.milestones if m.id == submission.milestone_id), None)
        if milestone is None:
            raise AppError("The milestone is not in the plan", code="milestone_not_found")
        target = FeedbackTarget(type="milestone", id=milestone.id, title=milestone.title)
    return IngestedSubmission(
        text=submission.submission_text,
        target=target,
        milestone=milestone,
        plan=plan,
        context=context,
        plan_version=submission.plan_version,
    )


def analyze_against_plan_and_rubric(submission: IngestedSubmission) -> FeedbackRequest:
    return analyze(
        submission.plan,
        submission.context,
        submission.target,
        submission.milestone,
        submission.text,
        submission.plan_version,
    )


async def generate_feedback(
    engine: FeedbackEngine, request: FeedbackRequest, session: EngineSession
) -> Feedback:
    draft = await engine.review(request, session)
    return await asyncio.to_thread(verify_feedback, draft, request)


def feedback_preview(feedback: Feedback) -> dict[str, Any]:
    return {
        "target": feedback.target.model_dump(),
        "overall_readiness": feedback.scorecard.overall_readiness,
        "readiness_score": feedback.scorecard.readiness_score,
        "criteria": [
            {"criterion_id": score.criterion_id, "level": score.level}
            for score in feedback.scorecard.criterion_scores
        ],
        "required_fixes": len(feedback.required_fixes),
    }


async def finalize_feedback(ctx: JobContext, feedback: Feedback) -> int:
    """Store the feedback with its job and plan version; returns the record's id."""
    async with events_after_commit(ctx.rt):
        record = await FeedbackRecord.create(
            workspace_id=ctx.workspace_id,
            job_id=ctx.job.id,
            target_type=feedback.target.type,
            target_id=feedback.target.id,
            feedback_blob=feedback.model_dump(mode="json"),
            plan_version=feedback.plan_version,
        )
        readiness = feedback.scorecard.overall_readiness
        await ctx.succeed(
            EventType.FEEDBACK_READY,
            f"Feedback ready: {readiness.replace('_', ' ')}",
            result={
                "feedback_record_id": record.id,
                "overall_readiness": readiness,
                "llm_usage": usage_totals(ctx.llm_usage),
            },
            workspace_changes={},
            plan_version=feedback.plan_version,
            feedback_preview=feedback_preview(feedback),
        )
    return record.id


async def review_submission(rt: Runtime, ctx: JobContext) -> None:
    """The feedback pipeline for the job's submission."""
    await ctx.enter_stage("ingest_submission", 10, "Reading the submission")
    submission = await ingest_submission(ctx)
    await ctx.enter_stage(
        "analyze_against_plan_and_rubric",
        30,
        f"Checking {word_count(submission.text):,} words against the plan and rubric",
    )
    # Measuring up to SUBMISSION_MAX_CHARS of text takes a while: off the event loop.
    request = await asyncio.to_thread(analyze_against_plan_and_rubric, submission)
    await ctx.enter_stage(
        "generate_feedback",
        50,
        f"Judging {len(request.criteria)} criteria ({rt.feedback_engine.name})",
    )
    feedback = await generate_feedback(rt.feedback_engine, request, ctx.engine_session())
    await ctx.emit(
        EventType.FEEDBACK_DRAFT_READY,
        "Feedback drafted; saving it",
        feedback_preview=feedback_preview(feedback),
    )
    await ctx.enter_stage("finalize_feedback", 90, "Saving the feedback")
    await finalize_feedback(ctx, feedback)


__all__ = [
    "analyze_against_plan_and_rubric",
    "finalize_feedback",
    "generate_feedback",
    "ingest_submission",
    "review_submission",
]
