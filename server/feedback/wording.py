"""What the offline feedback engine says, as data: ``wording/<language>.yaml`` (checked
against English when first read, ``server/text/wording.py``). Feedback is written in its
plan's language (``plan.language``), English when there is no file for it.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from server.text.wording import WordingFolder


def _folder() -> Traversable:
    return resources.files("server.feedback") / "wording"


FEEDBACK_WORDING = WordingFolder(_folder)

__all__ = ["FEEDBACK_WORDING"]
