"""What the offline feedback engine says, as data: ``wording/<language>.yaml``.

A language is a file. Every file has the English names, no more, no fewer, and each
entry takes the same ``{fields}`` as its English one; both are checked when a language is
first read, so a missing or misspelt entry fails at load, not in a student's feedback.
Feedback is written in its plan's language (``plan.language``), English when there is no
file for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from string import Formatter
from typing import Any

import yaml

from server.text.language import DEFAULT_LANGUAGE


class FeedbackWordingError(RuntimeError):
    """A shipped ``wording/<language>.yaml`` is unreadable or differs from English."""


def _folder() -> Traversable:
    return resources.files("server.feedback") / "wording"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


@dataclass(frozen=True)
class FeedbackWording:
    language: str
    entries: dict[str, str]

    def say(self, name: str, **fields: Any) -> str:
        return self.entries[name].format(**fields)


def _read(language: str) -> dict[str, str]:
    path = _folder() / f"{language}.yaml"
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FeedbackWordingError(f"{path}: {exc}") from exc
    if not isinstance(entries, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in entries.items()
    ):
        raise FeedbackWordingError(f"{path}: expected a mapping of names to strings")
    return entries


@cache
def feedback_languages() -> frozenset[str]:
    """The languages the offline feedback engine writes in."""
    return frozenset(
        e.name.removesuffix(".yaml") for e in _folder().iterdir() if e.name.endswith(".yaml")
    )


def checked_wording(
    language: str, entries: dict[str, str], english: dict[str, str]
) -> FeedbackWording:
    """``entries`` as a language's wording, if they have the English names and fields."""
    if set(entries) != set(english):
        difference = sorted(set(entries) ^ set(english))
        raise FeedbackWordingError(f"wording/{language}.yaml names differ: {difference}")
    for name, template in english.items():
        if _fields(entries[name]) != _fields(template):
            raise FeedbackWordingError(f"wording/{language}.yaml '{name}' fields differ")
    return FeedbackWording(language, entries)


@cache
def load_wording(language: str = DEFAULT_LANGUAGE) -> FeedbackWording:
    """A language's wording, read and checked against English once per process."""
    return checked_wording(language, _read(language), _read(DEFAULT_LANGUAGE))


def wording_for(language: str | None) -> FeedbackWording:
    """The wording of ``language``, English when there is no file for it."""
    return load_wording(language if language in feedback_languages() else DEFAULT_LANGUAGE)


__all__ = [
    "FeedbackWording",
    "FeedbackWordingError",
    "checked_wording",
    "feedback_languages",
    "load_wording",
    "wording_for",
]
