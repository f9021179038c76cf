"""What an operator asks a process: is it ready to serve, and how many jobs are waiting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aerich.models import Aerich
from pydantic import BaseModel
from tortoise import connections
from tortoise.exceptions import OperationalError

from models.db import JobStatus, ProcessingJob
from server.kernel.db import MIGRATIONS_DIR
from server.kernel.errors import ServiceUnavailable
from server.kernel.metrics import QUEUE_DEPTH
from server.kernel.queries import column_values
from server.runtime import Runtime

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0
OK = "ok"
AERICH_APP = "models"  # the Tortoise app aerich migrates (migrations/models/)


class Readiness(BaseModel):
    """Each check is ``ok``, ``not configured`` / ``not applicable``, or what is wrong."""

    status: str
    checks: dict[str, str]


async def _database() -> str:
    await connections.get("default").execute_query("SELECT 1")
    return OK


async def _redis(rt: Runtime) -> str:
    if not rt.settings.redis_url:
        return "not configured"
    return OK if await rt.runner.ping() else "no answer"


def expected_migrations() -> list[str]:
    return sorted(path.name for path in (MIGRATIONS_DIR / AERICH_APP).glob("[0-9]*_*.py"))


async def _migrations(rt: Runtime) -> str:
    if rt.settings.uses_sqlite:
        return "not applicable: SQLite is created from the models"
    try:
        applied = set(await column_values(Aerich.filter(app=AERICH_APP), "version"))
    except OperationalError:
        return "not applied: run canvas-workspace migrate"
    pending = [name for name in expected_migrations() if name not in applied]
    if pending:
        return f"{len(pending)} pending ({', '.join(pending)}): run canvas-workspace migrate"
    return OK


async def _checked(check: Callable[[], Awaitable[str]]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await check()
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # any failure means "not ready"; the type says which
        return f"unreachable ({type(exc).__name__})"


async def check_readiness(rt: Runtime) -> Readiness:
    """Database reachable, Redis reachable when configured, migrations applied (on
    PostgreSQL); :class:`ServiceUnavailable` (503) with every check's result otherwise."""
    checks = {
        "database": await _checked(_database),
        "redis": await _checked(lambda: _redis(rt)),
    }
    if checks["database"] == OK:
        checks["migrations"] = await _checked(lambda: _migrations(rt))
    else:
        checks["migrations"] = "unknown: the database is unreachable"
    failing = {name: result for name, result in checks.items() if not _passes(result)}
    if failing:
        raise ServiceUnavailable(
            "Not ready: " + "; ".join(f"{name} {result}" for name, result in failing.items()),
            code="not_ready",
            details={"checks": checks},
            headers={"Retry-After": "5"},
        )
    return Readiness(status="ready", checks=checks)


async def wait_until_ready(rt: Runtime, retry_seconds: float = 1.0) -> Readiness:
    """Check readiness until it passes: a process that started while the database or
    Redis was away becomes ready by itself when they return."""
    while True:
        try:
            return await check_readiness(rt)
        except ServiceUnavailable as exc:
            logger.warning("%s; checking again in %g s", exc.message, retry_seconds)
        await asyncio.sleep(retry_seconds)


def _passes(result: str) -> bool:
    return result == OK or result.startswith(("not configured", "not applicable"))


async def refresh_queue_depth(rt: Runtime) -> None:
    """Set the queue-depth gauge: the arq queue's length with Redis, queued jobs in the
    database otherwise. Unknown (no sample) while that store is unreachable."""
    QUEUE_DEPTH.clear()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            depth = await rt.runner.depth()
            if depth is not None:
                QUEUE_DEPTH.labels("arq").set(depth)
            else:
                queued = await ProcessingJob.filter(status=JobStatus.QUEUED).count()
                QUEUE_DEPTH.labels("database").set(queued)
    except Exception as exc:  # metrics must still be served while a store is away
        logger.warning("could not read the queue depth: %s", type(exc).__name__)
