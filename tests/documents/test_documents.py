"""Attachment extraction (decisions §7): allowlist by content, limits, failure codes, cache."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from server.documents import word
from server.documents.extraction import extract_text_sync
from server.documents.extractor import DocumentExtractor
from server.documents.failures import ExtractionFailed
from server.documents.limits import ExtractionLimits
from server.documents.sniffing import (
    DOCX,
    FAMILIES,
    HTML,
    MARKDOWN,
    PDF,
    TEXT,
    detect_content_type,
    type_mismatch,
)
from server.documents.text_files import html_to_text
from server.kernel.settings import MIB, Settings

FILES = Path(__file__).resolve().parents[2] / "fixtures" / "files"
CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"

LIMITS = ExtractionLimits(
    max_file_bytes=5 * MIB,
    max_pdf_pages=50,
    max_chars=100_000,
    timeout_seconds=10.0,
    max_docx_uncompressed_bytes=20 * MIB,
    max_compression_ratio=100,
    max_memory_bytes=512 * MIB,
)
# From the corpus (fixtures/make_documents.py): pypdf needs minutes for the first,
# about a gigabyte for the second.
SLOW_PDF = (CORPUS / "slow_pathological.pdf").read_bytes()
MEMORY_HOG_PDF = (CORPUS / "memory_hog.pdf").read_bytes()

PAGE_1_SENTENCES = [
    "Your essay must be 1,500–2,000 words.",
    "You must cite at least five peer-reviewed sources in APA 7th edition format.",
    "Submit your essay as a .docx or .pdf file.",
]
PAGE_2_SENTENCES = ["Do not use Wikipedia as a source.", "Late submissions lose 10% per day."]


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def flat(text: str) -> str:
    """PDF lines wrap where the layout did; compare sentences with whitespace collapsed."""
    return " ".join(text.split())


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def extract_failure(data: bytes, limits: ExtractionLimits = LIMITS, name: str = "") -> str:
    with pytest.raises(ExtractionFailed) as caught:
        extract_text_sync(data, limits, name)
    assert caught.value.message
    return caught.value.code


# --------------------------------------------------------------------------- PDF


def test_pdf_text_has_one_segment_per_page_with_exact_offsets():
    result = extract_text_sync(read("essay_prompt.pdf"), LIMITS, "essay_prompt.pdf")

    assert result.content_type == PDF
    assert result.truncated is False
    assert [segment.page for segment in result.segments] == [1, 2]
    page_1, page_2 = (flat(result.text[s.start : s.end]) for s in result.segments)
    for sentence in PAGE_1_SENTENCES:
        assert sentence in page_1
        assert sentence not in page_2
    for sentence in PAGE_2_SENTENCES:
        assert sentence in page_2
        assert sentence not in page_1
    assert "Late Work" in page_2  # the section heading survives
    assert result.segments[0].end <= result.segments[1].start
    assert result.segments[-1].end == len(result.text)


def test_single_page_lab_handout():
    result = extract_text_sync(read("lab_handout.pdf"), LIMITS)

    assert [segment.page for segment in result.segments] == [1]
    for sentence in (
        "The report must include Abstract, Methods, Results and Discussion sections.",
        "Figures must have numbered captions.",
        "Maximum 8 pages.",
    ):
        assert sentence in flat(result.text)


def test_pdf_page_limit_ignores_later_pages_and_marks_truncated():
    result = extract_text_sync(read("essay_prompt.pdf"), replace(LIMITS, max_pdf_pages=1))

    assert result.truncated is True
    assert [segment.page for segment in result.segments] == [1]
    assert PAGE_1_SENTENCES[0] in flat(result.text)
    assert "Wikipedia" not in result.text


def test_pdf_with_only_an_owner_password_is_read():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(read("lab_handout.pdf"))))
    writer.encrypt(user_password="", owner_password="instructor", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)

    result = extract_text_sync(buffer.getvalue(), LIMITS)

    assert "Figures must have numbered captions." in result.text


def test_a_two_column_table_stays_in_rows():
    """Columns of short cells are a table, not a two-column page: rows keep together."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=1)
    canvas.setFont("Helvetica", 11)
    rows = [(f"Week {week}", f"Seminar topic number {week}") for week in range(1, 7)]
    for index, (week, topic) in enumerate(rows):
        y = 700 - index * 16
        canvas.drawString(72, y, week)
        canvas.drawString(300, y, topic)
    canvas.showPage()
    canvas.save()

    text = flat(extract_text_sync(buffer.getvalue(), LIMITS).text)

    positions = [text.index(cell) for row in rows for cell in row]
    assert positions == sorted(positions)


