"""The runtime: every long-lived collaborator a service or job needs, built once per
process from settings (embedded or production backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from server.canvas.oauth import CanvasOAuth
from server.credentials import TokenCipher
from server.documents import DocumentExtractor, ExtractionLimits
from server.engines import (
    FeedbackEngine,
    PlanningEngine,
    get_feedback_engine,
    get_planning_engine,
)
from server.events import EventBus, LocalEventBus, RedisEventBus
from server.ratelimit import RateLimiter
from server.settings import Settings

if TYPE_CHECKING:
    from jobs.runner import JobRunner


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
    # Set by ``jobs.dispatch.job_runner`` or the arq worker: the runner needs the runtime.
    runner: JobRunner = field(init=False)


@asynccontextmanager
async def open_event_bus(settings: Settings) -> AsyncIterator[EventBus]:
    """Redis pub/sub wake-ups when ``REDIS_URL`` is set, in-process ones otherwise."""
    if not settings.redis_url:
        bus = LocalEventBus()
        yield bus
        await bus.close()
        return
    redis = Redis.from_url(settings.redis_url)
    redis_bus = RedisEventBus(redis)
    await redis_bus.start()
    try:
        yield redis_bus
    finally:
        await redis_bus.close()
        await redis.aclose()


def build_runtime(settings: Settings, bus: EventBus) -> Runtime:
    cipher = TokenCipher(settings.credential_key_list())
    return Runtime(
        settings=settings,
        cipher=cipher,
        bus=bus,
        extractor=DocumentExtractor(
            ExtractionLimits.from_settings(settings),
            settings.extraction_cache_entries,
            workers=settings.attachment_extraction_workers,
        ),
        engine=get_planning_engine(settings),
        feedback_engine=get_feedback_engine(settings),
        rate_limiter=RateLimiter(
            enabled=settings.rate_limit_enabled,
            per_minute={
                "onboarding": settings.rate_limit_onboarding_per_minute,
                "start": settings.rate_limit_start_per_minute,
                "feedback": settings.rate_limit_feedback_per_minute,
            },
        ),
        canvas_oauth=CanvasOAuth.from_settings(settings, cipher.decrypt),
    )
