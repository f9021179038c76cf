"""Numbers as a language writes them: where the thousands are grouped and with what, and
the decimal mark. The conventions are data, ``number_formats/<language>.yaml``: English
writes 1,500 and 2.5; Spanish, following the RAE, 1500, 12 000 (a thin no-break space)
and 2.5.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from server.text.data_files import languages_in, read_data_file
from server.text.language import DEFAULT_LANGUAGE


class NumberFormatError(RuntimeError):
    """A shipped ``number_formats/<language>.yaml`` is unreadable or incomplete."""


class NumberFormat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    group_separator: str
    group_from_digits: int = Field(ge=4)  # the fewest digits that are grouped
    decimal_mark: str

    def write(self, value: float) -> str:
        """``value`` with its thousands grouped and at most the decimals it has (``g``)."""
        whole, _, decimals = f"{abs(value):.15g}".partition(".")
        sign = "-" if value < 0 else ""
        if "e" in whole or len(whole) < self.group_from_digits:
            grouped = whole
        else:
            head = len(whole) % 3 or 3
            groups = [whole[:head], *(whole[i : i + 3] for i in range(head, len(whole), 3))]
            grouped = self.group_separator.join(groups)
        return sign + grouped + (self.decimal_mark + decimals if decimals else "")


def _folder() -> Traversable:
    return resources.files("server.text") / "number_formats"


@cache
def number_format(language: str | None = DEFAULT_LANGUAGE) -> NumberFormat:
    """How ``language`` writes numbers; English when there is no file for it."""
    code = language if language in languages_in(_folder()) else DEFAULT_LANGUAGE
    return read_data_file(_folder() / f"{code}.yaml", TypeAdapter(NumberFormat), NumberFormatError)


def format_number(value: float, language: str | None = DEFAULT_LANGUAGE) -> str:
    """``1,500`` in English, ``1500`` and ``12 000`` in Spanish."""
    return number_format(language).write(value)


__all__ = ["NumberFormat", "NumberFormatError", "format_number", "number_format"]