# --------------------------------------------------------------------------- DOCX


def test_docx_keeps_headings_lists_and_tables_in_order():
    result = extract_text_sync(read("essay_guide.docx"), LIMITS, "essay_guide.docx")
    lines = result.text.splitlines()

    assert result.content_type == DOCX
    assert lines[0] == "ENG 101 Argumentative Essay: Student Guide"
    assert "Formatting" in lines
    assert "- Use 12-point Times New Roman, double-spaced." in lines
    assert "- Use 1-inch margins on all sides." in lines
    assert "1. Choose a debatable topic and write a one-sentence thesis." in lines
    assert "4. Draft, revise and proofread the essay." in lines
    assert "Milestone | Suggested date | Points" in lines
    assert "Annotated bibliography | Week 5 | 20" in lines
    assert (
        "The annotated bibliography should list each source with a two-sentence summary."
        in result.text
    )
    # Document order: heading, then its list, then the table, then the closing line.
    positions = [
        result.text.index(marker)
        for marker in ("Overview", "- Use 12-point", "1. Choose", "Milestone |", "Questions?")
    ]
    assert positions == sorted(positions)


def test_docx_segments_are_numbered_paragraphs_matching_the_text():
    result = extract_text_sync(read("essay_guide.docx"), LIMITS)
    blocks = [result.text[s.start : s.end] for s in result.segments]

    assert [s.paragraph for s in result.segments] == list(range(1, len(result.segments) + 1))
    assert all(s.page is None for s in result.segments)
    assert blocks[0] == "ENG 101 Argumentative Essay: Student Guide"
    assert "- Use 1-inch margins on all sides." in blocks
    assert "2. Find at least five peer-reviewed sources through the library databases." in blocks
    table = next(block for block in blocks if block.startswith("Milestone |"))
    assert table.splitlines()[-1] == "Final essay | Week 9 | 100"
    assert blocks[-1] == "Questions? Come to office hours on Tuesdays from 2 to 4 p.m."


def test_docx_zip_bomb_over_the_size_limit_is_refused_before_unpacking():
    guide = zipfile.ZipFile(io.BytesIO(read("essay_guide.docx")))
    members = {name: guide.read(name) for name in guide.namelist()}
    members["word/media/padding.bin"] = b"\0" * (4 * MIB)
    bomb = zip_bytes(members)
    assert len(bomb) < 100_000  # tiny on the wire...

    limits = replace(LIMITS, max_docx_uncompressed_bytes=2 * MIB)
    assert detect_content_type(bomb) == DOCX
    assert extract_failure(bomb, limits) == "zip_bomb"


def test_docx_zip_bomb_of_200_mb_is_refused_with_default_limits():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        # Streamed, so the test never holds 200 MB in memory.
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * MIB
            for _ in range(200):
                member.write(chunk)
    bomb = buffer.getvalue()
    assert len(bomb) < 1 * MIB

    assert extract_failure(bomb, ExtractionLimits.from_settings(Settings())) == "zip_bomb"


def test_docx_zip_bomb_by_compression_ratio_is_refused(monkeypatch):
    def must_not_open(*args, **kwargs):
        raise AssertionError("python-docx must not open a zip bomb")

    monkeypatch.setattr(word.docx, "Document", must_not_open)
    bomb = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document>" + b" " * (8 * MIB) + b"</w:document>",
        }
    )
    # Under the absolute size limit, but 8 MB from a few KB is no Word document.
    assert extract_failure(bomb, replace(LIMITS, max_docx_uncompressed_bytes=1024 * MIB)) == (
        "zip_bomb"
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(read("essay_guide.docx")[:20_000], id="truncated"),
        pytest.param(b"PK\x03\x04" + b"\x13" * 500, id="garbage-after-magic"),
    ],
)
def test_broken_docx_is_corrupt(data):
    assert extract_failure(data, name="guide.docx") == "corrupt"


