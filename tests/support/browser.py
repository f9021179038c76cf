"""Headless Chromium driven over the Chrome DevTools Protocol (a websocket), for tests that
load a page as a person would. Chromium comes from Debian (`apt-get install -y chromium`)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import websockets

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Headless, and quiet: no sandbox (containers), no GPU, no background traffic of its own.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


class Page:
    """One tab: send CDP commands, keep the events they cause."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self._connection:
            message = json.loads(raw)
            if "id" in message:
                self._pending.pop(message["id"]).set_result(message)
            else:
                self.events.append(message)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self._ids)
        answer = self._pending[command_id] = asyncio.get_running_loop().create_future()
        await self._connection.send(
            json.dumps({"id": command_id, "method": method, "params": params})
        )
        message = await asyncio.wait_for(answer, 30)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message["result"]

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 30) -> Any:
        """Poll ``expression`` until it is truthy; its value. (The page has no way to call
        back, so this polls.)"""
        async with asyncio.timeout(seconds):
            while True:
                if value := await self.evaluate(expression):
                    return value
                await asyncio.sleep(0.1)

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._connection.close()


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    active_port = profile / "DevToolsActivePort"
    async with asyncio.timeout(30):
        while not active_port.exists() or not active_port.read_text().strip():
            if process.returncode is not None:
                raise RuntimeError(f"chromium exited with {process.returncode}")
            await asyncio.sleep(0.05)
    return int(active_port.read_text().split()[0])


@contextlib.asynccontextmanager
async def chromium_page(executable: str) -> AsyncIterator[Page]:
    """A fresh headless Chromium (its own empty profile) and its first tab."""
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            executable,
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group: its helpers end with it
        )
        try:
            port = await _devtools_port(Path(profile), process)
            async with httpx.AsyncClient() as http:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
            tab = next(target for target in targets if target["type"] == "page")
            connection = await websockets.connect(tab["webSocketDebuggerUrl"], max_size=None)
            page = Page(connection)
            try:
                yield page
            finally:
                await page.close()
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
