"""One reader per followed workspace per process, shared by all its followers.

Thousands of students may follow the same workspace's stream from one API process (or
one student from many tabs). A wake-up of the bus carries the new event, which the feed
appends to its window of recent events in memory, where its followers take it; a wake-up
that carries none (a deletion), an event missing before the one carried, and each
heartbeat make the feed read the database, once for all its followers. A follower
further behind than the window (a reconnect with an old ``Last-Event-ID``) reads the
database itself until it has caught up.

The feed also watches what a stream's rights rest on: it notices when the workspace is
deleted or its user's Canvas credentials are, and its followers then end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from models.db import AssignmentWorkspace, CanvasCredential, WorkspaceEvent
from server.kernel.bus import Listener, News
from server.kernel.fast_reads import first_row, select_rows

logger = logging.getLogger(__name__)

# Events kept in memory per followed workspace: a plan job publishes a few dozen.
WINDOW = 200


class StreamEnding(StrEnum):
    """Why a stream ended (the ``reason`` of its final ``stream_ended`` message)."""

    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - a reason, not a secret
    CREDENTIALS_DELETED = "credentials_deleted"
    WORKSPACE_DELETED = "workspace_deleted"


@dataclass(frozen=True)
class StreamMessage:
    """What a follower receives: a stored event, a snapshot, or a notice."""

    event_type: str
    data: dict[str, Any]
    id: int | None
    # Each transport's form of the message, by transport (SSE: its bytes; GraphQL: its
    # typed object): made once, however many followers send it.
    forms: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def json(self) -> str:
        """``data`` as JSON, encoded once however many followers send it. Keys sorted: an
        event sent live (as published) and replayed (as the database gives it back, which
        PostgreSQL's jsonb reorders) are the same bytes."""
        return json.dumps(self.data, sort_keys=True)


_EVENT_FIELDS = ("seq", "event_type", "payload")


async def events_after(workspace_id: int, cursor: int, limit: int) -> list[StreamMessage]:
    rows = await select_rows(
        WorkspaceEvent,
        _EVENT_FIELDS,
        {"workspace_id": workspace_id, "seq__gt": cursor},
        order_by="seq",
        limit=limit,
    )
    return [StreamMessage(row["event_type"], row["payload"], row["seq"]) for row in rows]


class WorkspaceFeed:
    """The events of one workspace in ``(floor, head]``, read once for every follower."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self.floor = 0
        self.head = 0
        self.window: list[StreamMessage] = []
        self.ending: StreamEnding | None = None
        self.followers = 0
        self.changed = asyncio.Event()  # replaced by a new one at every change
        self.ready = asyncio.Event()  # set after the first read
        self.task: asyncio.Task[None] | None = None

    def after(self, cursor: int) -> list[StreamMessage]:
        """The events after ``cursor`` (which must be at least ``floor``)."""
        return self.window[cursor - self.floor :]

    def _changed(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def run(self, listener: Listener, heartbeat: float) -> None:
        news: list[News] = []  # nothing known: read the database
        while True:
            try:
                if not (self.ready.is_set() and self._append(news)):
                    await self._read()
            except Exception:  # the database may be briefly away; try at the next wake-up
                logger.exception("reading workspace %s's events failed", self.workspace_id)
            self.ready.set()
            # An empty list on timeout: re-read then, as a wake-up may have been lost.
            news = await listener.wait(heartbeat)

    def _append(self, news: list[News]) -> bool:
        """Append the events the wake-ups carried; False if the database must be read:
        a wake-up carried nothing (a heartbeat, a deletion), or an event is missing
        before one carried (published by another process, its wake-up not here yet)."""
        events = []
        for item in news:
            if item is None:
                return False
            events.append(StreamMessage(item["event_type"], item, item["id"]))
        fresh = [event for event in events if (event.id or 0) > self.head]
        if not fresh:
            return bool(events)
        if [event.id for event in fresh] != list(range(self.head + 1, self.head + 1 + len(fresh))):
            return False
        self._extend(fresh)
        return True

    def _extend(self, events: list[StreamMessage]) -> None:
        """Append events that follow ``head``, keeping at most ``WINDOW``."""
        self.window += events
        self.head = events[-1].id or self.head
        if len(self.window) > WINDOW:
            del self.window[: len(self.window) - WINDOW]
            self.floor = self.head - WINDOW
        self._changed()

    async def _read(self) -> None:
        """New events if there are any; else (a heartbeat, a wake-up without an event: a
        deletion) whether the stream's rights still hold."""
        if self.ready.is_set() and await self._read_events():
            return
        workspace = await first_row(
            AssignmentWorkspace, ("last_event_id", "user_id"), {"id": self.workspace_id}
        )
        if workspace is None:
            ending: StreamEnding | None = StreamEnding.WORKSPACE_DELETED
        elif await first_row(CanvasCredential, ("id",), {"user_id": workspace["user_id"]}):
            ending = None
        else:
            ending = StreamEnding.CREDENTIALS_DELETED
        if ending != self.ending:
            self.ending = ending
            self._changed()
        if workspace is not None and not self.ready.is_set():
            # Followers start from their own snapshots, read after this.
            self.floor = self.head = int(workspace["last_event_id"])
        elif workspace is not None and workspace["last_event_id"] > self.head:
            await self._read_events()

    async def _read_events(self) -> bool:
        """Append the events after ``head``; whether there were any."""
        events = await events_after(self.workspace_id, self.head, WINDOW)
        if not events:
            return False
        while events:
            if events[0].id != self.head + 1:
                # Retention pruned events before this read: start the window afresh.
                self.window = []
                self.floor = self.head = (events[0].id or 0) - 1
            self._extend(events)
            events = (
                await events_after(self.workspace_id, self.head, WINDOW)
                if len(events) == WINDOW
                else []
            )
        return True


# Feeds by bus (one bus per runtime, so tests running two "processes" in one keep theirs
# apart), then by workspace.
_FEEDS: weakref.WeakKeyDictionary[Any, dict[int, WorkspaceFeed]] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def joined_feed(
    bus: Any, workspace_id: int, heartbeat: float
) -> AsyncIterator[WorkspaceFeed]:
    """The workspace's feed in this process (started by its first follower, stopped with
    its last), once it has read the workspace's state."""
    feeds = _FEEDS.setdefault(bus, {})
    feed = feeds.get(workspace_id)
    if feed is None:
        feed = feeds[workspace_id] = WorkspaceFeed(workspace_id)
        feed.task = asyncio.create_task(
            _run_feed(bus, feed, heartbeat), name=f"workspace-feed-{workspace_id}"
        )
    feed.followers += 1
    try:
        await feed.ready.wait()
        yield feed
    finally:
        feed.followers -= 1
        if not feed.followers:
            feeds.pop(workspace_id, None)
            if feed.task is not None:
                feed.task.cancel()


async def _run_feed(bus: Any, feed: WorkspaceFeed, heartbeat: float) -> None:
    # Listening before the first read, so nothing published in between is missed.
    async with bus.listen(feed.workspace_id) as listener:
        await feed.run(listener, heartbeat)
