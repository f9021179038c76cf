"""Text extraction from assignment attachments (decisions §7).

Files are allowed by what their bytes are, never by their name: PDF, DOCX, HTML, plain
text and Markdown. Every limit comes from the settings, and every way a file can fail
(encrypted, image-only, truncated, corrupt, a zip bomb, too slow, too hungry) ends in an
``ExtractionFailed`` with a stable code, so the planner can warn about that one file and
carry on with the rest.

``extract_text_sync`` is the pure CPU part. ``DocumentExtractor`` runs it in worker
processes (``server.documents.extraction_worker``) that are killed at the time limit and capped in
memory, and caches results by content hash, so planning the same files again does not
parse them again.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import io
import re
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from html.parser import HTMLParser
from pathlib import PurePath
from statistics import median
from types import TracebackType
from typing import Any, NamedTuple

import charset_normalizer
import docx
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from lxml.etree import _Element
from pydantic import BaseModel
from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import LimitReachedError

from models.context import SourceDocument, TextSegment
from server.documents.worker_pool import WorkerCrashed, WorkerOutOfMemory, WorkerPool
from server.kernel.settings import Settings

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
# Type detection only needs the start of a text file; decoding all of a 25 MB file
# just to say "text" would make detection expensive.
_SNIFF_BYTES = 64 * 1024
_MARKDOWN_SUFFIXES = (".md", ".markdown")
# A tiny, very compressible archive is harmless: the ratio test starts above this.
_ZIP_RATIO_FLOOR_BYTES = 1024 * 1024
_MAX_ZIP_MEMBERS = 5_000
# Hashing is fast, but not free: offload big inputs so the event loop keeps serving.
_HASH_OFF_LOOP_BYTES = 1024 * 1024
_WORKER_MODULE = "server.documents.extraction_worker"


@dataclass(frozen=True)
class ExtractionLimits:
    max_file_bytes: int
    max_pdf_pages: int
    max_chars: int
    timeout_seconds: float
    max_docx_uncompressed_bytes: int
    max_compression_ratio: int
    max_memory_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ExtractionLimits:
        return cls(
            max_file_bytes=settings.attachment_max_file_bytes,
            max_pdf_pages=settings.attachment_max_pdf_pages,
            max_chars=settings.attachment_max_chars,
            timeout_seconds=settings.attachment_timeout_seconds,
            max_docx_uncompressed_bytes=settings.attachment_max_docx_uncompressed_bytes,
            max_compression_ratio=settings.attachment_max_compression_ratio,
            max_memory_bytes=settings.attachment_max_memory_bytes,
        )


class ExtractionFailed(Exception):
    """A file that cannot be used. ``code`` is stable, ``message`` is for the user and
    leaves out the file name, which the caller adds."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ExtractedText(BaseModel):
    content_type: str
    text: str
    segments: list[TextSegment]
    truncated_reason: str | None = None  # set when a limit cut the text short

    @property
    def truncated(self) -> bool:
        return self.truncated_reason is not None


# --------------------------------------------------------------------------- detection


def detect_content_type(data: bytes, name: str = "") -> str | None:
    """The allowed content type of ``data``, or None when it is not on the allowlist.

    The name can only tell Markdown from plain text; it never makes bytes acceptable.
    """
    # Strictly at the start: a text file that merely mentions "%PDF-" stays text.
    if data[:1024].lstrip(b" \t\r\n").startswith(_PDF_MAGIC):
        return PDF
    if data.startswith(_ZIP_MAGIC):
        return DOCX if _classify_zip(data) == "docx" else None
    text = _decode_text(data[:_SNIFF_BYTES], final=len(data) <= _SNIFF_BYTES)
    if text is None:
        return None
    return _classify_text(text, name)


