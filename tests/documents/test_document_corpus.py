"""Every file of the corpus (fixtures/documents/, made by fixtures/make_documents.py)
through the real extractor and its worker processes, in one run: each gives the text a
careful reader would get, or the warning it deserves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from fixtures.make_documents import LEFT_COLUMN, RIGHT_COLUMN
from models.context import SourceDocument
from server.documents.extractor import DocumentExtractor
from server.documents.failures import ExtractionFailed
from server.documents.limits import ExtractionLimits
from server.documents.sniffing import DOCX, HTML, PDF, TEXT, type_mismatch
from server.kernel.settings import MIB

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"
LIMITS = ExtractionLimits(
    max_file_bytes=5 * MIB,
    max_pdf_pages=300,
    max_chars=100_000,
    timeout_seconds=3.0,
    max_docx_uncompressed_bytes=20 * MIB,
    max_compression_ratio=100,
    max_memory_bytes=256 * MIB,
)


def flat(text: str) -> str:
    return " ".join(text.split())


def in_order(text: str, *parts: str) -> bool:
    positions = [text.index(part) for part in parts]
    return positions == sorted(positions)


@dataclass(frozen=True)
class Read:
    content_type: str
    check: Callable[[SourceDocument], None]


@dataclass(frozen=True)
class Refused:
    code: str
    says: str  # part of the message


def check_syllabus(document: SourceDocument) -> None:
    pages = {s.page: flat(document.text[s.start : s.end]) for s in document.segments}
    assert list(pages) == [1, 2, 3]
    assert (
        "Students must buy the course reader from the campus bookstore by week two." in (pages[1])
    )
    assert "The research paper is worth 40 percent of the final grade." in pages[2]
    assert "Papers submitted after the deadline lose five points per day." in pages[3]


def check_two_columns(document: SourceDocument) -> None:
    text = flat(document.text)
    # Each column reads through unbroken, left before right, between title and footer.
    assert flat(LEFT_COLUMN) in text
    assert flat(RIGHT_COLUMN) in text
    assert in_order(
        text,
        "HIST 210 Reading Guide, Week 3",
        flat(LEFT_COLUMN),
        flat(RIGHT_COLUMN),
        "Questions about this guide go to the course forum",
    )


def check_project_brief(document: SourceDocument) -> None:
    text = document.text
    lines = text.splitlines()
    assert lines[0] == "HIST 210 Modern World History · Spring term · Dr. Adeyemi"  # header
    assert lines[-1] == "Draft brief: check Canvas for the current version."  # footer
    assert "Page 1" not in text  # a footer that only numbers pages carries nothing
    assert (
        "You will interview a person who lived through a major historical event[1] and "
        "connect their memories to the course readings." in lines
    )
    # Tracked changes: the inserted words count, the deleted ones do not.
    assert "The interview must last at least forty-five minutes." in lines
    assert "thirty" not in text
    assert "- A transcript of the interview." in lines
    assert "3. Write the essay and cite the transcript." in lines
    # The text box is read once, after the paragraph it is anchored to, though the
    # file holds it twice (DrawingML and its VML fallback).
    box = "Ethics reminder: never publish the interview without the interviewee's consent."
    assert text.count(box) == 1
    assert in_order(text, "Keep this in mind:", box, "Schedule")
    assert "Milestone | Due | Weight" in lines
    assert "Essay | Week 12 | 70%" in lines
    assert "All parts are submitted through Canvas." in lines  # merged cells, once
    assert "Cite the course reader in Chicago style[i]." in lines
    assert "Office hours: Thursdays 10-12 in Humanities 301." in lines  # content control
    assert in_order(
        text,
        "Footnotes",
        "[1] A major event is one covered in the course reader, such as a war or revolution.",
        "Endnotes",
        "[i] Chicago Manual of Style, 17th edition, notes-bibliography.",
    )
    parts = [segment.part for segment in document.segments]
    assert parts[0] == "header"
    assert parts[-1] == "footer"
    assert {"footnote", "endnote"} <= set(parts)
    for segment in document.segments:  # offsets trace back to the text
        assert text[segment.start : segment.end].strip() == text[segment.start : segment.end]


def check_renamed_docx(document: SourceDocument) -> None:
    assert "- Hobsbawm, The Age of Revolution, chapter 2." in document.text.splitlines()
    mismatch = type_mismatch(document.name, "application/pdf", document.content_type)
    assert mismatch is not None
    assert "says a PDF, but the content is a Word document" in mismatch


def contains(*expected: str) -> Callable[[SourceDocument], None]:
    def check(document: SourceDocument) -> None:
        for sentence in expected:
            assert sentence in document.text

    return check


EXPECTED: dict[str, Read | Refused] = {
    "course_syllabus.pdf": Read(PDF, check_syllabus),
    "two_column_reading.pdf": Read(PDF, check_two_columns),
    "encrypted_handout.pdf": Refused("encrypted", "password-protected"),
    "scanned_handout.pdf": Refused("no_text", "scanned image"),
    "truncated_syllabus.pdf": Refused("corrupt", "damaged or incomplete"),
    "slow_pathological.pdf": Refused("timeout", "longer than 3 seconds"),
    "memory_hog.pdf": Refused("memory_limit", "256.0 MB"),
    "project_brief.docx": Read(DOCX, check_project_brief),
    "zip_bomb.docx": Refused("zip_bomb", "would unpack to 256.0 MB"),
    "reading_list.pdf": Read(DOCX, check_renamed_docx),
    "handout_photo.pdf": Refused("unsupported_type", "a PNG image"),
    "lecture_slides.pptx": Refused("unsupported_type", "a PowerPoint presentation"),
    "seminar_notes_windows1252.txt": Read(
        TEXT,
        contains(
            "The “Declaration of the Rights of Man” (1789) is required reading.",
            "Bring €5 for the museum visit; the café opens at 9.",
            "Résumé of the debate: naïve optimism versus Robespierre’s terror.",
        ),
    ),
    "seminar_notes_cyrillic.txt": Read(
        TEXT, contains("Эссе должно содержать не менее двух тысяч слов.")
    ),
    "seminar_notes_japanese.txt": Read(TEXT, contains("締め切りは金曜日です。")),
    "exam_notes_utf16.txt": Read(TEXT, contains("the exam may be taken in Français or Español")),
    "map_quiz_guide.html": Read(
        HTML,
        contains("Map Quiz Guide\n\nBoth quizzes are closed book.\n\n1. Learn the capitals."),
    ),
}


@pytest_asyncio.fixture(scope="module")
async def outcomes() -> dict[str, SourceDocument | ExtractionFailed]:
    """All files at once, as a job's files would meet the worker pool."""

    async def outcome(name: str, data: bytes) -> SourceDocument | ExtractionFailed:
        try:
            return await extractor.extract(source_id=f"file:{name}", name=name, data=data)
        except ExtractionFailed as failure:
            return failure

    files = {path.name: path.read_bytes() for path in sorted(CORPUS.iterdir())}
    async with DocumentExtractor(LIMITS) as extractor:
        results = await asyncio.gather(*(outcome(name, data) for name, data in files.items()))
    return dict(zip(files, results, strict=True))


def test_every_corpus_file_has_an_expectation():
    assert sorted(path.name for path in CORPUS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name, outcomes):
    expected, outcome = EXPECTED[name], outcomes[name]
    if isinstance(expected, Refused):
        assert isinstance(outcome, ExtractionFailed), f"{name} was read: {outcome}"
        assert outcome.code == expected.code
        assert expected.says in outcome.message
        assert name not in outcome.message  # the pipeline names the file
    else:
        assert isinstance(outcome, SourceDocument), f"{name}: {outcome.code} {outcome.message}"
        assert outcome.content_type == expected.content_type
        assert outcome.truncated is False
        expected.check(outcome)
