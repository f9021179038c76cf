"""The worker pool with real child processes (tests/support/misbehaving_worker.py), which
time out, crash, run out of memory or print on request."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from server.documents.worker_pool import WorkerCrashed, WorkerOutOfMemory, WorkerPool
from server.kernel.settings import MIB

MODULE = "tests.support.misbehaving_worker"


def pool(*, size: int = 1, time_limit: float = 5.0) -> WorkerPool:
    return WorkerPool(
        MODULE, size=size, memory_limit_bytes=256 * MIB, time_limit_seconds=time_limit
    )


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_worker_is_kept_warm_and_reused():
    workers = pool()
    try:
        first = await workers.call({"action": "echo"}, b"one")
        second = await workers.call({"action": "echo"}, b"two")
    finally:
        await workers.close()

    assert (first["data"], second["data"]) == ("one", "two")
    assert first["pid"] == second["pid"]
    assert workers.started == 1
    assert not is_running(first["pid"])  # closing the pool stopped it


async def test_a_request_over_the_time_limit_kills_its_worker():
    workers = pool(time_limit=0.3)
    try:
        pid = (await workers.call({"action": "echo"}, b""))["pid"]
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await workers.call({"action": "sleep", "seconds": 30}, b"")
        elapsed = time.monotonic() - started
        assert not is_running(pid)
        after = await workers.call({"action": "echo"}, b"next")
    finally:
        await workers.close()

    assert 0.3 <= elapsed < 1.5
    assert after["pid"] != pid
    assert workers.started == 2


async def test_a_cancelled_request_kills_its_worker():
    workers = pool()
    try:
        pid = (await workers.call({"action": "echo"}, b""))["pid"]
        call = asyncio.create_task(workers.call({"action": "sleep", "seconds": 30}, b""))
        await asyncio.sleep(0.2)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not is_running(pid)
    finally:
        await workers.close()


async def test_a_worker_that_dies_is_reported_and_replaced():
    workers = pool()
    try:
        with pytest.raises(WorkerCrashed):
            await workers.call({"action": "exit"}, b"")
        after = await workers.call({"action": "echo"}, b"still here")
    finally:
        await workers.close()

    assert after["data"] == "still here"
    assert workers.started == 2


async def test_memory_is_bounded_and_an_exhausted_worker_replaced():
    workers = pool()
    try:
        small = await workers.call({"action": "allocate", "bytes": 16 * MIB}, b"")
        with pytest.raises(WorkerOutOfMemory):
            await workers.call({"action": "allocate", "bytes": 512 * MIB}, b"")
        assert not is_running(small["pid"])
        await workers.call({"action": "echo"}, b"")
    finally:
        await workers.close()

    assert workers.started == 2


async def test_at_most_size_requests_run_at_once():
    workers = pool(size=2)
    try:
        started = time.monotonic()
        replies = await asyncio.gather(
            *(workers.call({"action": "sleep", "seconds": 0.3}, b"") for _ in range(4))
        )
        elapsed = time.monotonic() - started
    finally:
        await workers.close()

    assert workers.started == 2
    assert len({reply["pid"] for reply in replies}) == 2
    assert elapsed >= 0.6  # two rounds of two


async def test_stray_output_does_not_break_the_protocol_and_secrets_stay_home(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "do-not-leak")
    monkeypatch.setenv("CREDENTIALS_KEYS", "do-not-leak-either")
    workers = pool()
    try:
        reply = await workers.call({"action": "print"}, "données".encode())
    finally:
        await workers.close()

    assert reply["data"] == "données"
    assert "JWT_SECRET" not in reply["environment"]
    assert "CREDENTIALS_KEYS" not in reply["environment"]