def test_docx_with_broken_xml_is_corrupt():
    guide = zipfile.ZipFile(io.BytesIO(read("essay_guide.docx")))
    members = {name: guide.read(name) for name in guide.namelist()}
    members["word/document.xml"] = members["word/document.xml"][:500]

    assert extract_failure(zip_bytes(members)) == "corrupt"


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("essay_prompt.pdf", PDF),
        ("essay_guide.docx", DOCX),
        ("notes.md", MARKDOWN),
        ("image.png", None),
        ("renamed_png.pdf", None),
        ("scanned.pdf", PDF),
    ],
)
def test_fixture_types_are_detected_by_content(file_name, expected):
    assert detect_content_type(read(file_name), file_name) == expected


def test_name_only_refines_text_into_markdown():
    notes = read("notes.md")

    assert detect_content_type(notes, "notes.md") == MARKDOWN
    assert detect_content_type(notes, "NOTES.MARKDOWN") == MARKDOWN
    assert detect_content_type(notes, "notes.txt") == TEXT
    assert detect_content_type(notes) == TEXT
    # A name never makes binary acceptable.
    assert detect_content_type(read("image.png"), "image.md") is None
    assert detect_content_type(read("renamed_png.pdf"), "renamed_png.pdf") is None


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body><p>Essay</p></body></html>",
        b"\xef\xbb\xbf\n  <html lang='en'><p>Essay</p></html>",
        b"<p>Write an <strong>argumentative</strong> essay.</p><ul><li>Cite</li></ul>",
        b"<?xml version='1.0'?>\n<!-- saved --><!doctype html><title>x</title>",
    ],
)
def test_html_is_detected_by_content(data):
    assert detect_content_type(data, "description.txt") == HTML


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Plain notes, café ✓\n".encode(), TEXT),
        ("UTF-16 notes – with a BOM\n".encode("utf-16"), TEXT),
        ("Windows notes: “smart quotes” – €5\n".encode("cp1252"), TEXT),
        (b"", TEXT),
        (b"a < b and c > d in this plain text", TEXT),
        (b"Notes on the %PDF-1.7 header", TEXT),
        (b"text with a NUL\x00 byte", None),
        (bytes(range(256)) * 4, None),
        (zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"}), None),
        (zip_bytes({"notes.txt": b"hello"}), None),
    ],
    ids=[
        "utf8",
        "utf16-bom",
        "cp1252",
        "empty",
        "angle-brackets",
        "mentions-pdf",
        "nul",
        "binary",
        "xlsx",
        "zip",
    ],
)
def test_text_and_binary_detection(data, expected):
    assert detect_content_type(data) == expected


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Le devoir doit être rendu avant vendredi; les élèves présenteront à l'oral.\n", "cp1252"),
        ("Die Hausarbeit: Größe der Schrift 12 Punkt, Überschriften fett.\n", "latin-1"),
        (
            "Praca musi mieć co najmniej dwa tysiące słów i pięć źródeł. Zażółć gęślą jaźń.\n",
            "cp1250",
        ),
        ("Εργασία: τουλάχιστον δύο χιλιάδες λέξεις, παράδοση την Παρασκευή.\n", "cp1253"),
        ("Эссе должно содержать не менее двух тысяч слов.\n", "cp1251"),
        ("レポートは二千字以上で書いてください。\n", "shift_jis"),
        ("论文必须不少于两千字。请在星期五之前提交。\n", "gb18030"),
        ("논문은 이천 단어 이상이어야 합니다.\n", "euc-kr"),
        ("Notes in UTF-16 – with a byte order mark.\n", "utf-16"),
    ],
)
def test_legacy_encodings_are_decoded(text, encoding):
    result = extract_text_sync(text.encode(encoding), LIMITS, "notes.txt")

    assert result.content_type == TEXT
    assert result.text == text.strip()


