"""The one way this service asks a language model for structured output.

Any OpenAI-compatible endpoint, through the official ``openai`` SDK (Chat Completions, the
surface OpenAI, Azure, Ollama, vLLM and LM Studio share). Each call:

- asks for a strict JSON schema made from a pydantic model by the SDK's own converter;
  a server that rejects ``json_schema`` is switched to ``json_object`` with the schema in
  the instructions (llama.cpp answers ``json_schema`` with a 500);
- streams, so a draft can be previewed while the model writes it;
- is validated by us, not by the SDK, so an invalid answer keeps its text and token usage:
  it gets one re-ask with the validation errors, then the stage fails with
  ``llm_invalid_output``;
- ends a refusal, a content filter or a cut-off answer as a clear error, never a crash;
- is recorded (model, tokens, latency) on the job and counted against its token budget.

The SDK retries 408/409/429/5xx and timeouts itself (``LLM_MAX_RETRIES``, honouring
``Retry-After``). Error messages are ours: a server's error text can echo the API key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, TypeVar

import jiter
import openai
from openai.lib._pydantic import to_strict_json_schema
from openai.types import CompletionUsage
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.shared_params import ResponseFormatJSONObject, ResponseFormatJSONSchema
from pydantic import BaseModel, ValidationError

from server.kernel.errors import AppError
from server.kernel.settings import Settings
from server.llm.previews import PreviewPacer
from server.llm.prompts import estimate_tokens, repeats_instructions
from server.llm.session import CallOutcome, EngineSession, LlmCall

logger = logging.getLogger(__name__)

Stage = Literal["distill", "draft", "verify", "feedback"]
ResponseFormat = Literal["json_schema", "json_object"]
AnswerT = TypeVar("AnswerT", bound=BaseModel)
ResultT = TypeVar("ResultT")
PartialCallback = Callable[[Any], Awaitable[None]]

# A call that could not return even this much is not worth making.
MIN_COMPLETION_TOKENS = 1024
_MAX_REPORTED_ERRORS = 20
_REFUSAL_PREVIEW_CHARS = 200
_SCHEMA_REJECTION_STATUSES = frozenset({400, 422, 500, 501})
_CODE_FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.S)


class LlmError(AppError):
    """A model call that failed for good; the job fails with its code."""

    status_code = 502
    code = "llm_unavailable"


@dataclass(frozen=True)
class Prompt:
    purpose: str
    stage: Stage
    system: str
    user: str


@dataclass(frozen=True)
class _Reply:
    mode: ResponseFormat
    prompt: str  # everything sent, to estimate tokens when the server reports none
    content: str
    refusal: str | None
    finish_reason: str | None
    usage: CompletionUsage | None
    latency_ms: int


def _rejects_response_format(error: openai.APIStatusError) -> bool:
    text = str(error.message).lower()
    return error.status_code in _SCHEMA_REJECTION_STATUSES and (
        "response_format" in text or "json_schema" in text
    )


def _error_for(error: openai.OpenAIError, model: str) -> LlmError:
    if isinstance(error, openai.APITimeoutError):
        return LlmError("The language model did not answer in time", code="llm_timeout")
    if isinstance(error, openai.APIConnectionError):
        return LlmError("The language model endpoint could not be reached")
    if isinstance(error, openai.RateLimitError):
        return LlmError(
            "The language model endpoint is rate limiting this service", code="llm_rate_limited"
        )
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return LlmError(
            "The language model endpoint rejected this service's API key", code="llm_auth_failed"
        )
    if isinstance(error, openai.APIStatusError) and error.status_code < 500:
        return LlmError(
            f"The language model endpoint rejected the request for model {model!r} "
            f"(HTTP {error.status_code})",
            code="llm_request_rejected",
        )
    return LlmError("The language model endpoint failed")


def _without_code_fence(content: str) -> str:
    """Models in JSON mode sometimes wrap the object in a Markdown code fence."""
    match = _CODE_FENCE_RE.fullmatch(content.strip())
    return match.group(1) if match else content


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _describe(error: ValidationError | ValueError) -> str:
    if not isinstance(error, ValidationError):
        return str(error)
    lines = [
        f"- {'/'.join(str(part) for part in item['loc']) or '(root)'}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False)
    ]
    more = len(lines) - _MAX_REPORTED_ERRORS
    return "\n".join(lines[:_MAX_REPORTED_ERRORS] + ([f"- … {more} more"] if more > 0 else []))


def _sdk_messages(messages: list[dict[str, str]]) -> list[ChatCompletionMessageParam]:
    """Our (role, content) messages as the SDK's typed message per role."""
    typed: list[ChatCompletionMessageParam] = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "system":
            typed.append(ChatCompletionSystemMessageParam(role="system", content=content))
        elif role == "assistant":
            typed.append(ChatCompletionAssistantMessageParam(role="assistant", content=content))
        else:
            typed.append(ChatCompletionUserMessageParam(role="user", content=content))
    return typed


