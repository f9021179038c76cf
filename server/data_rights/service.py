"""The user's own data: export everything stored about them, delete a workspace, erase them.

Which rows are a user's is derived from the models (a ``user`` or ``workspace`` relation),
so a table added later is exported and erased without touching this module; secrets
(encrypted tokens, token hashes, PKCE challenges) are never exported.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python
from tortoise import Tortoise
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.db import (
    ACTIVE_JOB_STATUSES,
    AssignmentWorkspace,
    CanvasAuthMethod,
    CanvasCredential,
    JobStatus,
    ProcessingJob,
    User,
)
from server.accounts.users import revoke_at_canvas
from server.kernel.queries import column_values
from server.runtime import Runtime
from server.workspaces.service import find_workspace

SECRET_COLUMNS = frozenset(
    {"token_ciphertext", "refresh_token_ciphertext", "token_hash", "one_time_code_hash"}
    | {"code_challenge"}
)


def rows_of_user(model: type[Model], user_id: int) -> QuerySet[Any] | None:
    """The user's rows of ``model``, or None for a table that holds nobody's data."""
    fields = model._meta.fields_map
    if model is User:
        return model.filter(id=user_id)
    if "user" in fields:
        return model.filter(user_id=user_id)
    if "workspace" in fields:
        return model.filter(workspace__user_id=user_id)
    return None


def user_models() -> list[type[Model]]:
    return list(Tortoise.apps["models"].values())


async def export_user(user: User) -> dict[str, Any]:
    """Everything stored about the user, one list of rows per table; the Canvas credential
    only as stored or not, with when it was last checked."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model in user_models():
        rows = rows_of_user(model, user.id)
        if rows is None or model is CanvasCredential:
            continue
        values = await rows.order_by(model._meta.pk_attr).values()
        tables[model._meta.db_table] = [
            {key: value for key, value in row.items() if key not in SECRET_COLUMNS}
            for row in values
        ]
    credential = await CanvasCredential.get_or_none(user_id=user.id)
    exported: dict[str, Any] = to_jsonable_python(
        {
            "user_id": user.id,
            "canvas_credentials": {
                "stored": credential is not None,
                "auth_method": credential.auth_method if credential else None,
                "canvas_base_url": credential.base_url if credential else None,
                "last_checked_at": credential.updated_at if credential else None,
            },
            "tables": tables,
        }
    )
    return exported


async def _cancel_active_jobs(rt: Runtime, jobs: QuerySet[ProcessingJob]) -> None:
    """Cancel first, so no job writes after its rows are gone (its writes are fenced)."""
    active = await column_values(jobs.filter(status__in=ACTIVE_JOB_STATUSES), "id")
    await ProcessingJob.filter(id__in=list(active)).update(
        status=JobStatus.CANCELLED, error_code="deleted", error_message="Deleted by the user"
    )
    for job_id in active:
        await rt.runner.cancel(job_id)


async def delete_workspace(rt: Runtime, user: User, course_id: str, assignment_id: str) -> None:
    """One workspace with its jobs, plan versions, submissions, feedback, progress, events."""
    workspace = await find_workspace(user, course_id, assignment_id)
    await _cancel_active_jobs(rt, ProcessingJob.filter(workspace_id=workspace.id))
    async with in_transaction():
        await _delete_workspaces([workspace.id])
    await rt.bus.notify(workspace.id)  # its open streams end


async def _delete_workspaces(workspace_ids: list[int]) -> None:
    # Children explicitly: the schema cascades, but SQLite only with its foreign-key
    # enforcement on, and erasure must not depend on a connection setting.
    for model in user_models():
        if "workspace" in model._meta.fields_map:
            await model.filter(workspace_id__in=workspace_ids).delete()
    await AssignmentWorkspace.filter(id__in=workspace_ids).delete()


async def erase_user(rt: Runtime, user: User) -> None:
    """The user and everything of theirs; running jobs are cancelled first, and an OAuth
    token is revoked at Canvas (best effort)."""
    await _cancel_active_jobs(rt, ProcessingJob.filter(workspace__user_id=user.id))
    credential = await CanvasCredential.get_or_none(user_id=user.id)
    if credential is not None and credential.auth_method == CanvasAuthMethod.OAUTH:
        await revoke_at_canvas(rt, user.id)
    async with in_transaction():
        workspace_ids = await column_values(AssignmentWorkspace.filter(user_id=user.id), "id")
        await _delete_workspaces(list(workspace_ids))
        for model in user_models():
            if "user" in model._meta.fields_map:
                await model.filter(user_id=user.id).delete()
        await User.filter(id=user.id).delete()
    for workspace_id in workspace_ids:
        await rt.bus.notify(workspace_id)  # their open streams end