@pytest.mark.parametrize(
    ("name", "declared", "content_type", "claimed"),
    [
        ("reading.pdf", "application/pdf", DOCX, "a PDF"),
        ("reading.docx", "application/pdf", DOCX, "a PDF"),
        ("guide.docx", None, PDF, "a Word document"),
        ("guide", "image/png", PDF, "image/png"),
        ("notes.txt", "text/plain", PDF, "text"),
    ],
)
def test_a_name_or_declared_type_that_lies_is_reported(name, declared, content_type, claimed):
    message = type_mismatch(name, declared, content_type)

    assert message is not None
    assert f"says {claimed}," in message
    assert f"read as {FAMILIES[content_type]}" in message


@pytest.mark.parametrize(
    ("name", "declared", "content_type"),
    [
        ("prompt.pdf", "application/pdf", PDF),
        ("prompt.PDF", "application/pdf; charset=binary", PDF),
        ("guide.docx", "application/octet-stream", DOCX),
        ("notes.md", "text/plain", MARKDOWN),
        ("page.html", "text/plain", HTML),  # all text is one kind
        ("Assignment description", None, HTML),
        ("scan.jpeg", None, PDF),  # an extension we do not read says nothing
    ],
)
def test_matching_or_silent_declarations_are_not_reported(name, declared, content_type):
    assert type_mismatch(name, declared, content_type) is None


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("file_name", "code"),
    [
        ("encrypted.pdf", "encrypted"),
        ("scanned.pdf", "no_text"),
        ("truncated.pdf", "corrupt"),
        ("renamed_png.pdf", "unsupported_type"),
        ("image.png", "unsupported_type"),
    ],
)
def test_bad_files_fail_with_their_code(file_name, code):
    with pytest.raises(ExtractionFailed) as caught:
        extract_text_sync(read(file_name), LIMITS, file_name)

    assert caught.value.code == code
    assert caught.value.message
    assert file_name not in caught.value.message  # the caller names the file


def test_too_large_is_refused_before_parsing():
    data = read("essay_prompt.pdf")

    assert extract_failure(data, replace(LIMITS, max_file_bytes=len(data) - 1)) == "too_large"
    assert extract_text_sync(data, replace(LIMITS, max_file_bytes=len(data))).text


def test_text_without_content_is_no_text():
    assert extract_failure(b"  \n\t\r\n  ", name="empty.txt") == "no_text"
    assert extract_failure(b"<html><script>var x = 1;</script></html>") == "no_text"


# --------------------------------------------------------------------------- max_chars


def test_max_chars_truncates_pdf_text_and_segments():
    result = extract_text_sync(read("essay_prompt.pdf"), replace(LIMITS, max_chars=100))

    assert result.truncated is True
    assert 0 < len(result.text) <= 100
    assert [segment.page for segment in result.segments] == [1]
    assert result.segments[0].end == len(result.text)
    assert result.text.startswith("ENG 101")


def test_max_chars_truncates_docx_at_a_block_boundary():
    full = extract_text_sync(read("essay_guide.docx"), LIMITS)
    cut_at = full.segments[3].end + 5  # a few characters into the fifth block
    result = extract_text_sync(read("essay_guide.docx"), replace(LIMITS, max_chars=cut_at))

    assert result.truncated is True
    assert len(result.text) <= cut_at
    assert full.text.startswith(result.text)
    assert len(result.segments) == 5
    assert all(segment.end <= len(result.text) for segment in result.segments)


def test_max_chars_truncates_plain_text():
    result = extract_text_sync(b"word " * 1000, replace(LIMITS, max_chars=42))

    assert result.truncated is True
    assert len(result.text) <= 42
    assert result.text.startswith("word word")


def test_text_within_limit_is_not_truncated():
    result = extract_text_sync(read("notes.md"), LIMITS, "notes.md")

    assert result.content_type == MARKDOWN
    assert result.truncated is False
    assert result.text.startswith("# ENG 101 essay notes")
    assert "1. Find five peer-reviewed sources (library databases, not Wikipedia)." in result.text
    assert result.segments[0].start == 0
    assert result.segments[0].end == len(result.text)


# --------------------------------------------------------------------------- HTML