def _zip_names(data: bytes) -> set[str] | None:
    """The member names of a zip archive, or None when it is broken."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _classify_zip(data: bytes) -> str:
    """Classify a zip as "docx", "other" (readable, but e.g. an xlsx) or "broken"."""
    names = _zip_names(data)
    if names is None:
        return "broken"
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return "docx"
    return "other"


_HTML_DOCUMENT_START = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S
)
_HTML_TAG = re.compile(
    r"</?(?:a|b|i|u|p|br|hr|h[1-6]|div|span|ul|ol|li|dl|dt|dd|table|thead|tbody|tr|td|th"
    r"|em|strong|img|section|article|blockquote|pre|code|body|head|title|meta|link|script"
    r"|style|iframe|figure|figcaption|nav|header|footer|main)\b[^>]*>",
    re.I,
)


def _classify_text(text: str, name: str) -> str:
    stripped = text.lstrip()
    if _HTML_DOCUMENT_START.match(stripped):
        return HTML
    if name.lower().endswith(_MARKDOWN_SUFFIXES):
        return MARKDOWN
    if _looks_like_html_fragment(stripped):
        return HTML
    return TEXT


def _looks_like_html_fragment(text: str) -> bool:
    """Canvas descriptions and saved pages are often bare fragments like ``<p>...</p>``."""
    if text.startswith("<") and _HTML_TAG.match(text):
        return True
    tags = _HTML_TAG.findall(text)
    markup_chars = sum(len(tag) for tag in tags)
    return len(tags) >= 3 and markup_chars >= 0.25 * len(text)


_BOM_ENCODINGS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Whitespace controls are fine in text; any other C0 control (or DEL) means binary.
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A non-ASCII symbol between two letters ("wor³d"): bytes of another encoding read as
# Windows-1252. Typographic apostrophes and dashes do sit inside words.
_SYMBOL_INSIDE_WORD = re.compile(r"(?<=[^\W\d_])(?![’‘·–—])[^\w\s\x00-\x7f](?=[^\W\d_])")
# In French, German or Spanish text most letters are still plain ASCII; Cyrillic or Greek
# bytes read as Windows-1252 come out as nothing but accented letters ("Ýññå").
_MAX_ACCENTED_SHARE = 0.3


def _decode_text(data: bytes, *, final: bool = True) -> str | None:
    """Decode bytes that are really text, or None for binary data.

    A byte order mark decides; otherwise UTF-8, then the legacy encodings. ``final=False``
    decodes a prefix, where a multi-byte character may be cut off.
    """
    bom_encoding = next(
        (encoding for bom, encoding in _BOM_ENCODINGS if data.startswith(bom)), None
    )
    if bom_encoding is not None:
        text = _decode_as(data, bom_encoding, final=final)
    elif b"\x00" in data:
        return None  # binary (UTF-16 without a byte order mark is not guessed at)
    else:
        text = _decode_as(data, "utf-8", final=final)
        if text is None:
            text = _decode_legacy(data, final=final)
    return text if text is not None and _looks_like_text(text) else None


def _decode_as(data: bytes, encoding: str, *, final: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError:
        return None


def _decode_legacy(data: bytes, *, final: bool) -> str | None:
    """Text in a legacy 8-bit or East Asian encoding.

    Windows-1252 (a superset of Latin-1's printable characters) is tried first: it is by
    far the most common for Western course material, and statistical detectors often
    mistake it for a neighbour (cp1250 turns "è" into "č"). Anything it cannot read
    plausibly goes to charset-normalizer (Cyrillic, Greek, Shift-JIS, GBK, ...).
    """
    western = _decode_as(data, "cp1252", final=True)
    if western is not None and _reads_as_western(western[:_SNIFF_BYTES]):
        return western
    if not final:
        # Cut at a newline: no East Asian encoding uses that byte inside a character.
        cut = data.rfind(b"\n")
        data = data[:cut] if cut > 0 else data
    match = charset_normalizer.from_bytes(data).best()
    return str(match) if match is not None else None


def _reads_as_western(text: str) -> bool:
    letters = accented = 0
    for character in text:
        if character.isalpha():
            letters += 1
            accented += not character.isascii()
    if accented > letters * _MAX_ACCENTED_SHARE:
        return False
    return _SYMBOL_INSIDE_WORD.search(text) is None


def _looks_like_text(text: str) -> bool:
    if "\x00" in text:
        return False
    # Old files sometimes carry a stray control character (a DOS EOF, an escape);
    # binary data has them everywhere.
    return len(_BINARY_CONTROL.findall(text)) <= len(text) // 1000


_OTHER_FORMATS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.doc, .xls or .ppt)"),
    (b"{\\rtf", "an RTF document"),
)
_ZIP_FORMATS = (
    ("xl/workbook.xml", "an Excel workbook"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
)


def _unsupported_message(data: bytes) -> str:
    """Say what a refused file is, when it is something common, so a misnamed file
    (a photo saved as "handout.pdf") is obvious to the reader."""
    kind = next((label for magic, label in _OTHER_FORMATS if data.startswith(magic)), None)
    if kind is None and data.startswith(_ZIP_MAGIC):
        names = _zip_names(data) or set()
        kind = next((label for member, label in _ZIP_FORMATS if member in names), "a zip archive")
    allowed = "only PDF, Word (.docx), HTML, Markdown and plain text files are read."
    if kind is None:
        return f"This type of file is not supported; {allowed}"
    return f"The file is {kind}, which is not supported; {allowed}"


_FAMILIES = {PDF: "a PDF", DOCX: "a Word document", HTML: "text", TEXT: "text", MARKDOWN: "text"}
_SUFFIX_TYPES = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".html": HTML,
    ".htm": HTML,
    ".txt": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
}
# Declared types that say nothing about the content.
_GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/x-download"}
)


def type_mismatch(name: str, declared_type: str | None, content_type: str) -> str | None:
    """How the file's name or declared type contradicts what its bytes are, or None.

    ``content_type`` is the detected type of a file that was read; HTML, Markdown and
    plain text count as one kind ("text").
    """
    actual = _FAMILIES[content_type]
    claims: list[str] = []
    suffix_type = _SUFFIX_TYPES.get(PurePath(name).suffix.lower())
    if suffix_type is not None:
        claims.append(_FAMILIES[suffix_type])
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _GENERIC_TYPES:
        claims.append(_FAMILIES.get(declared, declared))
    claimed = next((claim for claim in claims if claim != actual), None)
    if claimed is None:
        return None
    return (
        f"Its name or declared type says {claimed}, but the content is {actual}; "
        f"it was read as {actual}."
    )


# --------------------------------------------------------------------------- extraction


def extract_text_sync(data: bytes, limits: ExtractionLimits, name: str = "") -> ExtractedText:
    """Extract the text of one file. CPU-bound and blocking, and unbounded in time and
    memory: ``DocumentExtractor`` runs it in a worker process that enforces both."""
    _check_size(data, limits)
    content_type = detect_content_type(data, name)
    if content_type == PDF:
        return _extract_pdf(data, limits)
    if content_type == DOCX:
        return _extract_docx(data, limits)
    if content_type in (HTML, TEXT, MARKDOWN):
        return _extract_plain(data, content_type, limits)
    if data.startswith(_ZIP_MAGIC) and _classify_zip(data) == "broken":
        raise ExtractionFailed("corrupt", "The file is a damaged archive and could not be read.")
    raise ExtractionFailed("unsupported_type", _unsupported_message(data))


def _check_size(data: bytes, limits: ExtractionLimits) -> None:
    if len(data) > limits.max_file_bytes:
        raise ExtractionFailed(
            "too_large",
            f"The file is {_human_size(len(data))}, over the "
            f"{_human_size(limits.max_file_bytes)} limit per file.",
        )


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


@contextmanager
def _parse_errors_as(message: str) -> Iterator[None]:
    """Report any parser crash as a corrupt file.

    pypdf and python-docx raise dozens of exception types on malformed input (KeyError,
    ValueError, zlib and lxml errors...); for untrusted files they all mean "damaged".
    Running out of memory is left to the worker, which reports it as such.
    """
    try:
        yield
    except (ExtractionFailed, MemoryError):
        raise
    except LimitReachedError as exc:
        raise ExtractionFailed(
            "too_complex",
            "The file is built in a way that exceeds the reader's safety limits "
            "(far too many objects or operations), so it was not read.",
        ) from exc
    except Exception as exc:
        raise ExtractionFailed("corrupt", message) from exc


class _TextBuilder:
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


def _clean_text(text: str) -> str:
    """Normalize line endings and blank lines; keep indentation (Markdown needs it)."""
    text = _LINE_ENDINGS.sub("\n", text)
    text = _BINARY_CONTROL.sub("", text).replace("\x0c", "\n")
    text = _TRAILING_SPACES.sub("\n", text)
    return _EXTRA_BLANK_LINES.sub("\n\n", text).strip()


def _collapse_spaces(text: str) -> str:
    return " ".join(text.split())


# ---- PDF


def _extract_pdf(data: bytes, limits: ExtractionLimits) -> ExtractedText:
    builder = _TextBuilder(limits.max_chars)
    with _parse_errors_as("The PDF is damaged or incomplete and could not be read."):
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

    plain = _clean_text(page.extract_text(visitor_text=remember_start))
    try:
        if not _may_have_columns(starts, page):
            return plain
        columns = _columns_in_reading_order(page.extract_text(extraction_mode="layout"))
    except MemoryError:
        raise
    except Exception:  # layout mode is pypdf's younger code path: plain text still stands
        return plain
    return _clean_text(columns) if columns is not None else plain


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


# ---- DOCX


def _extract_docx(data: bytes, limits: ExtractionLimits) -> ExtractedText:
    _refuse_zip_bomb(data, limits)
    builder = _TextBuilder(limits.max_chars)
    with _parse_errors_as("The Word document is damaged and could not be read."):
        document = docx.Document(io.BytesIO(data))
        reader = _WordReader(document)
        headers = reader.margin_texts(qn("w:headerReference"))
        footers = reader.margin_texts(qn("w:footerReference"))
        for header in headers:
            builder.add(header, part="header")
        paragraph_number = 0
        previous_was_list_item = False
        for block in reader.blocks(document.element.body):
            paragraph_number += 1
            # Items of one list stay on consecutive lines, like they read on the page.
            separator = "\n" if block.is_list_item and previous_was_list_item else "\n\n"
            if not builder.add(block.text, paragraph=paragraph_number, separator=separator):
                break
            previous_was_list_item = block.is_list_item
        for kind, title in (("footnote", "Footnotes"), ("endnote", "Endnotes")):
            notes = reader.referenced_notes(kind)
            if notes:
                builder.add(title, part=kind)
            for note in notes:
                builder.add(note, part=kind, separator="\n")
        for footer in footers:
            builder.add(footer, part="footer")
    if not builder.segments:
        raise ExtractionFailed("no_text", "The Word document contains no text.")
    return ExtractedText(
        content_type=DOCX,
        text=builder.text,
        segments=builder.segments,
        truncated_reason=builder.truncated_reason,
    )


def _refuse_zip_bomb(data: bytes, limits: ExtractionLimits) -> None:
    """Judge the archive by its central directory before anything is unpacked.

    Python's zipfile never inflates a member past its declared size (and fails the CRC
    if the data claims otherwise), so the declared sizes are a safe bound.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractionFailed("corrupt", "The Word document is damaged.") from exc
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    ratio = limits.max_compression_ratio
    too_big = unpacked > limits.max_docx_uncompressed_bytes
    too_dense = unpacked > _ZIP_RATIO_FLOOR_BYTES and unpacked > packed * ratio
    if too_big or too_dense or len(members) > _MAX_ZIP_MEMBERS:
        raise ExtractionFailed(
            "zip_bomb",
            f"The Word document would unpack to {_human_size(unpacked)} in "
            f"{len(members)} parts, beyond the safe limit "
            f"({_human_size(limits.max_docx_uncompressed_bytes)}, at most "
            f"{ratio}:1 compression), so it was not opened.",
        )


