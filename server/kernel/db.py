"""Tortoise configuration, import-light because aerich imports ``TORTOISE_ORM``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import connections

from server.kernel.settings import Settings

MODEL_MODULES = ["models.db"]
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