def test_html_to_text_keeps_structure_and_drops_scripts():
    html = """<!doctype html><html><head><title>Tab title</title>
    <style>p { color: red }</style><script>alert("no")</script></head><body>
    <h1>Argumentative   Essay</h1>
    <p>Write a <strong>persuasive</strong>
       essay &amp; cite&nbsp;sources.</p>
    <h2>Requirements</h2>
    <ul><li>1,500&ndash;2,000 words</li><li><p>APA 7th edition</p></li></ul>
    <ol><li>Draft</li><li>Revise<ul><li>peer review</li></ul></li></ol>
    <table><tr><th>Milestone</th><th>Due</th></tr>
           <tr><td>Outline</td><td>Week 3</td></tr></table>
    <p>Line one<br>Line two</p>
    </body></html>"""

    assert html_to_text(html) == (
        "Argumentative Essay\n"
        "\n"
        "Write a persuasive essay & cite sources.\n"
        "\n"
        "Requirements\n"
        "\n"
        "- 1,500–2,000 words\n"
        "- APA 7th edition\n"
        "\n"
        "1. Draft\n"
        "2. Revise\n"
        "  - peer review\n"
        "\n"
        "Milestone | Due\n"
        "Outline | Week 3\n"
        "\n"
        "Line one\n"
        "Line two"
    )


def test_html_to_text_handles_fragments_and_sloppy_markup():
    text = html_to_text(
        '<ol start="3"><li>Third<li>Fourth</ol><p>Unclosed <em>emphasis'
        "<table><tr><td>a<td>b<tr><td>c<td>d</table>"
    )

    assert text.splitlines() == [
        "3. Third",
        "4. Fourth",
        "",
        "Unclosed emphasis",
        "",
        "a | b",
        "c | d",
    ]


def test_html_file_is_extracted_as_clean_text():
    html = b"<p>Submit as <b>PDF</b>.</p><script>track()</script><ul><li>Cite sources</li></ul>"
    result = extract_text_sync(html, LIMITS, "description.html")

    assert result.content_type == HTML
    assert result.text == "Submit as PDF.\n\n- Cite sources"
    assert "track" not in result.text


# --------------------------------------------------------------------------- limits


def test_limits_come_from_settings():
    settings = Settings(
        attachment_max_file_bytes=1,
        attachment_max_pdf_pages=2,
        attachment_max_chars=3,
        attachment_timeout_seconds=4.5,
        attachment_max_docx_uncompressed_bytes=5,
        attachment_max_compression_ratio=6,
        attachment_max_memory_bytes=7,
    )

    assert ExtractionLimits.from_settings(settings) == ExtractionLimits(1, 2, 3, 4.5, 5, 6, 7)


# --------------------------------------------------------------------------- DocumentExtractor
# These run the real worker processes (python -m server.documents.extraction_worker).


@pytest_asyncio.fixture
async def extractor():
    async with DocumentExtractor(LIMITS) as fresh:
        yield fresh


async def test_extractor_returns_a_source_document(extractor):
    data = read("essay_prompt.pdf")
    document = await extractor.extract(
        source_id="file:101", name="essay_prompt.pdf", data=data, declared_type="application/pdf"
    )

    assert document.source_id == "file:101"
    assert document.name == "essay_prompt.pdf"
    assert document.content_type == PDF
    assert document.declared_type == "application/pdf"
    assert document.byte_size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert [segment.page for segment in document.segments] == [1, 2]
    assert PAGE_2_SENTENCES[1] in document.text
    assert (document.truncated, document.truncated_reason) == (False, None)


async def test_extractor_reports_why_a_document_was_truncated():
    async with DocumentExtractor(replace(LIMITS, max_pdf_pages=1)) as extractor:
        document = await extractor.extract(
            source_id="file:1", name="essay_prompt.pdf", data=read("essay_prompt.pdf")
        )

    assert document.truncated is True
    assert document.truncated_reason == ("Only the first 1 of 2 pages were read (the page limit).")


async def test_extractor_parses_the_same_bytes_once(extractor):
    data = read("essay_guide.docx")

    first = await extractor.extract(source_id="file:1", name="guide.docx", data=data)
    second = await extractor.extract(source_id="file:2", name="copy.docx", data=data)

    assert extractor.parses == 1
    assert extractor.cache_hits == 1
    assert second.text == first.text
    assert (second.source_id, second.name) == ("file:2", "copy.docx")
    # Each caller gets its own segments; editing one leaves the cache alone.
    second.segments[0].start = 999
    third = await extractor.extract(source_id="file:3", name="guide.docx", data=data)
    assert third.segments[0].start == 0
    assert extractor.cache_hits == 2


