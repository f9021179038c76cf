"""Assignment workspaces: start (resume or reprocess), snapshot, plan, and event streams.

Rules (decisions.md §4): one workspace per (user, course, assignment), created with its
first planning job in one transaction, so concurrent identical starts make one of each;
a reprocess bumps the workspace's generation, which fences off the old job's writes.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from tortoise.exceptions import IntegrityError

from models.canvas_changes import CanvasCheck
from models.db import (
    ACTIVE_JOB_STATUSES,
    AssignmentWorkspace,
    FeedbackRecord,
    JobStatus,
    JobType,
    ProcessingJob,
    User,
    WorkspaceEvent,
    WorkspaceStatus,
)
from server.accounts.users import get_user, require_canvas_credentials
from server.events.service import (
    EventDraft,
    StreamMessage,
    events_after_commit,
    follow,
    one_by_one,
    publish,
    publish_appended_by,
)
from server.events.types import TERMINAL_EVENT_TYPES, EventType
from server.kernel.auth import mint_stream_token
from server.kernel.errors import Conflict, NotFound, RateLimited, ValidationFailed
from server.kernel.fast_reads import JoinedRow, Newest, first_row, first_row_with_newest
from server.kernel.queries import first_column_value
from server.kernel.representations import Representation, RepresentationCache
from server.runtime import Runtime
from server.text.language import language_code
from server.workspaces.postgres import MovedOn, Replacement, TooManyActiveJobs, replace_plan_job

# Canvas accepts numeric ids and prefixed ones such as ``sis_course_id:ENG-101``.
CANVAS_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")

# What a snapshot shows: everything but the context and plan blobs.
SNAPSHOT_FIELDS = (
    *("id", "course_id", "assignment_id", "status", "current_stage", "progress"),
    *("last_error", "plan_version", "last_event_id", "created_at", "updated_at"),
    "canvas_check",
)
_JOB_VIEW_FIELDS = (
    *("id", "workspace_id", "job_type", "status", "stage", "progress", "reprocess"),
    *("error_code", "error_message", "warnings", "created_at", "started_at", "finished_at"),
)
_PLAN_JOB = Newest(
    ProcessingJob,
    _JOB_VIEW_FIELDS,
    link="workspace_id",
    where=(("job_type", str(JobType.PLAN)),),
    newest_by="created_at",
)
# Rendered snapshots kept per process (about 1 KiB each with their key).
SNAPSHOT_CACHE_SIZE = 2048
_RENDERED_SNAPSHOTS = RepresentationCache(SNAPSHOT_CACHE_SIZE)


class ErrorView(BaseModel):
    code: str
    message: str


class JobView(BaseModel):
    id: str
    job_type: str
    status: str
    stage: str | None
    progress: int
    reprocess: bool
    error: ErrorView | None
    warnings: list[dict[str, Any]]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class WorkspaceView(BaseModel):
    workspace_id: int
    course_id: str
    assignment_id: str
    status: str
    stage: str | None
    progress: int
    last_error: ErrorView | None
    plan_version: int
    has_plan: bool
    latest_plan_job: JobView | None
    last_event_id: int
    created_at: datetime
    updated_at: datetime
    canvas_changed: CanvasCheck | None = Field(
        default=None,
        description="the last comparison of the current plan's sources with Canvas, made when "
        "a ready workspace is resumed (POST start); null until then and after a new plan",
    )


class WorkspaceSnapshot(WorkspaceView):
    """The first message of a workspace's event stream (``event: snapshot``)."""

    event_type: Literal["snapshot"] = "snapshot"


@dataclass(frozen=True)
class StartResult:
    workspace: WorkspaceView
    started: bool  # a new planning job was created by this call


@dataclass(frozen=True)
class StreamToken:
    token: str
    expires_at: datetime


def job_view(job: ProcessingJob) -> JobView:
    return _job_view({name: getattr(job, name) for name in _JOB_VIEW_FIELDS})


