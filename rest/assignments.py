"""The design's workspace routes: start, snapshot, plan, and the SSE progress stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel
from sse_starlette import ServerSentEvent

from rest.deps import (
    BEARER_CHALLENGE,
    BearerCredentials,
    CurrentGrant,
    CurrentUser,
    RuntimeDep,
    verified_grant,
)
from rest.errors import error_responses
from rest.etags import IfNoneMatch, conditional, conditional_responses
from rest.openapi import stream_message_response
from rest.sse import LeanEventSourceResponse
from server.events.service import StreamMessage
from server.kernel.auth import Grant, verify_stream_token
from server.kernel.errors import Unauthorized, ValidationFailed
from server.kernel.metrics import SSE_CONNECTIONS
from server.planning import changes
from server.runtime import Runtime
from server.tracking import service as tracking
from server.tracking.service import PlanView
from server.workspaces import service as workspaces
from server.workspaces.service import WorkspacePage, WorkspaceView

router = APIRouter(prefix="/assignments/{course_id}/{assignment_id}", tags=["assignments"])
collection_router = APIRouter(prefix="/assignments", tags=["assignments"])

CourseId = Annotated[str, Path(description="Canvas course id")]
AssignmentId = Annotated[str, Path(description="Canvas assignment id")]
# Any route may meet a briefly unavailable database (503).
READ_ERRORS = error_responses(401, 404, 422, 503)


@collection_router.get("", response_model=WorkspacePage, responses=error_responses(401, 422, 503))
async def list_workspaces(
    user: CurrentUser,
    limit: Annotated[
        int, Query(description=f"page size, 1 to {workspaces.MAX_PAGE_SIZE}")
    ] = workspaces.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> WorkspacePage:
    """The user's workspaces (snapshots), newest first; follow ``next_cursor`` for more."""
    return await workspaces.list_workspaces(user, limit=limit, cursor=cursor)


@router.post(
    "/start",
    response_model=WorkspaceView,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"model": WorkspaceView, "description": "Existing workspace"},
        **error_responses(400, 401, 409, 422, 429, 503),
    },
)
async def start(
    course_id: CourseId,
    assignment_id: AssignmentId,
    user: CurrentUser,
    rt: RuntimeDep,
    response: Response,
    reprocess: bool = False,
    language: Annotated[
        str | None,
        Query(
            description="the plan's language (e.g. 'es'), instead of PLAN_LANGUAGE or the "
            "student's Canvas locale",
            max_length=16,
        ),
    ] = None,
) -> WorkspaceView:
    """Start planning (202), or return the existing workspace (200). ``reprocess=true``
    rebuilds the plan in place, cancelling the active planning job. Resuming a ready
    workspace compares its plan's sources with Canvas and answers with what changed
    (``canvas_changed``); it never re-plans by itself."""
    result = await changes.start_or_resume(
        rt, user, course_id, assignment_id, reprocess=reprocess, language=language
    )
    if not result.started:
        response.status_code = status.HTTP_200_OK
    return result.workspace


