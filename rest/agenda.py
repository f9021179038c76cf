"""The student's agenda across assignments and their preferences: thin routes over agenda."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from rest.deps import CurrentUser, RuntimeDep
from rest.errors import error_responses
from server.agenda import service as agenda
from server.agenda.preferences import Preferences, PreferencesUpdate
from server.agenda.service import Agenda

router = APIRouter(prefix="/me", tags=["agenda"])


@router.get("/agenda", response_model=Agenda, responses=error_responses(401, 422, 503))
async def get_agenda(
    user: CurrentUser,
    rt: RuntimeDep,
    start: Annotated[
        date | None, Query(alias="from", description="first day (default: today, your zone)")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last day (default: from + 13 days)")
    ] = None,
) -> Agenda:
    """Your tasks, milestones and due dates day by day across all your planned
    assignments, balanced to your daily budget; overloaded days say by how much."""
    return await agenda.get_agenda(rt.settings, user, start, end)


@router.get("/preferences", response_model=Preferences, responses=error_responses(401, 503))
async def get_preferences(user: CurrentUser, rt: RuntimeDep) -> Preferences:
    """Your daily work budget and calendar reminder time, with the defaults filled in."""
    return agenda.get_preferences(rt.settings, user)


@router.put("/preferences", response_model=Preferences, responses=error_responses(401, 422, 503))
async def put_preferences(
    update: PreferencesUpdate, user: CurrentUser, rt: RuntimeDep
) -> Preferences:
    """Replace your preferences; a missing or null one goes back to the default."""
    return await agenda.set_preferences(rt.settings, user, update)
