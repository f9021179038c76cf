"""Feedback engines for timing and failure tests.

``GatedFeedbackEngine`` wraps the real offline engine and holds a job in
``generate_feedback`` until the test releases it, so "while a feedback job runs" tests do
not depend on timing. ``FailingFeedbackEngine`` stands in for an engine whose upstream is
down (an LLM endpoint), which nothing real in the test setup can be made to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from models.feedback import Feedback
from models.feedback_request import FeedbackRequest
from server.kernel.errors import UpstreamError
from server.llm.session import EngineSession
from server.runtime import FeedbackEngine


class GatedFeedbackEngine:
    def __init__(self, inner: FeedbackEngine) -> None:
        self.inner = inner
        self.name = inner.name
        self.release = asyncio.Event()
        self.arrived = asyncio.Event()

    async def review(
        self, request: FeedbackRequest, session: EngineSession | None = None
    ) -> Feedback:
        self.arrived.set()
        await self.release.wait()
        return await self.inner.review(request, session)


class FailingFeedbackEngine:
    name = "failing"

    async def review(
        self, request: FeedbackRequest, session: EngineSession | None = None
    ) -> Feedback:
        raise UpstreamError("The model endpoint is unavailable", code="llm_unavailable")


@contextmanager
def feedback_engine(runtime: Any, engine: FeedbackEngine) -> Iterator[None]:
    original = runtime.feedback_engine
    runtime.feedback_engine = engine
    try:
        yield
    finally:
        runtime.feedback_engine = original


@contextmanager
def gated_feedback_engine(runtime: Any) -> Iterator[GatedFeedbackEngine]:
    gate = GatedFeedbackEngine(runtime.feedback_engine)
    with feedback_engine(runtime, gate):
        try:
            yield gate
        finally:
            gate.release.set()
