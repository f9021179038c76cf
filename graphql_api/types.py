"""GraphQL types, generated from the same pydantic models the REST API returns.

Each type mirrors a service view (``server/<domain>/``), the Plan JSON (``models/plan.py``) or
a progress event (``server/events/types.py``), so a field added there appears here too; names
are the REST names in camelCase. Free-form previews and warnings are ``JSON``.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from functools import reduce
from types import GenericAlias, UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel
from strawberry.experimental import pydantic as from_model
from strawberry.scalars import JSON

from graphql_api.context import GraphQLContext
from models import canvas_changes, plan
from server.accounts import users
from server.agenda import preferences
from server.agenda import service as agenda
from server.calendar import service as calendar
from server.events import types as events
from server.events.service import StreamMessage
from server.feedback import service as feedback
from server.tracking import service as tracking
from server.workspaces import service as workspaces


def _graphql_annotation(annotation: Any) -> Any:
    """``annotation`` with ``Literal[...]`` as ``str`` (GraphQL has no literal types) and
    free-form objects (``dict[...]``) as ``JSON``."""
    origin = get_origin(annotation)
    if origin is Literal:
        return str
    if origin is dict:
        return JSON
    arguments = get_args(annotation)
    if origin in (Union, UnionType):
        return reduce(operator.or_, map(_graphql_annotation, arguments))
    if origin is list:
        return GenericAlias(list, (_graphql_annotation(arguments[0]),))  # list[...] at run time
    return annotation


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from _nested_models(argument)


def mirror(model: type[BaseModel], name: str | None = None) -> Any:
    """The Strawberry type of ``model`` (named ``name``, else as the model), with the same
    fields, made on first use together with those of the models nested in it; so a field
    added to a model needs no change here."""
    existing = model.__dict__.get("_strawberry_type")
    if existing is not None:
        return existing
    overrides: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        for nested in _nested_models(field.annotation):
            mirror(nested)
        annotation = _graphql_annotation(field.annotation)
        if annotation != field.annotation:
            overrides[field_name] = annotation
    type_name = name or model.__name__
    shell = type(type_name, (), {"__annotations__": overrides, "__module__": __name__})
    return from_model.type(model=model, all_fields=True, name=type_name)(shell)


# The Plan JSON (models/plan.py) and the user, as they are.
if TYPE_CHECKING:  # made at run time, so only Any to the type checker (used in annotations)
    Plan = Any
else:
    Plan = mirror(plan.Plan)
User = mirror(users.UserView, "User")
AccessToken = mirror(users.AccessTokenView, "AccessToken")
CalendarToken = mirror(calendar.IssuedCalendarToken, "CalendarToken")
Agenda = mirror(agenda.Agenda)
Preferences = mirror(preferences.Preferences)


def plan_from_json(data: dict[str, Any]) -> Any:
    """A stored plan (the Plan JSON), validated as ``GET .../plan`` validates it."""
    return Plan.from_pydantic(plan.Plan.model_validate(data))


@from_model.input(model=users.CanvasLogin, all_fields=True, name="CanvasLoginInput")
class CanvasLoginInput:
    pass


# Workspaces and jobs.


ErrorInfo = mirror(workspaces.ErrorView, "ErrorInfo")
CanvasCheck = mirror(canvas_changes.CanvasCheck)


@from_model.type(model=workspaces.JobView, all_fields=True, name="Job")
class Job:
    id: strawberry.ID
    warnings: list[JSON]


@from_model.type(model=workspaces.WorkspaceView, all_fields=True, name="Workspace")
class Workspace:
    workspace_id: int  # as the view's; declared for the resolver below

    @strawberry.field(description="The current plan; null until the first plan is ready.")
    async def plan(self, info: strawberry.Info[GraphQLContext, None]) -> Plan | None:
        data = await info.context.plans.load(self.workspace_id)
        return plan_from_json(data) if data is not None else None


WorkspacePage = mirror(workspaces.WorkspacePage)


@strawberry.type
class StartPlanningResult:
    workspace: Workspace
    started: bool = strawberry.field(
        description="True when this call started a planning job (REST answers 202), false "
        "when it returned the existing workspace (200)."
    )


# The student's progress and the plan's history (server/tracking/service.py).
PlanView = mirror(tracking.PlanView, "PlanView")
PlanProgress = mirror(tracking.PlanProgress)
PlanVersionSummary = mirror(tracking.PlanVersionSummary)


# Feedback on submissions (models/feedback.py is the Feedback JSON).
if TYPE_CHECKING:  # as Plan above
    FeedbackJob = Any
else:
    FeedbackJob = mirror(feedback.FeedbackJobView, "FeedbackJob")
FeedbackJobPage = mirror(feedback.FeedbackJobPage)
WorkspaceFeedback = mirror(feedback.WorkspaceFeedback)


@strawberry.type
class StartFeedbackResult:
    job: FeedbackJob
    started: bool = strawberry.field(
        description="False when the idempotency key returned an earlier call's job (REST "
        "answers 200 instead of 202)."
    )


# The event streams.


EventError = mirror(events.EventError)


@from_model.type(model=events.ProgressEvent, all_fields=True, name="ProgressEvent")
class ProgressEvent:
    job_id: strawberry.ID | None
    milestone_preview: list[JSON] | None
    feedback_preview: JSON | None
    warning: JSON | None
    progress_update: JSON | None


@strawberry.type(
    description="The events after the requested id are no longer retained; the snapshot "
    "that follows is the current state."
)
class HistoryGone:
    requested_last_event_id: int
    message: str


@strawberry.type(
    description="The last message of a subscription whose rights ended: reason "
    "token_expired (the connection's token expired: the websocket is then closed with code "
    "4401; connect with a new token and resume with lastEventId), credentials_deleted or "
    "workspace_deleted (do not resubscribe)."
)
class StreamEnded:
    reason: str
    message: str


WorkspaceStreamMessage = Annotated[
    Workspace | ProgressEvent | HistoryGone | StreamEnded,
    strawberry.union(
        "WorkspaceStreamMessage",
        description="A snapshot of the workspace (first), a progress event, a notice that "
        "the requested history is gone, or the notice that the stream ended.",
    ),
]

JobStreamMessage = Annotated[
    Job | ProgressEvent | HistoryGone | StreamEnded,
    strawberry.union(
        "JobStreamMessage",
        description="A snapshot of the job (first), one of its progress events, a notice "
        "that the requested history is gone, or the notice that the stream ended.",
    ),
]


def _history_gone(message: StreamMessage) -> HistoryGone:
    return HistoryGone(
        requested_last_event_id=message.data["requested_last_event_id"],
        message=message.data["message"],
    )


def _progress_event(message: StreamMessage) -> ProgressEvent:
    return ProgressEvent.from_pydantic(events.ProgressEvent.model_validate(message.data))


def _notice(message: StreamMessage) -> HistoryGone | StreamEnded | None:
    if message.event_type == "history_gone":
        return _history_gone(message)
    if message.event_type == "stream_ended":
        return StreamEnded(reason=message.data["reason"], message=message.data["message"])
    return None


SnapshotT = TypeVar("SnapshotT", "Workspace", "Job")


def _detached(snapshot: SnapshotT) -> SnapshotT:
    """A stream's snapshot without the pydantic model Strawberry keeps beside its conversion
    (``_original_model``, which nothing here reads): graphql-core's subscription loop holds
    the last event it mapped while the stream idles, the snapshot for an idle follower, and
    the model was a second copy of it per subscription (~3 KiB, issue 17)."""
    vars(snapshot).pop("_original_model", None)
    return snapshot


def workspace_stream_message(
    message: StreamMessage,
) -> Workspace | ProgressEvent | HistoryGone | StreamEnded:
    if message.event_type == "snapshot":
        return _detached(
            Workspace.from_pydantic(workspaces.WorkspaceView.model_validate(message.data))
        )
    return _notice(message) or _progress_event(message)


def job_stream_message(message: StreamMessage) -> Job | ProgressEvent | HistoryGone | StreamEnded:
    if message.event_type == "snapshot":
        return _detached(Job.from_pydantic(workspaces.JobView.model_validate(message.data)))
    return _notice(message) or _progress_event(message)
