"""Building a process's :class:`~server.runtime.Runtime` from settings: the engines the
settings ask for, the extractor, the rate limiter and the Canvas OAuth client."""

from __future__ import annotations

from server.canvas.client import shared_tls_context
from server.canvas.oauth import CanvasOAuth
from server.documents.extractor import DocumentExtractor
from server.documents.limits import ExtractionLimits
from server.feedback.offline_engine import OfflineFeedbackEngine
from server.kernel.bus import EventBus
from server.kernel.credentials import TokenCipher
from server.kernel.ratelimit import RateLimiter, rate_limit_storage
from server.kernel.settings import Settings
from server.planning.offline import OfflineEngine
from server.runtime import FeedbackEngine, JobQueue, PlanningEngine, Runtime


def planning_engine(settings: Settings) -> PlanningEngine:
    if settings.llm_engine == "openai":
        # Imported here: the offline default never loads the SDK.
        from server.llm.client import LlmClient
        from server.planning.guarded_engine import GuardedPlanningEngine
        from server.planning.openai_engine import OpenAIPlanningEngine

        model = OpenAIPlanningEngine(LlmClient(settings))
        return GuardedPlanningEngine(model, OfflineEngine(), settings.llm_fallback)
    return OfflineEngine()


def feedback_engine(settings: Settings) -> FeedbackEngine:
    if settings.llm_engine == "openai":
        from server.feedback.guarded_engine import GuardedFeedbackEngine
        from server.feedback.openai_engine import OpenAIFeedbackEngine
        from server.llm.client import LlmClient

        model = OpenAIFeedbackEngine(LlmClient(settings))
        return GuardedFeedbackEngine(model, OfflineFeedbackEngine(), settings.llm_fallback)
    return OfflineFeedbackEngine()


def build_runtime(settings: Settings, bus: EventBus, runner: JobQueue) -> Runtime:
    cipher = TokenCipher(settings.credential_key_list())
    # Canvas clients share one TLS context: built here, at startup, not in the first job
    # (reading the CA bundle holds the event loop some 30 ms).
    shared_tls_context()
    return Runtime(
        settings=settings,
        cipher=cipher,
        bus=bus,
        extractor=DocumentExtractor(
            ExtractionLimits.from_settings(settings),
            settings.extraction_cache_entries,
            workers=settings.attachment_extraction_workers,
        ),
        engine=planning_engine(settings),
        feedback_engine=feedback_engine(settings),
        rate_limiter=RateLimiter(
            enabled=settings.rate_limit_enabled,
            per_minute={
                "onboarding": settings.rate_limit_onboarding_per_minute,
                "start": settings.rate_limit_start_per_minute,
                "feedback": settings.rate_limit_feedback_per_minute,
            },
            storage=rate_limit_storage(settings.redis_url),
        ),
        canvas_oauth=CanvasOAuth.from_settings(settings, cipher.decrypt),
        runner=runner,
    )
