"""The calendar feed: thin routes over the calendar service.

The feed routes take the calendar token from ``?token=`` (calendar apps cannot send
headers) and nothing else; the token is accepted nowhere else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from rest.assignments import AssignmentId, CourseId
from rest.deps import CurrentUser, RuntimeDep, public_url_for
from rest.errors import error_responses
from server.calendar import service as calendar
from server.calendar.service import FeedAssignment
from server.kernel.settings import Settings

router = APIRouter(tags=["calendar"])

FEED_ROUTE = "calendar_feed"
WORKSPACE_FEED_ROUTE = "workspace_calendar_feed"
CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
# The URL carries the token: keep it out of caches and Referer headers.
NO_TRACE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
FEED_RESPONSES = {
    200: {
        "content": {"text/calendar": {"schema": {"type": "string", "format": "RFC 5545"}}},
        "description": "An iCalendar document (RFC 5545)",
    },
    **error_responses(401, 404, 422, 503),
}
CalendarTokenQuery = Annotated[
    str | None, Query(description="the calendar token (POST /me/calendar-token)")
]


class AssignmentFeed(FeedAssignment):
    calendar_url: str


class CalendarFeeds(BaseModel):
    token: str = Field(description="the calendar token; the previous one no longer works")
    created_at: str
    calendar_url: str = Field(description="every workspace's dates")
    assignments: list[AssignmentFeed] = Field(description="one feed per workspace")


def _feed_url(request: Request, settings: Settings, token: str, route: str, **params: str) -> str:
    return f"{public_url_for(request, settings, route, **params)}?token={token}"


def _calendar_response(body: bytes) -> Response:
    return Response(body, media_type=CALENDAR_MEDIA_TYPE, headers=NO_TRACE)


@router.get("/calendar.ics", name=FEED_ROUTE, response_class=Response, responses=FEED_RESPONSES)
async def user_feed(rt: RuntimeDep, token: CalendarTokenQuery = None) -> Response:
    """Every workspace's milestone target dates and Canvas due dates (iCalendar).
    Auth: ``?token=`` with the calendar token only."""
    user = await calendar.calendar_user(token)
    return _calendar_response(await calendar.user_calendar(rt.settings, user))


@router.get(
    "/assignments/{course_id}/{assignment_id}/calendar.ics",
    name=WORKSPACE_FEED_ROUTE,
    response_class=Response,
    responses=FEED_RESPONSES,
)
async def workspace_feed(
    course_id: CourseId,
    assignment_id: AssignmentId,
    rt: RuntimeDep,
    token: CalendarTokenQuery = None,
) -> Response:
    """One workspace's milestone target dates and Canvas due date (iCalendar).
    Auth: ``?token=`` with the calendar token only."""
    user = await calendar.calendar_user(token)
    return _calendar_response(
        await calendar.workspace_calendar(rt.settings, user, course_id, assignment_id)
    )


@router.post(
    "/me/calendar-token", response_model=CalendarFeeds, responses=error_responses(401, 503)
)
async def rotate_token(
    user: CurrentUser, rt: RuntimeDep, request: Request, response: Response
) -> CalendarFeeds:
    """A new calendar token and the feed URLs carrying it; the previous token stops working."""
    issued = await calendar.issue_calendar_token(user)
    response.headers.update(NO_TRACE)
    return CalendarFeeds(
        token=issued.token,
        created_at=issued.created_at.isoformat(),
        calendar_url=_feed_url(request, rt.settings, issued.token, FEED_ROUTE),
        assignments=[
            AssignmentFeed(
                **assignment.model_dump(),
                calendar_url=_feed_url(
                    request,
                    rt.settings,
                    issued.token,
                    WORKSPACE_FEED_ROUTE,
                    **assignment.model_dump(),
                ),
            )
            for assignment in issued.assignments
        ],
    )
