"""The FastAPI application: settings, database, runtime and routers put together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from tortoise import Tortoise
from tortoise.contrib.fastapi import RegisterTortoise

from graphql_api.router import SubscriptionSockets, graphql_router, install_graphql
from jobs.execute import serving_jobs
from models.feedback import Feedback
from models.plan import Plan
from rest import (
    agenda,
    assignments,
    auth,
    calendar,
    canvas_oauth,
    feedback,
    me,
    operations,
    tracking,
)
from rest.availability import AvailabilityGate
from rest.errors import install_error_handlers
from rest.hot_reads import HotReads
from rest.observability import REQUEST_ID_HEADER, ObservabilityMiddleware
from rest.openapi import install_openapi
from server.assembly import build_runtime
from server.kernel.bus import open_event_bus
from server.kernel.db import sqlite_checkpoints, tortoise_config
from server.kernel.heap import freeze_startup_objects
from server.kernel.settings import Settings, get_settings
from server.operations.service import wait_until_ready
from server.runtime import Runtime

logger = logging.getLogger(__name__)

READY_AT_START_SECONDS = 1.0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Starts whether or not PostgreSQL and Redis answer (connections are made on first
    use); requests other than the operator routes wait behind the availability gate
    until the first readiness check passes."""
    settings: Settings = app.state.settings
    async with RegisterTortoise(app, config=tortoise_config(settings)):
        if settings.uses_sqlite:
            # SQLite is created from the models; PostgreSQL is migrated with aerich.
            await Tortoise.generate_schemas(safe=True)
        async with (
            sqlite_checkpoints(settings),
            open_event_bus(settings) as bus,
            serving_jobs(settings, partial(build_runtime, settings, bus)) as runtime,
        ):
            app.state.runtime = runtime
            opening = asyncio.create_task(_serve_when_ready(app, runtime), name="readiness")
            # Usually ready at once: then the first requests find the gate open.
            await asyncio.wait({opening}, timeout=READY_AT_START_SECONDS)
            freeze_startup_objects()
            try:
                yield
            finally:
                opening.cancel()
                await asyncio.gather(opening, return_exceptions=True)


async def _serve_when_ready(app: FastAPI, runtime: Runtime) -> None:
    await wait_until_ready(runtime)
    app.state.serving = True
    logger.info("ready: serving every route")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Canvas Workspace",
        version="0.1.0",
        summary="Turns Canvas assignments into verified plans, with live progress over SSE.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.serving = False  # until the first readiness check passes (rest/availability.py)
    graphql = graphql_router(settings)
    # Innermost of ours: the GraphQL websockets served before the routes are gated, and
    # the hot reads answered before them gated, CORS-checked and logged too.
    app.add_middleware(SubscriptionSockets, router=graphql)
    app.add_middleware(HotReads)
    app.add_middleware(AvailabilityGate)
    # Browsers on ALLOWED_ORIGINS only (the extension, a dashboard); bearer tokens, never
    # cookies, so no credentials mode. Inside the observability middleware, so preflight
    # answers carry a request id and are counted too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Last-Event-ID",
            "Idempotency-Key",
            "If-None-Match",
            REQUEST_ID_HEADER,
        ],
        expose_headers=["ETag", "Retry-After", REQUEST_ID_HEADER],
        max_age=600,
    )
    app.add_middleware(ObservabilityMiddleware)
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(operations.router)
    app.include_router(auth.router)
    app.include_router(canvas_oauth.router)
    app.include_router(assignments.collection_router)
    app.include_router(assignments.router)
    app.include_router(feedback.router)
    app.include_router(tracking.router)
    app.include_router(me.router)
    app.include_router(calendar.router)
    app.include_router(agenda.router)
    install_graphql(app, graphql)

    @app.get("/schemas/plan.json", tags=["schemas"])
    async def plan_schema() -> dict[str, Any]:
        """The JSON Schema of the Plan JSON returned by ``GET .../plan``."""
        return Plan.model_json_schema()

    @app.get("/schemas/feedback.json", tags=["schemas"])
    async def feedback_schema() -> dict[str, Any]:
        """The JSON Schema of the Feedback JSON in ``GET .../feedback/jobs/{job_id}``."""
        return Feedback.model_json_schema()

    return app
