"""The design's workspace routes: start, snapshot, plan, and the SSE progress stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from models.plan import Plan
from rest.deps import BEARER_CHALLENGE, CurrentUser, RuntimeDep, bearer_token, current_user
from rest.errors import ErrorBody
from server.auth import verify_stream_token
from server.errors import Unauthorized, ValidationFailed
from server.runtime import Runtime
from server.services import workspaces
from server.services.progress import StreamMessage
from server.services.users import get_user
from server.services.workspaces import WorkspaceView

router = APIRouter(prefix="/assignments/{course_id}/{assignment_id}", tags=["assignments"])

CourseId = Annotated[str, Path(description="Canvas course id")]
AssignmentId = Annotated[str, Path(description="Canvas assignment id")]
ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 404, 409, 422, 429)}


@router.post(
    "/start",
    response_model=WorkspaceView,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": WorkspaceView, "description": "Existing workspace"}, **ERRORS},
)
async def start(
    course_id: CourseId,
    assignment_id: AssignmentId,
    user: CurrentUser,
    rt: RuntimeDep,
    response: Response,
    reprocess: bool = False,
) -> WorkspaceView:
    """Start planning (202), or return the existing workspace (200). ``reprocess=true``
    rebuilds the plan in place, cancelling the active planning job."""
    result = await workspaces.start_planning(
        rt, user, course_id, assignment_id, reprocess=reprocess
    )
    if not result.started:
        response.status_code = status.HTTP_200_OK
    return result.workspace


@router.get("", response_model=WorkspaceView, responses=ERRORS)
async def get_workspace(
    course_id: CourseId, assignment_id: AssignmentId, user: CurrentUser
) -> WorkspaceView:
    return await workspaces.get_workspace(user, course_id, assignment_id)


@router.get("/plan", response_model=Plan, responses=ERRORS)
async def get_plan(
    course_id: CourseId, assignment_id: AssignmentId, user: CurrentUser
) -> dict[str, Any]:
    """The current plan (the Plan JSON; its schema is published at ``/schemas/plan.json``)."""
    return await workspaces.get_plan(user, course_id, assignment_id)


class StreamTokenView(BaseModel):
    token: str
    expires_at: str
    events_url: str


@router.post("/events/token", response_model=StreamTokenView, responses=ERRORS)
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


async def _stream_user(
    request: Request, rt: Runtime, course_id: str, assignment_id: str, access_token: str | None
) -> Any:
    if bearer_token(request) is not None or access_token is None:
        return await current_user(request, rt)
    try:
        user_id = verify_stream_token(rt.settings, access_token, course_id, assignment_id)
    except Unauthorized as exc:
        exc.headers = BEARER_CHALLENGE
        raise
    return await get_user(user_id)


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


async def _sse(
    messages: AsyncIterator[StreamMessage], max_seconds: float
) -> AsyncIterator[ServerSentEvent]:
    # Streams end after max_seconds; EventSource reconnects with Last-Event-ID.
    try:
        async with asyncio.timeout(max_seconds):
            async for message in messages:
                yield ServerSentEvent(
                    data=json.dumps(message.data),
                    event=message.event_type,
                    id=str(message.id) if message.id is not None else None,
                )
    except TimeoutError:
        return


@router.get(
    "/events",
    name="events",
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def events(
    course_id: CourseId,
    assignment_id: AssignmentId,
    request: Request,
    rt: RuntimeDep,
    access_token: Annotated[str | None, Query(description="A stream token")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Server-Sent Events: a ``snapshot`` first, then progress events with ``id:``; events
    after ``Last-Event-ID`` are replayed. Auth: a Bearer header or ``?access_token=``."""
    user = await _stream_user(request, rt, course_id, assignment_id, access_token)
    cursor = _parse_last_event_id(last_event_id)
    messages = await workspaces.follow_workspace(rt, user, course_id, assignment_id, cursor)
    return EventSourceResponse(
        _sse(messages, rt.settings.sse_max_stream_seconds),
        ping=rt.settings.sse_heartbeat_seconds,
        send_timeout=30,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
