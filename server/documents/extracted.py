"""The text read from a file, and how the readers build it block by block."""

from __future__ import annotations

import re

from pydantic import BaseModel

from models.context import TextSegment
from server.documents.sniffing import BINARY_CONTROL


class ExtractedText(BaseModel):
    content_type: str
    text: str
    segments: list[TextSegment]
    truncated_reason: str | None = None  # set when a limit cut the text short

    @property
    def truncated(self) -> bool:
        return self.truncated_reason is not None


class TextBuilder:
    """Joins blocks into one text, records where each block sits, and stops at max_chars."""

    def __init__(self, max_chars: int) -> None:
        self._max_chars = max_chars
        self._parts: list[str] = []
        self._length = 0
        self.segments: list[TextSegment] = []
        self.truncated = False

    def add(
        self,
        block: str,
        *,
        page: int | None = None,
        paragraph: int | None = None,
        part: str | None = None,
        separator: str = "\n\n",
    ) -> bool:
        """Append a block; returns False once the character limit is reached."""
        if self.truncated:
            return False
        if not block:
            return True
        joiner = separator if self._parts else ""
        start = self._length + len(joiner)
        room = self._max_chars - start
        if len(block) > room:
            self.truncated = True
            block = block[: max(room, 0)].rstrip()
            if not block:
                return False
        self._parts.append(joiner + block)
        self._length = start + len(block)
        self.segments.append(
            TextSegment(start=start, end=self._length, page=page, paragraph=paragraph, part=part)
        )
        return not self.truncated

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def truncated_reason(self) -> str | None:
        if not self.truncated:
            return None
        return f"Only the first {self._max_chars:,} characters were read (the limit per file)."


_LINE_ENDINGS = re.compile(r"\r\n?")
_TRAILING_SPACES = re.compile(r"[ \t]+\n")
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Normalize line endings and blank lines; keep indentation (Markdown needs it)."""
    text = _LINE_ENDINGS.sub("\n", text)
    text = BINARY_CONTROL.sub("", text).replace("\x0c", "\n")
    text = _TRAILING_SPACES.sub("\n", text)
    return _EXTRA_BLANK_LINES.sub("\n\n", text).strip()


def collapse_spaces(text: str) -> str:
    return " ".join(text.split())
