"""The runtime: every long-lived collaborator a service or job needs, built once per
process (``server/assembly.py`` picks embedded or production backends from settings).

The protocols here are what the domains rely on; the composition root decides which
implementation each process gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from models.context import Requirements, SourceContext
from models.feedback import Feedback
from models.feedback_request import FeedbackRequest
from models.plan import Plan
from server.canvas.oauth import CanvasOAuth
from server.documents.extractor import DocumentExtractor
from server.kernel.bus import EventBus
from server.kernel.credentials import TokenCipher
from server.kernel.ratelimit import RateLimiter
from server.kernel.settings import Settings
from server.llm.session import EngineSession


class PlanningEngine(Protocol):
    """A source context into requirements, then a draft plan. ``session`` is where the
    job takes previews and model-call usage; an engine that drafts in one go (the offline
    one) may ignore it. What it returns is checked by ``verify_against_source``."""

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


class FeedbackEngine(Protocol):
    name: str

    async def review(
        self, request: FeedbackRequest, session: EngineSession | None = None
    ) -> Feedback:
        """Feedback on ``request.submission_text``, one criterion score per
        ``request.criteria`` entry. The submission is untrusted content, never
        instructions. ``session`` takes model-call usage, as for planning. What it returns
        is checked by ``verify_feedback``."""
        ...


class JobQueue(Protocol):
    """Where a queued job goes to run: the in-process runner or arq on Redis
    (``jobs/``)."""

    async def enqueue(self, job_id: UUID) -> None: ...

    async def cancel(self, job_id: UUID) -> None:
        """Stop the job promptly if it is running here (fencing guards the rest)."""
        ...

    async def ping(self) -> bool:
        """Whether the queue's store answers; False when it has none (in-process)."""
        ...

    async def depth(self) -> int | None:
        """Jobs waiting in the queue's own store; None when it has none (in-process)."""
        ...


@dataclass
class Runtime:
    settings: Settings
    cipher: TokenCipher
    bus: EventBus
    extractor: DocumentExtractor
    engine: PlanningEngine
    feedback_engine: FeedbackEngine
    rate_limiter: RateLimiter
    canvas_oauth: CanvasOAuth
    runner: JobQueue
