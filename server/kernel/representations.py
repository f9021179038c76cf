"""Rendered JSON answers with their entity tags, and a bounded cache of them.

A read that is asked again and again (the extension re-reads a workspace's snapshot and
plan whenever a student opens an assignment page) is rendered once per version of what it
shows: the cache is keyed by that version, read cheaply from the database, so a repeated
read costs the version lookup, not the loading, validating and encoding of the plan.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Representation:
    """A JSON body and its strong entity tag (quoted, as the ``ETag`` header carries it),
    and the workspace it shows: whose wake-ups (``server/kernel/bus.py``) say it may have
    changed."""

    body: bytes
    etag: str
    workspace_id: int

    @classmethod
    def of(cls, body: bytes, workspace_id: int) -> Representation:
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        return cls(body, f'"{digest}"', workspace_id)


class RepresentationCache:
    """The most recently used representations, at most ``size`` of them (per process).

    Keys must name the version of what is shown (ids, counters, timestamps), so an entry is
    never stale: a change makes a new key, and the old entry ages out.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, Representation] = OrderedDict()

    async def get(
        self, key: Hashable, workspace_id: int, render: Callable[[], Awaitable[bytes]]
    ) -> Representation:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        made = Representation.of(await render(), workspace_id)
        self._entries[key] = made
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return made

    def clear(self) -> None:
        self._entries.clear()
