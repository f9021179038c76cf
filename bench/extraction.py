"""Extraction speed and memory: pages per second and MB per second for PDF and DOCX, and
the peak memory, each beside pdftotext (poppler-utils) on the same input and the ratio.

Run from the repository root: ``.venv/bin/python -m bench.extraction [--repeat N]``.
The baseline needs ``pdftotext`` (``apt-get install -y poppler-utils``); without it the
script says so and prints our figures alone.

What is measured:

- ours: ``DocumentExtractor`` as planning uses it (a warm worker process, the file sent
  over a pipe, the text sent back as JSON; the cache off), median of ``--repeat`` runs.
  Peak memory is the peak RSS of a fresh process extracting the file once, interpreter
  and parsers included (measured with GNU time, ``apt-get install -y time``).
- pdftotext: ``pdftotext -enc UTF-8 FILE -`` as a process per run (its start-up
  included), median of the same number of runs, and its peak RSS.
- A DOCX has no pages: its baseline is pdftotext on the same text typeset as a PDF, and
  its pages are that PDF's pages.

The inputs are generated into a temporary directory (seeded, so every run reads the same
text): a 200-page single-column syllabus, a 100-page reading guide set in two columns
(pypdf's layout pass), and a Word course pack with headings, lists and tables.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from docx import Document
from pypdf import PdfReader
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import ListFlowable, Paragraph, SimpleDocTemplate, Table

from fixtures.make_documents import two_column_pdf
from server.documents.extraction import extract_text_sync
from server.documents.extractor import DocumentExtractor
from server.documents.limits import ExtractionLimits
from server.kernel.settings import Settings

WORDS = (
    "students must submit essay research source evidence argument draft revise cite "
    "reading seminar discussion deadline rubric criteria analysis history revolution "
    "empire archive interview method results chapter question thesis paragraph grade "
    "week peer review feedback portfolio presentation literature primary secondary"
).split()


@dataclass(frozen=True)
class Input:
    label: str
    path: Path
    pages: int
    baseline_pdf: Path  # what pdftotext reads: the file itself, or a DOCX's text as a PDF


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float | None


def sentences(rng: random.Random, count: int) -> str:
    return " ".join(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."
        for _ in range(count)
    )


def course_sections(sections: int) -> list[tuple[str, list[str], list[str], list[list[str]]]]:
    """(heading, paragraphs, list items, table rows) per section, the same every run."""
    rng = random.Random(210)
    return [
        (
            f"Section {number}: {sentences(rng, 1)[:40].rstrip('.')}",
            [sentences(rng, 6) for _ in range(3)],
            [sentences(rng, 1) for _ in range(5)],
            [["Milestone", "Due", "Weight"]]
            + [[sentences(rng, 1)[:30], f"Week {week}", f"{week * 5}%"] for week in range(1, 4)],
        )
        for number in range(1, sections + 1)
    ]


def typeset_pdf(sections: list[tuple[str, list[str], list[str], list[list[str]]]]) -> bytes:
    styles = getSampleStyleSheet()
    story: list[object] = []
    for heading, paragraphs, items, rows in sections:
        story.append(Paragraph(heading, styles["Heading2"]))
        story += [Paragraph(text, styles["BodyText"]) for text in paragraphs]
        story.append(
            ListFlowable([Paragraph(item, styles["BodyText"]) for item in items], "bullet")
        )
        story.append(Table(rows))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=LETTER, invariant=1).build(story)
    return buffer.getvalue()


def course_pack_docx(sections: list[tuple[str, list[str], list[str], list[list[str]]]]) -> bytes:
    document = Document()
    for heading, paragraphs, items, rows in sections:
        document.add_heading(heading, level=2)
        for text in paragraphs:
            document.add_paragraph(text)
        for item in items:
            document.add_paragraph(item, style="List Bullet")
        table = document.add_table(rows=len(rows), cols=3)
        for table_row, values in zip(table.rows, rows, strict=True):
            for cell, value in zip(table_row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build_inputs(workdir: Path) -> list[Input]:
    def write(name: str, data: bytes) -> Path:
        path = workdir / name
        path.write_bytes(data)
        return path

    def pages(path: Path) -> int:
        return len(PdfReader(path).pages)

    syllabus = write("syllabus.pdf", typeset_pdf(course_sections(120)))
    two_columns = write("two_columns.pdf", two_column_pdf(pages=100))
    sections = course_sections(60)
    pack = write("course_pack.docx", course_pack_docx(sections))
    pack_as_pdf = write("course_pack_typeset.pdf", typeset_pdf(sections))
    return [
        Input(f"PDF, {pages(syllabus)}-page syllabus", syllabus, pages(syllabus), syllabus),
        Input(
            f"PDF, {pages(two_columns)}-page two-column guide",
            two_columns,
            pages(two_columns),
            two_columns,
        ),
        Input(
            f"DOCX, course pack ({pages(pack_as_pdf)} pages as PDF)",
            pack,
            pages(pack_as_pdf),
            pack_as_pdf,
        ),
    ]


def peak_mb_of(command: list[str]) -> float | None:
    """Peak RSS of ``command``, measured by GNU time; None without it.

    The kernel's own figure for a child of this process (wait4) would include this
    interpreter's memory, which the child shares until it execs.
    """
    gnu_time = shutil.which("time")
    if gnu_time is None:
        return None
    result = subprocess.run(
        [gnu_time, "-f", "%M", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if result.returncode:
        raise RuntimeError(f"{command} failed: {result.stderr.decode()[-500:]}")
    return int(result.stderr.split()[-1]) / 1024  # KiB


async def ours(inputs: list[Input], repeat: int) -> dict[str, Measured]:
    limits = replace(ExtractionLimits.from_settings(Settings(_env_file=None)), max_pdf_pages=10_000)
    measured: dict[str, Measured] = {}
    async with DocumentExtractor(limits, cache_entries=0, workers=1) as extractor:
        await extractor.extract(source_id="warm", name="warm.txt", data=b"warm up")
        for item in inputs:
            data = item.path.read_bytes()
            runs = []
            for _ in range(repeat):
                started = time.perf_counter()
                await extractor.extract(source_id="bench", name=item.path.name, data=data)
                runs.append(time.perf_counter() - started)
            peak = peak_mb_of([sys.executable, "-m", "bench.extraction", "--once", str(item.path)])
            measured[item.label] = Measured(statistics.median(runs), peak)
    return measured


def pdftotext(inputs: list[Input], repeat: int, binary: str) -> dict[str, Measured]:
    measured: dict[str, Measured] = {}
    for item in inputs:
        command = [binary, "-enc", "UTF-8", str(item.baseline_pdf), "-"]
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            runs.append(time.perf_counter() - started)
        measured[item.label] = Measured(statistics.median(runs), peak_mb_of(command))
    return measured


def pdftotext_version(binary: str) -> str:
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    return (result.stderr or result.stdout).splitlines()[0]


def table(
    inputs: list[Input], ours_: dict[str, Measured], baseline: dict[str, Measured] | None
) -> str:
    lines = [
        "| input | measure | ours | pdftotext (same input) | ours ÷ pdftotext |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in inputs:
        ours_figures = _figures(item, item.path, ours_[item.label])
        base_figures = (
            _figures(item, item.baseline_pdf, baseline[item.label])
            if baseline is not None
            else [None, None, None]
        )
        for measure, figure, base in zip(
            ("pages/s", "MB/s", "peak memory (MB)"), ours_figures, base_figures, strict=True
        ):
            ratio = f"{figure / base:.2f}×" if figure is not None and base else "n/a"
            lines.append(
                f"| {item.label} | {measure} | {_number(figure)} | {_number(base)} | {ratio} |"
            )
    return "\n".join(lines)


def _figures(item: Input, path: Path, measured: Measured) -> list[float | None]:
    megabytes = path.stat().st_size / 1024 / 1024
    return [item.pages / measured.seconds, megabytes / measured.seconds, measured.peak_mb]


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def extract_once(path: Path) -> None:
    """The ``--once`` child: one extraction in a fresh process, for its peak memory."""
    limits = replace(ExtractionLimits.from_settings(Settings(_env_file=None)), max_pdf_pages=10_000)
    extract_text_sync(path.read_bytes(), limits, path.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per input (median)")
    parser.add_argument("--once", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        extract_once(args.once)
        return
    binary = shutil.which("pdftotext")
    if binary is None:
        print(
            "pdftotext is not installed, so there is no baseline: "
            "apt-get install -y poppler-utils. Our figures follow alone.",
            file=sys.stderr,
        )
    if shutil.which("time") is None:
        print(
            "GNU time is not installed, so peak memory is not measured: apt-get install -y time.",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as workdir:
        inputs = build_inputs(Path(workdir))
        ours_ = asyncio.run(ours(inputs, args.repeat))
        baseline = pdftotext(inputs, args.repeat, binary) if binary else None
        print(table(inputs, ours_, baseline))
    baseline_name = pdftotext_version(binary) if binary else "no pdftotext"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"\n{os.cpu_count()} CPUs (load average {load}), Python {sys.version.split()[0]}, "
        f"baseline {baseline_name}; median of {args.repeat} runs."
    )


if __name__ == "__main__":
    main()