def _job_view(job: Mapping[str, Any]) -> JobView:
    error = (
        ErrorView(code=job["error_code"], message=job["error_message"] or "")
        if job["error_code"]
        else None
    )
    return JobView(
        id=str(job["id"]),
        job_type=str(job["job_type"]),
        status=str(job["status"]),
        stage=job["stage"],
        progress=job["progress"],
        reprocess=job["reprocess"],
        error=error,
        warnings=list(job["warnings"] or []),
        created_at=job["created_at"],
        started_at=job["started_at"],
        finished_at=job["finished_at"],
    )


async def workspace_view(workspace: AssignmentWorkspace) -> WorkspaceView:
    """The workspace as stored now, with its latest planning job: the snapshot's one
    statement (a workspace replanned hundreds of times costs no more than a new one)."""
    where = {"id": workspace.id}
    row = await first_row_with_newest(AssignmentWorkspace, SNAPSHOT_FIELDS, where, _PLAN_JOB)
    if row is None:  # deleted meanwhile
        raise await _no_workspace_of(workspace.user_id)
    return _stored_snapshot_view(row)


async def workspace_views(workspaces: Sequence[AssignmentWorkspace]) -> list[WorkspaceView]:
    """Views of several workspaces, with one query for all their planning jobs (the
    fields a view shows, not the jobs' results)."""
    latest_jobs: dict[int, dict[str, Any]] = {}
    plan_jobs = ProcessingJob.filter(
        workspace_id__in=[workspace.id for workspace in workspaces], job_type=JobType.PLAN
    ).order_by("-created_at")
    for job in await plan_jobs.values(*_JOB_VIEW_FIELDS):
        latest_jobs.setdefault(job["workspace_id"], job)
    return [_workspace_view(workspace, latest_jobs.get(workspace.id)) for workspace in workspaces]


def _workspace_view(
    workspace: AssignmentWorkspace, latest: Mapping[str, Any] | None
) -> WorkspaceView:
    return _snapshot_view(
        {name: getattr(workspace, name) for name in SNAPSHOT_FIELDS},
        _job_view(latest) if latest else None,
    )


def _snapshot_view(workspace: Mapping[str, Any], latest: JobView | None) -> WorkspaceView:
    return WorkspaceView(
        workspace_id=workspace["id"],
        course_id=workspace["course_id"],
        assignment_id=workspace["assignment_id"],
        status=str(workspace["status"]),
        stage=workspace["current_stage"],
        progress=workspace["progress"],
        last_error=ErrorView(**workspace["last_error"]) if workspace["last_error"] else None,
        plan_version=workspace["plan_version"],
        has_plan=workspace["plan_version"] > 0,  # set with the first plan, in one write
        latest_plan_job=latest,
        last_event_id=workspace["last_event_id"],
        created_at=workspace["created_at"],
        updated_at=workspace["updated_at"],
        canvas_changed=CanvasCheck.model_validate(workspace["canvas_check"])
        if workspace["canvas_check"]
        else None,
    )


async def ensure_job_capacity(rt: Runtime, user: User, *, replacing_in: int | None = None) -> None:
    """At most ``MAX_ACTIVE_JOBS_PER_USER`` queued or running jobs per user, so one user
    cannot fill every worker. Jobs of ``replacing_in`` (a workspace being reprocessed,
    whose active jobs are about to be cancelled) do not count.

    Call it in the transaction that creates the job, before anything else there: it locks
    the user's row first (PostgreSQL; SQLite runs one transaction at a time), so a user's
    concurrent starts count one after the other, each seeing the jobs the others made."""
    await User.select_for_update().get(id=user.id)
    active = ProcessingJob.filter(workspace__user_id=user.id, status__in=ACTIVE_JOB_STATUSES)
    if replacing_in is not None:
        active = active.exclude(workspace_id=replacing_in)
    if await active.count() >= rt.settings.max_active_jobs_per_user:
        raise _too_many_active_jobs(rt)


