"""The aerich migrations (PostgreSQL's source of truth) build exactly the models' schema."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from typing import Any

import asyncpg

from tests.support.postgres import REPO_ROOT, admin_url, temporary_postgres_database

GENERATE_SCHEMA = """
import asyncio, sys
from tortoise import Tortoise
from server.kernel.db import tortoise_config
from server.kernel.settings import Settings

async def main():
    await Tortoise.init(config=tortoise_config(Settings(_env_file=None, database_url=sys.argv[1])))
    await Tortoise.generate_schemas(safe=False)
    await Tortoise.close_connections()

asyncio.run(main())
"""


async def catalog(url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length "
            "FROM information_schema.columns WHERE table_schema = 'public'"
        )
        constraints = await connection.fetch(
            "SELECT conrelid::regclass::text AS table_name, contype, "
            "pg_get_constraintdef(oid) AS definition "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        )
        indexes = await connection.fetch(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
    finally:
        await connection.close()
    return {
        "columns": sorted(tuple(row.values()) for row in columns),
        "constraints": sorted(tuple(row.values()) for row in constraints),
        # Index names are generated; compare what they index.
        "indexes": sorted(
            (row["tablename"], re.sub(r"INDEX \S+ ON", "INDEX ON", row["indexdef"]))
            for row in indexes
        ),
    }


async def test_migrations_match_models() -> None:
    async with (
        temporary_postgres_database(admin_url(), migrate=True) as migrated,
        temporary_postgres_database(admin_url(), migrate=False) as generated,
    ):
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", GENERATE_SCHEMA, generated],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        from_migrations, from_models = await catalog(migrated), await catalog(generated)

    tables = {column[0] for column in from_migrations["columns"]}
    assert {"users", "assignment_workspaces", "processing_jobs", "workspace_events"} <= tables
    assert from_migrations["columns"] == from_models["columns"]
    assert from_migrations["constraints"] == from_models["constraints"]
    assert from_migrations["indexes"] == from_models["indexes"]
