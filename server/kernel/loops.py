"""The event loop the service's processes run on.

uvloop (libuv) where it is installed: its I/O callbacks cost a fraction of asyncio's own
loop, which is most of an event's way from a worker's commit to a client (issue 17: p50
4.2 → 2.2 ms in production on one run of ``bench/run --only 3``). Windows has no uvloop;
there the standard loop runs.
"""

from __future__ import annotations

import asyncio

try:
    import uvloop
except ImportError:  # pragma: no cover - platforms without uvloop (Windows)
    uvloop = None  # type: ignore[assignment]


def new_event_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()


def loop_name() -> str:
    """What uvicorn is told to run on (the same choice as ``new_event_loop``)."""
    return "uvloop" if uvloop is not None else "asyncio"