def _too_many_active_jobs(rt: Runtime) -> RateLimited:
    return RateLimited(
        f"You already have {rt.settings.max_active_jobs_per_user} jobs running; "
        "try again when one has finished",
        code="too_many_active_jobs",
        headers={"Retry-After": "10"},
    )


def _check_ids(course_id: str, assignment_id: str) -> None:
    for name, value in (("course_id", course_id), ("assignment_id", assignment_id)):
        if not CANVAS_ID.match(value):
            raise ValidationFailed(
                f"{name} must be a Canvas id (letters, digits, '_', '.', ':', '-'; 64 at most)",
                details={"field": name},
            )


def _no_workspace() -> NotFound:
    return NotFound(
        "No workspace for this assignment yet; start planning first",
        code="workspace_not_found",
    )


async def find_workspace(user: User, course_id: str, assignment_id: str) -> AssignmentWorkspace:
    _check_ids(course_id, assignment_id)
    workspace = await AssignmentWorkspace.get_or_none(
        user_id=user.id, course_id=course_id, assignment_id=assignment_id
    )
    if workspace is None:
        raise _no_workspace()
    return workspace


async def own_workspace(
    user_id: int, course_id: str, assignment_id: str, fields: tuple[str, ...]
) -> dict[str, Any]:
    """``fields`` of the user's workspace, in one query: the read path's lookup, for a user
    known only by a verified token."""
    _check_ids(course_id, assignment_id)
    where = {"user_id": user_id, "course_id": course_id, "assignment_id": assignment_id}
    workspace = await first_row(AssignmentWorkspace, fields, where)
    if workspace is None:
        raise await _no_workspace_of(user_id)
    return workspace


async def _no_workspace_of(user_id: int) -> NotFound:
    """A workspace exists only while its user does, so the user row is read only when no
    workspace is found: a deleted user's token is refused, as everywhere, rather than
    answered 404."""
    await get_user(user_id)
    return _no_workspace()


async def read_snapshot(user_id: int, course_id: str, assignment_id: str) -> Representation:
    """The snapshot as JSON with its entity tag: one statement (the workspace with its
    latest planning job, no blobs), rendered once per version of those two rows."""
    _check_ids(course_id, assignment_id)
    where = {"user_id": user_id, "course_id": course_id, "assignment_id": assignment_id}
    row = await first_row_with_newest(AssignmentWorkspace, SNAPSHOT_FIELDS, where, _PLAN_JOB)
    if row is None:
        raise await _no_workspace_of(user_id)

    async def render() -> bytes:
        return _stored_snapshot_view(row).model_dump_json().encode()

    # The rows as stored name everything the snapshot shows.
    workspace_id = row.values[SNAPSHOT_FIELDS.index("id")]
    return await _RENDERED_SNAPSHOTS.get(row.values, workspace_id, render)


def _stored_snapshot_view(row: JoinedRow) -> WorkspaceView:
    workspace, latest = row.converted()
    return _snapshot_view(workspace, _job_view(latest) if latest else None)


def _queued(job: ProcessingJob) -> EventDraft:
    """The ``job_queued`` event, written in the transaction that creates the job."""
    message = "Re-planning queued" if job.reprocess else "Planning queued"
    return EventDraft(EventType.JOB_QUEUED, message, None, str(WorkspaceStatus.QUEUED), 0, {})


def _check_language(language: str | None) -> str | None:
    if language is None:
        return None
    code = language_code(language)
    if code is None:
        raise ValidationFailed(
            "language must be a language code such as 'en', 'es' or 'es-MX'",
            details={"field": "language"},
        )
    return code


