"""Tortoise configuration, import-light because aerich imports ``TORTOISE_ORM``."""

from __future__ import annotations

from typing import Any

from server.settings import Settings

MODEL_MODULES = ["models.db"]


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


def __getattr__(name: str) -> Any:
    # aerich reads ``server.db.TORTOISE_ORM`` (see [tool.tortoise] in pyproject.toml); built on
    # access so importing this module has no side effects.
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings())
    raise AttributeError(name)
