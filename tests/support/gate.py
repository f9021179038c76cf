"""A planning engine that holds the pipeline at ``distill`` until the test releases it.

It wraps the real offline engine, so plans are real; it only makes timing deterministic
(for "while a job is running" tests) instead of relying on sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from models.context import Requirements, SourceContext
from models.plan import Plan
from server.llm.session import EngineSession
from server.runtime import PlanningEngine


class GatedEngine:
    def __init__(self, inner: PlanningEngine) -> None:
        self.inner = inner
        self.name = inner.name
        self.release = asyncio.Event()
        self.waiting = 0
        self.arrived = asyncio.Event()

    async def distill(
        self, context: SourceContext, session: EngineSession | None = None
    ) -> Requirements:
        self.waiting += 1
        self.arrived.set()
        await self.release.wait()
        return await self.inner.distill(context, session)

    async def draft_plan(
        self,
        context: SourceContext,
        requirements: Requirements,
        session: EngineSession | None = None,
    ) -> Plan:
        return await self.inner.draft_plan(context, requirements, session)


@contextmanager
def gated_engine(runtime: Any) -> Iterator[GatedEngine]:
    original = runtime.engine
    gate = GatedEngine(original)
    runtime.engine = gate
    try:
        yield gate
    finally:
        gate.release.set()
        runtime.engine = original
