"""The GraphQL schema: queries, mutations and subscriptions over the REST API's services.

Every resolver authenticates the caller and calls one service function, the same one as
the matching REST route; only the mapping to GraphQL types happens here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Annotated, TypeVar

import strawberry

from graphql_api.context import GraphQLContext
from graphql_api.errors import AppSchema, ErrorCodes
from graphql_api.limits import limit_extensions
from graphql_api.types import (
    AccessToken,
    CanvasLoginInput,
    FeedbackJob,
    FeedbackJobPage,
    JobStreamMessage,
    Plan,
    StartFeedbackResult,
    StartPlanningResult,
    User,
    Workspace,
    WorkspaceFeedback,
    WorkspacePage,
    WorkspaceStreamMessage,
    job_stream_message,
    plan_from_json,
    workspace_stream_message,
)
from server.metrics import GRAPHQL_SUBSCRIPTIONS
from server.services import feedback as feedback_service
from server.services import users, workspaces
from server.services.progress import StreamMessage
from server.settings import Settings

Info = strawberry.Info[GraphQLContext, None]
Message = TypeVar("Message")

CourseId = Annotated[str, strawberry.argument(description="Canvas course id")]
AssignmentId = Annotated[str, strawberry.argument(description="Canvas assignment id")]
LastEventId = Annotated[
    int | None,
    strawberry.argument(
        description="Resume after this event id (as SSE's Last-Event-ID): every later event "
        "is delivered, in order, none twice; 0 replays everything retained. Without it, the "
        "stream starts now."
    ),
]
Draft = Annotated[str, strawberry.argument(description="The draft, as plain text")]
IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Retrying with the same key returns the first call's job instead of "
        "starting another (REST: the Idempotency-Key header)."
    ),
]


@strawberry.type
class Query:
    @strawberry.field(description="The authenticated user (REST: GET /me).")
    async def me(self, info: Info) -> User:
        return User.from_pydantic(await users.user_view(await info.context.user()))

    @strawberry.field(
        description="One workspace's snapshot (REST: GET /assignments/{course}/{assignment})."
    )
    async def workspace(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
    ) -> Workspace:
        view = await workspaces.get_workspace(await info.context.user(), course_id, assignment_id)
        return Workspace.from_pydantic(view)

    @strawberry.field(
        description="The user's workspaces, newest first; pass nextCursor as cursor for the "
        "next page (REST: GET /assignments)."
    )
    async def workspaces(
        self,
        info: Info,
        limit: Annotated[
            int, strawberry.argument(description=f"1 to {workspaces.MAX_PAGE_SIZE}")
        ] = workspaces.DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> WorkspacePage:
        page = await workspaces.list_workspaces(
            await info.context.user(), limit=limit, cursor=cursor
        )
        return WorkspacePage.from_pydantic(page)

    @strawberry.field(
        description="A workspace's current plan; plan_not_ready before the first one "
        "(REST: GET /assignments/{course}/{assignment}/plan)."
    )
    async def plan(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
    ) -> Plan:
        data = await workspaces.get_plan(await info.context.user(), course_id, assignment_id)
        return plan_from_json(data)

    @strawberry.field(
        description="A workspace's feedback jobs, newest first, without texts and feedback "
        "(REST: GET .../feedback/jobs)."
    )
    async def feedback_jobs(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        limit: Annotated[
            int, strawberry.argument(description=f"1 to {feedback_service.MAX_PAGE_SIZE}")
        ] = feedback_service.DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> FeedbackJobPage:
        page = await feedback_service.list_feedback_jobs(
            await info.context.user(), course_id, assignment_id, limit=limit, cursor=cursor
        )
        return FeedbackJobPage.from_pydantic(page)

    @strawberry.field(
        description="One feedback job: its state, the submitted text and, once it succeeded, "
        "the feedback (REST: GET .../feedback/jobs/{job_id})."
    )
    async def feedback_job(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        job_id: strawberry.ID,
    ) -> FeedbackJob:
        view = await feedback_service.get_feedback_job(
            await info.context.user(), course_id, assignment_id, str(job_id)
        )
        return FeedbackJob.from_pydantic(view)

    @strawberry.field(
        description="The newest feedback made on the current plan: for the assignment, and "
        "per milestone (REST: GET .../feedback)."
    )
    async def feedback(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
    ) -> WorkspaceFeedback:
        records = await feedback_service.current_feedback(
            await info.context.user(), course_id, assignment_id
        )
        return WorkspaceFeedback.from_pydantic(records)


async def _start_feedback(
    info: Info,
    course_id: str,
    assignment_id: str,
    milestone_id: str | None,
    text: str,
    idempotency_key: str | None,
) -> StartFeedbackResult:
    result = await feedback_service.start_feedback(
        info.context.runtime,
        await info.context.user(),
        course_id,
        assignment_id,
        milestone_id=milestone_id,
        text=text,
        idempotency_key=idempotency_key,
    )
    return StartFeedbackResult(job=FeedbackJob.from_pydantic(result.job), started=result.started)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Start planning, or return the existing workspace; reprocess rebuilds the "
        "plan in place (REST: POST /assignments/{course}/{assignment}/start)."
    )
    async def start_planning(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        reprocess: bool = False,
    ) -> StartPlanningResult:
        result = await workspaces.start_planning(
            info.context.runtime,
            await info.context.user(),
            course_id,
            assignment_id,
            reprocess=reprocess,
        )
        return StartPlanningResult(
            workspace=Workspace.from_pydantic(result.workspace), started=result.started
        )

    @strawberry.mutation(
        description="Start an async feedback job on a draft for one milestone of the current "
        "plan (REST: POST .../milestones/{milestone_id}/submissions/start)."
    )
    async def start_milestone_feedback(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        milestone_id: str,
        text: Draft,
        idempotency_key: IdempotencyKey = None,
    ) -> StartFeedbackResult:
        return await _start_feedback(
            info, course_id, assignment_id, milestone_id, text, idempotency_key
        )

    @strawberry.mutation(
        description="Start an async feedback job on the whole assignment's draft "
        "(REST: POST .../submissions/start)."
    )
    async def start_assignment_feedback(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        text: Draft,
        idempotency_key: IdempotencyKey = None,
    ) -> StartFeedbackResult:
        return await _start_feedback(info, course_id, assignment_id, None, text, idempotency_key)

    @strawberry.mutation(
        description="Onboard: check a Canvas token with Canvas, store it encrypted, and get a "
        "backend JWT. Needs no token (REST: POST /auth/canvas)."
    )
    async def connect_canvas(self, info: Info, login: CanvasLoginInput) -> AccessToken:
        issued = await users.onboard_with_canvas_token(
            info.context.runtime, login.to_pydantic(), info.context.client_key
        )
        return AccessToken.from_pydantic(issued)

    @strawberry.mutation(
        description="Replace the stored Canvas token; it must belong to the same Canvas user "
        "(REST: PUT /me/canvas-credentials)."
    )
    async def replace_canvas_credentials(self, info: Info, login: CanvasLoginInput) -> User:
        view = await users.replace_canvas_credentials(
            info.context.runtime, await info.context.user(), login.to_pydantic()
        )
        return User.from_pydantic(view)

    @strawberry.mutation(
        description="Delete the stored Canvas token; true when done "
        "(REST: DELETE /me/canvas-credentials)."
    )
    async def delete_canvas_credentials(self, info: Info) -> bool:
        await users.delete_canvas_credentials(info.context.runtime, await info.context.user())
        return True


async def _mapped(
    messages: AsyncIterator[StreamMessage], to_graphql: Callable[[StreamMessage], Message]
) -> AsyncGenerator[Message, None]:
    with GRAPHQL_SUBSCRIPTIONS.track_inprogress():
        async with aclosing(messages):
            async for message in messages:
                yield to_graphql(message)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A workspace's stream, as SSE's (REST: GET .../events): a Workspace "
        "snapshot first, then its ProgressEvents."
    )
    async def workspace_events(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        last_event_id: LastEventId = None,
    ) -> AsyncGenerator[WorkspaceStreamMessage, None]:
        messages = await workspaces.follow_workspace(
            info.context.runtime,
            await info.context.user(),
            course_id,
            assignment_id,
            last_event_id,
        )
        return _mapped(messages, workspace_stream_message)

    @strawberry.subscription(
        description="One job's part of its workspace's stream: a Job snapshot first, then the "
        "job's ProgressEvents; it completes after the job's last event."
    )
    async def job_events(
        self,
        info: Info,
        job_id: strawberry.ID,
        last_event_id: LastEventId = None,
    ) -> AsyncGenerator[JobStreamMessage, None]:
        messages = await workspaces.follow_job(
            info.context.runtime, await info.context.user(), str(job_id), last_event_id
        )
        return _mapped(messages, job_stream_message)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema, with the limits of ``settings`` (without settings: no limits, for SDL)."""
    extensions = [ErrorCodes, *(limit_extensions(settings) if settings else [])]
    return AppSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
