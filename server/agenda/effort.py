"""How many minutes a task takes, from what the plan says.

Both engines fill ``estimated_minutes``; older plans and models that ignore the field have
only the free text ``estimated_effort`` ("~2 h", "45 min", "1-2 hours", "1 h 30 min",
"half an hour"). The text is read as the sum of its amounts, a range counting as its
midpoint. A task with neither gets the ``AGENDA_DEFAULT_TASK_MINUTES`` setting, and the
agenda warns, naming the task. Every task counts at least ``MIN_TASK_MINUTES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

# Even "submit it" takes a moment, and a task of no minutes would never get a day.
MIN_TASK_MINUTES = 5

EffortSource = Literal["plan_minutes", "plan_text", "default"]

# Unit words (lowercase, without a trailing "s") -> minutes.
_UNITS = {
    "m": 1,
    "min": 1,
    "mn": 1,
    "minute": 1,
    "mins": 1,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "d": 24 * 60,
    "day": 24 * 60,
}
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_AMOUNT = re.compile(
    rf"{_NUMBER}(?:\s*(?:-|–|to)\s*{_NUMBER})?\s*([a-z]+)",
    re.IGNORECASE,
)
_HALF_HOUR = re.compile(r"\bhalf\s+an?\s+hour\b", re.IGNORECASE)


@dataclass(frozen=True)
class Effort:
    minutes: int
    source: EffortSource


def _unit(word: str) -> int | None:
    word = word.lower()
    return _UNITS.get(word) or _UNITS.get(word.removesuffix("s"))


def minutes_from_text(text: str) -> int | None:
    """The minutes ``text`` states, or None when it states none."""
    total = 30.0 if _HALF_HOUR.search(text) else 0.0
    for low, high, word in _AMOUNT.findall(text):
        unit = _unit(word)
        if unit is None:
            continue
        first = float(low.replace(",", "."))
        last = float(high.replace(",", ".")) if high else first
        total += (first + last) / 2 * unit
    return round(total) if total > 0 else None


def task_effort(task: dict[str, Any], default_minutes: int) -> Effort:
    """The task's minutes: the plan's number, else its text, else ``default_minutes``."""
    minutes = task.get("estimated_minutes")
    if isinstance(minutes, int) and minutes >= 0:
        return Effort(max(minutes, MIN_TASK_MINUTES), "plan_minutes")
    parsed = minutes_from_text(str(task.get("estimated_effort") or ""))
    if parsed is not None:
        return Effort(max(parsed, MIN_TASK_MINUTES), "plan_text")
    return Effort(default_minutes, "default")