async def test_extractor_joins_a_parse_already_in_flight(extractor):
    data = read("lab_handout.pdf")

    documents_ = await asyncio.gather(
        *(extractor.extract(source_id=f"file:{i}", name="lab.pdf", data=data) for i in range(3))
    )

    assert extractor.parses == 1
    assert extractor.cache_hits == 2
    assert len({document.text for document in documents_}) == 1


async def test_extractor_caches_failures_too(extractor):
    for _ in range(2):
        with pytest.raises(ExtractionFailed) as caught:
            await extractor.extract(source_id="file:9", name="x.pdf", data=read("encrypted.pdf"))
        assert caught.value.code == "encrypted"

    assert extractor.parses == 1
    assert extractor.cache_hits == 1


async def test_extractor_cache_is_a_bounded_lru():
    a, b, c = b"alpha notes", b"beta notes", b"gamma notes"

    async with DocumentExtractor(LIMITS, cache_entries=2) as extractor:
        for data in (a, b, a, c, a, b):  # c evicts b (a was used more recently): b again
            await extractor.extract(source_id="file:x", name="n.txt", data=data)

    assert extractor.parses == 4
    assert extractor.cache_hits == 2


async def test_markdown_and_text_of_the_same_bytes_keep_their_own_type(extractor):
    data = read("notes.md")

    as_markdown = await extractor.extract(source_id="file:1", name="notes.md", data=data)
    as_text = await extractor.extract(source_id="file:2", name="notes.txt", data=data)

    assert (as_markdown.content_type, as_text.content_type) == (MARKDOWN, TEXT)


async def test_a_runaway_parse_is_killed_at_the_time_limit_without_blocking_the_loop():
    limits = replace(LIMITS, timeout_seconds=0.5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async with DocumentExtractor(limits) as extractor:
        await extractor.extract(source_id="file:0", name="warm.txt", data=b"warm up")
        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        try:
            with pytest.raises(ExtractionFailed) as caught:
                await extractor.extract(source_id="file:1", name="slow.pdf", data=SLOW_PDF)
        finally:
            ticking.cancel()
        elapsed = time.monotonic() - started
        # The killed worker is replaced, and the next file is read as usual.
        after = await extractor.extract(
            source_id="file:2", name="lab.pdf", data=read("lab_handout.pdf")
        )

    assert caught.value.code == "timeout"
    assert "0.5 seconds" in caught.value.message
    assert 0.5 <= elapsed < 2.0  # pypdf needs minutes for this file
    assert ticks >= 20  # the loop kept running while the parse was stuck
    assert extractor.pool.started == 2
    assert "Figures must have numbered captions." in after.text


async def test_timeouts_are_not_cached():
    async with DocumentExtractor(replace(LIMITS, timeout_seconds=0.3)) as extractor:
        for _ in range(2):
            with pytest.raises(ExtractionFailed) as caught:
                await extractor.extract(source_id="file:1", name="slow.pdf", data=SLOW_PDF)
            assert caught.value.code == "timeout"

    assert extractor.parses == 2
    assert extractor.cache_hits == 0


async def test_memory_is_bounded_per_worker():
    async with DocumentExtractor(replace(LIMITS, max_memory_bytes=256 * MIB)) as extractor:
        with pytest.raises(ExtractionFailed) as caught:
            await extractor.extract(source_id="file:1", name="hog.pdf", data=MEMORY_HOG_PDF)
        after = await extractor.extract(
            source_id="file:2", name="lab.pdf", data=read("lab_handout.pdf")
        )

    assert caught.value.code == "memory_limit"
    assert "256.0 MB" in caught.value.message
    assert extractor.pool.started == 2  # the worker that ran out was replaced
    assert "Maximum 8 pages." in flat(after.text)


async def test_extractor_refuses_too_large_without_parsing():
    async with DocumentExtractor(replace(LIMITS, max_file_bytes=10)) as extractor:
        with pytest.raises(ExtractionFailed) as caught:
            await extractor.extract(source_id="file:1", name="big.txt", data=b"x" * 11)

    assert caught.value.code == "too_large"
    assert extractor.parses == 0
    assert extractor.pool.started == 0
