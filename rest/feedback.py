"""The design's feedback routes: start feedback on a milestone or the whole assignment, read
a feedback job; and the history a client needs: a workspace's feedback jobs and its
current feedback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status
from pydantic import BaseModel, Field

from rest.assignments import AssignmentId, CourseId
from rest.deps import CurrentUser, RuntimeDep
from rest.errors import error_responses
from server.feedback import service as feedback
from server.feedback.service import (
    FeedbackJobPage,
    FeedbackJobView,
    FeedbackStart,
    WorkspaceFeedback,
)

router = APIRouter(prefix="/assignments/{course_id}/{assignment_id}", tags=["feedback"])
ERRORS = error_responses(400, 401, 404, 422, 429, 503)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying with the same key returns the first call's job (200) "
        "instead of starting another",
    ),
]
STARTED = {
    200: {"model": FeedbackJobView, "description": "The job an earlier call with this key made"},
    **ERRORS,
}


class SubmissionBody(BaseModel):
    text: str = Field(description="The draft, as plain text")


def _started(result: FeedbackStart, response: Response) -> FeedbackJobView:
    if not result.started:
        response.status_code = status.HTTP_200_OK
    return result.job


@router.post(
    "/milestones/{milestone_id}/submissions/start",
    response_model=FeedbackJobView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=STARTED,
)
async def start_milestone_feedback(
    course_id: CourseId,
    assignment_id: AssignmentId,
    milestone_id: Annotated[str, Path(description="A milestone id of the current plan")],
    body: SubmissionBody,
    user: CurrentUser,
    rt: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> FeedbackJobView:
    """Start an async feedback job on a draft for one milestone (202 with the job)."""
    result = await feedback.start_feedback(
        rt,
        user,
        course_id,
        assignment_id,
        milestone_id=milestone_id,
        text=body.text,
        idempotency_key=idempotency_key,
    )
    return _started(result, response)


@router.post(
    "/submissions/start",
    response_model=FeedbackJobView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=STARTED,
)
async def start_assignment_feedback(
    course_id: CourseId,
    assignment_id: AssignmentId,
    body: SubmissionBody,
    user: CurrentUser,
    rt: RuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> FeedbackJobView:
    """Start an async feedback job on the whole assignment's draft (202 with the job)."""
    result = await feedback.start_feedback(
        rt,
        user,
        course_id,
        assignment_id,
        milestone_id=None,
        text=body.text,
        idempotency_key=idempotency_key,
    )
    return _started(result, response)


@router.get("/feedback/jobs", response_model=FeedbackJobPage, responses=ERRORS)
async def list_feedback_jobs(
    course_id: CourseId,
    assignment_id: AssignmentId,
    user: CurrentUser,
    limit: Annotated[
        int, Query(description=f"page size, 1 to {feedback.MAX_PAGE_SIZE}")
    ] = feedback.DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> FeedbackJobPage:
    """The workspace's feedback jobs, newest first (without texts and feedback)."""
    return await feedback.list_feedback_jobs(
        user, course_id, assignment_id, limit=limit, cursor=cursor
    )


@router.get("/feedback/jobs/{job_id}", response_model=FeedbackJobView, responses=ERRORS)
async def get_feedback_job(
    course_id: CourseId,
    assignment_id: AssignmentId,
    job_id: Annotated[str, Path(description="The id a submissions/start call returned")],
    user: CurrentUser,
) -> FeedbackJobView:
    """A feedback job's status, its submitted text and, once it succeeded, the feedback."""
    return await feedback.get_feedback_job(user, course_id, assignment_id, job_id)


@router.get("/feedback", response_model=WorkspaceFeedback, responses=ERRORS)
async def current_feedback(
    course_id: CourseId, assignment_id: AssignmentId, user: CurrentUser
) -> WorkspaceFeedback:
    """The newest feedback made on the current plan: for the assignment, and per milestone."""
    return await feedback.current_feedback(user, course_id, assignment_id)
