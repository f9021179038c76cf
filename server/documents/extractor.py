"""``DocumentExtractor``: extraction off the event loop, in worker processes
(``server.documents.extraction_worker``) that are killed at the time limit and capped in
memory, with results cached by content hash so planning the same files again does not
parse them again."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from functools import partial
from types import TracebackType

from models.context import SourceDocument
from server.documents.cache import ExtractionCache, cache_key, sha256_digest
from server.documents.extracted import ExtractedText
from server.documents.failures import ExtractionFailed
from server.documents.limits import ExtractionLimits, check_size, human_size
from server.documents.worker_pool import WorkerCrashed, WorkerOutOfMemory, WorkerPool

_WORKER_MODULE = "server.documents.extraction_worker"


class DocumentExtractor:
    """Extracts attachments in worker processes, under a time and memory limit, with a
    bounded LRU cache keyed by content hash so the same bytes are never parsed twice.

    Use it as an async context manager (or call ``close``) to stop the workers.
    """

    def __init__(
        self, limits: ExtractionLimits, cache_entries: int = 256, workers: int = 2
    ) -> None:
        self.limits = limits
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
        self._cache = ExtractionCache(cache_entries)
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
        check_size(data, self.limits)  # refuse before spending time hashing it
        digest = await sha256_digest(data)
        extracted = await self._extracted(cache_key(digest, name), data, name)
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
                self._cache.remember(key, failure)
            raise
        self._cache.remember(key, extracted)
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
                f"{human_size(limits.max_memory_bytes)} of memory allowed, so it was stopped.",
            ) from None
        except WorkerCrashed:
            raise ExtractionFailed(
                "reader_crashed", "The reader stopped unexpectedly on this file."
            ) from None
        if "failed" in reply:
            raise ExtractionFailed(reply["failed"]["code"], reply["failed"]["message"])
        return ExtractedText.model_validate(reply["extracted"])

    def _forget_in_flight(self, key: str, task: asyncio.Task[ExtractedText]) -> None:
        self._in_flight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it if nobody awaited
