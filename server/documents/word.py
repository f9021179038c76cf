"""Reading Word (.docx) documents with python-docx: zip-bomb checks before unpacking,
then body, tables, lists, headers, footers and notes in reading order."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import NamedTuple

import docx
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from lxml.etree import _Element

from server.documents.extracted import ExtractedText, TextBuilder, collapse_spaces
from server.documents.failures import ExtractionFailed, parse_errors_as
from server.documents.limits import ExtractionLimits, human_size
from server.documents.sniffing import DOCX

# A tiny, very compressible archive is harmless: the ratio test starts above this.
_ZIP_RATIO_FLOOR_BYTES = 1024 * 1024
_MAX_ZIP_MEMBERS = 5_000


def extract_docx(data: bytes, limits: ExtractionLimits) -> ExtractedText:
    _refuse_zip_bomb(data, limits)
    builder = TextBuilder(limits.max_chars)
    with parse_errors_as("The Word document is damaged and could not be read."):
        document = docx.Document(io.BytesIO(data))
        reader = _WordReader(document)
        headers = reader.margin_texts(qn("w:headerReference"))
        footers = reader.margin_texts(qn("w:footerReference"))
        for header in headers:
            builder.add(header, part="header")
        paragraph_number = 0
        previous_was_list_item = False
        for block in reader.blocks(document.element.body):
            paragraph_number += 1
            # Items of one list stay on consecutive lines, like they read on the page.
            separator = "\n" if block.is_list_item and previous_was_list_item else "\n\n"
            if not builder.add(block.text, paragraph=paragraph_number, separator=separator):
                break
            previous_was_list_item = block.is_list_item
        for kind, title in (("footnote", "Footnotes"), ("endnote", "Endnotes")):
            notes = reader.referenced_notes(kind)
            if notes:
                builder.add(title, part=kind)
            for note in notes:
                builder.add(note, part=kind, separator="\n")
        for footer in footers:
            builder.add(footer, part="footer")
    if not builder.segments:
        raise ExtractionFailed("no_text", "The Word document contains no text.")
    return ExtractedText(
        content_type=DOCX,
        text=builder.text,
        segments=builder.segments,
        truncated_reason=builder.truncated_reason,
    )


def _refuse_zip_bomb(data: bytes, limits: ExtractionLimits) -> None:
    """Judge the archive by its central directory before anything is unpacked.

    Python's zipfile never inflates a member past its declared size (and fails the CRC
    if the data claims otherwise), so the declared sizes are a safe bound.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractionFailed("corrupt", "The Word document is damaged.") from exc
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    ratio = limits.max_compression_ratio
    too_big = unpacked > limits.max_docx_uncompressed_bytes
    too_dense = unpacked > _ZIP_RATIO_FLOOR_BYTES and unpacked > packed * ratio
    if too_big or too_dense or len(members) > _MAX_ZIP_MEMBERS:
        raise ExtractionFailed(
            "zip_bomb",
            f"The Word document would unpack to {human_size(unpacked)} in "
            f"{len(members)} parts, beyond the safe limit "
            f"({human_size(limits.max_docx_uncompressed_bytes)}, at most "
            f"{ratio}:1 compression), so it was not opened.",
        )


class _Block(NamedTuple):
    text: str
    is_list_item: bool = False


_W_P = qn("w:p")
_W_TBL = qn("w:tbl")
_W_TR = qn("w:tr")
_W_TC = qn("w:tc")
_W_T = qn("w:t")
_W_TXBX_CONTENT = qn("w:txbxContent")
_NOTE_REFERENCES = {qn("w:footnoteReference"): "footnote", qn("w:endnoteReference"): "endnote"}
_INLINE_SPACES = frozenset(qn(tag) for tag in ("w:tab", "w:ptab", "w:br", "w:cr"))
_W_NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Never read: deleted or moved-away text (tracked changes), the duplicate legacy copy of
# a drawing, property containers, field instructions.
_NOT_TEXT = frozenset(
    {
        qn("w:del"),
        qn("w:moveFrom"),
        _MC_FALLBACK,
        qn("w:pPr"),
        qn("w:rPr"),
        qn("w:sectPr"),
        qn("w:tblPr"),
        qn("w:trPr"),
        qn("w:tcPr"),
        qn("w:instrText"),
    }
)
_PAGE_NUMBER = re.compile(r"[-–— ]*(?:page\s*)?\d+(?:\s*(?:of|/)\s*\d+)?[-–— ]*", re.I)


