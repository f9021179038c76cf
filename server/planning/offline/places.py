"""Places in a document: each sentence, heading and table row, with the heading it sits
under. Headings give sentences their context; they are never requirements themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from server.planning.offline.patterns import (
    DELIVERABLE_VERBS,
    HARD_RE,
    PROCESS_VERBS,
    TASK_VERBS,
    imperative_verb,
)
from server.planning.offline.values import (
    DEADLINE_RE,
    EXTENSION_RE,
    LATE_POLICY_RE,
    MONTH_DAY_RE,
    SOURCES_RE,
    TYPOGRAPHY_RE,
    citation_style_in,
    collapse_whitespace,
    length_limits,
)
from server.text.sentences import (
    LIST_MARKER_RE,
    block_sentences,
    blocks,
    is_table_row,
    trimmed,
)

_MAX_HEADING_WORDS = 10
_RUN_IN_HEADING_WORDS = 3
# Auxiliaries and modals: a line with one of them says something, it does not title.
_VERBISH_RE = re.compile(
    r"\b(?:must|should|shall|will|would|may|might|can|cannot|could|is|are|was|were|be|been|"
    r"do|does|did|need|needs|required|has|have)\b",
    re.I,
)
_TITLE_SMALL_WORD_CHARS = 3
_FILE_LINK_RE = re.compile(r"\((?:PDF|DOCX?|PPTX?|XLSX?|MP[34]|ZIP|TXT)\b[^)]*\)$", re.I)
_HEADING_VALUE_RE = re.compile(r"\b\d{1,2}[- ]?(?:pt|point)\b", re.I)


def _is_title_case(words: list[str]) -> bool:
    long_words = [w for w in words if w[:1].isalpha() and len(w) > _TITLE_SMALL_WORD_CHARS]
    return bool(long_words) and all(w[0].isupper() for w in long_words)


def _states_a_value(line: str) -> bool:
    """Whether a line sets a measurable value: a length, a source count, a style, a file
    type, a date or a late penalty ("Due: Friday, March 3" is not a heading)."""
    return bool(
        length_limits(line)
        or SOURCES_RE.search(line)
        or citation_style_in(line)
        or EXTENSION_RE.search(line)
        or _HEADING_VALUE_RE.search(line)
        or DEADLINE_RE.search(line)
        or MONTH_DAY_RE.search(line)
        or LATE_POLICY_RE.search(line)
    )


def _is_heading(line: str) -> bool:
    """A short line without final punctuation that names a part rather than saying something:
    "Sources and Academic Integrity", "Requirements:", "Late Work". Headings give the
    sentences under them their context; they are never requirements themselves."""
    flat = " ".join(line.split())
    if len(flat.split()) <= _RUN_IN_HEADING_WORDS and _is_title_case(flat.split()):
        flat = flat.removesuffix(".")  # "Goals.", "Academic Honesty."
    if not flat or "\n" in line.strip() or flat[-1] in ".!?;" or is_table_row(flat):
        return False
    words = flat.rstrip(":").split()
    if len(words) > _MAX_HEADING_WORDS or _states_a_value(flat):
        return False
    if flat.endswith(":") or _is_title_case(words):
        return not HARD_RE.search(flat)
    verb = imperative_verb(flat)
    return not (
        _VERBISH_RE.search(flat)
        or TYPOGRAPHY_RE.search(flat)
        or verb in PROCESS_VERBS
        or verb in DELIVERABLE_VERBS
        or verb in TASK_VERBS
    )


def _is_file_link(line: str) -> bool:
    """A line that only links a file ("Example student work - The Forme of Cury (PDF)",
    "Project Proposal Template (DOC) (PDF)"): it names a document, it neither heads what
    follows nor sets a rule."""
    flat = " ".join(LIST_MARKER_RE.sub("", line.strip(), count=1).split())
    return (
        bool(_FILE_LINK_RE.search(flat))
        and len(flat.split()) <= _MAX_HEADING_WORDS + 2
        and not _VERBISH_RE.search(flat)
    )


@dataclass(frozen=True)
class Place:
    """A sentence, heading, table row or file link of a document, with the heading it
    sits under."""

    start: int
    end: int
    role: Literal["sentence", "heading", "table_row", "link"]
    section: str
    listed: bool = False
    # For a list item, the paragraph that introduces its list ("you may not:").
    lead_in: str = ""
    # For a later sentence of a paragraph or list item, its first sentence, which says what
    # the paragraph is about ("Final paper: Revisit your introductory essay ...").
    opener: str = ""


def document_places(text: str) -> list[Place]:
    places: list[Place] = []
    section = ""
    lead_in = ""
    # Open list items ("7. Grade ... will account for the following:") with their
    # indentation: they introduce the items indented under them, a nested list.
    open_items: list[tuple[int, str]] = []
    for block_start, block_end in blocks(text):
        block = text[block_start:block_end]
        start, end = trimmed(text, block_start, block_end)
        if start >= end:
            continue
        if is_table_row(block):
            places.append(Place(start, end, "table_row", section))
            continue
        listed = bool(LIST_MARKER_RE.match(block.lstrip()))
        if _is_file_link(block):
            places.append(Place(start, end, "link", section, listed))
            lead_in = lead_in if listed else ""
            continue
        if not listed and _is_heading(block):
            section = collapse_whitespace(text[start:end]).rstrip(":")
            places.append(Place(start, end, "heading", section))
            lead_in = ""
            open_items = []
            continue
        item_lead_in = lead_in
        if listed:
            indent = len(block) - len(block.lstrip())
            while open_items and open_items[-1][0] >= indent:
                open_items.pop()
            item_lead_in = open_items[-1][1] if open_items else lead_in
            item = collapse_whitespace(LIST_MARKER_RE.sub("", block.lstrip(), count=1))
            if item.endswith(":"):
                open_items.append((indent, item))
        else:
            open_items = []
        # A list item is its first sentence; the sentences after it explain it, as prose.
        sentences = block_sentences(text, block_start, block_end)
        opener = collapse_whitespace(text[sentences[0][0] : sentences[0][1]]) if sentences else ""
        places.extend(
            Place(sentence_start, sentence_end, "sentence", section, opener=opener)
            if index
            else Place(sentence_start, sentence_end, "sentence", section)
            if not listed
            else Place(sentence_start, sentence_end, "sentence", section, True, item_lead_in)
            for index, (sentence_start, sentence_end) in enumerate(sentences)
        )
        if not listed:
            # Only a paragraph left open ("you may not", "Your report must include:")
            # introduces the list after it.
            paragraph = collapse_whitespace(text[start:end])
            lead_in = "" if paragraph.endswith((".", "!", "?")) else paragraph
    return places
