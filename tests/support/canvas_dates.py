"""Dates as Canvas's API writes them (``2026-12-11T05:59:59Z``), for tests that edit the
simulator's assignments.

``canvas_time`` is a test-side copy of the format ``devkit.canvas_simulator`` writes (in
``resolve_date``, which has no function of its own for it); kept as the tests wrote it."""

from __future__ import annotations

from datetime import datetime


def canvas_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
