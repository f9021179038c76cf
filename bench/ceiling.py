"""The ceiling the service is measured against: a bare FastAPI app on uvicorn, served like
the service (one process, same server and SSE library), with nothing between a request
and its answer.

- ``GET /bytes/{name}`` answers stored bytes from memory (the read path's ceiling).
- ``GET /events`` is an SSE stream: a ``snapshot`` first, then whatever is published.
- ``POST /publish`` sends a plan job's worth of events to every open stream, each
  stamped like the service's events, so one client measures both the same way.

Run: ``python -m bench.ceiling --port PORT --bodies FILE`` (FILE: JSON of name -> text).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from bench.streams import REPO_ROOT, TERMINAL_EVENT
from devkit.asgi_server import free_port
from server.kernel.settings import Settings

# The service's heartbeat (SSE_HEARTBEAT_SECONDS, the benchmarks keep the default), so idle
# streams cost the same.
HEARTBEAT_SECONDS: float = Settings.model_fields["sse_heartbeat_seconds"].default
STARTUP_POLLS = 150


def create_ceiling(bodies: dict[str, bytes]) -> FastAPI:
    app = FastAPI()
    streams: set[asyncio.Queue[ServerSentEvent]] = set()

    @app.get("/bytes/{name}")
    async def stored(name: str) -> Response:
        return Response(bodies[name], media_type="application/json")

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def messages() -> AsyncIterator[ServerSentEvent]:
            queue: asyncio.Queue[ServerSentEvent] = asyncio.Queue()
            streams.add(queue)
            try:
                yield ServerSentEvent(data="{}", event="snapshot")
                while True:
                    yield await queue.get()
            finally:
                streams.discard(queue)

        return EventSourceResponse(messages(), ping=HEARTBEAT_SECONDS, send_timeout=30)

    async def broadcast(count: int, interval: float) -> None:
        for number in range(1, count + 1):
            event_type = TERMINAL_EVENT if number == count else "stage_started"
            data = {
                "id": number,
                "event_type": event_type,
                "timestamp": datetime.now(UTC).isoformat(),
            }
            message = ServerSentEvent(data=json.dumps(data), event=event_type, id=str(number))
            for queue in streams:
                queue.put_nowait(message)
            await asyncio.sleep(interval)

    @app.post("/publish")
    async def publish(count: int = 10, interval: float = 0.03) -> dict[str, int]:
        """Start sending ``count`` events ``interval`` seconds apart, the last terminal."""
        app.state.broadcast = asyncio.create_task(broadcast(count, interval))
        return {"streams": len(streams)}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


@dataclass(frozen=True)
class RunningCeiling:
    url: str
    pid: int


@asynccontextmanager
async def running_ceiling(
    log: Path, bodies: dict[str, str] | None = None
) -> AsyncIterator[RunningCeiling]:
    """Start the ceiling as a process of its own, as the service's API runs."""
    port = free_port()
    arguments = [f"--port={port}"]
    if bodies is not None:
        bodies_file = log.with_suffix(".json")
        await asyncio.to_thread(bodies_file.write_text, json.dumps(bodies))
        arguments.append(f"--bodies={bodies_file}")
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.ceiling",
            *arguments,
            stdout=output,
            stderr=output,
            cwd=REPO_ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=1) as http:
            for _ in range(STARTUP_POLLS):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                if process.returncode is not None:
                    text = await asyncio.to_thread(log.read_text)
                    raise RuntimeError(f"the ceiling did not start:\n{text}")
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"the ceiling did not answer on {url}")
        yield RunningCeiling(url, process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path)
    args = parser.parse_args()
    stored = json.loads(args.bodies.read_text()) if args.bodies else {}
    bodies = {name: text.encode() for name, text in stored.items()}
    uvicorn.run(
        create_ceiling(bodies),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
