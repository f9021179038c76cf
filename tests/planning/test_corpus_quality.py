"""The labelled corpus (``fixtures/corpus/``) is what it claims to be, and the offline
engine's plans of it keep a floor: recall cannot fall silently.

In-process and fast: the engine reads each assignment's SourceContext as the pipeline
builds it (description text, attachment text from the service's own extractor);
``bench/quality.py`` measures the same through the running service.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devkit.corpus import KINDS, load_corpus, source_context
from devkit.plan_quality import Score, label_span, score_plan, totals
from fixtures.make_corpus import docx, pdf
from server.planning.offline import distill_requirements
from server.planning.offline.assembly import draft_plan
from server.text.sentences import block_sentences, blocks

# The floors are measured values (the engine is deterministic: a regression guard; issue
# 16's targets are recall 0.9, bloat 1.5 and no distractor taken); the history of each
# part's figures is in fixtures/corpus/README.md. Development (131 assignments, tuned on,
# with session 5's held-out part since session 7): 682/808 = 0.844, bloat 1131/808 =
# 1.400, 82 of 488 distractors taken. Held-out (28 assignments in two parts, each chosen
# and labelled by helpers who never ran the engine on them and measured once with the
# engine as it stood: session 7's, 92/134 = 0.687, bloat 1.34, 18 of 70 taken; session
# 8's, 87/129 = 0.674, bloat 1.12, 18 of 64 taken). The held-out bloat floor is the
# issue's bar (1.5), not the measured value: a measured one would fail any rule that fires
# there once, found rule or not; recall and distractors guard the rest.
DEVELOPMENT_RECALL_FLOOR = 0.844
DEVELOPMENT_MAX_BLOAT = 1.400
MAX_DEVELOPMENT_DISTRACTORS_TAKEN = 82
HELD_OUT_MAX_BLOAT = 1.5
# Each held-out part: (recall floor, distractors taken at most).
HELD_OUT_PART_FLOORS = {"session 7": (0.686, 18), "session 8": (0.674, 18)}
COMMON_KINDS = {
    "essay",
    "lab report",
    "problem set",
    "programming",
    "presentation",
    "reflection",
    "discussion post",
    "proposal",
    "annotated bibliography",
    "group project",
    "case study",
}
NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)

CORPUS = load_corpus()


def test_the_corpus_is_broad_and_split_before_tuning() -> None:
    assert len(CORPUS) >= 25
    assert len({entry.field for entry in CORPUS}) >= 12
    assert COMMON_KINDS <= {kind for entry in CORPUS for kind in entry.kinds}
    held_out = [entry for entry in CORPUS if entry.split == "held-out"]
    assert len(held_out) >= 8
    assert len({entry.field for entry in held_out}) == len(held_out), "held-out fields differ"
    assert {entry.split for entry in CORPUS} == {"development", "held-out"}
    # Every held-out assignment belongs to a part; development ones to none.
    assert all((entry.split == "held-out") == bool(entry.held_out_part) for entry in CORPUS)
    assert sum(entry.attachment is not None for entry in CORPUS) >= 3
    assert all(entry.source["url"] and entry.source["licence"] for entry in CORPUS)


@pytest.mark.parametrize("entry", CORPUS, ids=lambda entry: entry.slug)
def test_every_label_quotes_its_source(entry) -> None:  # type: ignore[no-untyped-def]
    context = source_context(entry, NOW)
    assert entry.constraints, "an assignment without a labelled rule measures nothing"
    for label in entry.constraints:
        assert label.kind in KINDS, label
    for label in entry.constraints + entry.distractors:
        assert label_span(entry, context, label) is not None, label.quote


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.attachment], ids=lambda entry: entry.slug)
def test_attachments_are_generated_from_their_text(entry) -> None:  # type: ignore[no-untyped-def]
    render = pdf if entry.attachment.name.endswith(".pdf") else docx
    assert entry.attachment.path.read_bytes() == render(entry.attachment), (
        "run .venv/bin/python -m fixtures.make_corpus"
    )


def _scores() -> list[Score]:
    scores = []
    for entry in CORPUS:
        context = source_context(entry, NOW)
        plan = draft_plan(context, distill_requirements(context))
        scores.append(score_plan(entry, context, plan.model_dump(mode="json")))
    return scores


def test_offline_plans_keep_the_recall_floor() -> None:
    figures = {part.slug: part for part in totals(_scores())}
    development = figures["development"]
    assert development.recall >= DEVELOPMENT_RECALL_FLOOR, development.missed
    assert development.bloat <= DEVELOPMENT_MAX_BLOAT
    assert development.distractors_taken <= MAX_DEVELOPMENT_DISTRACTORS_TAKEN, development.taken
    assert development.grounding == 1.0, development.ungrounded
    # Held-out figures as bare numbers: a failing assertion must not print what the engine
    # missed or took there (whoever reads that tunes on it).
    grounding, bloat = figures["held-out"].grounding, figures["held-out"].bloat
    assert grounding == 1.0
    assert bloat <= HELD_OUT_MAX_BLOAT
    assert set(HELD_OUT_PART_FLOORS) == {e.held_out_part for e in CORPUS if e.held_out_part}
    for part, (recall_floor, most_taken) in HELD_OUT_PART_FLOORS.items():
        recall = figures[f"held-out, {part}"].recall
        taken = figures[f"held-out, {part}"].distractors_taken
        assert recall >= recall_floor, part
        assert taken <= most_taken, part


@pytest.mark.parametrize("entry", CORPUS, ids=lambda entry: entry.slug)
def test_a_distractor_never_shares_a_sentence_with_a_rule(entry) -> None:  # type: ignore[no-untyped-def]
    """Plans quote whole sentences: a distractor inside a rule's sentence could not be
    told apart from the rule, so the labels keep them in sentences of their own."""
    context = source_context(entry, NOW)
    for distractor in entry.distractors:
        span = label_span(entry, context, distractor)
        assert span is not None
        text = context.document(span.source_id).text
        sentence = next(
            (s, e)
            for block_start, block_end in blocks(text)
            for s, e in block_sentences(text, block_start, block_end)
            if s <= span.start < e
        )
        for label in entry.constraints:
            rule = label_span(entry, context, label)
            assert rule is not None
            inside = rule.source_id == span.source_id and sentence[0] <= rule.start < sentence[1]
            assert not inside, (distractor.quote, label.quote)