class _Block(NamedTuple):
    text: str
    is_list_item: bool = False


_W_P = qn("w:p")
_W_TBL = qn("w:tbl")
_W_TR = qn("w:tr")
_W_TC = qn("w:tc")
_W_T = qn("w:t")
_W_TXBX_CONTENT = qn("w:txbxContent")
_NOTE_REFERENCES = {qn("w:footnoteReference"): "footnote", qn("w:endnoteReference"): "endnote"}
_INLINE_SPACES = frozenset(qn(tag) for tag in ("w:tab", "w:ptab", "w:br", "w:cr"))
_W_NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Never read: deleted or moved-away text (tracked changes), the duplicate legacy copy of
# a drawing, property containers, field instructions.
_NOT_TEXT = frozenset(
    {
        qn("w:del"),
        qn("w:moveFrom"),
        _MC_FALLBACK,
        qn("w:pPr"),
        qn("w:rPr"),
        qn("w:sectPr"),
        qn("w:tblPr"),
        qn("w:trPr"),
        qn("w:tcPr"),
        qn("w:instrText"),
    }
)
_PAGE_NUMBER = re.compile(r"[-–— ]*(?:page\s*)?\d+(?:\s*(?:of|/)\s*\d+)?[-–— ]*", re.I)


class _WordReader:
    """A Word document's text in reading order, from its XML.

    python-docx's ``paragraph.text`` only sees a paragraph's direct runs, so it misses
    tracked insertions, content controls, text boxes and note references; this walks
    the XML instead and uses python-docx to open the package and find the parts.
    """

    def __init__(self, document: DocxDocument) -> None:
        self._document = document
        self._numbering = _ListNumbering(document)
        self._notes = {
            "footnote": _notes(document, RELATIONSHIP_TYPE.FOOTNOTES, "w:footnote"),
            "endnote": _notes(document, RELATIONSHIP_TYPE.ENDNOTES, "w:endnote"),
        }
        # Note id -> the number shown for it: notes are numbered by first reference.
        self._note_numbers: dict[str, dict[str, int]] = {"footnote": {}, "endnote": {}}

    def blocks(self, container: _Element) -> Iterator[_Block]:
        """Paragraphs and tables, in order, with text boxes after their anchor paragraph."""
        for child in container.iterchildren():
            if child.tag == _W_P:
                yield from self._paragraph(child)
            elif child.tag == _W_TBL:
                table = self._table(child)
                if table:
                    yield _Block(table)
            elif child.tag not in _NOT_TEXT:  # content controls, custom XML: look inside
                yield from self.blocks(child)

    def margin_texts(self, reference_tag: str) -> list[str]:
        """The distinct texts of the headers (or footers) that carry more than a page
        number, in section order."""
        related = self._document.part.related_parts
        texts: list[str] = []
        seen: set[int] = set()
        for section in self._document.element.body.iter(qn("w:sectPr")):
            for reference in section.iterchildren(reference_tag):
                part = related.get(reference.get(qn("r:id")))
                if part is None or id(part) in seen:
                    continue
                seen.add(id(part))
                for block in self.blocks(part.element):
                    if block.text not in texts and not _PAGE_NUMBER.fullmatch(block.text):
                        texts.append(block.text)
        return texts

    def referenced_notes(self, kind: str) -> list[str]:
        """The notes the text referred to, each as "[number] text", in number order."""
        notes: list[str] = []
        for note_id, number in self._note_numbers[kind].items():
            element = self._notes[kind].get(note_id)
            text = " ".join(b.text for b in self.blocks(element)) if element is not None else ""
            if text:
                notes.append(f"{_note_marker(kind, number)} {text}")
        return notes

    def _paragraph(self, paragraph: _Element) -> Iterator[_Block]:
        pieces: list[str] = []
        text_boxes: list[_Element] = []
        self._collect_inline(paragraph, pieces, text_boxes)
        text = _collapse_spaces("".join(pieces))
        if text:
            marker = self._numbering.marker(paragraph)
            yield _Block(marker + text, is_list_item=bool(marker))
        for text_box in text_boxes:
            yield from self.blocks(text_box)

    def _collect_inline(
        self, element: _Element, pieces: list[str], text_boxes: list[_Element]
    ) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if tag == _W_T:
                pieces.append(child.text or "")
            elif tag in _INLINE_SPACES:
                pieces.append(" ")
            elif tag == _W_NO_BREAK_HYPHEN:
                pieces.append("-")
            elif tag in _NOTE_REFERENCES:
                pieces.append(self._reference(_NOTE_REFERENCES[tag], child.get(qn("w:id"), "")))
            elif tag == _W_TXBX_CONTENT:
                text_boxes.append(child)
            elif tag not in _NOT_TEXT:  # runs, insertions, hyperlinks, fields, drawings
                self._collect_inline(child, pieces, text_boxes)

    def _reference(self, kind: str, note_id: str) -> str:
        numbers = self._note_numbers[kind]
        number = numbers.setdefault(note_id, len(numbers) + 1)
        return _note_marker(kind, number)

    def _table(self, table: _Element) -> str:
        """One line per row, cells joined by " | "; a merged cell is listed once."""
        lines: list[str] = []
        for row in table.iterchildren(_W_TR):
            cells = [
                " ".join(block.text for block in self.blocks(cell))
                for cell in row.iterchildren(_W_TC)
            ]
            if any(cells):
                lines.append(" | ".join(cells))
        return "\n".join(lines)