class LlmClient:
    def __init__(self, settings: Settings) -> None:
        if settings.openai_api_key is None:
            raise ValueError("the openai engine needs OPENAI_API_KEY")
        self.settings = settings
        self.response_format: ResponseFormat = settings.llm_response_format
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )
        # The SDK imports its resources on first use: here, at startup, rather than in the
        # first job, where the import would hold the event loop (and every stream on it).
        _ = self._client.chat.completions

    def model(self, stage: Stage) -> str:
        per_stage = {
            "distill": self.settings.llm_model_distill,
            "draft": self.settings.llm_model_draft,
            "verify": self.settings.llm_model_verify,
            "feedback": self.settings.llm_model_feedback,
        }
        return per_stage[stage] or self.settings.llm_model

    async def structured(
        self,
        prompt: Prompt,
        answer_type: type[AnswerT],
        convert: Callable[[AnswerT], ResultT],
        session: EngineSession,
        on_partial: PartialCallback | None = None,
    ) -> ResultT:
        """The model's answer to ``prompt`` as ``answer_type``, passed through ``convert``
        (whose ``ValueError`` counts as invalid output, like a schema violation)."""
        messages = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ]
        reply = await self._call(prompt, answer_type, messages, session, on_partial)
        try:
            return await self._accept(prompt, reply, answer_type, convert, session)
        except (ValidationError, ValueError) as error:
            errors = _describe(error)
        logger.info("%s: invalid answer from the model, asking once more", prompt.purpose)
        messages += [
            {"role": "assistant", "content": reply.content},
            {
                "role": "user",
                "content": "Your answer was not valid:\n"
                f"{errors}\n"
                "Answer again with the complete, corrected JSON object only.",
            },
        ]
        repair = replace(prompt, purpose=f"{prompt.purpose}+repair")
        reply = await self._call(repair, answer_type, messages, session, on_partial)
        try:
            return await self._accept(repair, reply, answer_type, convert, session)
        except (ValidationError, ValueError) as error:
            raise LlmError(
                f"The language model's answer was still invalid after one correction "
                f"({prompt.purpose}): {_describe(error)[:500]}",
                code="llm_invalid_output",
            ) from error

    async def _accept(
        self,
        prompt: Prompt,
        reply: _Reply,
        answer_type: type[AnswerT],
        convert: Callable[[AnswerT], ResultT],
        session: EngineSession,
    ) -> ResultT:
        """Record the call, raise for a refusal or a cut-off, else validate the answer."""
        outcome, failure = self._ending(reply)
        if failure is not None:
            await self._record(prompt, reply, outcome, session)
            raise failure
        try:
            data = json.loads(_without_code_fence(reply.content))
            if repeats_instructions(" ".join(_strings(data)), prompt.system):
                raise ValueError("the answer repeats the instructions; answer about the data")
            result = convert(answer_type.model_validate(data))
        except (ValidationError, ValueError):
            await self._record(prompt, reply, "invalid_output", session)
            raise
        await self._record(prompt, reply, "ok", session)
        return result

    def _ending(self, reply: _Reply) -> tuple[CallOutcome, LlmError | None]:
        if reply.refusal:
            preview = " ".join(reply.refusal.split())[:_REFUSAL_PREVIEW_CHARS]
            return "refused", LlmError(
                f"The language model declined: “{preview}”", code="llm_refused"
            )
        if reply.finish_reason == "content_filter":
            return "content_filtered", LlmError(
                "The language model endpoint's content filter stopped the answer",
                code="llm_content_filtered",
            )
        if reply.finish_reason == "length":
            return "truncated", LlmError(
                "The language model's answer was cut off at its length limit "
                "(LLM_MAX_OUTPUT_TOKENS or the job's token budget)",
                code="llm_output_truncated",
            )
        return "ok", None

    def _completion_allowance(self, messages: list[dict[str, str]], session: EngineSession) -> int:
        prompt_tokens = estimate_tokens("".join(message["content"] for message in messages))
        budget = self.settings.llm_job_token_budget
        left = budget - session.tokens_used - prompt_tokens
        if left < MIN_COMPLETION_TOKENS:
            raise LlmError(
                f"The job's token budget ({budget:,}) is spent: {session.tokens_used:,} used, "
                f"about {prompt_tokens:,} more needed for the next prompt",
                code="llm_budget_exceeded",
            )
        return min(self.settings.llm_max_output_tokens, left)

    def _response_format_param(
        self, answer_type: type[BaseModel], mode: ResponseFormat
    ) -> ResponseFormatJSONObject | ResponseFormatJSONSchema:
        if mode == "json_object":
            return {"type": "json_object"}
        # The SDK's converter: exactly what ``parse(response_format=answer_type)`` sends.
        schema = to_strict_json_schema(answer_type)
        return {
            "type": "json_schema",
            "json_schema": {"name": answer_type.__name__, "strict": True, "schema": schema},
        }

    def _messages_for(
        self, messages: list[dict[str, str]], answer_type: type[BaseModel], mode: ResponseFormat
    ) -> list[dict[str, str]]:
        if mode == "json_schema":
            return messages
        # Without server-side schemas, the schema goes into our (trusted) instructions.
        schema = json.dumps(to_strict_json_schema(answer_type), separators=(",", ":"))
        system = messages[0]["content"] + (
            f"\n\nReply with one JSON object that validates against this JSON Schema:\n{schema}"
        )
        return [{"role": "system", "content": system}, *messages[1:]]

    async def _call(
        self,
        prompt: Prompt,
        answer_type: type[BaseModel],
        messages: list[dict[str, str]],
        session: EngineSession,
        on_partial: PartialCallback | None,
    ) -> _Reply:
        mode = self.response_format
        try:
            return await self._stream(prompt, answer_type, messages, mode, session, on_partial)
        except openai.OpenAIError as error:
            rejected = isinstance(error, openai.APIStatusError) and _rejects_response_format(error)
            if mode != "json_schema" or not rejected:
                raise _error_for(error, self.model(prompt.stage)) from None
            logger.warning(
                "The model endpoint rejected json_schema output; using json_object with the "
                "schema in the instructions from now on"
            )
            self.response_format = "json_object"
        try:
            return await self._stream(
                prompt, answer_type, messages, "json_object", session, on_partial
            )
        except openai.OpenAIError as error:
            raise _error_for(error, self.model(prompt.stage)) from None

    async def _stream(
        self,
        prompt: Prompt,
        answer_type: type[BaseModel],
        messages: list[dict[str, str]],
        mode: ResponseFormat,
        session: EngineSession,
        on_partial: PartialCallback | None,
    ) -> _Reply:
        sent = self._messages_for(messages, answer_type, mode)
        max_tokens = self._completion_allowance(sent, session)
        model = self.model(prompt.stage)
        started = time.monotonic()
        snapshot = None
        previews = (
            PreviewPacer(
                partial(self._report_partial, instructions=prompt.system, on_partial=on_partial)
            )
            if on_partial is not None
            else None
        )
        try:
            async with self._client.chat.completions.stream(
                model=model,
                messages=_sdk_messages(sent),
                response_format=self._response_format_param(answer_type, mode),
                max_completion_tokens=max_tokens,
                stream_options={"include_usage": True},
            ) as stream:
                async for event in stream:
                    # An answer that arrives faster than it is parsed (a fast model, a
                    # burst) is read from a buffer without suspending: give the loop a
                    # turn per chunk, so the events published meanwhile reach their streams.
                    await asyncio.sleep(0)
                    if event.type == "chunk":
                        snapshot = event.snapshot
                    elif event.type == "content.delta" and previews is not None:
                        await previews.offer(event.snapshot)
            if previews is not None:
                await previews.finish()
        except openai.OpenAIError:
            await self._record_failure(prompt, mode, started, session)
            raise
        finally:
            if previews is not None:
                await previews.close()
        choice = snapshot.choices[0] if snapshot and snapshot.choices else None
        return _Reply(
            mode=mode,
            prompt="".join(message["content"] for message in sent),
            content=(choice.message.content or "") if choice else "",
            refusal=choice.message.refusal if choice else None,
            finish_reason=choice.finish_reason if choice else None,
            usage=snapshot.usage if snapshot else None,
            latency_ms=round((time.monotonic() - started) * 1000),
        )

    async def _report_partial(
        self, text: str, instructions: str, on_partial: PartialCallback
    ) -> None:
        """Hand on the answer so far (complete strings only) for a preview; previews are
        shown before validation, so one that repeats the instructions is held back."""
        try:
            partial = jiter.from_json(text.encode(), partial_mode=True)
        except ValueError:
            return  # not JSON (yet): a preview is a nicety, validation comes at the end
        if not repeats_instructions(" ".join(_strings(partial)), instructions):
            await on_partial(partial)

    async def _record(
        self, prompt: Prompt, reply: _Reply, outcome: CallOutcome, session: EngineSession
    ) -> None:
        usage = reply.usage
        if usage is not None:
            prompt_tokens, completion_tokens = usage.prompt_tokens, usage.completion_tokens
            details = usage.prompt_tokens_details
            cached = details.cached_tokens if details else None
        else:
            prompt_tokens = estimate_tokens(reply.prompt)
            completion_tokens = estimate_tokens(reply.content + (reply.refusal or ""))
            cached = None
        await session.record(
            LlmCall(
                purpose=prompt.purpose,
                model=self.model(prompt.stage),
                response_format=reply.mode,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
                cached_tokens=cached,
                tokens_estimated=usage is None,
                latency_ms=reply.latency_ms,
                outcome=outcome,
                attempt=session.attempt,
                at=datetime.now(UTC),
            )
        )

    async def _record_failure(
        self, prompt: Prompt, mode: ResponseFormat, started: float, session: EngineSession
    ) -> None:
        """A call that got no answer (timeout, lost connection): its latency is known,
        its tokens are not, so none are counted."""
        await session.record(
            LlmCall(
                purpose=prompt.purpose,
                model=self.model(prompt.stage),
                response_format=mode,
                prompt_tokens=0,
                completion_tokens=0,
                total_tokens=0,
                tokens_estimated=True,
                latency_ms=round((time.monotonic() - started) * 1000),
                outcome="failed",
                attempt=session.attempt,
                at=datetime.now(UTC),
            )
        )

    async def aclose(self) -> None:
        await self._client.close()


__all__ = ["LlmClient", "LlmError", "Prompt", "Stage"]
