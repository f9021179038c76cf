"""The README's settings table names every setting the service reads, so an operator never
meets an undocumented one."""

from __future__ import annotations

import re
from pathlib import Path

from server.kernel.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_settings_table():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Settings") : text.index("\n## ", text.index("## Settings") + 1)]
    documented = {name.lower() for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", section)}
    missing = sorted(name.upper() for name in Settings.model_fields if name not in documented)
    assert not missing, f"settings missing from the README's table: {missing}"
