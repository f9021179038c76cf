"""The API and the workers run on uvloop where it is installed (it is, from the lock files,
on Linux and macOS)."""

from __future__ import annotations

import asyncio

import uvloop

from server.kernel.loops import loop_name, new_event_loop


def test_processes_run_on_uvloop() -> None:
    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop.run_until_complete(asyncio.sleep(0, result="ran")) == "ran"
    finally:
        loop.close()
    assert loop_name() == "uvloop"
