"""The offline planning engine: deterministic rules and templates, no network, no model.

It is honest about what it is (``generated_by.heuristic``). Requirements are sentences of
the instructions picked out by keyword and number patterns and quoted word for word; the
plan is a template for the kind of assignment (essay, lab report, presentation, short
response, anything else), filled in with those requirements, the rubric and a schedule
worked back from the Canvas due date. Same input, same output: "now" is the moment the
context was fetched.
"""

from __future__ import annotations

import asyncio

from models.context import Requirements, SourceContext
from models.plan import Plan
from server.llm.session import EngineSession
from server.planning.offline.assembly import draft_plan
from server.planning.offline.distill import distill_requirements


class OfflineEngine:
    """Rule-based engine: no network, no model, same output for the same input."""

    name = "offline"

    # The rules are CPU work on possibly long documents: they run in a worker thread so the
    # server's event loop keeps serving. They are pure functions of their input, so the
    # result is the same wherever they run.
    async def distill(
        self, context: SourceContext, session: EngineSession | None = None
    ) -> Requirements:
        return await asyncio.to_thread(distill_requirements, context)

    async def draft_plan(
        self,
        context: SourceContext,
        requirements: Requirements,
        session: EngineSession | None = None,
    ) -> Plan:
        return await asyncio.to_thread(draft_plan, context, requirements)
