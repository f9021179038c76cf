"""The extraction worker process: ``python -m server.documents.extraction_worker MEMORY_LIMIT``.

Started and killed by ``DocumentExtractor``'s worker pool (``server.documents.worker_pool``); it
reads one file per request and answers with the extracted text or the failure.
"""

from __future__ import annotations

import logging

from server.documents.extraction import extract_text_sync
from server.documents.failures import ExtractionFailed
from server.documents.limits import ExtractionLimits
from server.documents.worker_pool import JsonObject, serve


def extract(request: JsonObject, data: bytes) -> JsonObject:
    limits = ExtractionLimits(**request["limits"])
    try:
        extracted = extract_text_sync(data, limits, request["name"])
    except ExtractionFailed as failure:
        return {"failed": {"code": failure.code, "message": failure.message}}
    return {"extracted": extracted.model_dump(mode="json")}


def main() -> None:
    # pypdf warns about every oddity of a malformed file; the outcome is what matters.
    logging.basicConfig(level=logging.ERROR)
    serve(extract)


if __name__ == "__main__":
    main()
