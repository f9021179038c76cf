"""A small pool of warm worker processes that can be killed, with a memory bound.

Untrusted files are parsed in child processes (``python -m <module>``) because a thread
can be neither stopped nor memory-limited: a runaway parse is ended by killing its
process, and each child caps its own address space (``RLIMIT_AS``). Starting Python and
importing the parsers costs about 0.4 s, about as much as parsing a typical course PDF,
so up to ``size`` children are kept warm and reused; one that timed out, crashed or ran
out of memory is killed and a fresh one is started when next needed.

Both ends of the protocol live here. Over the child's stdin/stdout, frames are a 4-byte
big-endian length and a payload: the child first sends ``ready``; then each request is
a JSON header frame and a data frame, answered by one JSON frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import struct
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

_LENGTH = struct.Struct(">I")
_READY = b"ready"
_OUT_OF_MEMORY = "out_of_memory"
# Reusing a child for ever would let its heap fragment; a fresh one is cheap by then.
_TASKS_PER_WORKER = 200
_STARTUP_SECONDS = 60.0
# A reply is extracted text (bounded by the character limit) as JSON; anything far
# bigger means the child is not speaking the protocol.
_MAX_REPLY_BYTES = 256 * 1024 * 1024
# The child parses hostile files: it gets no secrets from the environment.
_INHERITED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "TMPDIR")

JsonObject = dict[str, Any]


class WorkerCrashed(Exception):
    """The child died or broke the protocol before answering."""


class WorkerOutOfMemory(Exception):
    """The child hit its memory bound while handling the request."""


class WorkerPool:
    """Runs requests in up to ``size`` child processes, each request under a time limit
    and each child under a memory limit."""

    def __init__(
        self, module: str, *, size: int, memory_limit_bytes: int, time_limit_seconds: float
    ) -> None:
        self.module = module
        self.memory_limit_bytes = memory_limit_bytes
        self.time_limit_seconds = time_limit_seconds
        self._slots = asyncio.Semaphore(max(size, 1))
        self._idle: list[_Worker] = []
        self._closed = False
        # Children started so far; lets tests and operators see replacements happen.
        self.started = 0

    async def call(self, header: JsonObject, data: bytes) -> JsonObject:
        """The child's answer to one request.

        Raises ``TimeoutError`` after ``time_limit_seconds`` (the child is killed),
        ``WorkerOutOfMemory`` or ``WorkerCrashed``. Waiting for a free worker or starting
        one does not count against the time limit.
        """
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._start_worker()
            try:
                async with asyncio.timeout(self.time_limit_seconds):
                    reply = await worker.exchange(header, data)
            except BaseException:
                # Timed out, crashed or cancelled mid-request: its state is unknown.
                await worker.stop()
                raise
            if reply.get(_OUT_OF_MEMORY):
                await worker.stop()
                raise WorkerOutOfMemory
            if self._closed or worker.tasks >= _TASKS_PER_WORKER:
                await worker.stop()
            else:
                self._idle.append(worker)
            return reply

    async def close(self) -> None:
        """Stop the idle children; busy ones are stopped when their request ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(worker.stop() for worker in idle))

    async def _start_worker(self) -> _Worker:
        self.started += 1
        return await _Worker.start(self.module, self.memory_limit_bytes)


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.tasks = 0

    @classmethod
    async def start(cls, module: str, memory_limit_bytes: int) -> _Worker:
        environment = {
            name: os.environ[name] for name in _INHERITED_ENVIRONMENT if name in os.environ
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            str(memory_limit_bytes),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=environment,
            # Out of the terminal's process group: Ctrl-C stops the server, which then
            # stops its children, instead of every child printing a KeyboardInterrupt.
            start_new_session=True,
        )
        worker = cls(process)
        try:
            async with asyncio.timeout(_STARTUP_SECONDS):
                ready = await worker._read_frame()
        except BaseException:
            await worker.stop()
            raise
        if ready != _READY:
            await worker.stop()
            raise WorkerCrashed(f"the worker started with {ready[:40]!r} instead of ready")
        return worker

    async def exchange(self, header: JsonObject, data: bytes) -> JsonObject:
        self.tasks += 1
        stdin = self.process.stdin
        assert stdin is not None
        try:
            # No concatenation: the data may be megabytes, and this runs on the event loop.
            stdin.writelines([_frame(json.dumps(header).encode()), _LENGTH.pack(len(data)), data])
            await stdin.drain()
            reply = await self._read_frame()
        except ConnectionError as exc:  # it died before reading the whole request
            raise WorkerCrashed("the worker exited before answering") from exc
        answer: JsonObject = json.loads(reply)
        return answer

    async def _read_frame(self) -> bytes:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            (length,) = _LENGTH.unpack(await stdout.readexactly(_LENGTH.size))
            if length > _MAX_REPLY_BYTES:
                raise WorkerCrashed(f"the worker sent a {length}-byte frame")
            return await stdout.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise WorkerCrashed("the worker exited before answering") from exc

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        if self.process.stdin is not None:
            self.process.stdin.close()
        await self.process.wait()


def _frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


# --------------------------------------------------------------------------- the child


def serve(handle: Callable[[JsonObject, bytes], JsonObject]) -> None:
    """The child's main loop: bound the memory, then answer requests until stdin closes.

    ``argv[1]`` is the address-space limit in bytes. It is set after the imports, so it
    bounds what parsing can take on top of the interpreter.
    """
    memory_limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    # The protocol owns the real stdout; a stray print from a library goes to stderr.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    _write_frame(protocol, _READY)
    while (header := _read_child_frame(requests)) is not None:
        data = _read_child_frame(requests)
        if data is None:
            return
        try:
            reply = handle(json.loads(header), data)
        except MemoryError:
            # The failed allocation is gone with the stack; there is room to say so.
            reply = {_OUT_OF_MEMORY: True}
        _write_frame(protocol, json.dumps(reply).encode())


def _read_child_frame(stream: BinaryIO) -> bytes | None:
    prefix = stream.read(_LENGTH.size)
    if len(prefix) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(prefix)
    payload = stream.read(length)
    return payload if len(payload) == length else None


def _write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_frame(payload))
    stream.flush()


__all__ = ["WorkerCrashed", "WorkerOutOfMemory", "WorkerPool", "serve"]
