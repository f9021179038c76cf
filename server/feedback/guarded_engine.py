"""The model feedback engine, with the offline one standing in when the model fails.

When the model's answer stays unusable after the client's retries (invalid output, a
refusal, a cut-off or filtered answer, a timeout, an unreachable or failing or rate
limiting endpoint), the student gets the offline engine's feedback: ``generated_by``
says ``offline`` and why (``fallback``), its first notice says so in the feedback's
language, and the job gets a warning. ``LLM_FALLBACK=none`` fails the job instead; a
configuration error fails it either way (``server/llm/fallback.py``). The pipeline
verifies the offline feedback as any other, so a "forbidden" AI rule still keeps
suggested wording out of it.
"""

from __future__ import annotations

from models.feedback import Feedback
from models.feedback_request import FeedbackRequest
from server.feedback.offline_engine import OfflineFeedbackEngine
from server.feedback.openai_engine import OpenAIFeedbackEngine
from server.feedback.wording import wording_for
from server.llm.client import LlmError
from server.llm.fallback import FALLBACK_WARNING, FallbackMode, fallback_reason
from server.llm.session import EngineSession


class GuardedFeedbackEngine:
    """The openai engine with the offline engine behind it (see the module docstring)."""

    name = "openai"

    def __init__(
        self, model: OpenAIFeedbackEngine, rules: OfflineFeedbackEngine, fallback: FallbackMode
    ) -> None:
        self.model = model
        self.rules = rules
        self.fallback = fallback

    async def review(
        self, request: FeedbackRequest, session: EngineSession | None = None
    ) -> Feedback:
        session = session or EngineSession()
        try:
            return await self.model.review(request, session)
        except LlmError as error:
            reason = fallback_reason(error, self.fallback)
        feedback = await self.rules.review(request, session)
        message = wording_for(request.plan.language).say("fallback", reason=reason)
        await session.warn(FALLBACK_WARNING, message)
        return feedback.model_copy(
            update={
                "notices": [message, *feedback.notices],
                "generated_by": feedback.generated_by.model_copy(
                    update={"model": self.model.llm.model("feedback"), "fallback": reason}
                ),
            }
        )

    async def aclose(self) -> None:
        await self.model.aclose()


__all__ = ["GuardedFeedbackEngine"]
