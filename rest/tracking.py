"""The student's progress on a plan, and its history: thin routes over tracking."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from rest.assignments import AssignmentId, CourseId
from rest.deps import CurrentUser, RuntimeDep
from rest.errors import error_responses
from server.tracking import service as tracking
from server.tracking.service import MilestoneStatus, PlanProgress, PlanVersionSummary

router = APIRouter(prefix="/assignments/{course_id}/{assignment_id}", tags=["progress"])

WRITE_ERRORS = error_responses(400, 401, 404, 409, 422, 503)
PlanVersionField = Annotated[
    int, Field(ge=1, description="the plan version the client saw (compare-and-set)")
]


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done: bool
    plan_version: PlanVersionField


class MilestoneUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_version: PlanVersionField
    status: MilestoneStatus | None = Field(
        default=None, description="the student's status; null derives it from the tasks again"
    )
    target_date: date | None = Field(
        default=None, description="the student's date; null returns to the scheduled one"
    )


@router.get(
    "/plans",
    response_model=list[PlanVersionSummary],
    responses=error_responses(401, 404, 422, 503),
)
async def list_plans(
    course_id: CourseId, assignment_id: AssignmentId, user: CurrentUser
) -> list[PlanVersionSummary]:
    """Every stored plan version, newest first; read one with ``GET .../plan?version=N``."""
    return await tracking.list_plan_versions(user, course_id, assignment_id)


@router.patch("/tasks/{task_id}", response_model=PlanProgress, responses=WRITE_ERRORS)
async def update_task(
    course_id: CourseId,
    assignment_id: AssignmentId,
    task_id: Annotated[str, Path(description="a task id of the current plan")],
    body: TaskUpdate,
    user: CurrentUser,
    rt: RuntimeDep,
) -> PlanProgress:
    """Tick (or untick) a task; 409 when the plan is no longer at ``plan_version``."""
    return await tracking.set_task_done(
        rt, user, course_id, assignment_id, task_id, done=body.done, plan_version=body.plan_version
    )


@router.patch("/milestones/{milestone_id}", response_model=PlanProgress, responses=WRITE_ERRORS)
async def update_milestone(
    course_id: CourseId,
    assignment_id: AssignmentId,
    milestone_id: Annotated[str, Path(description="a milestone id of the current plan")],
    body: MilestoneUpdate,
    user: CurrentUser,
    rt: RuntimeDep,
) -> PlanProgress:
    """Set the milestone's status and/or target date (only the fields sent change)."""
    sent = {name: getattr(body, name) for name in body.model_fields_set - {"plan_version"}}
    return await tracking.update_milestone(
        rt, user, course_id, assignment_id, milestone_id, plan_version=body.plan_version, **sent
    )
