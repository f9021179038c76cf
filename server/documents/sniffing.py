"""What a file is, judged by its bytes, never by its name (decisions §7).

The allowed types are PDF, DOCX, HTML, plain text and Markdown; the name can only tell
Markdown from plain text. A refused file is described when it is something common, and a
name or declared type that contradicts the content is reported.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import PurePath

import charset_normalizer

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

_PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
# Type detection only needs the start of a text file; decoding all of a 25 MB file
# just to say "text" would make detection expensive.
_SNIFF_BYTES = 64 * 1024
MARKDOWN_SUFFIXES = (".md", ".markdown")


def detect_content_type(data: bytes, name: str = "") -> str | None:
    """The allowed content type of ``data``, or None when it is not on the allowlist.

    The name can only tell Markdown from plain text; it never makes bytes acceptable.
    """
    # Strictly at the start: a text file that merely mentions "%PDF-" stays text.
    if data[:1024].lstrip(b" \t\r\n").startswith(_PDF_MAGIC):
        return PDF
    if data.startswith(ZIP_MAGIC):
        return DOCX if classify_zip(data) == "docx" else None
    text = decode_text(data[:_SNIFF_BYTES], final=len(data) <= _SNIFF_BYTES)
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


def classify_zip(data: bytes) -> str:
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
    if name.lower().endswith(MARKDOWN_SUFFIXES):
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
BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A non-ASCII symbol between two letters ("wor³d"): bytes of another encoding read as
# Windows-1252. Typographic apostrophes and dashes do sit inside words.
_SYMBOL_INSIDE_WORD = re.compile(r"(?<=[^\W\d_])(?![’‘·–—])[^\w\s\x00-\x7f](?=[^\W\d_])")
# In French, German or Spanish text most letters are still plain ASCII; Cyrillic or Greek
# bytes read as Windows-1252 come out as nothing but accented letters ("Ýññå").
_MAX_ACCENTED_SHARE = 0.3


def decode_text(data: bytes, *, final: bool = True) -> str | None:
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
    return len(BINARY_CONTROL.findall(text)) <= len(text) // 1000


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


def unsupported_message(data: bytes) -> str:
    """Say what a refused file is, when it is something common, so a misnamed file
    (a photo saved as "handout.pdf") is obvious to the reader."""
    kind = next((label for magic, label in _OTHER_FORMATS if data.startswith(magic)), None)
    if kind is None and data.startswith(ZIP_MAGIC):
        names = _zip_names(data) or set()
        kind = next((label for member, label in _ZIP_FORMATS if member in names), "a zip archive")
    allowed = "only PDF, Word (.docx), HTML, Markdown and plain text files are read."
    if kind is None:
        return f"This type of file is not supported; {allowed}"
    return f"The file is {kind}, which is not supported; {allowed}"


FAMILIES = {PDF: "a PDF", DOCX: "a Word document", HTML: "text", TEXT: "text", MARKDOWN: "text"}
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
    actual = FAMILIES[content_type]
    claims: list[str] = []
    suffix_type = _SUFFIX_TYPES.get(PurePath(name).suffix.lower())
    if suffix_type is not None:
        claims.append(FAMILIES[suffix_type])
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _GENERIC_TYPES:
        claims.append(FAMILIES.get(declared, declared))
    claimed = next((claim for claim in claims if claim != actual), None)
    if claimed is None:
        return None
    return (
        f"Its name or declared type says {claimed}, but the content is {actual}; "
        f"it was read as {actual}."
    )
