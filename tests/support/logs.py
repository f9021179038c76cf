"""Everything the process logs, captured through the production JSON handler at DEBUG, for
tests that check what a log line says and that no secret is in one."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from server.kernel.logs import log_handler

# Libraries that log request URLs and connection details at DEBUG.
CHATTY_LOGGERS = ("httpx", "httpcore", "tortoise", "asyncio")


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged in this process, at DEBUG, through the production handler."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in CHATTY_LOGGERS)]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
