"""English left in text a Spanish student reads: the words of ``english_words.txt`` in a
plan's or feedback's prose fields, once the sources' own quotes and names (which stay in
their language) are taken out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ENGLISH_WORDS = frozenset(
    line.strip()
    for line in (Path(__file__).with_name("english_words.txt")).read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
# Keys whose values are ids, codes, enums or quotes rather than prose.
_NOT_PROSE = frozenset(
    "quote source_id id pointer depends_on serves covers_criteria criterion_id milestone_ids "
    "hard_constraint_ids uncovered_criteria stance engine model fallback language name "
    "content_type status source time_zone kind level overall_readiness type restored "
    "estimated_effort".split()
)
_WORD_RE = re.compile(r"[^\W\d_]+(?:_\w+)?|\|")  # an identifier such as depends_on is one word


def prose(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every prose string of a JSON document, with its JSON pointer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in _NOT_PROSE:
                yield from prose(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from prose(value, f"{path}/{index}")
    elif isinstance(node, str):
        yield path, node


def _tokens(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def english_left(document: Any, verbatim: Iterable[str]) -> dict[str, list[str]]:
    """The English words in each prose field of ``document`` (pointer -> words), leaving
    out words the sources say themselves: a ``verbatim`` text (the sources' sentences and
    names) found whole, or three words around the word found together in one of them. So a
    quoted rule or an excluded source ("no sources published before 2015") passes, while a
    sentence of the plan's own does not."""
    texts = sorted({" ".join(text.split()) for text in verbatim if text.strip()}, key=len)
    corpus = " | ".join(" ".join(_tokens(text)) for text in texts)
    found: dict[str, list[str]] = {}
    for pointer, text in prose(document):
        for name in reversed(texts):  # whole names first: a one-word rubric criterion
            text = " ".join(text.split()).replace(name, " | ")
        tokens = _tokens(text)
        english = set()
        for index, word in enumerate(tokens):
            if word not in ENGLISH_WORDS:
                continue
            windows = [
                " ".join(tokens[max(start, 0) : start + 3])
                for start in range(index - 2, index + 1)
                if start + 3 <= len(tokens) or len(tokens) < 3
            ]
            if not any(f" {window} " in f" {corpus} " for window in windows):
                english.add(word)
        if english:
            found[pointer] = sorted(english)
    return found