class _WordReader:
    """A Word document's text in reading order, from its XML.

    python-docx's ``paragraph.text`` only sees a paragraph's direct runs, so it misses
    tracked insertions, content controls, text boxes and note references; this walks
    the XML instead and uses python-docx to open the package and find the parts.
    """

    def __init__(self, document: DocxDocument) -> None:
        self._document = document
        self._numbering = _ListNumbering(document)
        self._notes = {
            "footnote": _notes(document, RELATIONSHIP_TYPE.FOOTNOTES, "w:footnote"),
            "endnote": _notes(document, RELATIONSHIP_TYPE.ENDNOTES, "w:endnote"),
        }
        # Note id -> the number shown for it: notes are numbered by first reference.
        self._note_numbers: dict[str, dict[str, int]] = {"footnote": {}, "endnote": {}}

    def blocks(self, container: _Element) -> Iterator[_Block]:
        """Paragraphs and tables, in order, with text boxes after their anchor paragraph."""
        for child in container.iterchildren():
            if child.tag == _W_P:
                yield from self._paragraph(child)
            elif child.tag == _W_TBL:
                table = self._table(child)
                if table:
                    yield _Block(table)
            elif child.tag not in _NOT_TEXT:  # content controls, custom XML: look inside
                yield from self.blocks(child)

    def margin_texts(self, reference_tag: str) -> list[str]:
        """The distinct texts of the headers (or footers) that carry more than a page
        number, in section order."""
        related = self._document.part.related_parts
        texts: list[str] = []
        seen: set[int] = set()
        for section in self._document.element.body.iter(qn("w:sectPr")):
            for reference in section.iterchildren(reference_tag):
                part = related.get(reference.get(qn("r:id")))
                if part is None or id(part) in seen:
                    continue
                seen.add(id(part))
                for block in self.blocks(part.element):
                    if block.text not in texts and not _PAGE_NUMBER.fullmatch(block.text):
                        texts.append(block.text)
        return texts

    def referenced_notes(self, kind: str) -> list[str]:
        """The notes the text referred to, each as "[number] text", in number order."""
        notes: list[str] = []
        for note_id, number in self._note_numbers[kind].items():
            element = self._notes[kind].get(note_id)
            text = " ".join(b.text for b in self.blocks(element)) if element is not None else ""
            if text:
                notes.append(f"{_note_marker(kind, number)} {text}")
        return notes

    def _paragraph(self, paragraph: _Element) -> Iterator[_Block]:
        pieces: list[str] = []
        text_boxes: list[_Element] = []
        self._collect_inline(paragraph, pieces, text_boxes)
        text = collapse_spaces("".join(pieces))
        if text:
            marker = self._numbering.marker(paragraph)
            yield _Block(marker + text, is_list_item=bool(marker))
        for text_box in text_boxes:
            yield from self.blocks(text_box)

    def _collect_inline(
        self, element: _Element, pieces: list[str], text_boxes: list[_Element]
    ) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if tag == _W_T:
                pieces.append(child.text or "")
            elif tag in _INLINE_SPACES:
                pieces.append(" ")
            elif tag == _W_NO_BREAK_HYPHEN:
                pieces.append("-")
            elif tag in _NOTE_REFERENCES:
                pieces.append(self._reference(_NOTE_REFERENCES[tag], child.get(qn("w:id"), "")))
            elif tag == _W_TXBX_CONTENT:
                text_boxes.append(child)
            elif tag not in _NOT_TEXT:  # runs, insertions, hyperlinks, fields, drawings
                self._collect_inline(child, pieces, text_boxes)

    def _reference(self, kind: str, note_id: str) -> str:
        numbers = self._note_numbers[kind]
        number = numbers.setdefault(note_id, len(numbers) + 1)
        return _note_marker(kind, number)

    def _table(self, table: _Element) -> str:
        """One line per row, cells joined by " | "; a merged cell is listed once."""
        lines: list[str] = []
        for row in table.iterchildren(_W_TR):
            cells = [
                " ".join(block.text for block in self.blocks(cell))
                for cell in row.iterchildren(_W_TC)
            ]
            if any(cells):
                lines.append(" | ".join(cells))
        return "\n".join(lines)


