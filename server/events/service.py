"""Publishing progress events and following a workspace's stream.

An event, the workspace/job state it reports, and the event's id are written in one
transaction, so a follower that reads a snapshot and then the events after its id never
sees a gap or a duplicate. Writes from a job carry its generation: once a reprocess has
bumped the workspace's generation, they match no row and the job learns it is fenced off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from models.db import ACTIVE_JOB_STATUSES, AssignmentWorkspace, ProcessingJob, WorkspaceEvent
from server.events.feed import StreamEnding, StreamMessage, events_after, joined_feed
from server.events.postgres import Fenced, append_event
from server.events.types import HistoryGone, ProgressEvent, StreamEnded
from server.kernel.fast_reads import first_row
from server.kernel.fast_writes import increment
from server.runtime import Runtime

logger = logging.getLogger(__name__)

REPLAY_BATCH = 200


class JobFenced(Exception):
    """The job was cancelled or replaced; it may write nothing more."""


@dataclass(frozen=True)
class Fence:
    """What a job's writes are conditioned on: its workspace generation and its attempt."""

    generation: int
    attempts: int


@dataclass(frozen=True)
class EventDraft:
    event_type: str
    message: str
    stage: str | None
    status: str
    progress: int
    extra: dict[str, Any]


async def publish(
    rt: Runtime,
    workspace_id: int,
    draft: EventDraft,
    *,
    job: ProcessingJob | None = None,
    fence: Fence | None = None,
    workspace_changes: dict[str, Any] | None = None,
    job_changes: dict[str, Any] | None = None,
) -> ProgressEvent:
    """Apply the state changes and append the event atomically, then wake followers.

    With a ``fence`` (writes from a job), nothing is written unless the workspace is still
    at the job's generation and the job is still active in the same attempt;
    :class:`JobFenced` says so. Inside :func:`events_after_commit` the writes join that
    transaction, and followers wake once it commits.
    """
    write = _Write(
        workspace_id,
        draft,
        job,
        fence,
        workspace_changes or {},
        _job_row_changes(job, fence, job_changes),
    )
    append = _append_on_sqlite if rt.settings.uses_sqlite else _append_on_postgres
    deferred = _WAKE_AFTER_COMMIT.get()
    if deferred is not None:
        # No savepoint of its own: a fenced write aborts the whole transaction anyway.
        event, payload = await append(rt, write)
        deferred.append((workspace_id, payload))
        return event
    if rt.settings.uses_sqlite:
        async with in_transaction():
            event, payload = await append(rt, write)
    else:  # one statement: all or nothing by itself
        event, payload = await append(rt, write)
    # The wake-up carries the event: followers need not read it back.
    await rt.bus.notify(workspace_id, payload)
    return event


def _job_row_changes(
    job: ProcessingJob | None, fence: Fence | None, job_changes: dict[str, Any] | None
) -> dict[str, Any] | None:
    """What the event writes to its job's row: its changes, or (a fenced write that
    changes nothing there) ``updated_at``, whose update proves the job still active;
    None when the job's row is left alone."""
    if job is None or not (job_changes or fence is not None):
        return None
    return job_changes or {"updated_at": datetime.now(UTC)}


@dataclass(frozen=True)
class _Write:
    """What one :func:`publish` writes."""

    workspace_id: int
    draft: EventDraft
    job: ProcessingJob | None
    fence: Fence | None
    workspace_changes: dict[str, Any]
    job_changes: dict[str, Any] | None  # None: the job's row is left alone

    def stamped(self, event_id: int) -> ProgressEvent:
        draft, job = self.draft, self.job
        return ProgressEvent(
            id=event_id,
            event_type=draft.event_type,
            workspace_id=self.workspace_id,
            job_id=str(job.id) if job else None,
            job_type=str(job.job_type) if job else None,
            stage=draft.stage,
            status=draft.status,
            progress=draft.progress,
            message=draft.message,
            timestamp=datetime.now(UTC),
            **draft.extra,
        )


