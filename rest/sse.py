"""``LeanEventSourceResponse``: sse-starlette's response on two tasks per stream, not five.

sse-starlette's ``EventSourceResponse`` runs each response in an anyio task group of four
tasks beside the request's own (the body, the heartbeats, a wait for the server's exit, a
wait for the client's disconnect), each with its task handle, cancel scope and events:
about a third of what an idle stream held (20 of 57 KiB, bench row 4).
Here the request's own task sends the body, and one task waits for the client's
disconnect and sends the heartbeats meanwhile; the server's exit reaches the stream
through sse-starlette's own exit watcher (one task per process), which cancels it, as its
task group would. What goes on the wire is sse-starlette's: the same headers, the same
encoding of messages and pings, the same send timeout, the closing empty body.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.event import ensure_bytes
from sse_starlette.sse import (
    AppStatus,
    SendTimeoutError,
    _ensure_watcher_started_on_this_loop,
    _get_shutdown_state,
)
from starlette.types import Message, Receive, Scope, Send


class _ExitHook:
    """Stands among the events sse-starlette's exit watcher sets when the server exits:
    rather than waking a task that waits for it, it cancels the stream."""

    __slots__ = ("fired", "stream")

    def __init__(self, stream: asyncio.Task[None]) -> None:
        self.stream = stream
        self.fired = False

    def set(self) -> None:
        self.fired = True
        self.stream.cancel()


class LeanEventSourceResponse(EventSourceResponse):
    """An ``EventSourceResponse`` whose stream runs in the request's task, with one task
    beside it for the disconnect and the heartbeats. Responses using what needs more (a
    ``data_sender_callable``, a close handler, a cooperative shutdown), websockets and
    ``HEAD`` are served by sse-starlette's own ``__call__``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = asyncio.current_task()
        if (
            stream is None
            or scope["type"] != "http"
            or scope["method"].upper() == "HEAD"
            or self.data_sender_callable is not None
            or self.client_close_handler_callable is not None
            or self._shutdown_event is not None
        ):
            await super().__call__(scope, receive, send)
            return
        exit_hook = _ExitHook(stream)
        exits = _get_shutdown_state().events
        exits.add(exit_hook)  # type: ignore[arg-type]  # it has the one method used: set()
        _ensure_watcher_started_on_this_loop()
        watcher = asyncio.create_task(self._watch(receive, send, stream))
        try:
            if not AppStatus.should_exit:
                await self._send_body(send)
        except asyncio.CancelledError:
            # Cancelled by the watcher (the client left, a heartbeat failed) or the exit
            # hook: the stream ends here; any other cancellation goes on.
            if not (exit_hook.fired or watcher.done()):
                raise
            stream.uncancel()
        finally:
            exits.discard(exit_hook)
            watcher.cancel()
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:  # suspended at a yield if a send was cut short
                await aclose()
        failed = watcher.exception() if watcher.done() and not watcher.cancelled() else None
        if failed is not None:
            raise failed  # a heartbeat's send
        if self._response_started and not (
            self._response_complete or self._client_disconnected or self._send_interrupted
        ):
            await self._timed_send(send, {"type": "http.response.body", "body": b""})
            self._response_complete = True
        if self.background is not None:
            await self.background()

    async def _send_body(self, send: Send) -> None:
        await self._timed_send(
            send,
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            },
        )
        self._response_started = True
        async for data in self.body_iterator:
            chunk = ensure_bytes(data, self.sep)
            del data  # neither is held while the stream idles
            await self._timed_send(
                send, {"type": "http.response.body", "body": chunk, "more_body": True}
            )
            del chunk

    async def _watch(self, receive: Receive, send: Send, stream: asyncio.Task[None]) -> None:
        """Wait for the client's disconnect, sending a heartbeat every ``ping_interval``
        seconds meanwhile (none if it is 0); then end the stream. (Cancelled when the
        stream ends first.)"""
        try:
            while True:
                try:
                    async with asyncio.timeout(self.ping_interval or None):
                        message = await receive()
                except TimeoutError:
                    if self._response_started:
                        await self._timed_send(send, self._heartbeat())
                    continue
                if message["type"] == "http.disconnect":
                    self._client_disconnected = True
                    self.active = False
                    break
        except Exception:
            stream.cancel()  # a heartbeat could not be sent: the stream ends with its error
            raise
        stream.cancel()

    def _heartbeat(self) -> Message:
        ping = (
            self.ping_message_factory()
            if self.ping_message_factory
            else ServerSentEvent(comment=f"ping - {datetime.now(UTC)}", sep=self.sep)
        )
        return {
            "type": "http.response.body",
            "body": ensure_bytes(ping, self.sep),
            "more_body": True,
        }

    async def _timed_send(self, send: Send, message: Message) -> None:
        """``send``, within the response's send timeout (:class:`SendTimeoutError`)."""
        try:
            async with asyncio.timeout(self.send_timeout):
                await send(message)
        except TimeoutError:
            self._send_interrupted = True
            raise SendTimeoutError from None
        except BaseException:
            self._send_interrupted = True
            raise
