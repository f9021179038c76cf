"""Reading HTML, Markdown and plain text files; ``html_to_text`` also serves Canvas's
HTML descriptions."""

from __future__ import annotations

from html.parser import HTMLParser

from server.documents.extracted import ExtractedText, TextBuilder, clean_text, collapse_spaces
from server.documents.failures import ExtractionFailed
from server.documents.limits import ExtractionLimits
from server.documents.sniffing import HTML, decode_text


def extract_plain(data: bytes, content_type: str, limits: ExtractionLimits) -> ExtractedText:
    decoded = decode_text(data)
    if decoded is None:  # the sniffed start was text, but the rest is not
        raise ExtractionFailed("unsupported_type", "The file is not a readable text file.")
    text = html_to_text(decoded) if content_type == HTML else clean_text(decoded)
    builder = TextBuilder(limits.max_chars)
    builder.add(text)
    if not builder.segments:
        raise ExtractionFailed("no_text", "The file contains no text.")
    return ExtractedText(
        content_type=content_type,
        text=builder.text,
        segments=builder.segments,
        truncated_reason=builder.truncated_reason,
    )


def html_to_text(html: str) -> str:
    """Readable text from HTML: headings and paragraphs as blocks separated by a blank
    line, list items as "- item" / "1. item", table rows as "cell | cell"."""
    parser = _HtmlTextParser()
    parser.feed(html)
    parser.close()
    return parser.text()


def _image_text(attrs: dict[str, str | None]) -> str:
    """What an image says in text: an equation's formula (Canvas's equation editor keeps
    it in ``data-equation-content``, and in the alt text as "LaTeX: ..."), else its alt
    text. Decorative images (empty alt) say nothing."""
    formula = attrs.get("data-equation-content") or ""
    alt = (attrs.get("alt") or "").strip()
    if not formula and "equation_image" in (attrs.get("class") or "").split():
        formula = alt.removeprefix("LaTeX:").strip()
    if formula.strip():
        return f" [Equation: {collapse_spaces(formula)}] "
    return f" [Image: {collapse_spaces(alt)}] " if alt else ""


class _HtmlTextParser(HTMLParser):
    _SKIPPED = frozenset({"script", "style", "noscript", "template", "title", "svg"})
    _BLOCKS = frozenset(
        {
            "p", "div", "section", "article", "header", "footer", "main", "nav", "aside",
            "blockquote", "pre", "address", "figure", "figcaption", "form", "fieldset",
            "dl", "dt", "dd", "hr", "details", "summary", "caption",
            "h1", "h2", "h3", "h4", "h5", "h6",
        }
    )  # fmt: skip
    _LISTS = frozenset({"ul", "ol"})
    _CELLS = frozenset({"td", "th"})
    # MathML annotations that hold the formula as written (Canvas's equation editor: LaTeX).
    _FORMULA_ENCODINGS = frozenset({"application/x-tex", "text/x-latex", "latex"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # Inside <math>: its alttext, the formula annotation's text, the rendered text.
        self._math: list[str] | None = None
        self._in_annotation = False
        self._lines: list[str] = []
        self._inline: list[str] = []
        self._marker = ""  # a list marker waiting for its item's first text
        self._lists: list[list[int]] = []  # per open list: [is_ordered, last number]
        self._skip_depth = 0
        self._pre_depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._math is not None:
            self._in_annotation = tag == "annotation" and (
                (dict(attrs).get("encoding") or "").lower() in self._FORMULA_ENCODINGS
            )
        elif tag in self._SKIPPED:
            self._skip_depth += 1
        elif tag == "img":
            self._inline_text(_image_text(dict(attrs)))
        elif tag == "math":
            self._math = [dict(attrs).get("alttext") or "", "", ""]
        elif tag == "tr":
            self._close_row()
            self._row = []
        elif tag in self._CELLS:
            self._close_cell()
            self._cell = []
        elif self._cell is not None:
            if tag in self._BLOCKS or tag in ("br", "li"):
                self._cell.append(" ")  # a table row stays on one line
        elif tag == "table":
            self._block_break()
        elif tag in self._LISTS:
            self._block_break()
            self._lists.append([tag == "ol", _ordered_start(attrs) - 1])
        elif tag == "li":
            self._start_list_item()
        elif tag == "br":
            self._flush()
        elif tag in self._BLOCKS:
            self._block_break()
            if tag == "pre":
                self._pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._math is not None:
            self._in_annotation = False
            if tag == "math":
                alttext, annotation, rendered = self._math
                self._math = None
                formula = collapse_spaces(alttext or annotation or rendered)
                self._inline_text(f" [Equation: {formula}] " if formula else "")
        elif tag in self._SKIPPED:
            self._skip_depth = max(self._skip_depth - 1, 0)
        elif tag in self._CELLS:
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag == "table":
            self._close_row()
            self._block_break()
        elif self._cell is not None:
            return
        elif tag in self._LISTS:
            self._flush()
            if self._lists:
                self._lists.pop()
            self._block_break()
        elif tag == "li":
            self._flush()
        elif tag in self._BLOCKS:
            if tag == "pre":
                self._pre_depth = max(self._pre_depth - 1, 0)
            self._block_break()

    def handle_data(self, data: str) -> None:
        if self._math is not None:
            self._math[1 if self._in_annotation else 2] += data
            return
        self._inline_text(data)

    def _inline_text(self, data: str) -> None:
        if not data or self._skip_depth:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._pre_depth:
            first, *rest = data.split("\n")
            self._inline.append(first)
            for line in rest:
                self._flush(keep_spaces=True)
                self._inline.append(line)
        else:
            self._inline.append(data)

    # -- output

    def text(self) -> str:
        self._close_row()
        self._flush()
        return "\n".join(self._lines).strip("\n")

    def _flush(self, *, keep_spaces: bool = False) -> None:
        raw = "".join(self._inline)
        self._inline.clear()
        line = raw.rstrip() if keep_spaces else collapse_spaces(raw)
        if line:
            self._lines.append(self._marker + line)
            self._marker = ""

    def _block_break(self) -> None:
        """End the current block; outside lists, leave a blank line after it."""
        self._flush()
        if not self._lists and self._lines and self._lines[-1]:
            self._lines.append("")

    def _start_list_item(self) -> None:
        self._flush()
        if not self._lists:  # a stray <li>: still an item
            self._marker = "- "
            return
        current = self._lists[-1]
        indent = "  " * (len(self._lists) - 1)
        if current[0]:
            current[1] += 1
            self._marker = f"{indent}{current[1]}. "
        else:
            self._marker = f"{indent}- "

    def _close_cell(self) -> None:
        if self._cell is not None:
            if self._row is None:  # a cell without <tr>: start the row it implies
                self._flush()
                self._row = []
            self._row.append(collapse_spaces("".join(self._cell)))
            self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row is not None:
            if any(self._row):
                self._flush()
                self._lines.append(" | ".join(self._row))
            self._row = None


def _ordered_start(attrs: list[tuple[str, str | None]]) -> int:
    start = dict(attrs).get("start")
    return int(start) if start and start.strip().lstrip("-").isdigit() else 1
