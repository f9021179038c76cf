"""Figures and the table: percentiles, rows (a figure, its baseline, the ratio), and the
machine they were measured on."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

_STARTED = time.monotonic()


def note(step: str) -> None:
    """Progress on stderr, with the seconds since the benchmarks started."""
    print(f"[{time.monotonic() - _STARTED:5.0f} s] {step}", file=sys.stderr, flush=True)


def percentile(samples: Sequence[float], pct: int) -> float:
    """The ``pct``-th percentile (inclusive method: never outside the samples)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def ms(seconds: float) -> str:
    value = seconds * 1000
    return (
        f"{value:.0f} ms"
        if value >= 100
        else f"{value:.1f} ms"
        if value >= 1
        else f"{value:.2f} ms"
    )


def latency(samples: Sequence[float], high: int = 95) -> str:
    """``p50 x ms, p<high> y ms``."""
    return f"p50 {ms(percentile(samples, 50))}, p{high} {ms(percentile(samples, high))}"


def times(figure: float, baseline: float) -> str:
    """How many times the baseline a cost (a time, memory) is."""
    return f"{figure / baseline:.1f}×" if baseline > 0 else "n/a"


def share(figure: float, ceiling: float) -> str:
    """Which share of a ceiling a rate (requests or jobs per unit of time) reaches."""
    return f"{100 * figure / ceiling:.0f}% of it" if ceiling > 0 else "n/a"


@dataclass(frozen=True)
class Row:
    label: str
    figure: str
    baseline: str
    ratio: str
    details: str = ""  # printed under the table: what explains the figure


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, readable in a terminal and pasteable into the README."""
    lines = ["| row | figure | baseline (same run) | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.label} | {r.figure} | {r.baseline} | {r.ratio} |" for r in rows]
    details = [f"- {r.details}" for r in rows if r.details]
    return "\n".join(lines + (["", *details] if details else []))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine(postgres_version: str, redis_version: str) -> str:
    memory_gib = psutil.virtual_memory().total / 2**30
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {postgres_version}, Redis {redis_version}"
    )
