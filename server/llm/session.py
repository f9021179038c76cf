"""What one job lends an engine while it works: where previews of a draft go, and where
each model call is recorded (and counted against the job's token budget).

The offline engines need neither; an LLM engine reports a draft as the model writes it
and every call it makes, so the job can show progress and account for cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from server.kernel.metrics import record_llm_call

CallOutcome = Literal["ok", "invalid_output", "refused", "content_filtered", "truncated", "failed"]


class LlmCall(BaseModel):
    """One model call, as stored in ``processing_jobs.llm_usage``."""

    purpose: str  # "plan", "distill", "draft", "verify", "feedback"; "+repair" on a re-ask
    model: str
    response_format: Literal["json_schema", "json_object"]
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int | None = None
    # The server did not report usage, so the counts are estimated from the text length.
    tokens_estimated: bool = False
    latency_ms: int
    outcome: CallOutcome
    attempt: int = 1
    at: datetime


@dataclass(frozen=True)
class DraftPreview:
    """What a draft shows so far: its summary and the milestones written completely."""

    draft_summary: str | None
    milestone_preview: list[dict[str, Any]]


@dataclass
class EngineSession:
    on_preview: Callable[[DraftPreview], Awaitable[None]] | None = None
    on_llm_call: Callable[[LlmCall], Awaitable[None]] | None = None
    on_warning: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    attempt: int = 1
    llm_calls: list[LlmCall] = field(default_factory=list)

    @property
    def tokens_used(self) -> int:
        return sum(call.total_tokens for call in self.llm_calls)

    async def record(self, call: LlmCall) -> None:
        self.llm_calls.append(call)
        record_llm_call(
            call.model,
            outcome=call.outcome,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
        )
        if self.on_llm_call is not None:
            await self.on_llm_call(call)

    async def preview(self, preview: DraftPreview) -> None:
        if self.on_preview is not None:
            await self.on_preview(preview)

    async def warn(self, code: str, message: str) -> None:
        """Something the student should know about how the plan was made."""
        if self.on_warning is not None:
            await self.on_warning({"code": code, "message": message})


def usage_totals(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """A job's model calls summed up, for its result."""
    return {
        "calls": len(calls),
        "prompt_tokens": sum(call["prompt_tokens"] for call in calls),
        "completion_tokens": sum(call["completion_tokens"] for call in calls),
        "total_tokens": sum(call["total_tokens"] for call in calls),
        "latency_ms": sum(call["latency_ms"] for call in calls),
        "models": sorted({call["model"] for call in calls}),
        "tokens_estimated": any(call.get("tokens_estimated") for call in calls),
    }


__all__ = ["CallOutcome", "DraftPreview", "EngineSession", "LlmCall", "usage_totals"]
