"""The GraphQL schema: queries, mutations and subscriptions over the REST API's services.

Every resolver authenticates the caller and calls one service function, the same one as
the matching REST route; only the mapping to GraphQL types happens here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import date
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.scalars import JSON

from graphql_api.context import GraphQLContext
from graphql_api.errors import AppSchema, ErrorCodes
from graphql_api.limits import limit_extensions
from graphql_api.shared_events import SharedEventExecutor
from graphql_api.types import (
    AccessToken,
    Agenda,
    CalendarToken,
    CanvasLoginInput,
    FeedbackJob,
    FeedbackJobPage,
    JobStreamMessage,
    PlanProgress,
    PlanVersionSummary,
    PlanView,
    Preferences,
    StartFeedbackResult,
    StartPlanningResult,
    User,
    Workspace,
    WorkspaceFeedback,
    WorkspacePage,
    WorkspaceStreamMessage,
    job_stream_message,
    workspace_stream_message,
)
from server.accounts import users
from server.agenda import service as agenda
from server.agenda.preferences import preferences_update
from server.calendar import service as calendar
from server.data_rights import service as data_rights
from server.events.feed import StreamEnding
from server.events.service import StreamMessage, one_by_one
from server.feedback import service as feedback_service
from server.kernel.metrics import GRAPHQL_SUBSCRIPTIONS
from server.kernel.settings import Settings
from server.planning import changes
from server.tracking import service as tracking
from server.tracking.service import MilestoneStatus
from server.workspaces import service as workspaces_service

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
PlanVersionArgument = Annotated[
    int, strawberry.argument(description="the plan version the client saw (compare-and-set)")
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
        view = await workspaces_service.get_workspace(
            await info.context.user(), course_id, assignment_id
        )
        return Workspace.from_pydantic(view)

    @strawberry.field(
        description="The user's workspaces, newest first; pass nextCursor as cursor for the "
        "next page (REST: GET /assignments)."
    )
    async def workspaces(
        self,
        info: Info,
        limit: Annotated[
            int, strawberry.argument(description=f"1 to {workspaces_service.MAX_PAGE_SIZE}")
        ] = workspaces_service.DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> WorkspacePage:
        page = await workspaces_service.list_workspaces(
            await info.context.user(), limit=limit, cursor=cursor
        )
        return WorkspacePage.from_pydantic(page)

    @strawberry.field(
        description="A plan version (the current one by default) with the student's progress "
        "and what changed since the previous version; plan_not_ready before the first one "
        "(REST: GET /assignments/{course}/{assignment}/plan?version=N)."
    )
    async def plan(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        version: Annotated[
            int | None, strawberry.argument(description="a stored version; default current")
        ] = None,
    ) -> PlanView:
        view = await tracking.get_plan_view(
            await info.context.user(), course_id, assignment_id, version
        )
        return PlanView.from_pydantic(view)

    @strawberry.field(
        description="Every stored plan version, newest first "
        "(REST: GET /assignments/{course}/{assignment}/plans)."
    )
    async def plan_versions(
        self, info: Info, course_id: CourseId, assignment_id: AssignmentId
    ) -> list[PlanVersionSummary]:
        versions = await tracking.list_plan_versions(
            await info.context.user(), course_id, assignment_id
        )
        return [PlanVersionSummary.from_pydantic(version) for version in versions]

    @strawberry.field(
        description="Your tasks, milestones and due dates day by day across all your "
        "planned assignments, balanced to your daily budget (REST: GET /me/agenda)."
    )
    async def agenda(
        self,
        info: Info,
        start: Annotated[
            date | None,
            strawberry.argument(name="from", description="first day (default: today)"),
        ] = None,
        end: Annotated[
            date | None,
            strawberry.argument(name="to", description="last day (default: from + 13 days)"),
        ] = None,
    ) -> Agenda:
        view = await agenda.get_agenda(
            info.context.runtime.settings, await info.context.user(), start, end
        )
        return Agenda.from_pydantic(view)

    @strawberry.field(
        description="Your daily work budget and reminder time (REST: GET /me/preferences)."
    )
    async def preferences(self, info: Info) -> Preferences:
        view = agenda.get_preferences(info.context.runtime.settings, await info.context.user())
        return Preferences.from_pydantic(view)

    @strawberry.field(
        description="Everything stored about you, one JSON document; credentials only as "
        '"stored, last checked at" (REST: GET /me/export).'
    )
    async def my_data(self, info: Info) -> JSON:
        return JSON(await data_rights.export_user(await info.context.user()))

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
        "plan in place; resuming a ready workspace compares it with Canvas (canvasChanged) "
        "(REST: POST /assignments/{course}/{assignment}/start)."
    )
    async def start_planning(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        reprocess: bool = False,
        language: str | None = None,
    ) -> StartPlanningResult:
        result = await changes.start_or_resume(
            info.context.runtime,
            await info.context.user(),
            course_id,
            assignment_id,
            reprocess=reprocess,
            language=language,
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

    @strawberry.mutation(
        description="Tick (or untick) a task; plan_version_conflict when the plan is no longer "
        "at planVersion (REST: PATCH .../tasks/{task_id})."
    )
    async def set_task_done(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        task_id: str,
        done: bool,
        plan_version: PlanVersionArgument,
    ) -> PlanProgress:
        progress = await tracking.set_task_done(
            info.context.runtime,
            await info.context.user(),
            course_id,
            assignment_id,
            task_id,
            done=done,
            plan_version=plan_version,
        )
        return PlanProgress.from_pydantic(progress)

    @strawberry.mutation(
        description="Set a milestone's status and/or target date; only the arguments sent "
        "change, and null returns to the derived status or the scheduled date "
        "(REST: PATCH .../milestones/{milestone_id})."
    )
    async def update_milestone(
        self,
        info: Info,
        course_id: CourseId,
        assignment_id: AssignmentId,
        milestone_id: str,
        plan_version: PlanVersionArgument,
        status: MilestoneStatus | None = strawberry.UNSET,
        target_date: date | None = strawberry.UNSET,
    ) -> PlanProgress:
        sent: dict[str, Any] = {
            name: value
            for name, value in (("status", status), ("target_date", target_date))
            if value is not strawberry.UNSET
        }
        progress = await tracking.update_milestone(
            info.context.runtime,
            await info.context.user(),
            course_id,
            assignment_id,
            milestone_id,
            plan_version=plan_version,
            **sent,
        )
        return PlanProgress.from_pydantic(progress)

    @strawberry.mutation(
        description="Delete this workspace with its jobs, plans, submissions, feedback and "
        "events; true when done (REST: DELETE /assignments/{course}/{assignment})."
    )
    async def delete_workspace(
        self, info: Info, course_id: CourseId, assignment_id: AssignmentId
    ) -> bool:
        await data_rights.delete_workspace(
            info.context.runtime, await info.context.user(), course_id, assignment_id
        )
        return True

    @strawberry.mutation(
        description="Erase your account and everything of yours, cancelling your running "
        "jobs first; true when done (REST: DELETE /me)."
    )
    async def delete_me(self, info: Info) -> bool:
        await data_rights.erase_user(info.context.runtime, await info.context.user())
        return True

    @strawberry.mutation(
        description="Replace your preferences; a missing or null one goes back to the "
        "default (REST: PUT /me/preferences)."
    )
    async def set_preferences(
        self,
        info: Info,
        hours_per_day: Annotated[
            float | None,
            strawberry.argument(description="hours of work a day, over 0 and at most 24"),
        ] = None,
        reminder: Annotated[
            str | None,
            strawberry.argument(description='"HH:MM" the day before a milestone, or "off"'),
        ] = None,
    ) -> Preferences:
        view = await agenda.set_preferences(
            info.context.runtime.settings,
            await info.context.user(),
            preferences_update(hours_per_day, reminder),
        )
        return Preferences.from_pydantic(view)

    @strawberry.mutation(
        description="A new calendar token; the previous one stops working (REST: POST "
        "/me/calendar-token, which also returns the feed URLs: /calendar.ics?token=… and "
        "/assignments/{course}/{assignment}/calendar.ics?token=…)."
    )
    async def rotate_calendar_token(self, info: Info) -> CalendarToken:
        issued = await calendar.issue_calendar_token(await info.context.user())
        return CalendarToken.from_pydantic(issued)


async def _mapped(
    context: GraphQLContext,
    messages: AsyncGenerator[StreamMessage, None],
    to_graphql: Callable[[StreamMessage], Message],
) -> AsyncGenerator[Message, None]:
    form = f"graphql:{to_graphql.__name__}"
    with GRAPHQL_SUBSCRIPTIONS.track_inprogress():
        async with aclosing(messages):
            async for message in messages:
                # Converted once for all the followers of the workspace (it is read-only).
                converted = message.forms.get(form)
                if converted is None:
                    converted = message.forms[form] = to_graphql(message)
                yield converted
                if message.data.get("reason") == StreamEnding.TOKEN_EXPIRED:
                    # The connection was authenticated with that token: it ends too.
                    await context.close_connection(TOKEN_EXPIRED_CLOSE_CODE)
                del message, converted  # not held while the stream idles (a snapshot)


# A subscription whose connection's token expired ends, then its websocket closes with
# this code (the 4400s are the application's, as graphql-transport-ws's own 4401).
TOKEN_EXPIRED_CLOSE_CODE = 4401


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
        batches = await workspaces_service.follow_workspace(
            info.context.runtime,
            (await info.context.user()).id,
            course_id,
            assignment_id,
            last_event_id,
            info.context.expires_at,
        )
        return _mapped(info.context, one_by_one(batches), workspace_stream_message)

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
        messages = await workspaces_service.follow_job(
            info.context.runtime,
            await info.context.user(),
            str(job_id),
            last_event_id,
            info.context.expires_at,
        )
        return _mapped(info.context, messages, job_stream_message)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema, with the limits of ``settings`` (without settings: no limits, for SDL)."""
    # Parsed documents are shared: every open subscription holds its operation's document
    # (some 10 KiB of syntax tree), and thousands of them send the same one.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorCodes,
        ParserCache,
        *(limit_extensions(settings) if settings else []),
    ]
    return AppSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=SharedEventExecutor,
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
