"""Logging: one JSON object a line, with the request and job it belongs to, and no secret.

The request id (set by the HTTP middleware, ``rest/observability.py``) and the job id (set
where a job starts running, ``jobs/execute.py``) live in context variables, so every line
logged while handling that request or running that job carries them, whichever module
logs it, and tasks a job starts inherit them.

The code never logs a Canvas token, a JWT or a stream token on purpose; the redaction
filter is the second line of defence for what libraries log (URLs with query strings,
exception texts).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, TextIO

from pythonjsonlogger.orjson import OrjsonFormatter

LogFormat = Literal["json", "text"]

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("job_id", default=None)

REDACTIONS = [
    # Stream tokens, OAuth codes and states, and any other credential in a query string.
    (
        re.compile(
            r"((?:access_token|token|api_key|key|code|state|client_secret)=)[^&\s\"']+",
            re.IGNORECASE,
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    # JWTs anywhere (header.payload.signature, base64url).
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[redacted-jwt]"),
    # Calendar feed tokens anywhere (server/calendar/service.py gives them this prefix).
    (re.compile(r"cwcal_[A-Za-z0-9_-]+"), "[redacted-calendar-token]"),
    # Canvas access tokens: "<account shard>~<64 letters and digits>".
    (re.compile(r"\b\d+~[A-Za-z0-9]{20,}"), "[redacted-canvas-token]"),
]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


# What every secret the patterns above match holds, lowercased: "=" (a query string's),
# "bearer", "eyj" (a JWT's header), "cwcal_", "~" (a Canvas token's). Most texts hold none of
# them, and then a few substring tests are all redaction costs: the patterns' search took
# 4-5 µs a text, several times per access log line.
_SECRET_MARKERS = ("=", "~", "bearer", "eyj", "cwcal_")


def redact(text: str) -> str:
    lowered = text.lower()
    if not any(marker in lowered for marker in _SECRET_MARKERS):
        return text
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Removes secrets from a record before any formatter sees it: the message, the
    exception and stack texts, and string fields passed with ``extra=``."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Formatted once here: the formatter then finds the message made.
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info:
            # Formatted here, once, so no formatter formats the raw exception again.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        fields = vars(record)
        for key in fields.keys() - _RECORD_ATTRIBUTES:
            if isinstance(fields[key], str):
                fields[key] = redact(fields[key])
        return True


class LogContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` from the context to the record, when set."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in (("request_id", REQUEST_ID), ("job_id", JOB_ID)):
            value = variable.get()
            if value is not None:
                setattr(record, name, value)
        return True


@contextmanager
def log_context(*, request_id: str | None = None, job_id: str | None = None) -> Iterator[None]:
    """Lines logged inside the block (and in tasks started from it) carry these ids."""
    tokens = [
        (variable, variable.set(value))
        for variable, value in ((REQUEST_ID, request_id), (JOB_ID, job_id))
        if value is not None
    ]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def _formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return OrjsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
    return logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(job_id)s]: %(message)s",
        defaults={"request_id": "-", "job_id": "-"},
    )


def log_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing one event a line (JSON, or text for a terminal) to ``stream``
    (standard error by default), with the context ids added and secrets removed."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_formatter(log_format))
    handler.addFilter(LogContextFilter())
    handler.addFilter(RedactingFilter())
    return handler


def configure_logging(level: str, log_format: LogFormat = "json") -> None:
    # No line shows the caller's file and line, thread or process: not looking them up
    # for every record (the logging HOWTO's "Optimization") saves a few µs of each access
    # log line, the largest cost of a hot read above the bare route's.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [log_handler(log_format)]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # httpx logs every URL at INFO; Canvas file download URLs carry signed parameters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