async def _append_on_sqlite(rt: Runtime, write: _Write) -> tuple[ProgressEvent, dict[str, Any]]:
    """:func:`publish`'s writes, in the caller's transaction: the event and its payload."""
    where: dict[str, Any] = {"id": write.workspace_id}
    if write.fence is not None:
        where["generation"] = write.fence.generation
    event_id = await increment(AssignmentWorkspace, "last_event_id", where, write.workspace_changes)
    if event_id is None:
        raise JobFenced
    if write.job is not None and write.job_changes is not None:
        jobs = ProcessingJob.filter(id=write.job.id)
        if write.fence is not None:
            jobs = jobs.filter(status__in=ACTIVE_JOB_STATUSES, attempts=write.fence.attempts)
        if not await jobs.update(**write.job_changes):
            raise JobFenced
    pruned_up_to = event_id - rt.settings.event_retention
    if pruned_up_to > 0:  # else nothing is old enough: no statement
        await WorkspaceEvent.filter(workspace_id=write.workspace_id, seq__lte=pruned_up_to).delete()
    # Stamped last, just before its row is written and committed.
    event = write.stamped(event_id)
    payload = event.to_payload()
    await WorkspaceEvent.create(
        workspace_id=write.workspace_id,
        seq=event_id,
        job_id=write.job.id if write.job else None,
        event_type=write.draft.event_type,
        payload=payload,
    )
    return event, payload


async def _append_on_postgres(rt: Runtime, write: _Write) -> tuple[ProgressEvent, dict[str, Any]]:
    """The same writes in one round trip (``server/events/postgres.py``)."""

    async def append(payload: dict[str, Any]) -> tuple[int, str]:
        return await append_event(
            write.workspace_id,
            write.fence.generation if write.fence else None,
            write.workspace_changes,
            write.job.id if write.job else None,
            write.fence.attempts if write.fence else None,
            write.job_changes,
            rt.settings.event_retention,
            write.draft.event_type,
            payload,
        )

    try:
        return await _stamped_by_database(write, append)
    except Fenced:
        raise JobFenced from None


# A call into PostgreSQL that writes an event's payload (and whatever goes with it), and
# returns the event's id and timestamp.
DatabaseAppend = Callable[[dict[str, Any]], Awaitable[tuple[int, str]]]


async def _stamped_by_database(
    write: _Write, append: DatabaseAppend
) -> tuple[ProgressEvent, dict[str, Any]]:
    """The event ``append`` writes, with the id and the timestamp the database gave it."""
    event = write.stamped(0)
    payload = event.to_payload()
    event_id, stamp = await append(payload)
    payload.update(id=event_id, timestamp=stamp)
    written = event.model_copy(update={"id": event_id, "timestamp": datetime.fromisoformat(stamp)})
    return written, payload


async def publish_appended_by(
    rt: Runtime, workspace_id: int, draft: EventDraft, job: ProcessingJob, append: DatabaseAppend
) -> ProgressEvent:
    """Publish a job's event that ``append`` writes with the rest of a transaction in one
    call into PostgreSQL (a function ending in ``cw_append_event``), then wake followers:
    :func:`publish` for writes that are more than an event's."""
    write = _Write(workspace_id, draft, job, None, {}, None)
    event, payload = await _stamped_by_database(write, append)
    await rt.bus.notify(workspace_id, payload)
    return event


# Events to announce, in order, once the outermost transaction (events_after_commit) has
# committed.
_WAKE_AFTER_COMMIT: ContextVar[list[tuple[int, dict[str, Any]]] | None] = ContextVar(
    "wake_after_commit", default=None
)


@asynccontextmanager
async def events_after_commit(rt: Runtime) -> AsyncIterator[None]:
    """A transaction whose published events wake their followers only once it commits.

    Use it, not ``in_transaction``, around writes that include a ``publish``: a follower in
    another process woken earlier would read before the commit, find nothing, and see the
    event only on its next heartbeat re-read.
    """
    pending: list[tuple[int, dict[str, Any]]] = []
    token = _WAKE_AFTER_COMMIT.set(pending)
    try:
        async with in_transaction():
            yield
    finally:
        _WAKE_AFTER_COMMIT.reset(token)
    for workspace_id, payload in pending:
        await rt.bus.notify(workspace_id, payload)


def _history_gone(requested: int) -> StreamMessage:
    notice = HistoryGone(requested_last_event_id=requested)
    return StreamMessage(event_type=notice.event_type, data=notice.model_dump(), id=None)


