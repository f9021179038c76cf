"""How reading a file fails: one exception with a stable code per way it can go wrong."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pypdf.errors import LimitReachedError


class ExtractionFailed(Exception):
    """A file that cannot be used. ``code`` is stable, ``message`` is for the user and
    leaves out the file name, which the caller adds."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@contextmanager
def parse_errors_as(message: str) -> Iterator[None]:
    """Report any parser crash as a corrupt file.

    pypdf and python-docx raise dozens of exception types on malformed input (KeyError,
    ValueError, zlib and lxml errors...); for untrusted files they all mean "damaged".
    Running out of memory is left to the worker, which reports it as such.
    """
    try:
        yield
    except (ExtractionFailed, MemoryError):
        raise
    except LimitReachedError as exc:
        raise ExtractionFailed(
            "too_complex",
            "The file is built in a way that exceeds the reader's safety limits "
            "(far too many objects or operations), so it was not read.",
        ) from exc
    except Exception as exc:
        raise ExtractionFailed("corrupt", message) from exc
