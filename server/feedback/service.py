"""Feedback on submissions: start a job (one milestone, or the whole assignment), read a
job with its feedback, list a workspace's feedback jobs, and the current feedback.

Rules (decisions.md §4): a start needs a ready plan (400 ``plan_not_ready``, also while
the plan is being rebuilt), a milestone of the current plan (404), and non-empty text
within ``SUBMISSION_MAX_CHARS`` (422). Every call makes a new job and keeps the history;
an ``Idempotency-Key`` (unique per workspace) returns the first call's job instead,
also when identical calls race. The job and its submission are created only while the
workspace is still at the plan and generation that were checked, so a reprocess that
starts at the same moment either refuses the submission or cancels its job.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.db import (
    AssignmentWorkspace,
    FeedbackRecord,
    JobStatus,
    JobType,
    MilestoneSubmission,
    ProcessingJob,
    User,
    WorkspaceStatus,
)
from models.feedback import Feedback, TargetType
from server.events.service import EventDraft, Fence, JobFenced, publish
from server.events.types import EventType
from server.kernel.errors import BadRequest, NotFound, ValidationFailed
from server.runtime import Runtime
from server.workspaces.service import ErrorView, ensure_job_capacity, find_workspace

FEEDBACK_JOB_TYPES = (JobType.MILESTONE_FEEDBACK, JobType.ASSIGNMENT_FEEDBACK)
# Visible ASCII, as Stripe-style clients send (UUIDs, request ids).
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "feedback-job:"
# Feedback is judged on a plan only while no planning job is rebuilding it.
_PLAN_SETTLED = (WorkspaceStatus.READY, WorkspaceStatus.FAILED)


class TargetRef(BaseModel):
    type: TargetType
    id: str


class FeedbackJobView(BaseModel):
    id: str
    job_type: str
    status: str
    stage: str | None
    progress: int
    target: TargetRef
    plan_version: int
    judged_on_current_plan: bool
    overall_readiness: str | None
    error: ErrorView | None
    # What the job could not use or do as asked, as a plan job's: a model's answer that
    # gave way to the offline review (``llm_fallback``).
    warnings: list[dict[str, Any]]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # Only when one job is read (not in lists): the submitted text, which evidence
    # offsets refer to, and the feedback once the job has succeeded.
    submission_text: str | None = None
    feedback: Feedback | None = None


class FeedbackJobPage(BaseModel):
    items: list[FeedbackJobView]
    next_cursor: str | None


class CurrentFeedback(BaseModel):
    job_id: str
    plan_version: int
    created_at: datetime
    feedback: Feedback


class MilestoneFeedback(BaseModel):
    milestone_id: str
    title: str
    current: CurrentFeedback | None


class WorkspaceFeedback(BaseModel):
    plan_version: int
    assignment: CurrentFeedback | None
    milestones: list[MilestoneFeedback]


@dataclass(frozen=True)
class FeedbackStart:
    job: FeedbackJobView
    started: bool  # False: an Idempotency-Key returned an earlier call's job


def _target(workspace: AssignmentWorkspace, milestone_id: str | None) -> TargetRef:
    if milestone_id is None:
        return TargetRef(type="assignment", id=workspace.assignment_id)
    return TargetRef(type="milestone", id=milestone_id)


def _job_view(
    job: ProcessingJob,
    workspace: AssignmentWorkspace,
    submission: MilestoneSubmission,
    *,
    with_details: bool = False,
    feedback: Feedback | None = None,
) -> FeedbackJobView:
    result = job.result_blob or {}
    error = (
        ErrorView(code=job.error_code, message=job.error_message or "") if job.error_code else None
    )
    return FeedbackJobView(
        id=str(job.id),
        job_type=str(job.job_type),
        status=str(job.status),
        stage=job.stage,
        progress=job.progress,
        target=_target(workspace, submission.milestone_id),
        plan_version=submission.plan_version,
        # A reprocess bumps the generation (and marks older feedback as not current).
        judged_on_current_plan=job.generation == workspace.generation,
        overall_readiness=result.get("overall_readiness"),
        error=error,
        warnings=list(job.warnings or []),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        submission_text=submission.submission_text if with_details else None,
        feedback=feedback,
    )


def _plan_not_ready(workspace: AssignmentWorkspace) -> BadRequest:
    if workspace.plan_blob is not None:
        message = "The plan is being rebuilt; submit again when it is ready"
    else:
        message = f"No plan yet: the workspace is {workspace.status}"
    return BadRequest(message, code="plan_not_ready")


def _check_text(rt: Runtime, text: str) -> None:
    if not text.strip():
        raise ValidationFailed(
            "The submission is empty", code="submission_empty", details={"field": "text"}
        )
    limit = rt.settings.submission_max_chars
    if len(text) > limit:
        raise ValidationFailed(
            f"The submission has {len(text):,} characters; at most {limit:,} are accepted",
            code="submission_too_long",
            details={"field": "text", "max_chars": limit, "chars": len(text)},
        )


def _check_idempotency_key(key: str | None) -> None:
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 128 visible ASCII characters",
            code="invalid_idempotency_key",
            details={"header": "Idempotency-Key"},
        )


async def _earlier_call(
    workspace: AssignmentWorkspace, key: str, milestone_id: str | None, text: str
) -> FeedbackJobView | None:
    """The job an earlier call with this key made, if any; a key reused for another
    submission is refused rather than silently answered with the wrong job."""
    job = await ProcessingJob.get_or_none(workspace_id=workspace.id, idempotency_key=key)
    if job is None:
        return None
    submission = await MilestoneSubmission.get(job_id=job.id)
    if submission.milestone_id != milestone_id or submission.submission_text != text:
        raise ValidationFailed(
            "This Idempotency-Key was already used for a different submission",
            code="idempotency_key_reused",
            details={"header": "Idempotency-Key"},
        )
    return _job_view(job, workspace, submission)


async def _create_job(
    rt: Runtime,
    user: User,
    workspace: AssignmentWorkspace,
    milestone_id: str | None,
    text: str,
    key: str | None,
) -> tuple[ProcessingJob, MilestoneSubmission]:
    job_type = JobType.ASSIGNMENT_FEEDBACK if milestone_id is None else JobType.MILESTONE_FEEDBACK
    async with in_transaction():
        await ensure_job_capacity(rt, user)
        # Still on the plan and generation that were checked (a row lock on PostgreSQL,
        # so a reprocess racing this either sees the job and cancels it, or wins first).
        unchanged = await AssignmentWorkspace.filter(
            id=workspace.id,
            generation=workspace.generation,
            plan_version=workspace.plan_version,
            status__in=_PLAN_SETTLED,
        ).update(updated_at=datetime.now(UTC))
        if not unchanged:
            await workspace.refresh_from_db()
            raise _plan_not_ready(workspace)
        job = await ProcessingJob.create(
            workspace_id=workspace.id,
            job_type=job_type,
            generation=workspace.generation,
            idempotency_key=key,
        )
        submission = await MilestoneSubmission.create(
            workspace_id=workspace.id,
            milestone_id=milestone_id,
            submission_text=text,
            job_id=job.id,
            plan_version=workspace.plan_version,
        )
    return job, submission


async def _announce_queued(rt: Runtime, job: ProcessingJob, target: TargetRef) -> None:
    about = "the whole assignment" if target.type == "assignment" else f"milestone {target.id}"
    draft = EventDraft(
        EventType.JOB_QUEUED, f"Feedback on {about} queued", None, str(JobStatus.QUEUED), 0, {}
    )
    try:
        await publish(
            rt,
            job.workspace_id,
            draft,
            job=job,
            fence=Fence(job.generation, job.attempts),
        )
    except JobFenced:
        return  # a reprocess cancelled it the moment it was made; the view says so
    await rt.runner.enqueue(job.id)


async def start_feedback(
    rt: Runtime,
    user: User,
    course_id: str,
    assignment_id: str,
    *,
    milestone_id: str | None,
    text: str,
    idempotency_key: str | None = None,
) -> FeedbackStart:
    """Start feedback on ``text`` for one milestone (``milestone_id``) or, with
    ``milestone_id=None``, for the whole assignment."""
    await rt.rate_limiter.check("feedback", f"user:{user.id}")
    workspace = await find_workspace(user, course_id, assignment_id)
    _check_idempotency_key(idempotency_key)
    if idempotency_key is not None:
        earlier = await _earlier_call(workspace, idempotency_key, milestone_id, text)
        if earlier is not None:
            return FeedbackStart(earlier, started=False)
    if workspace.plan_blob is None or workspace.status not in _PLAN_SETTLED:
        raise _plan_not_ready(workspace)
    milestone_ids = {m["id"] for m in workspace.plan_blob["milestones"]}
    if milestone_id is not None and milestone_id not in milestone_ids:
        raise NotFound("No milestone with this id in the current plan", code="milestone_not_found")
    _check_text(rt, text)
    try:
        job, submission = await _create_job(
            rt, user, workspace, milestone_id, text, idempotency_key
        )
    except IntegrityError:
        if idempotency_key is None:
            raise
        # An identical call with the same key won the race: answer with its job.
        earlier = await _earlier_call(workspace, idempotency_key, milestone_id, text)
        if earlier is None:
            raise
        return FeedbackStart(earlier, started=False)
    target = _target(workspace, milestone_id)
    await _announce_queued(rt, job, target)
    await job.refresh_from_db()
    return FeedbackStart(_job_view(job, workspace, submission), started=True)


async def _find_feedback_job(workspace: AssignmentWorkspace, job_id: str) -> ProcessingJob:
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        parsed = None
    job = (
        await ProcessingJob.get_or_none(
            id=parsed, workspace_id=workspace.id, job_type__in=FEEDBACK_JOB_TYPES
        )
        if parsed is not None
        else None
    )
    if job is None:
        raise NotFound("No such feedback job", code="feedback_job_not_found")
    return job


async def get_feedback_job(
    user: User, course_id: str, assignment_id: str, job_id: str
) -> FeedbackJobView:
    """One feedback job: its state, the submitted text and, once done, the feedback."""
    workspace = await find_workspace(user, course_id, assignment_id)
    job = await _find_feedback_job(workspace, job_id)
    submission = await MilestoneSubmission.get(job_id=job.id)
    record = await FeedbackRecord.get_or_none(job_id=job.id)
    feedback = Feedback.model_validate(record.feedback_blob) if record else None
    return _job_view(job, workspace, submission, with_details=True, feedback=feedback)


def _encode_cursor(job_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{job_id}".encode()).decode()


def _decode_cursor(cursor: str) -> uuid.UUID:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
        if decoded.startswith(_CURSOR_PREFIX):
            return uuid.UUID(decoded.removeprefix(_CURSOR_PREFIX))
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        pass
    raise ValidationFailed(
        "cursor must be a next_cursor returned by this list", details={"field": "cursor"}
    )


async def list_feedback_jobs(
    user: User,
    course_id: str,
    assignment_id: str,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> FeedbackJobPage:
    """The workspace's feedback jobs, newest first, a page at a time (keyset pagination
    on creation time and id, so new jobs never shift later pages)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", details={"field": "limit"}
        )
    workspace = await find_workspace(user, course_id, assignment_id)
    query = ProcessingJob.filter(workspace_id=workspace.id, job_type__in=FEEDBACK_JOB_TYPES)
    if cursor is not None:
        after = await ProcessingJob.get_or_none(
            id=_decode_cursor(cursor), workspace_id=workspace.id
        )
        if after is None:
            raise ValidationFailed(
                "cursor must be a next_cursor returned by this list", details={"field": "cursor"}
            )
        query = query.filter(
            Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.id)
        )
    rows = await query.order_by("-created_at", "-id").limit(limit + 1)
    page = rows[:limit]
    submissions = {
        s.job_id: s for s in await MilestoneSubmission.filter(job_id__in=[job.id for job in page])
    }
    return FeedbackJobPage(
        items=[_job_view(job, workspace, submissions[job.id]) for job in page],
        next_cursor=_encode_cursor(page[-1].id) if len(rows) > limit else None,
    )


