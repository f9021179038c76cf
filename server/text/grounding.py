"""Quote normalization and matching: is a quote really in the source, and where?

Matching is tolerant of what copying text changes without changing its meaning: case,
whitespace and line breaks, curly vs straight quotes, dash and ellipsis styles, accents,
ligatures and soft hyphens from PDFs. A second, looser pass also ignores punctuation
and spacing around it ("1,500 – 2,000" vs "1,500-2,000"). Both passes only match at word
boundaries, so "art" is not found inside "start". Offsets are always into the original text.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

from models.context import SourceContext

RUBRIC_SOURCE_ID = "rubric"

_CHARACTER_STYLES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "′": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "″": '"',
        "«": '"',
        "»": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "…": "...",
    }
)
# Combining marks (accents after NFKD) and format characters (soft hyphens, zero-width
# spaces) are dropped, so "café" matches "cafe" and PDF hyphenation marks vanish.
_DROPPED_CATEGORIES = frozenset({"Mn", "Cf"})


@cache  # the alphabet of real documents is small; this keeps long texts fast
def _fold(character: str) -> str:
    decomposed = unicodedata.normalize("NFKD", character.translate(_CHARACTER_STYLES))
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    return kept.casefold()


# Verification matches many quotes against the same few documents: normalize each once.
@lru_cache(maxsize=64)
def _normalize_with_map(text: str, *, keep_punctuation: bool) -> tuple[str, tuple[int, ...]]:
    """Normalize ``text``; ``index_map[i]`` is the original offset of normalized char ``i``.

    Without ``keep_punctuation`` only letters and digits survive, each run separated by
    one space, which is what makes the loose pass ignore punctuation style entirely.
    """
    characters: list[str] = []
    index_map: list[int] = []
    pending_space = False
    for offset, original in enumerate(text):
        for folded in _fold(original):
            if folded.isspace() or not (keep_punctuation or folded.isalnum()):
                pending_space = True
                continue
            if pending_space and characters:
                characters.append(" ")
                index_map.append(offset)
            pending_space = False
            characters.append(folded)
            index_map.append(offset)
    return "".join(characters), tuple(index_map)


def normalize(text: str) -> str:
    """Casefold, unify quotes/dashes/ellipses, drop accents, collapse whitespace, strip."""
    return _normalize_with_map(text, keep_punctuation=True)[0]


def _at_word_boundaries(haystack: str, start: int, end: int) -> bool:
    starts_clean = start == 0 or not (haystack[start].isalnum() and haystack[start - 1].isalnum())
    ends_clean = end == len(haystack) or not (
        haystack[end - 1].isalnum() and haystack[end].isalnum()
    )
    return starts_clean and ends_clean


def _search(needle: str, haystack: str) -> int | None:
    position = haystack.find(needle)
    while position != -1:
        if _at_word_boundaries(haystack, position, position + len(needle)):
            return position
        position = haystack.find(needle, position + 1)
    return None


def find_quote(quote: str, text: str) -> tuple[int, int] | None:
    """Offsets ``(start, end)`` in ``text`` of the first tolerant match of ``quote``."""
    for keep_punctuation in (True, False):
        needle = _normalize_with_map(quote, keep_punctuation=keep_punctuation)[0]
        if not needle:
            continue
        haystack, index_map = _normalize_with_map(text, keep_punctuation=keep_punctuation)
        position = _search(needle, haystack)
        if position is not None:
            return index_map[position], index_map[position + len(needle) - 1] + 1
    return None


def spans_overlap(first: tuple[int, int], second: tuple[int, int], share: float = 0.5) -> bool:
    """Whether two quotes' spans in one text overlap on at least ``share`` of the shorter:
    they state the same thing, one perhaps at more length."""
    overlap = min(first[1], second[1]) - max(first[0], second[0])
    shorter = min(first[1] - first[0], second[1] - second[0])
    return shorter > 0 and overlap >= share * shorter


def rubric_text(context: SourceContext) -> str:
    """The rubric as one document: each criterion's description and long description,
    then each rating's description and long description (where many rubrics state the
    actual standard), one per line."""
    lines: list[str] = []
    for criterion in context.rubric:
        lines.append(criterion.description)
        if criterion.long_description:
            lines.append(criterion.long_description)
        for rating in criterion.ratings:
            lines.extend(text for text in (rating.description, rating.long_description) if text)
    return "\n".join(line.strip() for line in lines if line.strip())


def grounding_corpus(context: SourceContext) -> dict[str, str]:
    """Every text a quote may come from, by source id, in a stable order."""
    corpus = {document.source_id: document.text for document in context.documents}
    if context.rubric:
        corpus[RUBRIC_SOURCE_ID] = rubric_text(context)
    return corpus


__all__ = [
    "RUBRIC_SOURCE_ID",
    "find_quote",
    "grounding_corpus",
    "normalize",
    "rubric_text",
    "spans_overlap",
]
