"""How the service connects to its database."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from server.kernel.db import checkpoint, tortoise_config
from server.kernel.settings import Settings


def _credentials(settings: Settings) -> dict[str, object]:
    return tortoise_config(settings)["connections"]["default"]["credentials"]


def test_embedded_sqlite_commits_without_a_sync_each_and_an_operator_may_ask_for_one(
    tmp_path: Path,
) -> None:
    embedded = _credentials(Settings(data_dir=tmp_path))
    assert embedded["journal_mode"] == "WAL"
    assert embedded["synchronous"] == "NORMAL"
    asked = Settings(data_dir=tmp_path, database_url=f"sqlite://{tmp_path}/x.db?synchronous=FULL")
    assert _credentials(asked)["synchronous"] == "FULL"


def test_embedded_commits_never_checkpoint_and_the_background_checkpoint_does(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    credentials = _credentials(settings)
    assert credentials["wal_autocheckpoint"] == 0
    path = str(tmp_path / "events.db")
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute(f"PRAGMA wal_autocheckpoint={credentials['wal_autocheckpoint']}")
        writer.execute("CREATE TABLE events (payload TEXT)")
        for _ in range(1500):  # more pages than SQLite's automatic checkpoint waits for
            writer.execute("INSERT INTO events VALUES (?)", ("x" * 3000,))
        busy, logged, copied = checkpoint(path)
        # Nothing was copied before: every frame the log holds was still to copy.
        assert (busy, copied) == (0, logged) and logged > 1000
        assert checkpoint(path)[2] == logged  # nothing new since
