"""Text extraction from one attachment (decisions §7): the pure CPU part.

Files are allowed by what their bytes are, never by their name: PDF, DOCX, HTML, plain
text and Markdown. Every limit comes from the settings, and every way a file can fail
(encrypted, image-only, truncated, corrupt, a zip bomb, too slow, too hungry) ends in an
``ExtractionFailed`` with a stable code, so the planner can warn about that one file and
carry on with the rest. ``DocumentExtractor`` (``server.documents.extractor``) runs this
in worker processes.
"""

from __future__ import annotations

from server.documents.extracted import ExtractedText
from server.documents.failures import ExtractionFailed
from server.documents.limits import ExtractionLimits, check_size
from server.documents.pdf import extract_pdf
from server.documents.sniffing import (
    DOCX,
    HTML,
    MARKDOWN,
    PDF,
    TEXT,
    ZIP_MAGIC,
    classify_zip,
    detect_content_type,
    unsupported_message,
)
from server.documents.text_files import extract_plain
from server.documents.word import extract_docx


def extract_text_sync(data: bytes, limits: ExtractionLimits, name: str = "") -> ExtractedText:
    """Extract the text of one file. CPU-bound and blocking, and unbounded in time and
    memory: ``DocumentExtractor`` runs it in a worker process that enforces both."""
    check_size(data, limits)
    content_type = detect_content_type(data, name)
    if content_type == PDF:
        return extract_pdf(data, limits)
    if content_type == DOCX:
        return extract_docx(data, limits)
    if content_type in (HTML, TEXT, MARKDOWN):
        return extract_plain(data, content_type, limits)
    if data.startswith(ZIP_MAGIC) and classify_zip(data) == "broken":
        raise ExtractionFailed("corrupt", "The file is a damaged archive and could not be read.")
    raise ExtractionFailed("unsupported_type", unsupported_message(data))
