"""When a model's answer stays unusable, an engine may stand the offline one's work in
for it (``LLM_FALLBACK``): which errors allow that, and the job warning that says so.

An unusable answer (invalid output, a refusal, a cut-off or filtered answer, a timeout,
an unreachable or failing or rate limiting endpoint) may be stood in for. A configuration
error (a rejected API key, an unknown model, a request the endpoint refuses, the job's
token budget) may not: falling back would hide it from the operator.
"""

from __future__ import annotations

from typing import Literal

from server.llm.client import LlmError

FallbackMode = Literal["offline", "none"]
UNUSABLE_ANSWER_CODES = frozenset(
    {
        "llm_invalid_output",
        "llm_refused",
        "llm_content_filtered",
        "llm_output_truncated",
        "llm_timeout",
        "llm_unavailable",
        "llm_rate_limited",
    }
)
FALLBACK_WARNING = "llm_fallback"


def fallback_reason(error: LlmError, mode: FallbackMode) -> str:
    """Why the offline engine's work stands in for the model's, or ``error`` raised again
    when it may not."""
    if mode == "none" or error.code not in UNUSABLE_ANSWER_CODES:
        raise error
    return f"{error.code}: {error.message}"


__all__ = ["FALLBACK_WARNING", "UNUSABLE_ANSWER_CODES", "FallbackMode", "fallback_reason"]
