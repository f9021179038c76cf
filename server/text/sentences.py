"""Sentences, list items and table rows of extracted text, as character offsets.

Used wherever text is measured or quoted: the offline planning engine finds requirements
in sentences, feedback measures drafts by them, grounding quotes them.
"""

from __future__ import annotations

import re

_TABLE_CELL_SEPARATOR_RE = re.compile(r"\s\|\s|^\||\|$")


def is_table_row(line: str) -> bool:
    """A row of a table as the extractors write it: cells joined by " | "."""
    return bool(_TABLE_CELL_SEPARATOR_RE.search(line.strip()))


LIST_MARKER_RE = re.compile(r"(?:[-*•·▪◦‣]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}\))\s+")
_BOUNDARY_RE = re.compile(r"[.!?]+[\"'”’)\]]*\s+")
_LAST_TOKEN_RE = re.compile(r"([\w.]+)$")
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs dr mr mrs ms prof no nos p pp fig figs approx ed eds vol ch sec st al cf "
    "incl a.m p.m u.s jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# A wrapped line (PDF text) continues the sentence; a short line without final
# punctuation is a heading and stands alone.
_WRAPPED_LINE_MIN_CHARS = 60


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _continues(previous: str, following: str) -> bool:
    previous, following = previous.strip(), following.strip()
    if not previous or not following or LIST_MARKER_RE.match(following):
        return False
    if is_table_row(previous) or is_table_row(following):
        return False
    if following[0].islower():
        return True
    return len(previous) >= _WRAPPED_LINE_MIN_CHARS and previous[-1] not in ".!?:;"


def blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs and list items: lines joined unless a break clearly ends a sentence."""
    blocks: list[tuple[int, int]] = []
    previous_line = ""
    for start, end in _line_spans(text):
        line = text[start:end]
        if blocks and _continues(previous_line, line):
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
        previous_line = line
    return blocks


def _is_sentence_end(block: str, boundary: re.Match[str]) -> bool:
    following = block[boundary.end() : boundary.end() + 1]
    if following.islower():
        return False
    token = _LAST_TOKEN_RE.search(block[: boundary.start()])
    word = token.group(1).lower().strip(".") if token else ""
    return not (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    marker = LIST_MARKER_RE.match(text, start, end)
    if marker:
        start = marker.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def block_sentences(text: str, block_start: int, block_end: int) -> list[tuple[int, int]]:
    block = text[block_start:block_end]
    spans: list[tuple[int, int]] = []
    cut = 0
    for boundary in _BOUNDARY_RE.finditer(block):
        if _is_sentence_end(block, boundary):
            spans.append(trimmed(text, block_start + cut, block_start + boundary.end()))
            cut = boundary.end()
    spans.append(trimmed(text, block_start + cut, block_end))
    return [(start, end) for start, end in spans if end > start]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of sentences and list items, without list markers or surrounding spaces."""
    return [
        span
        for block_start, block_end in blocks(text)
        for span in block_sentences(text, block_start, block_end)
    ]