def _stream_ended(reason: StreamEnding) -> StreamMessage:
    notice = StreamEnded(reason=reason)
    return StreamMessage(event_type=notice.event_type, data=notice.model_dump(), id=None)


async def _oldest_retained(workspace_id: int, last_event_id: int) -> int:
    oldest = await first_row(
        WorkspaceEvent, ("seq",), {"workspace_id": workspace_id}, order_by="seq"
    )
    return int(oldest["seq"]) if oldest is not None else last_event_id + 1


# Reads the workspace's current state: its last event id and the snapshot's payload, or
# None once the workspace is gone.
SnapshotReader = Callable[[], Awaitable[tuple[int, dict[str, Any]] | None]]


async def _opening(
    workspace_id: int, last_event_id: int | None, snapshot: SnapshotReader
) -> list[StreamMessage] | None:
    """A follower's first messages: ``history_gone`` if its cursor is unknown or pruned,
    then the snapshot, whose id is the cursor to follow from; None if the workspace is
    gone."""
    state = await snapshot()
    if state is None:
        return None
    head, data = state
    cursor = head if last_event_id is None else last_event_id
    first: list[StreamMessage] = []
    if last_event_id is not None:
        oldest = await _oldest_retained(workspace_id, head)
        if last_event_id > head or last_event_id < oldest - 1:
            first.append(_history_gone(last_event_id))
            cursor = head
    return [*first, StreamMessage(event_type="snapshot", data=data, id=cursor)]


async def follow(
    rt: Runtime,
    workspace_id: int,
    last_event_id: int | None,
    snapshot: SnapshotReader,
    expires_at: datetime | None = None,
) -> AsyncGenerator[list[StreamMessage], None]:
    """Yield the snapshot, then every event after the client's cursor, until the stream's
    rights end: at ``expires_at`` (its token's expiry), or when the workspace or the
    user's Canvas credentials are deleted, with a final ``stream_ended`` naming why.

    Messages come in batches: everything there is to send at once. A follower that fell
    behind while thousands of others were served sends what it missed in one write.

    The follower joins the workspace's feed before the snapshot is read, so nothing
    published in between is missed; it reads the database itself only while it is further
    behind than the feed's window (a replay).
    """
    heartbeat = rt.settings.sse_heartbeat_seconds
    loop = asyncio.get_running_loop()
    deadline = (
        loop.time() + (expires_at - datetime.now(UTC)).total_seconds()
        if expires_at is not None
        else None
    )
    async with joined_feed(rt.bus, workspace_id, heartbeat) as feed:
        opening = await _opening(workspace_id, last_event_id, snapshot)
        if opening is None:
            yield [_stream_ended(StreamEnding.WORKSPACE_DELETED)]
            return
        cursor = opening[-1].id or 0
        yield opening
        # Each follower's own snapshot, a few KiB: not held while the stream idles.
        del opening
        while True:
            if feed.ending is not None:
                yield [_stream_ended(feed.ending)]
                return
            if deadline is not None and loop.time() >= deadline:
                yield [_stream_ended(StreamEnding.TOKEN_EXPIRED)]
                return
            if cursor < feed.floor:
                events = await events_after(workspace_id, cursor, REPLAY_BATCH)
                if not events or events[0].id != cursor + 1:
                    # Retention pruned events this slow follower had not read yet.
                    gone = _history_gone(cursor)
                    state = await snapshot()
                    if state is None:
                        yield [gone]
                        continue  # deleted: the feed says so at the top of the loop
                    cursor, data = state
                    yield [gone, StreamMessage("snapshot", data, cursor)]
                    continue
            else:
                events = feed.after(cursor)
            if events:
                cursor = events[-1].id or cursor
                yield events
                continue
            changed = feed.changed
            try:
                async with asyncio.timeout_at(deadline):
                    await changed.wait()
            except TimeoutError:
                pass  # the deadline: said at the top of the loop


async def one_by_one(
    batches: AsyncGenerator[list[StreamMessage], None],
) -> AsyncGenerator[StreamMessage, None]:
    """The messages of :func:`follow`'s batches, one at a time."""
    async with aclosing(batches):
        async for batch in batches:
            for message in batch:
                yield message
                del message  # not held while the stream idles (a snapshot: a few KiB)
            del batch
