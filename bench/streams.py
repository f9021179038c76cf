"""A load process holding many event streams at once (SSE, GraphQL subscriptions) and
timing each event from its publisher's timestamp to its arrival here.

The benchmarks run it as ``python -m bench.streams`` (a process of its own, so parsing
thousands of streams does not slow the process that drives the jobs) and talk to it
over its standard streams: it prints ``{"ready": n}`` once its streams are open, then
``{"delivered": k}`` each time every open stream has received the k-th terminal event,
and writes its samples to ``--out`` once its input is closed or ``--timeout`` seconds
have passed. The Authorization header comes in ``BENCH_AUTHORIZATION`` (not on the
command line).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

REPO_ROOT = Path(__file__).resolve().parents[1]
TERMINAL_EVENT = "plan_ready"
# Not timed: what is not an event, and job_queued, which the API process answering the
# start publishes (everything else comes from the worker running the job).
UNTIMED = frozenset({"snapshot", "history_gone", "job_queued"})
CONNECTING_AT_ONCE = 100  # stay well inside the listen backlog
SUBSCRIPTION = """
subscription ($courseId: String!, $assignmentId: String!) {
  workspaceEvents(courseId: $courseId, assignmentId: $assignmentId) {
    __typename
    ... on ProgressEvent { eventType timestamp }
  }
}
"""


@dataclass
class Tally:
    """Streams opened, and how many of the open ones have seen each terminal event."""

    expected: int
    connected: int = 0
    failed: int = 0
    ended: int = 0
    terminals: Counter[int] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"sse": [], "graphql": []})
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, protocol: str, event_type: str, timestamp: str) -> None:
        if event_type not in UNTIMED:
            sent = datetime.fromisoformat(timestamp).timestamp()
            self.latencies[protocol].append(time.time() - sent)

    def note(self, **changes: int) -> None:
        for name, step in changes.items():
            setattr(self, name, getattr(self, name) + step)
        self.changed.set()

    def terminal(self, count: int) -> None:
        self.terminals[count] += 1
        self.changed.set()

    def delivered(self, count: int) -> bool:
        return self.terminals[count] >= self.connected - self.ended

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self.changed.clear()
            await self.changed.wait()


class _StreamRefused(Exception):
    pass


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The body of a chunked HTTP/1.1 response, chunk by chunk."""
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        chunk = await reader.readexactly(size)
        await reader.readexactly(2)
        yield chunk


async def _sse_messages(reader: asyncio.StreamReader) -> AsyncIterator[tuple[str, str]]:
    """(event, data) of each SSE message of a chunked body; comments are skipped."""
    buffer = b""
    async for chunk in _chunks(reader):
        buffer += chunk.replace(b"\r\n", b"\n")
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            event, data = "message", []
            for line in block.decode().split("\n"):
                field, _, value = line.partition(":")
                if field == "event":
                    event = value.removeprefix(" ")
                elif field == "data":
                    data.append(value.removeprefix(" "))
            if data:
                yield event, "\n".join(data)


async def follow_sse(
    url: str, path: str, authorization: str, tally: Tally, slots: asyncio.Semaphore
) -> None:
    """One SSE stream over a bare socket: httpx costs too much per stream to hold ten
    thousand of them in one process on two cores."""
    address = urlsplit(url)
    writer: asyncio.StreamWriter | None = None
    try:
        async with slots:
            reader, writer = await asyncio.open_connection(address.hostname, address.port)
            auth = f"Authorization: {authorization}\r\n" if authorization else ""
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\n{auth}"
                "Accept: text/event-stream\r\n\r\n".encode()
            )
            status = await reader.readline()
            if b" 200 " not in status:
                raise _StreamRefused(status.decode(errors="replace"))
            while (await reader.readline()).strip():
                pass  # the headers
            messages = _sse_messages(reader)
            await anext(messages)  # the snapshot: following from now on
    except (OSError, asyncio.IncompleteReadError, ValueError, StopAsyncIteration, _StreamRefused):
        if writer is not None:
            writer.close()
        tally.note(failed=1)
        return
    tally.note(connected=1)
    terminals = 0
    try:
        async for event, data in messages:
            tally.record("sse", event, json.loads(data).get("timestamp", ""))
            if event == TERMINAL_EVENT:
                terminals += 1
                tally.terminal(terminals)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()
        tally.note(ended=1)


