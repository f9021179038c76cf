"""Logging with a redaction filter: tokens never reach a log line.

The code never logs a Canvas token, a JWT or a stream token on purpose; this filter is the
second line of defence for what libraries log (uvicorn's access log prints query strings).
"""

from __future__ import annotations

import logging
import re

REDACTIONS = [
    # Stream tokens and any other credential passed in a query string.
    (
        re.compile(r"((?:access_token|token|api_key|key)=)[^&\s\"']+", re.IGNORECASE),
        r"\1[redacted]",
    ),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    # JWTs anywhere (header.payload.signature, base64url).
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[redacted-jwt]"),
]


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # httpx logs every URL at INFO; Canvas file download URLs carry signed parameters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
