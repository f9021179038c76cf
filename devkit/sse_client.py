"""A small Server-Sent Events reader over httpx, for the demo and the tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SseMessage:
    event: str
    data: str
    id: str | None

    def json(self) -> Any:
        return json.loads(self.data)


async def iter_sse(response: httpx.Response) -> AsyncIterator[SseMessage]:
    """Parse a ``text/event-stream`` body; comments (heartbeats) are skipped."""
    data: list[str]
    event, data, event_id = "message", [], None
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield SseMessage(event=event, data="\n".join(data), id=event_id)
            event, data, event_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            event_id = value
