"""The user's own data: export it, delete a workspace, erase the account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from rest.assignments import AssignmentId, CourseId
from rest.deps import CurrentUser, RuntimeDep
from rest.errors import error_responses
from server.data_rights import service as data_rights

router = APIRouter(tags=["data"])


@router.get("/me/export", responses=error_responses(401, 503))
async def export(user: CurrentUser) -> dict[str, Any]:
    """Everything stored about you, one JSON document (credentials only as "stored")."""
    return await data_rights.export_user(user)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 503))
async def erase(user: CurrentUser, rt: RuntimeDep) -> Response:
    """Erase your account and everything of yours; your running jobs are cancelled first."""
    await data_rights.erase_user(rt, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/assignments/{course_id}/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404, 422, 503),
)
async def delete_workspace(
    course_id: CourseId, assignment_id: AssignmentId, user: CurrentUser, rt: RuntimeDep
) -> Response:
    """Delete this workspace with its jobs, plans, submissions, feedback and events."""
    await data_rights.delete_workspace(rt, user, course_id, assignment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
