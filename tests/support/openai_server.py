"""A scripted OpenAI-compatible server on loopback: the "model" of the LLM engines' tests.

The real ``openai`` SDK talks to it over real HTTP (openai 3.x sends its requests with
httpx2, which respx and pytest-httpx cannot see; a server can). Nothing real can play a
language model in a test, so this is the one stand-in: each test scripts what the model
answers, one reply per request in order, or a function of the request:

- ``answer(obj)``: valid or invalid JSON, any finish reason, streamed in small chunks when
  the client streams, with usage when asked (``stream_options.include_usage``);
- ``refusal(text)``, ``status(429, retry_after=0.2)``, ``status(500)``, ``Reply(delay=...)``
  for answers slower than the client's timeout;
- ``Reply(hold_before="...")`` streams up to that text and waits for ``release()``, so a
  test can look at what the service did while the model was still writing.

Token counts are estimates (4 characters a token, the schema included in the prompt), as
a tokenizer would give roughly. Every request body and its headers are recorded.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from devkit.asgi_server import serve_in_background
from server.kernel.settings import Settings

CHUNK_CHARS = 48
# A fake key the tests look for in every output the service makes.
TEST_API_KEY = "sk-test-secret-4b1d"


@dataclass
class Reply:
    content: str = ""
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    report_usage: bool = True
    hold_before: str | None = None
    held: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


def answer(data: Any, **options: Any) -> Reply:
    content = data if isinstance(data, str) else json.dumps(data)
    return Reply(content=content, **options)


def refusal(text: str) -> Reply:
    return Reply(refusal=text)


def status(code: int, *, retry_after: float | None = None, message: str = "") -> Reply:
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    return Reply(status=code, error=message or f"scripted HTTP {code}", headers=headers)


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class ScriptedModel:
    replies: deque[Reply | Responder] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    given: list[Reply] = field(default_factory=list)

    def script(self, *replies: Reply | Responder) -> None:
        self.replies.extend(replies)

    def reset(self) -> None:
        # A test that failed while a reply was held must not leave its stream open.
        for reply in self.given:
            reply.release()
        self.given.clear()
        self.replies.clear()
        self.requests.clear()
        self.headers.clear()
        self.received_at.clear()

    def next_reply(self, body: dict[str, Any]) -> Reply:
        if not self.replies:
            return status(500, message="the test scripted no reply for this request")
        scripted = self.replies.popleft()
        reply = scripted(body) if callable(scripted) else scripted
        self.given.append(reply)
        return reply


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    prompt = "".join(str(m.get("content") or "") for m in body.get("messages", []))
    prompt += json.dumps(body.get("response_format") or {})
    prompt_tokens = _tokens(prompt)
    completion_tokens = _tokens(reply.content + (reply.refusal or ""))
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> str:
    chunk = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n"


async def _stream(body: dict[str, Any], reply: Reply) -> AsyncIterator[str]:
    yield _chunk(body, {"role": "assistant", "content": ""}, None)
    if reply.refusal is not None:
        yield _chunk(body, {"refusal": reply.refusal}, None)
    held_at = reply.content.find(reply.hold_before) if reply.hold_before else -1
    parts = [reply.content[:held_at], reply.content[held_at:]] if held_at >= 0 else [reply.content]
    for index, part in enumerate(parts):
        if index:
            reply.held.set()
            await reply.released.wait()
        for start in range(0, len(part), CHUNK_CHARS):
            yield _chunk(body, {"content": part[start : start + CHUNK_CHARS]}, None)
    yield _chunk(body, {}, reply.finish_reason)
    if (body.get("stream_options") or {}).get("include_usage") and reply.report_usage:
        usage = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [],
            "usage": _usage(body, reply),
        }
        yield f"data: {json.dumps(usage)}\n\n"
    yield "data: [DONE]\n\n"


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if reply.refusal else reply.content,
                    "refusal": reply.refusal,
                },
                "finish_reason": reply.finish_reason,
            }
        ],
        **({"usage": _usage(body, reply)} if reply.report_usage else {}),
    }


def create_model_server(model: ScriptedModel) -> Starlette:
    async def chat_completions(request: Request) -> Response:
        body = await request.json()
        model.requests.append(body)
        model.headers.append(dict(request.headers))
        model.received_at.append(time.monotonic())
        reply = model.next_reply(body)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            error = {"error": {"message": reply.error, "type": "scripted", "code": None}}
            return JSONResponse(error, status_code=reply.status, headers=reply.headers)
        if body.get("stream"):
            return StreamingResponse(_stream(body, reply), media_type="text/event-stream")
        return JSONResponse(_completion(body, reply))

    return Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])


@dataclass
class RunningModelServer:
    url: str
    model: ScriptedModel

    def settings(self, **overrides: Any) -> Settings:
        """Settings of an openai engine pointed at this server; fast timeouts and retries."""
        values: dict[str, Any] = {
            "llm_engine": "openai",
            "openai_base_url": f"{self.url}/v1",
            "openai_api_key": TEST_API_KEY,
            "llm_model": "scripted-model",
            "llm_timeout_seconds": 2.0,
            "llm_max_retries": 1,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_model_server() -> AsyncIterator[RunningModelServer]:
    model = ScriptedModel()
    async with serve_in_background(create_model_server(model), lifespan="off") as url:
        yield RunningModelServer(url=url, model=model)


@contextmanager
def planning_engine(runtime: Any, engine: Any) -> Iterator[None]:
    """Plan with ``engine`` inside the block (the app's engine comes back after)."""
    original = runtime.engine
    runtime.engine = engine
    try:
        yield
    finally:
        runtime.engine = original
