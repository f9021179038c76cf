"""When to preview a streamed answer, at a cost linear in its length.

A preview parses the whole answer so far (and checks it for repeated instructions).
Doing that on every chunk costs the answer's length squared; here the answer is looked at
again only once it has grown by ``GROWTH`` since the last look (the looks add up to a few
times its final length), once more when the stream pauses for ``PAUSE_SECONDS`` with
text not yet looked at (a model that stops to think shows what it has), and at its end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

GROWTH = 1.25
PAUSE_SECONDS = 0.2


class PreviewPacer:
    def __init__(self, look: Callable[[str], Awaitable[None]]) -> None:
        self._look = look
        self._latest = ""
        self._looked_at = 0  # length of the answer at the last look
        self._lock = asyncio.Lock()  # looks in order: the pause's and the stream's
        self._pause: asyncio.Task[None] | None = None
        self.looked_chars = 0  # characters looked at in all (the cost, for tests)

    async def offer(self, text: str) -> None:
        """The answer so far, after a chunk."""
        self._latest = text
        if len(text) >= self._looked_at * GROWTH:
            await self._look_now()
        elif self._pause is None:
            self._pause = asyncio.create_task(self._after_pause())

    async def _after_pause(self) -> None:
        await asyncio.sleep(PAUSE_SECONDS)
        self._pause = None
        await self._look_now()

    async def _look_now(self) -> None:
        async with self._lock:
            text = self._latest
            if len(text) <= self._looked_at:
                return
            self._looked_at = len(text)
            self.looked_chars += len(text)
            await self._look(text)

    async def finish(self) -> None:
        """The stream is complete: one last look at the whole answer."""
        await self.close()
        await self._look_now()

    async def close(self) -> None:
        """The stream stopped: no look after it."""
        if self._pause is not None:
            self._pause.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pause
            self._pause = None
