"""What planning says around any engine's plan, as data: ``wording/<language>.yaml`` (the
verification report, the schedule's note, the model engine's fallback), in the plan's
language, English when there is no file for it (``server/text/wording.py``).
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from server.text.wording import WordingFolder


def _folder() -> Traversable:
    return resources.files("server.planning") / "wording"


PLANNING_WORDING = WordingFolder(_folder)

__all__ = ["PLANNING_WORDING"]