def _notes(document: DocxDocument, reltype: str, tag: str) -> dict[str, _Element]:
    """Footnotes or endnotes by id (python-docx has no API for them: parse the part)."""
    for relationship in document.part.rels.values():
        if relationship.reltype == reltype and not relationship.is_external:
            root = parse_xml(relationship.target_part.blob)
            return {note.get(qn("w:id"), ""): note for note in root.iterchildren(qn(tag))}
    return {}


def _note_marker(kind: str, number: int) -> str:
    # Word's defaults: footnotes 1, 2, 3; endnotes i, ii, iii.
    return f"[{number}]" if kind == "footnote" else f"[{_roman(number)}]"


def _roman(number: int) -> str:
    numerals = (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    )  # fmt: skip
    result = ""
    for value, numeral in numerals:
        count, number = divmod(number, value)
        result += numeral * count
    return result


class _ListNumbering:
    """Renders Word list paragraphs as "- item" or "1. item", numbered the way Word
    numbers them (per list definition, nested levels restart)."""

    _LEVELS = 9  # Word supports list levels 0-8

    def __init__(self, document: DocxDocument) -> None:
        self._formats = _numbering_formats(document)
        self._styles = document.styles.element
        self._counters: dict[str, list[int]] = {}

    def marker(self, paragraph: _Element) -> str:
        found = self._numbering_of(paragraph)
        if found is None:
            return ""
        num_id, level = found
        level = min(max(level, 0), self._LEVELS - 1)
        indent = "  " * level
        if self._formats.get((num_id, level), "bullet") in ("bullet", "none"):
            return f"{indent}- "
        counters = self._counters.setdefault(num_id, [0] * self._LEVELS)
        counters[level] += 1
        counters[level + 1 :] = [0] * (self._LEVELS - level - 1)
        return f"{indent}{counters[level]}. "

    def _numbering_of(self, paragraph: _Element) -> tuple[str, int] | None:
        """(numId, level) of a list paragraph, from its own properties or its style's.

        python-docx has no public numbering API, so this reads the underlying XML.
        """
        properties = paragraph.find(qn("w:pPr"))
        candidates = [properties]
        style_id = _child_value(properties, "w:pStyle")
        style = self._styles.get_by_id(style_id) if style_id else None
        seen: set[str] = set()
        # "List Bullet" etc. carry the numbering on the style or one it is based on.
        while style is not None and style.styleId not in seen:
            seen.add(style.styleId)
            candidates.append(style.pPr)
            based_on = style.basedOn_val
            style = self._styles.get_by_id(based_on) if based_on else None
        for candidate in candidates:
            num_pr = candidate.find(qn("w:numPr")) if candidate is not None else None
            num_id = _child_value(num_pr, "w:numId")
            if num_id is None:
                continue
            if num_id == "0":  # numId 0 explicitly switches numbering off
                return None
            level = _child_value(num_pr, "w:ilvl") or "0"
            return num_id, int(level) if level.isdigit() else 0
        return None


def _child_value(element: _Element | None, tag: str) -> str | None:
    """The ``w:val`` of ``element``'s child ``tag``, if both exist."""
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val")) if child is not None else None


def _numbering_formats(document: DocxDocument) -> dict[tuple[str, int], str]:
    """numFmt ("bullet", "decimal", ...) for each (numId, level) in numbering.xml."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract_formats: dict[str, dict[int, str]] = {}
    for abstract in numbering.iterchildren(qn("w:abstractNum")):
        levels: dict[int, str] = {}
        for level in abstract.iterchildren(qn("w:lvl")):
            num_fmt = level.find(qn("w:numFmt"))
            if num_fmt is not None:
                levels[int(level.get(qn("w:ilvl"), "0"))] = num_fmt.get(qn("w:val"), "")
        abstract_formats[abstract.get(qn("w:abstractNumId"), "")] = levels
    formats: dict[tuple[str, int], str] = {}
    for num in numbering.num_lst:
        levels = abstract_formats.get(str(num.abstractNumId.val), {})
        for level, num_fmt in levels.items():
            formats[(str(num.numId), level)] = num_fmt
    return formats
