"""Planning engines: turn a source context into requirements, then into a draft plan.

Engines are async so an LLM engine can implement the same interface; the offline engine
is pure CPU. Whatever an engine returns is a draft that ``verify_against_source`` checks.
"""

from __future__ import annotations

from typing import Protocol

from models.context import Requirements, SourceContext
from models.plan import Plan
from server.engines.offline import OfflineEngine
from server.settings import Settings


class PlanningEngine(Protocol):
    name: str

    async def distill(self, context: SourceContext) -> Requirements: ...

    async def draft_plan(self, context: SourceContext, requirements: Requirements) -> Plan: ...


def get_planning_engine(settings: Settings) -> PlanningEngine:
    if settings.llm_engine == "offline":
        return OfflineEngine()
    raise ValueError(f"unknown LLM_ENGINE {settings.llm_engine!r}; supported: 'offline'")


__all__ = ["PlanningEngine", "get_planning_engine"]
