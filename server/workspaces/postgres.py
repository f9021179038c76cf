"""A reprocess on PostgreSQL in one round trip.

A reprocess is a transaction of eight statements (the cap's lock and count, the
workspace's next generation, its superseded jobs and feedback, the new job, its
``job_queued`` event): over the network, with ``BEGIN`` and ``COMMIT``, ten round trips
before the job can be enqueued. The function ``cw_replace_plan_job`` (migration 9) runs
the same statements in the same order as ``_replace_on_sqlite`` does, so it locks the same
rows in the same order, and ends in ``cw_append_event``; a refusal raises inside it, so the
call, like the transaction, writes all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from models.db import ProcessingJob
from server.events.postgres import ACTIVE_JOB_STATUS_VALUES
from server.kernel.fast_writes import jsonb_argument

# What cw_replace_plan_job raises: the user is at the cap on active jobs; the workspace's
# generation moved on (a concurrent reprocess won).
TOO_MANY_ACTIVE_JOBS_SQLSTATE = "CWL01"
MOVED_ON_SQLSTATE = "CWC01"
_STATEMENT = (
    "SELECT event_seq, event_stamp FROM cw_replace_plan_job("
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
)


class TooManyActiveJobs(Exception):
    """The user has as many active jobs as the cap allows: nothing was written."""


class MovedOn(Exception):
    """The workspace is no longer at the generation the reprocess started from."""


@dataclass(frozen=True)
class Replacement:
    """A reprocess's writes: ``workspace_changes`` to the workspace at ``generation``,
    ``superseded_changes`` to its active jobs, and ``job``, not yet saved, inserted."""

    user_id: int
    max_active_jobs: int
    workspace_id: int
    generation: int
    workspace_changes: dict[str, Any]
    superseded_changes: dict[str, Any]
    job: ProcessingJob


def _row(job: ProcessingJob) -> dict[str, Any]:
    return {
        column: getattr(job, name)
        for name, column in ProcessingJob._meta.fields_db_projection.items()
    }


async def replace_plan_job(
    replacement: Replacement, retention: int, event_type: str, payload: dict[str, Any]
) -> tuple[int, str]:
    """The ``job_queued`` event's id and timestamp, once everything is written."""
    values = [
        replacement.user_id,
        replacement.max_active_jobs,
        ACTIVE_JOB_STATUS_VALUES,
        replacement.workspace_id,
        replacement.generation,
        jsonb_argument(replacement.workspace_changes),
        jsonb_argument(replacement.superseded_changes),
        jsonb_argument(_row(replacement.job)),
        retention,
        event_type,
        jsonb_argument(payload),
    ]
    try:
        rows = await ProcessingJob._meta.db.execute_query_dict(_STATEMENT, values)
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == TOO_MANY_ACTIVE_JOBS_SQLSTATE:
            raise TooManyActiveJobs from exc
        if exc.sqlstate == MOVED_ON_SQLSTATE:
            raise MovedOn from exc
        raise
    return int(rows[0]["event_seq"]), str(rows[0]["event_stamp"])
