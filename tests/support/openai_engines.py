"""The openai engines, built against the scripted model server (``openai_server``) and put
into the running API for one block: ``openai_engine`` for plan jobs, ``openai_feedback`` for
feedback jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from server.assembly import feedback_engine as get_feedback_engine
from server.assembly import planning_engine as get_planning_engine
from tests.support.feedback_gate import feedback_engine
from tests.support.openai_server import planning_engine


@asynccontextmanager
async def openai_feedback(api, model_server, **settings: Any) -> AsyncIterator[Any]:
    engine = get_feedback_engine(model_server.settings(**settings))
    with feedback_engine(api.runtime, engine):
        yield engine
    await engine.aclose()


@asynccontextmanager
async def openai_engine(api, model_server, **settings: Any) -> AsyncIterator[Any]:
    engine = get_planning_engine(model_server.settings(**settings))
    with planning_engine(api.runtime, engine):
        yield engine
    await engine.aclose()