@router.get(
    "",
    response_model=WorkspaceView,
    responses={**conditional_responses("The workspace's snapshot"), **READ_ERRORS},
)
async def get_workspace(
    course_id: CourseId,
    assignment_id: AssignmentId,
    grant: CurrentGrant,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The workspace's snapshot, with an ``ETag``: ``If-None-Match`` with the current tag
    answers 304 without a body."""
    snapshot = await workspaces.read_snapshot(grant.user_id, course_id, assignment_id)
    return conditional(snapshot, if_none_match)


@router.get(
    "/plan",
    response_model=PlanView,
    responses={
        **conditional_responses("The plan view"),
        **error_responses(400, 401, 404, 422, 503),
    },
)
async def get_plan(
    course_id: CourseId,
    assignment_id: AssignmentId,
    grant: CurrentGrant,
    version: Annotated[
        int | None, Query(ge=1, description="a stored version; default current")
    ] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A plan version, the current one by default: the Plan JSON (its schema is published at
    ``/schemas/plan.json``) with the version, the student's progress, what changed since the
    previous version, and the progress that could not be carried over to it. With an
    ``ETag``: ``If-None-Match`` with the current tag answers 304 without a body."""
    plan = await tracking.read_plan(grant.user_id, course_id, assignment_id, version)
    return conditional(plan, if_none_match)


class StreamTokenView(BaseModel):
    token: str
    expires_at: str
    events_url: str


@router.post("/events/token", response_model=StreamTokenView, responses=READ_ERRORS)
async def create_stream_token(
    course_id: CourseId,
    assignment_id: AssignmentId,
    user: CurrentUser,
    rt: RuntimeDep,
    request: Request,
) -> StreamTokenView:
    """A short-lived token for this one stream, for EventSource (which cannot send headers)."""
    issued = await workspaces.create_stream_token(rt, user, course_id, assignment_id)
    url = request.url_for("events", course_id=course_id, assignment_id=assignment_id)
    return StreamTokenView(
        token=issued.token,
        expires_at=issued.expires_at.isoformat(),
        events_url=f"{url.path}?access_token={issued.token}",
    )


async def _stream_grant(
    rt: Runtime,
    course_id: str,
    assignment_id: str,
    credentials: HTTPAuthorizationCredentials | None,
    access_token: str | None,
) -> Grant:
    """The stream's grant; the user is checked by the workspace lookup that follows."""
    if credentials is not None or access_token is None:
        token = credentials.credentials.strip() if credentials is not None else None
        return verified_grant(rt.settings, token)
    try:
        return verify_stream_token(rt.settings, access_token, course_id, assignment_id)
    except Unauthorized as exc:
        exc.headers = BEARER_CHALLENGE
        raise


def _parse_last_event_id(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = int(value)
    except ValueError:
        raise ValidationFailed("Last-Event-ID must be an event id (an integer)") from None
    if parsed < 0:
        raise ValidationFailed("Last-Event-ID must not be negative")
    return parsed


def _encoded(message: StreamMessage) -> bytes:
    encoded: bytes | None = message.forms.get("sse")
    if encoded is None:
        encoded = message.forms["sse"] = ServerSentEvent(
            data=message.json,
            event=message.event_type,
            id=str(message.id) if message.id is not None else None,
        ).encode()
    return encoded


async def _sse(
    batches: AsyncIterator[list[StreamMessage]], max_seconds: float
) -> AsyncIterator[bytes]:
    # Streams end after max_seconds; EventSource reconnects with Last-Event-ID.
    try:
        with SSE_CONNECTIONS.track_inprogress():
            async with asyncio.timeout(max_seconds):
                async for batch in batches:
                    # A batch in one write: a follower that fell behind catches up at once.
                    yield b"".join(_encoded(message) for message in batch)
                    del batch  # not held while the stream idles (a snapshot: a few KiB)
    except TimeoutError:
        return


@router.get(
    "/events",
    name="events",
    responses={
        200: stream_message_response(
            "The stream: snapshot first, then events (see WorkspaceStreamMessage)"
        ),
        **READ_ERRORS,
    },
)
async def events(
    course_id: CourseId,
    assignment_id: AssignmentId,
    rt: RuntimeDep,
    credentials: BearerCredentials,
    access_token: Annotated[str | None, Query(description="A stream token")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    resume_after: Annotated[
        str | None,
        Query(
            alias="last_event_id",
            description="Resume after this event id, as the Last-Event-ID header does (which "
            "wins when both are sent): for a browser that opens a new EventSource with a "
            "fresh stream token after its stream ended or dropped",
        ),
    ] = None,
) -> LeanEventSourceResponse:
    """Server-Sent Events: a ``snapshot`` first, then progress events with ``id:``; events
    after ``Last-Event-ID`` (or ``?last_event_id=``) are replayed. Auth: a Bearer header or
    ``?access_token=``. The stream ends with a ``stream_ended`` event when its token
    expires (``reason: token_expired``: mint a new token and resume with
    ``?last_event_id=``), or when the user's Canvas credentials or the workspace are
    deleted."""
    grant = await _stream_grant(rt, course_id, assignment_id, credentials, access_token)
    header_given = last_event_id is not None and last_event_id.strip()
    cursor = _parse_last_event_id(last_event_id if header_given else resume_after)
    messages = await workspaces.follow_workspace(
        rt, grant.user_id, course_id, assignment_id, cursor, grant.expires_at
    )
    return LeanEventSourceResponse(
        _sse(messages, rt.settings.sse_max_stream_seconds),
        ping=rt.settings.sse_heartbeat_seconds,
        send_timeout=30,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
