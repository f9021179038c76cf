"""Tortoise configuration, import-light because aerich imports ``TORTOISE_ORM``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from tortoise import connections

from server.kernel.settings import Settings

logger = logging.getLogger(__name__)

MODEL_MODULES = ["models.db"]
RETRY_SECONDS = 1.0
# Beside the packages in a checkout; in the working directory for a non-editable install
# (the container image copies them to /app/migrations).
_CHECKOUT_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
MIGRATIONS_DIR = _CHECKOUT_MIGRATIONS if _CHECKOUT_MIGRATIONS.is_dir() else Path("migrations")


def tortoise_config(settings: Settings) -> dict[str, Any]:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": settings.effective_database_url},
        "apps": {
            "models": {
                "models": [*MODEL_MODULES, "aerich.models"],
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def check_database() -> None:
    """Tortoise connects lazily: fail at startup, not on the first request."""
    await connections.get("default").execute_query("SELECT 1")


async def wait_for_database() -> None:
    """:func:`check_database` until the database answers: a process started during an
    outage waits for it (logging why) instead of exiting."""
    while True:
        try:
            await check_database()
            return
        except Exception as exc:  # refused, unknown host, not accepting connections yet...
            logger.warning("database unreachable (%s); waiting for it", type(exc).__name__)
        await asyncio.sleep(RETRY_SECONDS)


async def apply_migrations(settings: Settings) -> list[str]:
    """``aerich upgrade``: apply the migrations the database has not seen yet."""
    from aerich import Command

    command = Command(tortoise_config(settings), app="models", location=str(MIGRATIONS_DIR))
    await command.init()
    try:
        return list(await command.upgrade(run_in_transaction=True))
    finally:
        await command.close()


def __getattr__(name: str) -> Any:
    # aerich reads ``server.kernel.db.TORTOISE_ORM`` (see [tool.tortoise] in pyproject.toml);
    # built on access so importing this module has no side effects.
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings())
    raise AttributeError(name)