async def follow_graphql(
    url: str, authorization: str, path: str, tally: Tally, slots: asyncio.Semaphore
) -> None:
    """One subscription on a websocket of its own, spoken in graphql-transport-ws by hand
    (as SSE streams are read over a bare socket: a client library's own queues would sit
    inside every measured latency), opened (up to its snapshot) in one of the ``slots``:
    thousands of handshakes at once overflow the server's listen backlog, and the client's
    timeouts then fail the subscriptions."""
    _, course_id, assignment_id, _ = path.strip("/").split("/")
    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": SUBSCRIPTION,
            "variables": {"courseId": course_id, "assignmentId": assignment_id},
        },
    }
    terminals = 0
    connected = False
    await slots.acquire()
    try:
        async with connect(
            url.replace("http://", "ws://", 1) + "/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            compression=None,
            ping_interval=None,
            proxy=None,
        ) as socket:
            await socket.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": authorization}})
            )
            await socket.send(json.dumps(subscribe))
            async for frame in socket:
                message = json.loads(frame)
                if message["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                    continue
                if message["type"] != "next":
                    if message["type"] in ("error", "complete"):
                        return
                    continue  # connection_ack
                event = message["payload"]["data"]["workspaceEvents"]
                if event["__typename"] != "ProgressEvent":
                    if not connected:
                        connected = True
                        slots.release()
                        tally.note(connected=1)
                    continue
                tally.record("graphql", event["eventType"], event["timestamp"])
                if event["eventType"] == TERMINAL_EVENT:
                    terminals += 1
                    tally.terminal(terminals)
    except (OSError, WebSocketException, TimeoutError, ValueError, KeyError, TypeError):
        pass  # the stream ends; the tally says whether it had opened
    finally:
        if connected:
            tally.note(ended=1)
        else:
            slots.release()
            tally.note(failed=1)


def raise_open_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


async def announce_deliveries(tally: Tally) -> None:
    for job in itertools.count(1):
        await tally.until(lambda job=job: tally.delivered(job))
        if tally.connected == tally.ended:
            say({"all_ended": True})
            return
        say({"delivered": job})


async def stdin_closed() -> None:
    """Return when the orchestrator closes our standard input: the run is over."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_open_file_limit(args.sse + args.graphql + 256)
    authorization = os.environ.get("BENCH_AUTHORIZATION", "")
    tally = Tally(expected=args.sse + args.graphql)
    slots = asyncio.Semaphore(CONNECTING_AT_ONCE)
    streams = [
        asyncio.create_task(follow_sse(args.url, args.path, authorization, tally, slots))
        for _ in range(args.sse)
    ]
    streams += [
        asyncio.create_task(follow_graphql(args.url, authorization, args.path, tally, slots))
        for _ in range(args.graphql)
    ]
    try:
        async with asyncio.timeout(args.timeout):
            await tally.until(lambda: tally.connected + tally.failed >= tally.expected)
            say({"ready": tally.connected, "failed": tally.failed})
            announcer = asyncio.create_task(announce_deliveries(tally))
            streams.append(announcer)
            await stdin_closed()
    except TimeoutError:
        say({"timed_out": True})
    finally:
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return {"connected": tally.connected, "failed": tally.failed, "latencies": tally.latencies}


@dataclass
class StreamLoad:
    """The orchestrating side: one running ``bench.streams`` process."""

    process: asyncio.subprocess.Process
    out: Path

    async def _next(self, key: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message: dict[str, Any] = json.loads(line)
            if key in message:
                return message
            if "timed_out" in message or "all_ended" in message:
                break
        raise RuntimeError(f"the stream client stopped before {key!r}")

    async def ready(self) -> int:
        """How many streams are open (at least one, or this raises)."""
        ready = await self._next("ready")
        if not ready["ready"]:
            raise RuntimeError(f"no stream could be opened ({ready['failed']} failed)")
        return int(ready["ready"])

    async def delivered(self) -> None:
        """Wait until every open stream has the next terminal event."""
        await self._next("delivered")

    async def results(self) -> dict[str, Any]:
        """Stop the streams (closing the process's input) and read what they measured."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()
        return dict(json.loads(await asyncio.to_thread(self.out.read_text)))


@asynccontextmanager
async def stream_load(
    url: str,
    path: str,
    authorization: str | None,
    *,
    out: Path,
    sse: int = 0,
    graphql: int = 0,
    seconds: float,
) -> AsyncIterator[StreamLoad]:
    """Start ``bench.streams`` with ``sse`` + ``graphql`` streams on ``path`` of ``url``,
    for at most ``seconds``."""
    env = {**os.environ, "BENCH_AUTHORIZATION": authorization or ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.streams",
        f"--url={url}",
        f"--path={path}",
        f"--sse={sse}",
        f"--graphql={graphql}",
        f"--timeout={seconds}",
        f"--out={out}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        yield StreamLoad(process, out)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", required=True, help="the SSE path, /assignments/C/A/events")
    parser.add_argument("--sse", type=int, default=0)
    parser.add_argument("--graphql", type=int, default=0)
    parser.add_argument("--timeout", type=float, required=True, help="seconds, in all")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    args.out.write_text(json.dumps(results))


if __name__ == "__main__":
    main()
