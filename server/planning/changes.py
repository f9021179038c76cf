"""Change awareness: resuming a ready workspace compares its plan's sources with Canvas.

``POST .../start`` (and the GraphQL ``startPlanning``) come here. A new workspace or a
reprocess starts planning as before; a resume of a ready workspace fetches the assignment
again (stage 1 of the pipeline, so the comparison sees Canvas exactly as a new plan
would), compares its fingerprint with the one stored in the plan's context, keeps the
result on the workspace (``canvas_changed`` in every snapshot) and answers with it. It
never re-plans: the student decides, and a reprocess clears the comparison.

A Canvas that fails or is slow never breaks a resume: the answer says the comparison
could not be made, with the reason, and the plan is served as it is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime

from pydantic import ValidationError

from models.canvas_changes import CanvasCheck, CanvasCheckError, CanvasFingerprint
from models.context import AssignmentFacts
from models.db import AssignmentWorkspace, User, WorkspaceStatus
from server.accounts.users import canvas_client_for
from server.canvas.client import CANVAS_BAD_RESPONSE
from server.kernel.errors import AppError
from server.planning.fingerprint import differences
from server.planning.pipeline import fetch_canvas_context
from server.runtime import Runtime
from server.text.dates import clock_for
from server.workspaces.service import StartResult, find_workspace, start_planning, workspace_view

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_ERROR = "canvas_check_timeout"
NO_FINGERPRINT = "no_fingerprint"


def _unavailable(version: int, code: str, message: str) -> CanvasCheck:
    return CanvasCheck(
        checked_at=datetime.now(UTC),
        plan_version=version,
        outcome="unavailable",
        error=CanvasCheckError(code=code, message=message),
        summary=f"Canvas could not be checked for changes ({message}); the plan is shown as "
        "it was made and may be out of date.",
    )


async def _fresh_fingerprint(rt: Runtime, workspace: AssignmentWorkspace) -> CanvasFingerprint:
    async with await canvas_client_for(rt, workspace.user_id) as canvas:
        fetched = await fetch_canvas_context(canvas, workspace.course_id, workspace.assignment_id)
    return fetched.fingerprint


async def compare_with_canvas(rt: Runtime, workspace: AssignmentWorkspace) -> CanvasCheck:
    """The workspace's current plan compared with Canvas now."""
    version = workspace.plan_version
    context = workspace.context_blob or {}
    stored = context.get("canvas_fingerprint")
    if stored is None:
        return _unavailable(
            version, NO_FINGERPRINT, "this plan was made before changes were tracked"
        )
    old = CanvasFingerprint.model_validate(stored)
    try:
        async with asyncio.timeout(rt.settings.canvas_check_timeout_seconds):
            new = await _fresh_fingerprint(rt, workspace)
    except TimeoutError:
        return _unavailable(version, CHECK_TIMEOUT_ERROR, "Canvas took too long to answer")
    except AppError as exc:  # every Canvas failure, and credentials gone
        logger.info("canvas change check failed: %s", exc.code)
        return _unavailable(version, exc.code, exc.message)
    except ValidationError:  # Canvas answered, but with fields of the wrong shape
        logger.info("canvas change check failed: canvas_bad_response")
        return _unavailable(
            version, CANVAS_BAD_RESPONSE, "Canvas sent the assignment in an unexpected shape"
        )
    # Messages use the student's clock as it is now (it may itself have changed).
    facts = AssignmentFacts.model_validate(context["assignment"])
    clock = clock_for(facts.model_copy(update={"user_time_zone": new.time_zone}))
    changes = differences(old, new, clock)
    if not changes:
        summary = "Nothing this plan was made from has changed on Canvas."
    else:
        summary = (
            "Canvas changed since this plan was made: "
            + " ".join(change.message for change in changes)
            + " Reprocess to update the plan."
        )
    return CanvasCheck(
        checked_at=datetime.now(UTC),
        plan_version=version,
        outcome="changed" if changes else "unchanged",
        changes=changes,
        summary=summary,
    )


async def start_or_resume(
    rt: Runtime,
    user: User,
    course_id: str,
    assignment_id: str,
    *,
    reprocess: bool,
    language: str | None = None,
) -> StartResult:
    """Start planning, reprocess, or resume; a resumed ready workspace is compared with
    Canvas and answers with what changed (``canvas_changed``). ``language`` is the plan's
    language for a job this starts (see ``start_planning``)."""
    result = await start_planning(
        rt, user, course_id, assignment_id, reprocess=reprocess, language=language
    )
    if result.started or result.workspace.status != WorkspaceStatus.READY:
        return result
    workspace = await find_workspace(user, course_id, assignment_id)
    check = await compare_with_canvas(rt, workspace)
    # Kept only while the compared plan is still current (no reprocess meanwhile).
    await AssignmentWorkspace.filter(
        id=workspace.id, generation=workspace.generation, plan_version=check.plan_version
    ).update(canvas_check=check.model_dump(mode="json"))
    # Not an event, but the snapshot shows it: reads remembered from before must go.
    await rt.bus.notify(workspace.id)
    return replace(result, workspace=await workspace_view(workspace))


__all__ = ["compare_with_canvas", "start_or_resume"]
