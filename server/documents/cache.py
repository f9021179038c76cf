"""Extraction results kept by content hash: a bounded LRU of texts and verdicts."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict

from server.documents.extracted import ExtractedText
from server.documents.failures import ExtractionFailed
from server.documents.sniffing import MARKDOWN_SUFFIXES

# Hashing is fast, but not free: offload big inputs so the event loop keeps serving.
_HASH_OFF_LOOP_BYTES = 1024 * 1024


def cache_key(digest: str, name: str) -> str:
    # The name only matters for Markdown vs plain text; everything else is the bytes.
    return f"{digest}:md" if name.lower().endswith(MARKDOWN_SUFFIXES) else digest


async def sha256_digest(data: bytes) -> str:
    if len(data) < _HASH_OFF_LOOP_BYTES:
        return hashlib.sha256(data).hexdigest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())


class ExtractionCache:
    """The latest ``entries`` results by key, texts and failures alike (same bytes, same
    verdict); the least recently used goes first. ``entries <= 0`` keeps nothing."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._results: OrderedDict[str, ExtractedText | ExtractionFailed] = OrderedDict()

    def get(self, key: str) -> ExtractedText | ExtractionFailed | None:
        result = self._results.get(key)
        if result is not None:
            self._results.move_to_end(key)
        return result

    def remember(self, key: str, result: ExtractedText | ExtractionFailed) -> None:
        if self.entries <= 0:
            return
        self._results[key] = result
        self._results.move_to_end(key)
        while len(self._results) > self.entries:
            self._results.popitem(last=False)