async def current_feedback(user: User, course_id: str, assignment_id: str) -> WorkspaceFeedback:
    """The newest feedback made on the current plan, for the assignment and per milestone."""
    workspace = await find_workspace(user, course_id, assignment_id)
    if workspace.plan_blob is None:
        raise _plan_not_ready(workspace)
    newest: dict[tuple[str, str], CurrentFeedback] = {}
    records = FeedbackRecord.filter(workspace_id=workspace.id, is_current=True)
    for record in await records.order_by("-created_at", "-id"):
        newest.setdefault(
            (record.target_type, record.target_id),
            CurrentFeedback(
                job_id=str(record.job_id),
                plan_version=record.plan_version,
                created_at=record.created_at,
                feedback=Feedback.model_validate(record.feedback_blob),
            ),
        )
    return WorkspaceFeedback(
        plan_version=workspace.plan_version,
        assignment=newest.get(("assignment", workspace.assignment_id)),
        milestones=[
            MilestoneFeedback(
                milestone_id=milestone["id"],
                title=milestone["title"],
                current=newest.get(("milestone", milestone["id"])),
            )
            for milestone in workspace.plan_blob["milestones"]
        ],
    )


__all__ = [
    "CurrentFeedback",
    "FeedbackJobPage",
    "FeedbackJobView",
    "FeedbackStart",
    "MilestoneFeedback",
    "WorkspaceFeedback",
    "current_feedback",
    "get_feedback_job",
    "list_feedback_jobs",
    "start_feedback",
]
