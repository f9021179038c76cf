"""Appending an event on PostgreSQL in one round trip.

``publish`` writes a workspace's changes, its job's, and the event together: on SQLite a
transaction of a few statements, each a call into the database's thread; on PostgreSQL
each statement (and ``BEGIN``, ``COMMIT``) would be a round trip over the network, five
per event. The function ``cw_append_event`` (migration 8) runs the same statements in the
same order, so it locks the same rows in the same order as the transaction does, and a
fenced write raises inside it: the call, like that transaction, writes all or nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from models.db import ACTIVE_JOB_STATUSES, AssignmentWorkspace
from server.kernel.fast_writes import jsonb_argument

# What cw_append_event raises when the workspace or the job moved on (the job is fenced).
FENCED_SQLSTATE = "CWF01"
_STATEMENT = (
    "SELECT event_seq, event_stamp FROM cw_append_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
ACTIVE_JOB_STATUS_VALUES = [str(status) for status in ACTIVE_JOB_STATUSES]


class Fenced(Exception):
    """The workspace is at another generation, or the job is no longer active in this
    attempt: nothing was written."""


async def append_event(
    workspace_id: int,
    generation: int | None,
    workspace_changes: dict[str, Any],
    job_id: UUID | None,
    job_attempts: int | None,
    job_changes: dict[str, Any] | None,
    retention: int,
    event_type: str,
    payload: dict[str, Any],
) -> tuple[int, str]:
    """The event's id (its ``seq``) and timestamp, once the changes and the event are
    written: the payload is stored with both, the timestamp taken just before the event's
    row is written (in the database's clock, as ``"2026-12-06T15:04:05.000001Z"``).
    ``generation`` and ``job_attempts`` fence the write (None: not fenced);
    ``job_changes`` None leaves the job row alone."""
    db = AssignmentWorkspace._meta.db
    values = [
        workspace_id,
        generation,
        jsonb_argument(workspace_changes),
        job_id,
        job_attempts,
        ACTIVE_JOB_STATUS_VALUES,
        jsonb_argument(job_changes) if job_changes is not None else None,
        retention,
        event_type,
        jsonb_argument(payload),
    ]
    try:
        rows = await db.execute_query_dict(_STATEMENT, values)
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == FENCED_SQLSTATE:
            raise Fenced from exc
        raise
    return int(rows[0]["event_seq"]), str(rows[0]["event_stamp"])
