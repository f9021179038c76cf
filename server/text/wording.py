"""Sentences as data: a folder of ``<language>.yaml`` files mapping names to
``str.format`` templates, English the reference.

Every file has the English names, no more, no fewer, and each entry takes the same
``{fields}`` as its English one; both are checked when a language is first read, so a
missing or misspelt entry fails at load, not in a student's text. A field written
``{count:,}`` is a number grouped the language's way (``server/text/numbers.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources.abc import Traversable
from string import Formatter
from typing import Any

from pydantic import TypeAdapter

from server.text.data_files import languages_in, read_data_file
from server.text.language import DEFAULT_LANGUAGE
from server.text.numbers import format_number

_ENTRIES = TypeAdapter(dict[str, str])
# A sentence by name, with its values: Wording.say, or a plan template's LanguageTemplates.say.
Say = Callable[..., str]


class WordingError(RuntimeError):
    """A shipped wording file is unreadable or differs from the English one."""


class _LanguageFormatter(Formatter):
    def __init__(self, language: str) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "," and isinstance(value, int | float) and not isinstance(value, bool):
            return format_number(value, self.language)
        return str(super().format_field(value, format_spec))


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


@dataclass(frozen=True)
class Wording:
    language: str
    entries: dict[str, str]

    def say(self, name: str, /, **fields: Any) -> str:
        return _formatter(self.language).vformat(self.entries[name], (), fields)


@cache
def _formatter(language: str) -> _LanguageFormatter:
    return _LanguageFormatter(language)


def checked_wording(
    language: str, entries: Mapping[str, str], english: Mapping[str, str], where: str = "wording"
) -> Wording:
    """``entries`` as a language's wording, if they have the English names and fields."""
    if set(entries) != set(english):
        difference = sorted(set(entries) ^ set(english))
        raise WordingError(f"{where}/{language}.yaml names differ: {difference}")
    for name, template in english.items():
        if _fields(entries[name]) != _fields(template):
            raise WordingError(f"{where}/{language}.yaml '{name}' fields differ")
    return Wording(language, dict(entries))


class WordingFolder:
    """The wording files of one folder, each read and checked once per process."""

    def __init__(self, folder: Callable[[], Traversable]) -> None:
        self._folder = folder
        self.load = cache(self._load)

    def languages(self) -> frozenset[str]:
        return languages_in(self._folder())

    def _read(self, language: str) -> dict[str, str]:
        return read_data_file(self._folder() / f"{language}.yaml", _ENTRIES, WordingError)

    def _load(self, language: str = DEFAULT_LANGUAGE) -> Wording:
        english = self._read(DEFAULT_LANGUAGE)
        return checked_wording(language, self._read(language), english, self._folder().name)

    def for_language(self, language: str | None) -> Wording:
        """The wording of ``language``, English when there is no file for it."""
        return self.load(language if language in self.languages() else DEFAULT_LANGUAGE)


__all__ = ["Say", "Wording", "WordingError", "WordingFolder", "checked_wording"]
