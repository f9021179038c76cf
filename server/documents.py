"""Text extraction from assignment attachments (decisions §7).

Files are allowed by what their bytes are, never by their name: PDF, DOCX, HTML, plain
text and Markdown. Every limit comes from the settings, and every way a file can fail
(encrypted, image-only, truncated, corrupt, a zip bomb, too slow) ends in an
``ExtractionFailed`` with a stable code, so the planner can warn about that one file and
carry on with the rest.

``extract_text_sync`` is the pure CPU part. ``DocumentExtractor`` runs it off the event
loop with a time limit and caches results by content hash, so planning the same files
again does not parse them again.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import io
import re
import time
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PasswordType, PdfReader

from models.context import SourceDocument, TextSegment
from server.settings import Settings

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
# Type detection only needs the start of a text file; decoding all of a 25 MB file
# just to say "text" would make detection expensive for callers on the event loop.
_SNIFF_BYTES = 64 * 1024
_MARKDOWN_SUFFIXES = (".md", ".markdown")
# Real DOCX files compress about 3-20:1; far beyond that is a decompression bomb. Small
# archives are exempt because a tiny, very compressible file is harmless.
_MAX_ZIP_RATIO = 100
_ZIP_RATIO_FLOOR_BYTES = 1024 * 1024
_MAX_ZIP_MEMBERS = 5_000
# Hashing is fast, but not free: offload big inputs so the event loop keeps serving.
_HASH_OFF_LOOP_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ExtractionLimits:
    max_file_bytes: int
    max_pdf_pages: int
    max_chars: int
    timeout_seconds: float
    max_docx_uncompressed_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ExtractionLimits:
        return cls(
            max_file_bytes=settings.attachment_max_file_bytes,
            max_pdf_pages=settings.attachment_max_pdf_pages,
            max_chars=settings.attachment_max_chars,
            timeout_seconds=settings.attachment_timeout_seconds,
            max_docx_uncompressed_bytes=settings.attachment_max_docx_uncompressed_bytes,
        )


class ExtractionFailed(Exception):
    """A file that cannot be used. ``code`` is stable, ``message`` is for the user and
    leaves out the file name, which the caller adds."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ExtractedText:
    content_type: str
    text: str
    segments: list[TextSegment]
    truncated: bool


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


def _classify_zip(data: bytes) -> str:
    """Classify a zip as "docx", "other" (readable, but e.g. an xlsx) or "broken"."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
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


def _decode_text(data: bytes, *, final: bool = True) -> str | None:
    """Decode bytes that are really text, or None for binary data.

    ``final=False`` decodes a prefix, where a multi-byte character may be cut off.
    """
    encodings = next(
        ((encoding,) for bom, encoding in _BOM_ENCODINGS if data.startswith(bom)),
        ("utf-8", "cp1252"),
    )
    for encoding in encodings:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data, final=final)
        except UnicodeDecodeError:
            continue
        return text if _looks_like_text(text) else None
    return None


def _looks_like_text(text: str) -> bool:
    if "\x00" in text:
        return False
    # Old files sometimes carry a stray control character (a DOS EOF, an escape);
    # binary data has them everywhere.
    return len(_BINARY_CONTROL.findall(text)) <= len(text) // 1000


# --------------------------------------------------------------------------- extraction


def extract_text_sync(data: bytes, limits: ExtractionLimits, name: str = "") -> ExtractedText:
    """Extract the text of one file. CPU-bound and blocking: run it off the event loop."""
    _check_size(data, limits)
    deadline = _Deadline(limits.timeout_seconds)
    content_type = detect_content_type(data, name)
    if content_type == PDF:
        return _extract_pdf(data, limits, deadline)
    if content_type == DOCX:
        return _extract_docx(data, limits, deadline)
    if content_type in (HTML, TEXT, MARKDOWN):
        return _extract_plain(data, content_type, limits)
    if data.startswith(_ZIP_MAGIC) and _classify_zip(data) == "broken":
        raise ExtractionFailed("corrupt", "The file is a damaged archive and could not be read.")
    raise ExtractionFailed(
        "unsupported_type",
        "This type of file is not supported; only PDF, Word (.docx), HTML, Markdown and "
        "plain text files are read.",
    )


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


class _Deadline:
    """Lets a parse stop itself between pages: the async timeout abandons the worker
    thread but cannot stop it, and a runaway thread would keep a CPU busy."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._expires = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self._expires:
            raise _timeout_failure(self._seconds)


def _timeout_failure(seconds: float) -> ExtractionFailed:
    return ExtractionFailed("timeout", f"Reading the file took longer than {seconds:g} seconds.")


@contextmanager
def _parse_errors_as(message: str) -> Iterator[None]:
    """Report any parser crash as a corrupt file.

    pypdf and python-docx raise dozens of exception types on malformed input (KeyError,
    ValueError, zlib and lxml errors...); for untrusted files they all mean "damaged".
    """
    try:
        yield
    except ExtractionFailed:
        raise
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
            TextSegment(start=start, end=self._length, page=page, paragraph=paragraph)
        )
        return not self.truncated

    @property
    def text(self) -> str:
        return "".join(self._parts)


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


def _extract_pdf(data: bytes, limits: ExtractionLimits, deadline: _Deadline) -> ExtractedText:
    builder = _TextBuilder(limits.max_chars)
    with _parse_errors_as("The PDF is damaged or incomplete and could not be read."):
        reader = PdfReader(io.BytesIO(data))
        _unlock(reader)
        page_count = len(reader.pages)
        for index in range(min(page_count, limits.max_pdf_pages)):
            deadline.check()
            page_text = _clean_text(reader.pages[index].extract_text() or "")
            if not builder.add(page_text, page=index + 1):
                break
    if not builder.segments:
        raise ExtractionFailed(
            "no_text", "The PDF has no extractable text; it may be a scanned image."
        )
    truncated = builder.truncated or page_count > limits.max_pdf_pages
    return ExtractedText(PDF, builder.text, builder.segments, truncated)


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