def _notes(document: DocxDocument, reltype: str, tag: str) -> dict[str, _Element]:
    """Footnotes or endnotes by id (python-docx has no API for them: parse the part)."""
    for relationship in document.part.rels.values():
        if relationship.reltype == reltype and not relationship.is_external:
            root = parse_xml(relationship.target_part.blob)
            return {note.get(qn("w:id"), ""): note for note in root.iterchildren(qn(tag))}
    return {}


def _note_marker(kind: str, number: int) -> str:
    # Word's defaults: footnotes 1, 2, 3; endnotes i, ii, iii.
    return f"[{number}]" if kind == "footnote" else f"[{_roman(number)}]"


def _roman(number: int) -> str:
    numerals = (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    )  # fmt: skip
    result = ""
    for value, numeral in numerals:
        count, number = divmod(number, value)
        result += numeral * count
    return result


class _ListNumbering:
    """Renders Word list paragraphs as "- item" or "1. item", numbered the way Word
    numbers them (per list definition, nested levels restart)."""

    _LEVELS = 9  # Word supports list levels 0-8

    def __init__(self, document: DocxDocument) -> None:
        self._formats = _numbering_formats(document)
        self._styles = document.styles.element
        self._counters: dict[str, list[int]] = {}

    def marker(self, paragraph: _Element) -> str:
        found = self._numbering_of(paragraph)
        if found is None:
            return ""
        num_id, level = found
        level = min(max(level, 0), self._LEVELS - 1)
        indent = "  " * level
        if self._formats.get((num_id, level), "bullet") in ("bullet", "none"):
            return f"{indent}- "
        counters = self._counters.setdefault(num_id, [0] * self._LEVELS)
        counters[level] += 1
        counters[level + 1 :] = [0] * (self._LEVELS - level - 1)
        return f"{indent}{counters[level]}. "

    def _numbering_of(self, paragraph: _Element) -> tuple[str, int] | None:
        """(numId, level) of a list paragraph, from its own properties or its style's.

        python-docx has no public numbering API, so this reads the underlying XML.
        """
        properties = paragraph.find(qn("w:pPr"))
        candidates = [properties]
        style_id = _child_value(properties, "w:pStyle")
        style = self._styles.get_by_id(style_id) if style_id else None
        seen: set[str] = set()
        # "List Bullet" etc. carry the numbering on the style or one it is based on.
        while style is not None and style.styleId not in seen:
            seen.add(style.styleId)
            candidates.append(style.pPr)
            based_on = style.basedOn_val
            style = self._styles.get_by_id(based_on) if based_on else None
        for candidate in candidates:
            num_pr = candidate.find(qn("w:numPr")) if candidate is not None else None
            num_id = _child_value(num_pr, "w:numId")
            if num_id is None:
                continue
            if num_id == "0":  # numId 0 explicitly switches numbering off
                return None
            level = _child_value(num_pr, "w:ilvl") or "0"
            return num_id, int(level) if level.isdigit() else 0
        return None


