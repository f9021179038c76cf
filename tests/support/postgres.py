"""Throwaway PostgreSQL databases for tests, migrated with aerich like production."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def require_postgres(url: str) -> None:
    """Skip (on a laptop) or fail (in CI) when PostgreSQL is not reachable."""
    try:
        connection = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL is not reachable at {urlsplit(url).netloc}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI needs it)")
        pytest.skip(reason)
    await connection.close()


async def apply_migrations(url: str) -> None:
    """``canvas-workspace migrate`` in a subprocess, exactly as an operator runs it."""
    env = {**os.environ, "DATABASE_URL": url}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", "migrate"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"canvas-workspace migrate failed:\n{result.stdout}\n{result.stderr}")


@asynccontextmanager
async def temporary_postgres_database(base_url: str, *, migrate: bool) -> AsyncIterator[str]:
    await require_postgres(base_url)
    name = f"cw_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(base_url, name)
    try:
        if migrate:
            await apply_migrations(url)
        yield url
    finally:
        admin = await asyncpg.connect(base_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
