"""The offline engine's rule patterns on sentences instructors write without "must": each
case is a rule (with the kind the plan lists it under) or not one. The corpus
(tests/planning/test_corpus_quality.py) measures them on whole assignments."""

from __future__ import annotations

import pytest

from server.planning.offline.patterns import Range, length_limits, requirement_kind


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        # intermediate deadlines
        ("Please submit a brief project proposal by Ses #17.", "deadline"),
        ("Submit each write-up on the night before the case is to be discussed.", "deadline"),
        ("The memo should be emailed to the TA within 24 hours after each meeting.", "deadline"),
        ("Your team will present its design in recitation on Tuesday, May 12.", "deadline"),
        ("Oct 9: introduction due for peer review.", "deadline"),
        ("Problem sets extended beyond two days have a maximum score of 50%.", "hard_constraint"),
        # collaboration, AI use, audience
        ("Write up each problem independently.", "hard_constraint"),
        ("Students will work in pairs to present an article of their choice.", "hard_constraint"),
        ("However, the work you submit should be written by you alone.", "hard_constraint"),
        (
            "Using ChatGPT or other AI tools to write your answers is not reasonable.",
            "hard_constraint",
        ),
        ("This paper should be written in the form of a memo for a manager.", "hard_constraint"),
        # what the work holds, how it is handed in, typography
        ("The proposal should include: a topic, the group and a work plan.", "hard_constraint"),
        (
            "At the top of each paper, please include one question you still have.",
            "hard_constraint",
        ),
        ("Submitting involves uploading your code via submit50.", "hard_constraint"),
        ("The report should be single spaced, in 12-point font.", "format"),
        ("1.5 line spacing, left justification.", "format"),
        ("Plagiarism not tolerated: the usual standards apply.", "hard_constraint"),
        ("It is illegal to consult solutions from previous semesters.", "hard_constraint"),
        # parts, prose, citation stated as a consequence
        ("This essay has two parts.", "hard_constraint"),
        ("The report will be divided into three sections:", "hard_constraint"),
        ("Written in prose, no bullets.", "hard_constraint"),
        ("Any material used without citation receives 0.", "citation"),
        ("Include a table that summarizes your measurements.", "hard_constraint"),
    ],
)
def test_rules_written_without_must_are_found(sentence: str, kind: str) -> None:
    assert requirement_kind(sentence) == kind


@pytest.mark.parametrize(
    "sentence",
    [
        "Do not worry about obtaining original research results.",
        "A good rule of thumb is no more than five bullets per slide.",
        "We encourage you to work in groups of 2-3 people.",
        "Problem sets will be posted here roughly weekly.",
        "You should use headings to organize your argument.",
        "This guide walks you through the essay from choosing a topic to submitting it.",
    ],
)
def test_reassurance_suggestions_and_descriptions_are_not_rules(sentence: str) -> None:
    assert requirement_kind(sentence) not in {"hard_constraint", "length", "format", "deadline"}


@pytest.mark.parametrize(
    ("sentence", "limits"),
    [
        ("Write 1,500--2,000 words.", Range(1500, 2000)),
        ("Write 1500 ~ 2000 words.", Range(1500, 2000)),
        ("Please keep the number of words under 250.", Range(None, 250)),
        ("About ~800 words.", Range(800, 800)),
    ],
)
def test_word_ranges_with_double_hyphens_tildes_and_the_unit_first(
    sentence: str, limits: Range
) -> None:
    assert length_limits(sentence)["words"] == limits
