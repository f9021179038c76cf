"""What feedback looks for in a criterion's words, as data: ``criterion_terms/<language>.yaml``
(a live performance, figures, process rules, citing, sources, length). Rubric criteria are
in the course's language and a plan's own acceptance criteria in the plan's, so the
patterns of every language are used together.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from server.text.data_files import languages_in, read_data_file

TermKind = Literal["live", "visual", "process", "cite", "sources", "length", "words"]


class CriterionTermsError(RuntimeError):
    """A shipped ``criterion_terms/<language>.yaml`` is unreadable, incomplete or has a
    pattern that does not compile."""


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    live: list[str]
    visual: list[str]
    process: list[str]
    cite: list[str]
    sources: list[str]
    length: list[str]
    words: list[str]


def _folder() -> Traversable:
    return resources.files("server.feedback") / "criterion_terms"


@cache
def term_pattern(kind: TermKind) -> re.Pattern[str]:
    """The pattern of ``kind`` in every language, ignoring case."""
    alternatives = [
        pattern
        for language in sorted(languages_in(_folder()))
        for pattern in getattr(
            read_data_file(
                _folder() / f"{language}.yaml", TypeAdapter(_Terms), CriterionTermsError
            ),
            kind,
        )
    ]
    try:
        return re.compile("|".join(f"(?:{pattern})" for pattern in alternatives), re.I)
    except re.error as exc:
        raise CriterionTermsError(f"criterion_terms {kind}: {exc}") from exc


__all__ = ["CriterionTermsError", "TermKind", "term_pattern"]
