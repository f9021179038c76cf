"""Tortoise configuration, import-light because aerich imports ``TORTOISE_ORM``."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url

from server.kernel.settings import Settings

logger = logging.getLogger(__name__)

MODEL_MODULES = ["models.db"]
RETRY_SECONDS = 1.0
# Embedded SQLite: how often the write-ahead log is copied into the database file.
CHECKPOINT_SECONDS = 1.0
ASYNCPG_ENGINE = "tortoise.backends.asyncpg"
# Beside the packages in a checkout; in the working directory for a non-editable install
# (the container image copies them to /app/migrations).
_CHECKOUT_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
MIGRATIONS_DIR = _CHECKOUT_MIGRATIONS if _CHECKOUT_MIGRATIONS.is_dir() else Path("migrations")


class SessionlessConnection(asyncpg.Connection):
    """A pooled PostgreSQL connection that goes back to the pool without asyncpg's reset
    statement (advisory unlocks, ``CLOSE ALL``, ``UNLISTEN *``, ``RESET ALL``): a round
    trip on every release, as costly as a short read itself. The service keeps no session
    state on a connection (no ``SET``, ``LISTEN``, advisory lock or cursor outside a
    transaction); asyncpg still rolls back a transaction left open."""

    def get_reset_query(self) -> str:
        return ""


def _connection(settings: Settings) -> str | dict[str, Any]:
    config: dict[str, Any] = expand_db_url(settings.effective_database_url)
    if settings.uses_sqlite:
        # In WAL mode, NORMAL syncs at checkpoints, not at every commit: a commit survives
        # the process crashing, and only a power cut may take the last ones back (each
        # commit's fsync cost 0.5 ms, 3 ms at p99, inside every event's delivery). A
        # ``?synchronous=`` in DATABASE_URL wins.
        config["credentials"].setdefault("synchronous", "NORMAL")
        # No commit checkpoints the write-ahead log: the automatic one (at 1,000 pages)
        # copied pages and synced the file inside the commit that crossed it, 5-7 ms in
        # one event's delivery in a hundred. ``sqlite_checkpoints`` does it meanwhile.
        config["credentials"].setdefault("wal_autocheckpoint", 0)
        return config
    if config["engine"] == ASYNCPG_ENGINE:
        # Tortoise's asyncpg engine hands it to asyncpg's pool.
        config["credentials"]["connection_class"] = SessionlessConnection
    return config


def tortoise_config(settings: Settings) -> dict[str, Any]:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": _connection(settings)},
        "apps": {
            "models": {
                "models": [*MODEL_MODULES, "aerich.models"],
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _sqlite_file(settings: Settings) -> str | None:
    if not settings.uses_sqlite:
        return None
    path = str(expand_db_url(settings.effective_database_url)["credentials"]["file_path"])
    return None if path == ":memory:" else path


def checkpoint(path: str) -> tuple[int, int, int]:
    """Copy what the write-ahead log holds into the database file, on a connection of its
    own and without waiting for readers or writers (``PASSIVE``): (busy, frames in the
    log, frames copied)."""
    with closing(sqlite3.connect(path)) as connection:
        busy, logged, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(logged), int(copied)


async def _checkpoint_forever(path: str) -> None:
    while True:
        await asyncio.sleep(CHECKPOINT_SECONDS)
        try:
            await asyncio.to_thread(checkpoint, path)
        except sqlite3.Error as exc:  # the next one catches up
            logger.warning("SQLite checkpoint failed: %s", exc)


@asynccontextmanager
async def sqlite_checkpoints(settings: Settings) -> AsyncIterator[None]:
    """With an embedded SQLite database, checkpoint its write-ahead log every
    ``CHECKPOINT_SECONDS`` in the background (commits do not); nothing otherwise."""
    path = _sqlite_file(settings)
    if path is None:
        yield
        return
    task = asyncio.create_task(_checkpoint_forever(path), name="sqlite-checkpoints")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


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