async def _start_checks(
    rt: Runtime, user: User, course_id: str, assignment_id: str
) -> AssignmentWorkspace | None:
    """The start's independent reads at once (in production each is a round trip: the
    rate limit's to Redis, the others' to the database): the rate limit, the Canvas
    credentials, and the workspace if there is one. A refusal is raised in that order."""
    limited, credentials, workspace = await asyncio.gather(
        rt.rate_limiter.check("start", f"user:{user.id}"),
        require_canvas_credentials(user.id),
        AssignmentWorkspace.get_or_none(
            user_id=user.id, course_id=course_id, assignment_id=assignment_id
        ),
        return_exceptions=True,
    )
    for refusal in (limited, credentials):
        if isinstance(refusal, BaseException):
            raise refusal
    if isinstance(workspace, BaseException):
        raise workspace
    return workspace


async def start_planning(
    rt: Runtime,
    user: User,
    course_id: str,
    assignment_id: str,
    *,
    reprocess: bool,
    language: str | None = None,
) -> StartResult:
    """Start (or resume) planning; ``language`` overrides the plan's language for this job
    (else ``PLAN_LANGUAGE``, else the student's Canvas locale)."""
    _check_ids(course_id, assignment_id)
    language = _check_language(language)
    workspace = await _start_checks(rt, user, course_id, assignment_id)
    if workspace is None:
        try:
            async with events_after_commit(rt):
                await ensure_job_capacity(rt, user)
                workspace = await AssignmentWorkspace.create(
                    user_id=user.id, course_id=course_id, assignment_id=assignment_id
                )
                job = await ProcessingJob.create(
                    workspace_id=workspace.id, job_type=JobType.PLAN, language=language
                )
                await publish(rt, workspace.id, _queued(job), job=job)
        except IntegrityError:
            # A concurrent identical start created it: resume that one.
            workspace = await find_workspace(user, course_id, assignment_id)
            return StartResult(await workspace_view(workspace), started=False)
        await rt.runner.enqueue(job.id)
        return StartResult(await workspace_view(workspace), started=True)
    if not reprocess:
        return StartResult(await workspace_view(workspace), started=False)
    return await _reprocess(rt, user, workspace, language)


async def _reprocess(
    rt: Runtime, user: User, workspace: AssignmentWorkspace, language: str | None
) -> StartResult:
    active = await ProcessingJob.filter(
        workspace_id=workspace.id, job_type=JobType.PLAN, status__in=ACTIVE_JOB_STATUSES
    ).first()
    if active is not None and active.reprocess:
        raise _reprocess_conflict()
    generation = workspace.generation + 1
    now = datetime.now(UTC)
    replacement = Replacement(
        user_id=user.id,
        max_active_jobs=rt.settings.max_active_jobs_per_user,
        workspace_id=workspace.id,
        generation=workspace.generation,
        workspace_changes={
            "generation": generation,
            "status": WorkspaceStatus.QUEUED,
            "current_stage": None,
            "progress": 0,
            "last_error": None,
        },
        # Feedback jobs too: they judge the plan being replaced (their leases see it).
        superseded_changes={
            "status": JobStatus.CANCELLED,
            "finished_at": now,
            "error_code": "superseded",
            "error_message": "Replaced by a reprocess request",
        },
        job=ProcessingJob(
            workspace_id=workspace.id,
            job_type=JobType.PLAN,
            generation=generation,
            reprocess=True,
            language=language,
            created_at=now,
            updated_at=now,
        ),
    )
    if rt.settings.uses_sqlite:
        await _replace_on_sqlite(rt, user, replacement)
    else:
        await _replace_on_postgres(rt, replacement)
    if active is not None:
        await rt.runner.cancel(active.id)
    await rt.runner.enqueue(replacement.job.id)
    return StartResult(await workspace_view(workspace), started=True)


async def _replace_on_sqlite(rt: Runtime, user: User, replacement: Replacement) -> None:
    """A reprocess's writes, in one transaction: the workspace moves to its next
    generation, which fences off its jobs; they are cancelled, its feedback stops being
    current, and the new job is queued."""
    workspace_id = replacement.workspace_id
    async with events_after_commit(rt):
        await ensure_job_capacity(rt, user, replacing_in=workspace_id)
        claimed = await AssignmentWorkspace.filter(
            id=workspace_id, generation=replacement.generation
        ).update(**replacement.workspace_changes)
        if not claimed:
            raise _reprocess_conflict()  # a concurrent reprocess won the race
        await ProcessingJob.filter(
            workspace_id=workspace_id, status__in=ACTIVE_JOB_STATUSES
        ).update(**replacement.superseded_changes)
        await FeedbackRecord.filter(workspace_id=workspace_id, is_current=True).update(
            is_current=False
        )
        await replacement.job.save(force_create=True)
        await publish(rt, workspace_id, _queued(replacement.job), job=replacement.job)