# ---- DOCX


def _extract_docx(data: bytes, limits: ExtractionLimits, deadline: _Deadline) -> ExtractedText:
    _refuse_zip_bomb(data, limits)
    builder = _TextBuilder(limits.max_chars)
    with _parse_errors_as("The Word document is damaged and could not be read."):
        document = docx.Document(io.BytesIO(data))
        numbering = _ListNumbering(document)
        paragraph_number = 0
        previous_was_list_item = False
        for block in document.iter_inner_content():
            deadline.check()
            if isinstance(block, Table):
                text, is_list_item = _table_text(block), False
            else:
                text, is_list_item = _paragraph_text(block, numbering)
            if not text:
                continue
            paragraph_number += 1
            # Items of one list stay on consecutive lines, like they read on the page.
            separator = "\n" if is_list_item and previous_was_list_item else "\n\n"
            if not builder.add(text, paragraph=paragraph_number, separator=separator):
                break
            previous_was_list_item = is_list_item
    if not builder.segments:
        raise ExtractionFailed("no_text", "The Word document contains no text.")
    return ExtractedText(DOCX, builder.text, builder.segments, builder.truncated)


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
    too_big = unpacked > limits.max_docx_uncompressed_bytes
    too_dense = unpacked > _ZIP_RATIO_FLOOR_BYTES and unpacked > packed * _MAX_ZIP_RATIO
    if too_big or too_dense or len(members) > _MAX_ZIP_MEMBERS:
        raise ExtractionFailed(
            "zip_bomb",
            f"The Word document would unpack to {_human_size(unpacked)} in "
            f"{len(members)} parts, beyond the safe limit "
            f"({_human_size(limits.max_docx_uncompressed_bytes)}, at most "
            f"{_MAX_ZIP_RATIO}:1 compression), so it was not opened.",
        )


def _paragraph_text(paragraph: Paragraph, numbering: _ListNumbering) -> tuple[str, bool]:
    text = _collapse_spaces(paragraph.text)
    if not text:
        return "", False
    marker = numbering.marker(paragraph)
    return (marker + text, True) if marker else (text, False)


def _table_text(table: Table) -> str:
    """One line per row, cells joined by " | "; merged cells are listed once."""
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # python-docx repeats a horizontally merged cell once per grid column.
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(_collapse_spaces(cell.text))
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


class _ListNumbering:
    """Renders Word list paragraphs as "- item" or "1. item", numbered the way Word
    numbers them (per list definition, nested levels restart)."""

    _LEVELS = 9  # Word supports list levels 0-8

    def __init__(self, document: DocxDocument) -> None:
        self._formats = _numbering_formats(document)
        self._counters: dict[str, list[int]] = {}

    def marker(self, paragraph: Paragraph) -> str:
        found = _numbering_of(paragraph)
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


def _numbering_of(paragraph: Paragraph) -> tuple[str, int] | None:
    """(numId, level) of a list paragraph, from its own properties or its style's.

    python-docx has no public numbering API, so this reads the underlying XML.
    """
    candidates = [paragraph._p.pPr]
    style = paragraph.style
    while style is not None:  # "List Bullet" etc. carry the numbering on the style
        candidates.append(style.element.pPr)
        style = style.base_style
    for properties in candidates:
        num_pr = properties.numPr if properties is not None else None
        if num_pr is None or num_pr.numId is None:
            continue
        num_id = str(num_pr.numId.val)
        if num_id == "0":  # numId 0 explicitly switches numbering off
            return None
        level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        return num_id, level
    return None


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
    return ExtractedText(content_type, builder.text, builder.segments, builder.truncated)


def html_to_text(html: str) -> str:
    """Readable text from HTML: headings and paragraphs as blocks separated by a blank
    line, list items as "- item" / "1. item", table rows as "cell | cell"."""
    parser = _HtmlTextParser()
    parser.feed(html)
    parser.close()
    return parser.text()


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

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
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
        if tag in self._SKIPPED:
            self._skip_depth += 1
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
        if tag in self._SKIPPED:
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
        if self._skip_depth:
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
    """Extracts attachments off the event loop, under a time limit, with a bounded LRU
    cache keyed by content hash so the same bytes are never parsed twice."""

    def __init__(self, limits: ExtractionLimits, cache_entries: int = 256) -> None:
        self.limits = limits
        self.cache_entries = cache_entries
        # Extractions answered without parsing (from the cache or by joining one in flight).
        self.cache_hits = 0
        self._cache: OrderedDict[str, ExtractedText | ExtractionFailed] = OrderedDict()
        self._in_flight: dict[str, asyncio.Task[ExtractedText]] = {}

    async def extract(self, *, source_id: str, name: str, data: bytes) -> SourceDocument:
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
        timeout = self.limits.timeout_seconds
        try:
            extracted = await asyncio.wait_for(
                asyncio.to_thread(extract_text_sync, data, self.limits, name), timeout
            )
        except TimeoutError:
            raise _timeout_failure(timeout) from None
        except ExtractionFailed as failure:
            # Same bytes, same verdict: remember it, except a timeout, which may
            # only mean the machine was busy.
            if failure.code != "timeout":
                self._remember(key, failure)
            raise
        self._remember(key, extracted)
        return extracted

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
]
