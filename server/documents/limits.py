"""The limits on reading one attachment, all from the settings (decisions §7)."""

from __future__ import annotations

from dataclasses import dataclass

from server.documents.failures import ExtractionFailed
from server.kernel.settings import Settings


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


def check_size(data: bytes, limits: ExtractionLimits) -> None:
    if len(data) > limits.max_file_bytes:
        raise ExtractionFailed(
            "too_large",
            f"The file is {human_size(len(data))}, over the "
            f"{human_size(limits.max_file_bytes)} limit per file.",
        )


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"