async def _replace_on_postgres(rt: Runtime, replacement: Replacement) -> None:
    """The same writes in one round trip (``server/workspaces/postgres.py``)."""
    job = replacement.job

    async def append(payload: dict[str, Any]) -> tuple[int, str]:
        retention = rt.settings.event_retention
        return await replace_plan_job(replacement, retention, EventType.JOB_QUEUED, payload)

    try:
        await publish_appended_by(rt, replacement.workspace_id, _queued(job), job, append)
    except TooManyActiveJobs:
        raise _too_many_active_jobs(rt) from None
    except MovedOn:
        raise _reprocess_conflict() from None


def _reprocess_conflict() -> Conflict:
    return Conflict(
        "A reprocess of this assignment is already running", code="reprocess_in_progress"
    )


async def get_workspace(user: User, course_id: str, assignment_id: str) -> WorkspaceView:
    return await workspace_view(await find_workspace(user, course_id, assignment_id))


async def create_stream_token(
    rt: Runtime, user: User, course_id: str, assignment_id: str
) -> StreamToken:
    await find_workspace(user, course_id, assignment_id)
    token, expires_at = mint_stream_token(rt.settings, user.id, course_id, assignment_id)
    return StreamToken(token=token, expires_at=expires_at)


def _check_last_event_id(last_event_id: int | None) -> None:
    if last_event_id is not None and last_event_id < 0:
        raise ValidationFailed(
            "last_event_id must not be negative", details={"field": "last_event_id"}
        )


async def follow_workspace(
    rt: Runtime,
    user_id: int,
    course_id: str,
    assignment_id: str,
    last_event_id: int | None,
    expires_at: datetime | None = None,
) -> AsyncGenerator[list[StreamMessage], None]:
    """The workspace's stream: a snapshot, then events (replayed after ``last_event_id``),
    until ``expires_at`` (the expiry of the token that opened it) or the end of its rights;
    in batches (see :func:`follow`)."""
    _check_last_event_id(last_event_id)
    workspace = await own_workspace(user_id, course_id, assignment_id, ("id",))

    async def snapshot() -> tuple[int, dict[str, Any]] | None:
        where = {"id": workspace["id"]}
        row = await first_row_with_newest(AssignmentWorkspace, SNAPSHOT_FIELDS, where, _PLAN_JOB)
        if row is None:
            return None
        view = _stored_snapshot_view(row)
        return view.last_event_id, WorkspaceSnapshot(**dict(view)).model_dump(mode="json")

    return follow(rt, workspace["id"], last_event_id, snapshot, expires_at)


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "workspace:"


class WorkspacePage(BaseModel):
    items: list[WorkspaceView]
    next_cursor: str | None


