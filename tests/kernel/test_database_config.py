"""How the service connects to its database."""

from __future__ import annotations

from pathlib import Path

from server.kernel.db import tortoise_config
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
