"""Reading PDFs with pypdf: owner-password unlocking, the page limit, and columns read
in order."""

from __future__ import annotations

import io
import re
from statistics import median
from typing import Any, NamedTuple

from pypdf import PageObject, PasswordType, PdfReader

from server.documents.extracted import ExtractedText, TextBuilder, clean_text
from server.documents.failures import ExtractionFailed, parse_errors_as
from server.documents.limits import ExtractionLimits
from server.documents.sniffing import PDF


def extract_pdf(data: bytes, limits: ExtractionLimits) -> ExtractedText:
    builder = TextBuilder(limits.max_chars)
    with parse_errors_as("The PDF is damaged or incomplete and could not be read."):
        reader = PdfReader(io.BytesIO(data))
        _unlock(reader)
        page_count = len(reader.pages)
        for index in range(min(page_count, limits.max_pdf_pages)):
            if not builder.add(_page_text(reader.pages[index]), page=index + 1):
                break
    if not builder.segments:
        raise ExtractionFailed(
            "no_text",
            "The PDF has no text layer; it is probably a scanned image. Text in images "
            "is not read (no OCR).",
        )
    reason = builder.truncated_reason
    if reason is None and page_count > limits.max_pdf_pages:
        reason = (
            f"Only the first {limits.max_pdf_pages} of {page_count} pages were read "
            "(the page limit)."
        )
    return ExtractedText(
        content_type=PDF, text=builder.text, segments=builder.segments, truncated_reason=reason
    )


def _unlock(reader: PdfReader) -> None:
    """Open PDFs protected only by an owner password (common for handouts); refuse the rest."""
    if not reader.is_encrypted:
        return
    try:
        unlocked = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception:  # unsupported or broken encryption: just as unreadable
        unlocked = False
    if not unlocked:
        raise ExtractionFailed(
            "encrypted", "The PDF is password-protected, so its text cannot be read."
        )


# A page may be set in two columns when enough of its lines (at least this many, and
# this share: a small table of two columns is not a column layout) carry text that starts
# at the same x in the middle of the page, beside text further left.
_MIN_SIDE_BY_SIDE_LINES = 3
_MIN_SIDE_BY_SIDE_SHARE = 0.25


def _page_text(page: PageObject) -> str:
    """The page's text in reading order.

    pypdf's plain extraction follows the content stream, which is reading order unless
    the page is set in columns and its producer wrote it line by line across them: then
    the columns' lines alternate. For pages that look like that, the text is taken from
    pypdf's layout mode (which places text by its real width) and the columns are read
    one after the other.
    """
    starts: list[tuple[float, float]] = []

    def remember_start(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        if text.strip():
            x, y = tm[4], tm[5]
            starts.append((x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5]))

    plain = clean_text(page.extract_text(visitor_text=remember_start))
    try:
        if not _may_have_columns(starts, page):
            return plain
        columns = _columns_in_reading_order(page.extract_text(extraction_mode="layout"))
    except MemoryError:
        raise
    except Exception:  # layout mode is pypdf's younger code path: plain text still stands
        return plain
    return clean_text(columns) if columns is not None else plain


def _may_have_columns(starts: list[tuple[float, float]], page: PageObject) -> bool:
    if page.rotation % 180:
        return False
    left, width = float(page.mediabox.left), float(page.mediabox.width)
    baselines: dict[int, list[float]] = {}
    for x, y in starts:
        baselines.setdefault(round(y), []).append(x)
    column_starts: dict[int, int] = {}
    for xs in baselines.values():
        first = min(xs)
        for x in xs:
            relative = (x - left) / width
            # Text starting mid-page, well to the right of the line's first text.
            if 0.3 <= relative <= 0.7 and x - first >= 0.2 * width:
                bucket = round(x / 4)
                column_starts[bucket] = column_starts.get(bucket, 0) + 1
    needed = max(_MIN_SIDE_BY_SIDE_LINES, _MIN_SIDE_BY_SIDE_SHARE * len(baselines))
    return any(count >= needed for count in column_starts.values())


_GAP = re.compile(r"(?<=\S) {3,}(?=\S)")
_SPACES = re.compile(r" {2,}")
# Column text fills its column; table cells mostly do not.
_MIN_COLUMN_FILL = 0.5
# A run of blank lines this long (a footer far below the text) ends a column block.
_BLOCK_BREAK_BLANK_LINES = 3


def _columns_in_reading_order(layout: str) -> str | None:
    """Layout text with two columns rewritten as the left column, then the right one.

    The gutter is the character position in the middle of the page that falls in a gap
    between text on the most lines. Lines that cross it (a title, a footer across the
    page) stay where they are and separate blocks of columns. None when the page does
    not read as two columns of running text.
    """
    lines = [line.rstrip() for line in layout.splitlines()]
    shapes = [_LineShape.of(line) for line in lines]
    width = max((len(line) for line in lines), default=0)
    gutter = _find_gutter(shapes, width)
    if gutter is None:
        return None
    two_sided = [line for line, shape in zip(lines, shapes, strict=True) if shape.splits(gutter)]
    left_fill = median(len(line[:gutter].strip()) for line in two_sided) / gutter
    right_fill = median(len(line[gutter:].strip()) for line in two_sided) / (width - gutter)
    if min(left_fill, right_fill) < _MIN_COLUMN_FILL:
        return None
    output: list[str] = []
    block: list[str] = []
    blank_run = 0
    for line, shape in zip(lines, shapes, strict=True):
        blank_run = blank_run + 1 if not line else 0
        if shape.crosses(gutter) or blank_run >= _BLOCK_BREAK_BLANK_LINES:
            output.extend(_read_block(block, gutter))
            block = []
            output.append(_SPACES.sub(" ", line.strip()))
        else:
            block.append(line)
    output.extend(_read_block(block, gutter))
    return "\n".join(output)


class _LineShape(NamedTuple):
    """Where a layout line has text: its first and last character, and its gaps."""

    first: int
    last: int
    gaps: list[tuple[int, int]]

    @classmethod
    def of(cls, line: str) -> _LineShape:
        stripped = line.lstrip()
        first = len(line) - len(stripped)
        gaps = [(gap.start(), gap.end()) for gap in _GAP.finditer(line)]
        return cls(first, len(line) - 1, gaps)

    def splits(self, column: int) -> bool:
        """Text on both sides of ``column``, with a gap there."""
        return any(start < column < end for start, end in self.gaps)

    def crosses(self, column: int) -> bool:
        """Text on both sides of ``column`` without a gap there: a line across the page."""
        return self.first < column <= self.last and not self.splits(column)


def _find_gutter(shapes: list[_LineShape], width: int) -> int | None:
    best: tuple[int, int] | None = None
    for column in range(int(width * 0.3), int(width * 0.7) + 1):
        split = sum(1 for shape in shapes if shape.splits(column))
        crossed = sum(1 for shape in shapes if shape.crosses(column))
        score = split - 2 * crossed
        if split >= _MIN_SIDE_BY_SIDE_LINES and (best is None or score > best[0]):
            best = (score, column)
    return best[1] if best is not None and best[0] > 0 else None


def _read_block(lines: list[str], gutter: int) -> list[str]:
    left = [_SPACES.sub(" ", line[:gutter].strip()) for line in lines]
    right = [_SPACES.sub(" ", line[gutter:].strip()) for line in lines]
    return [*left, "", *right] if any(right) else left