def _encode_cursor(workspace_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{workspace_id}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
        if decoded.startswith(_CURSOR_PREFIX):
            return int(decoded.removeprefix(_CURSOR_PREFIX))
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        pass
    raise ValidationFailed(
        "cursor must be a next_cursor returned by this list", details={"field": "cursor"}
    )


async def list_workspaces(
    user: User, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
) -> WorkspacePage:
    """The user's workspaces, newest first, a page at a time.

    Keyset pagination on the id: a page never repeats or skips a workspace when others are
    created or progress meanwhile (ordering by ``updated_at`` would move them between pages).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_PAGE_SIZE}", details={"field": "limit"}
        )
    query = AssignmentWorkspace.filter(user_id=user.id)
    if cursor is not None:
        query = query.filter(id__lt=_decode_cursor(cursor))
    rows = await query.order_by("-id").limit(limit + 1)
    page = rows[:limit]
    return WorkspacePage(
        items=await workspace_views(page),
        next_cursor=_encode_cursor(page[-1].id) if len(rows) > limit else None,
    )


async def current_plans(user: User, workspace_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The current plans of several of the user's workspaces, by workspace id; a workspace
    without a plan yet (or not the user's) is absent."""
    rows = await AssignmentWorkspace.filter(
        user_id=user.id, id__in=list(workspace_ids), plan_blob__isnull=False
    ).values_list("id", "plan_blob")
    return {int(workspace_id): dict(plan) for workspace_id, plan in rows}


async def find_job(user: User, job_id: str) -> ProcessingJob:
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        parsed = None
    job = (
        await ProcessingJob.get_or_none(id=parsed, workspace__user_id=user.id)
        if parsed is not None
        else None
    )
    if job is None:
        raise NotFound("No such job", code="job_not_found")
    return job


async def _job_snapshot(job_id: uuid.UUID) -> dict[str, Any]:
    view = job_view(await ProcessingJob.get(id=job_id))
    return {"event_type": "snapshot", **view.model_dump(mode="json")}


async def follow_job(
    rt: Runtime,
    user: User,
    job_id: str,
    last_event_id: int | None,
    expires_at: datetime | None = None,
) -> AsyncGenerator[StreamMessage, None]:
    """One job's part of its workspace's stream: a snapshot of the job, then the job's
    events (replayed after ``last_event_id``, as on the workspace stream).

    It ends after the job's last event: its terminal event, or, for a job that ended
    without one (a reprocess cancelled it), a final snapshot.
    """
    _check_last_event_id(last_event_id)
    job = await find_job(user, job_id)

    async def snapshot() -> tuple[int, dict[str, Any]] | None:
        # The workspace's head first: the job's state then includes everything up to it.
        workspace = await first_row(
            AssignmentWorkspace, ("last_event_id",), {"id": job.workspace_id}
        )
        if workspace is None:
            return None
        return workspace["last_event_id"], await _job_snapshot(job.id)

    messages = one_by_one(follow(rt, job.workspace_id, last_event_id, snapshot, expires_at))
    return _job_messages(messages, job)


async def _last_event_id_of(job: ProcessingJob) -> int | None:
    seq = await first_column_value(
        WorkspaceEvent.filter(workspace_id=job.workspace_id, job_id=job.id).order_by("-seq"),
        "seq",
    )
    return int(seq) if seq is not None else None


_NOTICES = frozenset({"history_gone", "stream_ended"})


async def _job_messages(
    stream: AsyncGenerator[StreamMessage, None], job: ProcessingJob
) -> AsyncGenerator[StreamMessage, None]:
    wanted = str(job.id)
    snapshot_id = 0  # events up to here are history; the job was as the snapshot said
    last_id: int | None = None  # the job's last event, once the job has finished
    finish_reported = False
    async with aclosing(stream):
        async for message in stream:
            if message.event_type == "snapshot":
                yield message
                snapshot_id = message.id or 0
                if message.data["status"] not in ACTIVE_JOB_STATUSES:
                    last_id = await _last_event_id_of(job) or 0
                    finish_reported = True
            elif message.event_type in _NOTICES or message.data.get("job_id") == wanted:
                yield message
                if message.event_type in TERMINAL_EVENT_TYPES | {"stream_ended"}:
                    return
            elif (
                last_id is None
                and (message.id or 0) > snapshot_id
                and not await ProcessingJob.exists(id=job.id, status__in=ACTIVE_JOB_STATUSES)
            ):
                # Another job's event while this one ended without a terminal event.
                last_id = await _last_event_id_of(job) or 0
            if last_id is not None and (message.id or 0) >= last_id:
                if not finish_reported:
                    yield StreamMessage("snapshot", await _job_snapshot(job.id), message.id)
                return
