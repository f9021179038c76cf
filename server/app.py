"""The FastAPI application: settings, database, runtime and routers put together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from tortoise import Tortoise
from tortoise.contrib.fastapi import RegisterTortoise

from graphql_api.router import install_graphql
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
from rest.errors import install_error_handlers
from rest.observability import ObservabilityMiddleware
from rest.openapi import install_openapi
from server.assembly import build_runtime
from server.kernel.bus import open_event_bus
from server.kernel.db import check_database, tortoise_config
from server.kernel.settings import Settings, get_settings


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    embedded_db = settings.database_url is None or settings.database_url.startswith("sqlite")
    async with RegisterTortoise(app, config=tortoise_config(settings)):
        await check_database()
        if embedded_db:
            # SQLite is created from the models; PostgreSQL is migrated with aerich.
            await Tortoise.generate_schemas(safe=True)
        async with (
            open_event_bus(settings) as bus,
            serving_jobs(settings, partial(build_runtime, settings, bus)) as runtime,
        ):
            app.state.runtime = runtime
            yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Canvas Workspace",
        version="0.1.0",
        summary="Turns Canvas assignments into verified plans, with live progress over SSE.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
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
    install_graphql(app, settings)

    @app.get("/schemas/plan.json", tags=["schemas"])
    async def plan_schema() -> dict[str, Any]:
        """The JSON Schema of the Plan JSON returned by ``GET .../plan``."""
        return Plan.model_json_schema()

    @app.get("/schemas/feedback.json", tags=["schemas"])
    async def feedback_schema() -> dict[str, Any]:
        """The JSON Schema of the Feedback JSON in ``GET .../feedback/jobs/{job_id}``."""
        return Feedback.model_json_schema()

    return app
