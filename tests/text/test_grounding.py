from datetime import UTC, datetime

from models.context import (
    AssignmentFacts,
    RubricCriterion,
    RubricRating,
    SourceContext,
    SourceDocument,
)
from server.text.grounding import RUBRIC_SOURCE_ID, find_quote, grounding_corpus, normalize


def _document(source_id: str, text: str) -> SourceDocument:
    return SourceDocument(
        source_id=source_id,
        name=source_id,
        content_type="text/plain",
        byte_size=len(text),
        sha256="0" * 64,
        text=text,
    )


def test_normalize_folds_case_quotes_dashes_ellipsis_and_whitespace():
    assert normalize("  Don’t  USE\n“Wikipedia”… 1,500–2,000\u00a0words ") == (
        'don\'t use "wikipedia"... 1,500-2,000 words'
    )


def test_normalize_drops_accents_soft_hyphens_and_ligatures():
    assert normalize("Caf\u00e9 re\u00adquire\ufb01le") == "cafe requirefile"


def test_find_quote_returns_offsets_into_the_original_text():
    text = "Intro.\n\nYour essay MUST be\n  1,500–2,000 words long.  Do not use “Wikipedia”."
    span = find_quote("your essay must be 1,500-2,000 words", text)
    assert span is not None
    start, end = span
    assert text[start:end] == "Your essay MUST be\n  1,500–2,000 words"


def test_find_quote_matches_curly_quotes_and_ellipsis_against_straight_ones():
    text = "Rule: Do not use “Wikipedia”… ever."
    span = find_quote('do not use "Wikipedia"...', text)
    assert span is not None
    assert text[span[0] : span[1]] == "Do not use “Wikipedia”…"


def test_find_quote_tolerates_spacing_around_punctuation():
    text = "Length: 1,500 – 2,000 words, excluding references."
    span = find_quote("1,500-2,000 words", text)
    assert span is not None
    assert text[span[0] : span[1]] == "1,500 – 2,000 words"


def test_find_quote_only_matches_whole_words():
    assert find_quote("art", "Start the essay early.") is None
    assert find_quote("start", "Start the essay early.") == (0, 5)


def test_find_quote_rejects_text_that_is_not_there():
    text = "Your essay must be 1,500–2,000 words."
    assert find_quote("must include a 200-word abstract", text) is None
    assert find_quote("   ", text) is None


def test_grounding_corpus_has_every_document_and_the_rubric_lines():
    context = SourceContext(
        assignment=AssignmentFacts(course_id="1", assignment_id="2", title="Essay"),
        rubric=[
            RubricCriterion(
                id="c1",
                description="Thesis",
                long_description="A clear, arguable thesis.",
                points=10,
                ratings=[RubricRating(description="Full marks", points=10)],
            ),
            RubricCriterion(id="c2", description="Sources", points=5),
        ],
        documents=[_document("description", "Write an essay."), _document("file:7", "Notes.")],
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    corpus = grounding_corpus(context)
    assert list(corpus) == ["description", "file:7", RUBRIC_SOURCE_ID]
    assert corpus["file:7"] == "Notes."
    assert corpus[RUBRIC_SOURCE_ID].splitlines() == [
        "Thesis",
        "A clear, arguable thesis.",
        "Full marks",
        "Sources",
    ]


def test_grounding_corpus_without_rubric_has_no_rubric_source():
    context = SourceContext(
        assignment=AssignmentFacts(course_id="1", assignment_id="2", title="Essay"),
        documents=[_document("description", "Write an essay.")],
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert grounding_corpus(context) == {"description": "Write an essay."}
