"""The runtime: every long-lived collaborator a service or job needs, built once per
process from settings (embedded or production backends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.credentials import TokenCipher
from server.documents import DocumentExtractor, ExtractionLimits
from server.engines import PlanningEngine, get_planning_engine
from server.events import EventBus, LocalEventBus
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
    rate_limiter: RateLimiter
    # Set by ``jobs.setup.start_runner``: the runner needs the runtime to run jobs.
    runner: JobRunner = field(init=False)


def build_runtime(settings: Settings) -> Runtime:
    return Runtime(
        settings=settings,
        cipher=TokenCipher(settings.credential_key_list()),
        bus=LocalEventBus(),
        extractor=DocumentExtractor(
            ExtractionLimits.from_settings(settings), settings.extraction_cache_entries
        ),
        engine=get_planning_engine(settings),
        rate_limiter=RateLimiter(
            enabled=settings.rate_limit_enabled,
            per_minute={
                "onboarding": settings.rate_limit_onboarding_per_minute,
                "start": settings.rate_limit_start_per_minute,
                "feedback": settings.rate_limit_feedback_per_minute,
            },
        ),
    )