def _child_value(element: _Element | None, tag: str) -> str | None:
    """The ``w:val`` of ``element``'s child ``tag``, if both exist."""
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val")) if child is not None else None


def _numbering_formats(document: DocxDocument) -> dict[tuple[str, int], str]:
    """numFmt ("bullet", "decimal", ...) for each (numId, level) in numbering.xml."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract_formats: dict[str, dict[int, str]] = {}
    for abstract in numbering.iterchildren(qn("w:abstractNum")):
        levels: dict[int, str] = {}
        for level in abstract.iterchildren(qn("w:lvl")):
            num_fmt = level.find(qn("w:numFmt"))
            if num_fmt is not None:
                levels[int(level.get(qn("w:ilvl"), "0"))] = num_fmt.get(qn("w:val"), "")
        abstract_formats[abstract.get(qn("w:abstractNumId"), "")] = levels
    formats: dict[tuple[str, int], str] = {}
    for num in numbering.num_lst:
        levels = abstract_formats.get(str(num.abstractNumId.val), {})
        for level, num_fmt in levels.items():
            formats[(str(num.numId), level)] = num_fmt
    return formats


# ---- HTML, Markdown and plain text


def _extract_plain(data: bytes, content_type: str, limits: ExtractionLimits) -> ExtractedText:
    decoded = _decode_text(data)
    if decoded is None:  # the sniffed start was text, but the rest is not
        raise ExtractionFailed("unsupported_type", "The file is not a readable text file.")
    text = html_to_text(decoded) if content_type == HTML else _clean_text(decoded)
    builder = _TextBuilder(limits.max_chars)
    builder.add(text)
    if not builder.segments:
        raise ExtractionFailed("no_text", "The file contains no text.")
    return ExtractedText(
        content_type=content_type,
        text=builder.text,
        segments=builder.segments,
        truncated_reason=builder.truncated_reason,
    )


def html_to_text(html: str) -> str:
    """Readable text from HTML: headings and paragraphs as blocks separated by a blank
    line, list items as "- item" / "1. item", table rows as "cell | cell"."""
    parser = _HtmlTextParser()
    parser.feed(html)
    parser.close()
    return parser.text()


def _image_text(attrs: dict[str, str | None]) -> str:
    """What an image says in text: an equation's formula (Canvas's equation editor keeps
    it in ``data-equation-content``, and in the alt text as "LaTeX: ..."), else its alt
    text. Decorative images (empty alt) say nothing."""
    formula = attrs.get("data-equation-content") or ""
    alt = (attrs.get("alt") or "").strip()
    if not formula and "equation_image" in (attrs.get("class") or "").split():
        formula = alt.removeprefix("LaTeX:").strip()
    if formula.strip():
        return f" [Equation: {_collapse_spaces(formula)}] "
    return f" [Image: {_collapse_spaces(alt)}] " if alt else ""


class _HtmlTextParser(HTMLParser):
    _SKIPPED = frozenset({"script", "style", "noscript", "template", "title", "svg"})
    _BLOCKS = frozenset(
        {
            "p", "div", "section", "article", "header", "footer", "main", "nav", "aside",
            "blockquote", "pre", "address", "figure", "figcaption", "form", "fieldset",
            "dl", "dt", "dd", "hr", "details", "summary", "caption",
            "h1", "h2", "h3", "h4", "h5", "h6",
        }
    )  # fmt: skip
    _LISTS = frozenset({"ul", "ol"})
    _CELLS = frozenset({"td", "th"})
    # MathML annotations that hold the formula as written (Canvas's equation editor: LaTeX).
    _FORMULA_ENCODINGS = frozenset({"application/x-tex", "text/x-latex", "latex"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # Inside <math>: its alttext, the formula annotation's text, the rendered text.
        self._math: list[str] | None = None
        self._in_annotation = False
        self._lines: list[str] = []
        self._inline: list[str] = []
        self._marker = ""  # a list marker waiting for its item's first text
        self._lists: list[list[int]] = []  # per open list: [is_ordered, last number]
        self._skip_depth = 0
        self._pre_depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._math is not None:
            self._in_annotation = tag == "annotation" and (
                (dict(attrs).get("encoding") or "").lower() in self._FORMULA_ENCODINGS
            )
        elif tag in self._SKIPPED:
            self._skip_depth += 1
        elif tag == "img":
            self._inline_text(_image_text(dict(attrs)))
        elif tag == "math":
            self._math = [dict(attrs).get("alttext") or "", "", ""]
        elif tag == "tr":
            self._close_row()
            self._row = []
        elif tag in self._CELLS:
            self._close_cell()
            self._cell = []
        elif self._cell is not None:
            if tag in self._BLOCKS or tag in ("br", "li"):
                self._cell.append(" ")  # a table row stays on one line
        elif tag == "table":
            self._block_break()
        elif tag in self._LISTS:
            self._block_break()
            self._lists.append([tag == "ol", _ordered_start(attrs) - 1])
        elif tag == "li":
            self._start_list_item()
        elif tag == "br":
            self._flush()
        elif tag in self._BLOCKS:
            self._block_break()
            if tag == "pre":
                self._pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._math is not None:
            self._in_annotation = False
            if tag == "math":
                alttext, annotation, rendered = self._math
                self._math = None
                formula = _collapse_spaces(alttext or annotation or rendered)
                self._inline_text(f" [Equation: {formula}] " if formula else "")
        elif tag in self._SKIPPED:
            self._skip_depth = max(self._skip_depth - 1, 0)
        elif tag in self._CELLS:
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag == "table":
            self._close_row()
            self._block_break()
        elif self._cell is not None:
            return
        elif tag in self._LISTS:
            self._flush()
            if self._lists:
                self._lists.pop()
            self._block_break()
        elif tag == "li":
            self._flush()
        elif tag in self._BLOCKS:
            if tag == "pre":
                self._pre_depth = max(self._pre_depth - 1, 0)
            self._block_break()

    def handle_data(self, data: str) -> None:
        if self._math is not None:
            self._math[1 if self._in_annotation else 2] += data
            return
        self._inline_text(data)

    def _inline_text(self, data: str) -> None:
        if not data or self._skip_depth:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._pre_depth:
            first, *rest = data.split("\n")
            self._inline.append(first)
            for line in rest:
                self._flush(keep_spaces=True)
                self._inline.append(line)
        else:
            self._inline.append(data)

    # -- output

    def text(self) -> str:
        self._close_row()
        self._flush()
        return "\n".join(self._lines).strip("\n")

    def _flush(self, *, keep_spaces: bool = False) -> None:
        raw = "".join(self._inline)
        self._inline.clear()
        line = raw.rstrip() if keep_spaces else _collapse_spaces(raw)
        if line:
            self._lines.append(self._marker + line)
            self._marker = ""

    def _block_break(self) -> None:
        """End the current block; outside lists, leave a blank line after it."""
        self._flush()
        if not self._lists and self._lines and self._lines[-1]:
            self._lines.append("")

    def _start_list_item(self) -> None:
        self._flush()
        if not self._lists:  # a stray <li>: still an item
            self._marker = "- "
            return
        current = self._lists[-1]
        indent = "  " * (len(self._lists) - 1)
        if current[0]:
            current[1] += 1
            self._marker = f"{indent}{current[1]}. "
        else:
            self._marker = f"{indent}- "

    def _close_cell(self) -> None:
        if self._cell is not None:
            if self._row is None:  # a cell without <tr>: start the row it implies
                self._flush()
                self._row = []
            self._row.append(_collapse_spaces("".join(self._cell)))
            self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row is not None:
            if any(self._row):
                self._flush()
                self._lines.append(" | ".join(self._row))
            self._row = None


def _ordered_start(attrs: list[tuple[str, str | None]]) -> int:
    start = dict(attrs).get("start")
    return int(start) if start and start.strip().lstrip("-").isdigit() else 1


# --------------------------------------------------------------------------- async API


class DocumentExtractor:
    """Extracts attachments in worker processes, under a time and memory limit, with a
    bounded LRU cache keyed by content hash so the same bytes are never parsed twice.

    Use it as an async context manager (or call ``close``) to stop the workers.
    """

    def __init__(
        self, limits: ExtractionLimits, cache_entries: int = 256, workers: int = 2
    ) -> None:
        self.limits = limits
        self.cache_entries = cache_entries
        self.pool = WorkerPool(
            _WORKER_MODULE,
            size=workers,
            memory_limit_bytes=limits.max_memory_bytes,
            time_limit_seconds=limits.timeout_seconds,
        )
        # Files sent to a worker, and extractions answered without one (from the cache
        # or by joining a parse already in flight).
        self.parses = 0
        self.cache_hits = 0
        self._cache: OrderedDict[str, ExtractedText | ExtractionFailed] = OrderedDict()
        self._in_flight: dict[str, asyncio.Task[ExtractedText]] = {}

    async def __aenter__(self) -> DocumentExtractor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.pool.close()

    async def extract(
        self, *, source_id: str, name: str, data: bytes, declared_type: str | None = None
    ) -> SourceDocument:
        """The file's text as a source document; ``declared_type`` is what the file's
        host said it is (kept for the record; the content decides)."""
        _check_size(data, self.limits)  # refuse before spending time hashing it
        digest = await _sha256(data)
        extracted = await self._extracted(_cache_key(digest, name), data, name)
        return SourceDocument(
            source_id=source_id,
            name=name,
            content_type=extracted.content_type,
            byte_size=len(data),
            sha256=digest,
            text=extracted.text,
            # Copies: callers may edit their document without touching the cache.
            segments=[segment.model_copy() for segment in extracted.segments],
            truncated=extracted.truncated,
            truncated_reason=extracted.truncated_reason,
            declared_type=declared_type,
        )

    async def _extracted(self, key: str, data: bytes, name: str) -> ExtractedText:
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            if isinstance(cached, ExtractionFailed):
                raise ExtractionFailed(cached.code, cached.message)
            return cached
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.create_task(self._parse(key, data, name))
            self._in_flight[key] = task
            task.add_done_callback(partial(self._forget_in_flight, key))
        else:
            self.cache_hits += 1
        # Shielded: one caller giving up must not cancel the parse others wait for.
        return await asyncio.shield(task)

    async def _parse(self, key: str, data: bytes, name: str) -> ExtractedText:
        self.parses += 1
        try:
            extracted = await self._parse_in_worker(data, name)
        except ExtractionFailed as failure:
            # Same bytes, same verdict: remember it, except a timeout, which may
            # only mean the machine was busy.
            if failure.code != "timeout":
                self._remember(key, failure)
            raise
        self._remember(key, extracted)
        return extracted

    async def _parse_in_worker(self, data: bytes, name: str) -> ExtractedText:
        limits = self.limits
        request = {"name": name, "limits": asdict(limits)}
        try:
            reply = await self.pool.call(request, data)
        except TimeoutError:
            raise ExtractionFailed(
                "timeout",
                f"Reading the file took longer than {limits.timeout_seconds:g} seconds, "
                "so it was stopped.",
            ) from None
        except WorkerOutOfMemory:
            raise ExtractionFailed(
                "memory_limit",
                f"Reading the file needed more than the "
                f"{_human_size(limits.max_memory_bytes)} of memory allowed, so it was stopped.",
            ) from None
        except WorkerCrashed:
            raise ExtractionFailed(
                "reader_crashed", "The reader stopped unexpectedly on this file."
            ) from None
        if "failed" in reply:
            raise ExtractionFailed(reply["failed"]["code"], reply["failed"]["message"])
        return ExtractedText.model_validate(reply["extracted"])

    def _remember(self, key: str, result: ExtractedText | ExtractionFailed) -> None:
        if self.cache_entries <= 0:
            return
        self._cache[key] = result
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_entries:
            self._cache.popitem(last=False)

    def _forget_in_flight(self, key: str, task: asyncio.Task[ExtractedText]) -> None:
        self._in_flight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it if nobody awaited


def _cache_key(digest: str, name: str) -> str:
    # The name only matters for Markdown vs plain text; everything else is the bytes.
    return f"{digest}:md" if name.lower().endswith(_MARKDOWN_SUFFIXES) else digest


async def _sha256(data: bytes) -> str:
    if len(data) < _HASH_OFF_LOOP_BYTES:
        return hashlib.sha256(data).hexdigest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())


__all__ = [
    "DOCX",
    "HTML",
    "MARKDOWN",
    "PDF",
    "TEXT",
    "DocumentExtractor",
    "ExtractedText",
    "ExtractionFailed",
    "ExtractionLimits",
    "detect_content_type",
    "extract_text_sync",
    "html_to_text",
    "type_mismatch",
]
