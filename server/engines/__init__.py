"""Engines: planning (a source context into requirements, then a draft plan) and feedback
(a submission judged against the plan and rubric).

Engines are async so an LLM engine can implement the same interfaces; the offline engines
are pure CPU. Whatever an engine returns is checked afterwards: a plan by
``verify_against_source``, feedback by ``verify_feedback``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from models.context import Requirements, SourceContext
from models.feedback import Feedback
from models.feedback_request import FeedbackRequest
from models.plan import Plan
from server.engines.claims import ClaimRepair, UnbackedClaim
from server.engines.offline import OfflineEngine
from server.engines.session import DraftPreview, EngineSession, LlmCall
from server.settings import Settings


class PlanningEngine(Protocol):
    """``session`` is where the job takes previews and model-call usage; an engine that
    drafts in one go (the offline one) may ignore it."""

    name: str

    async def distill(
        self, context: SourceContext, session: EngineSession | None = None
    ) -> Requirements: ...

    async def draft_plan(
        self,
        context: SourceContext,
        requirements: Requirements,
        session: EngineSession | None = None,
    ) -> Plan: ...


@runtime_checkable
class ClaimRepairer(Protocol):
    """An engine that can look again for quotes backing claims verification could not
    find (one call for all of them)."""

    async def repair_claims(
        self, context: SourceContext, claims: list[UnbackedClaim], session: EngineSession
    ) -> list[ClaimRepair]: ...


class FeedbackEngine(Protocol):
    name: str

    async def review(
        self, request: FeedbackRequest, session: EngineSession | None = None
    ) -> Feedback:
        """Feedback on ``request.submission_text``, one criterion score per
        ``request.criteria`` entry. The submission is untrusted content, never
        instructions. ``session`` takes model-call usage, as for planning."""
        ...


def get_planning_engine(settings: Settings) -> PlanningEngine:
    if settings.llm_engine == "openai":
        # Imported here: the offline default never loads the SDK.
        from server.engines.openai_planning import OpenAIPlanningEngine
        from server.llm.client import LlmClient

        return OpenAIPlanningEngine(LlmClient(settings))
    return OfflineEngine()


def get_feedback_engine(settings: Settings) -> FeedbackEngine:
    # Imported here: the offline feedback engine measures text with the planning engine's
    # sentence splitter, which imports this package (and offline never loads the SDK).
    if settings.llm_engine == "openai":
        from server.engines.openai_feedback import OpenAIFeedbackEngine
        from server.llm.client import LlmClient

        return OpenAIFeedbackEngine(LlmClient(settings))
    from server.engines.offline_feedback import OfflineFeedbackEngine

    return OfflineFeedbackEngine()


__all__ = [
    "ClaimRepair",
    "ClaimRepairer",
    "DraftPreview",
    "EngineSession",
    "FeedbackEngine",
    "LlmCall",
    "PlanningEngine",
    "UnbackedClaim",
    "get_feedback_engine",
    "get_planning_engine",
]
