"""What of an assignment's sources a model reads: all of it when it fits the token
budget; otherwise passages chosen by relevance, with what was left out said, never a
silent cut.

Choosing, in order: the rubric; passages holding a rule the offline rules find (must,
numbers, formats, dates: the facts a plan most needs); the rest of the description;
then passages of the files ranked by how many rare words they share with the title,
the rubric and the description.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from models.context import DESCRIPTION_SOURCE_ID, SourceContext
from models.plan import LeftOutText
from server.llm.prompts import estimate_tokens
from server.planning.offline import distill_requirements
from server.text.grounding import RUBRIC_SOURCE_ID, find_quote, grounding_corpus
from server.text.submission import paragraph_spans, stems

Span = tuple[int, int]

# Long paragraphs (a PDF page without blank lines) are cut into pieces of about this size.
MAX_PASSAGE_CHARS = 1500
GAP_MARKER = "[… {chars:,} characters left out …]"
_RUBRIC, _RULE, _DESCRIPTION, _OTHER = range(4)


@dataclass(frozen=True)
class SourceText:
    """One source as the model sees it: whole, or its chosen passages with marked gaps."""

    source_id: str
    name: str
    text: str
    left_out: LeftOutText | None


@dataclass(frozen=True)
class _Passage:
    source_id: str
    start: int
    end: int
    tier: int
    score: float


def _pieces(text: str, start: int, end: int) -> list[Span]:
    pieces: list[Span] = []
    while end - start > MAX_PASSAGE_CHARS:
        cut = text.rfind(" ", start, start + MAX_PASSAGE_CHARS)
        cut = cut if cut > start else start + MAX_PASSAGE_CHARS
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _spans(text: str) -> list[Span]:
    return [piece for start, end in paragraph_spans(text) for piece in _pieces(text, start, end)]


def _rule_spans(context: SourceContext, corpus: dict[str, str]) -> dict[str, list[Span]]:
    found: dict[str, list[Span]] = {}
    for requirement in distill_requirements(context).items:
        text = corpus.get(requirement.source_id)
        span = find_quote(requirement.quote, text) if text is not None else None
        if span:
            found.setdefault(requirement.source_id, []).append(span)
    return found


def _name(context: SourceContext, source_id: str) -> str:
    if source_id == RUBRIC_SOURCE_ID:
        return "Rubric"
    document = context.document(source_id)
    return document.name if document else source_id


def _passages(context: SourceContext, corpus: dict[str, str]) -> list[_Passage]:
    rules = _rule_spans(context, corpus)
    spans = {source_id: _spans(text) for source_id, text in corpus.items()}
    stems_of = {
        (source_id, span): stems(corpus[source_id][span[0] : span[1]])
        for source_id, source_spans in spans.items()
        for span in source_spans
    }
    document_frequency = Counter(stem for found in stems_of.values() for stem in found)
    query = stems(
        " ".join(
            [
                context.assignment.title,
                corpus.get(RUBRIC_SOURCE_ID, ""),
                corpus.get(DESCRIPTION_SOURCE_ID, ""),
            ]
        )
    )
    passages: list[_Passage] = []
    for (source_id, (start, end)), found in stems_of.items():
        if source_id == RUBRIC_SOURCE_ID:
            tier = _RUBRIC
        elif any(s < end and start < e for s, e in rules.get(source_id, [])):
            tier = _RULE
        elif source_id == DESCRIPTION_SOURCE_ID:
            tier = _DESCRIPTION
        else:
            tier = _OTHER
        rarity = sum(math.log(len(stems_of) / document_frequency[s]) for s in found & query)
        passages.append(_Passage(source_id, start, end, tier, rarity / math.log(2 + end - start)))
    return passages


def _gaps(kept: list[Span], length: int) -> list[Span]:
    gaps: list[Span] = []
    position = 0
    for start, end in sorted(kept):
        if start > position:
            gaps.append((position, start))
        position = max(position, end)
    if position < length:
        gaps.append((position, length))
    return gaps


def _pages_left_out(context: SourceContext, source_id: str, kept: list[Span]) -> list[int]:
    document = context.document(source_id)
    if document is None:
        return []
    pages: dict[int, bool] = {}
    for segment in document.segments:
        if segment.page is None:
            continue
        read = any(s < segment.end and segment.start < e for s, e in kept)
        pages[segment.page] = pages.get(segment.page, False) or read
    return sorted(page for page, read in pages.items() if not read)


def _excerpt(context: SourceContext, source_id: str, text: str, kept: list[Span]) -> SourceText:
    gaps = [(s, e) for s, e in _gaps(kept, len(text)) if text[s:e].strip()]
    if not gaps:
        return SourceText(source_id, _name(context, source_id), text, None)
    pieces: list[str] = []
    position = 0
    for start, end in gaps:
        pieces += [text[position:start].strip(), GAP_MARKER.format(chars=end - start)]
        position = end
    pieces.append(text[position:].strip())
    left_out = LeftOutText(
        source_id=source_id,
        name=_name(context, source_id),
        omitted_chars=sum(end - start for start, end in gaps),
        total_chars=len(text),
        pages=_pages_left_out(context, source_id, kept),
    )
    excerpt = "\n".join(piece for piece in pieces if piece)
    return SourceText(source_id, left_out.name, excerpt, left_out)


def select_sources(context: SourceContext, token_budget: int) -> list[SourceText]:
    """The sources in their usual order, each whole or cut to the passages chosen to fit
    ``token_budget`` (CPU work on possibly long texts: run it in a thread)."""
    corpus = grounding_corpus(context)
    if sum(estimate_tokens(text) for text in corpus.values()) <= token_budget:
        return [
            SourceText(source_id, _name(context, source_id), text, None)
            for source_id, text in corpus.items()
        ]
    ranked = sorted(_passages(context, corpus), key=lambda p: (p.tier, -p.score))
    kept: dict[str, list[Span]] = {source_id: [] for source_id in corpus}
    left = token_budget
    for passage in ranked:
        cost = estimate_tokens(corpus[passage.source_id][passage.start : passage.end])
        if cost <= left:
            kept[passage.source_id].append((passage.start, passage.end))
            left -= cost
    return [
        _excerpt(context, source_id, text, kept[source_id]) for source_id, text in corpus.items()
    ]


__all__ = ["GAP_MARKER", "SourceText", "select_sources"]
