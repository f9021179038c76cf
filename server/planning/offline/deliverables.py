"""Rules of another deliverable: a course page states the rules of several pieces of work
("The final essay will be 1200-1500 words" on the page of the project proposal); the
assignment's title says which one is this assignment's.
"""

from __future__ import annotations

import re

from server.planning.offline.values import collapse_whitespace

# What a course page calls its deliverables, by kind: a page lists the rules of several
# ("The final essay will be 1200-1500 words" on the page of the project proposal).
_DELIVERABLE_KIND_WORDS = {
    "paper": r"papers?(?!\s+(?:cop(?:y|ies)|versions?))|essays?|write-?ups?",
    "project": r"projects?",
    "proposal": r"proposals?",
    "report": r"reports?",
    "problem set": r"problem sets?|psets?|homeworks?|homework assignments?|exercises?",
    "presentation": r"presentations?|talks?|pitch(?:es)?",
    "memo": r"memos?",
    "reflection": r"reflections?|journals?",
    "exam": r"exams?|quiz(?:zes)?|tests?|midterms?",
    "reading": r"reading questions?|readings?",
    "post": r"posts?|blogs?|forums?",
}
_DELIVERABLE_KIND_RES = {
    kind: re.compile(rf"\b(?:{words})\b", re.I) for kind, words in _DELIVERABLE_KIND_WORDS.items()
}
# The subject of a sentence: the words before its first verb.
_SUBJECT_RE = re.compile(
    r"^(?P<subject>(?:[^\s,;:]+\s+){0,8}?)(?:will|should|must|is|are|has|have|can|may|needs?|"
    r"counts?|takes?)\b",
    re.I,
)
# Which one of a series: "First Paper", "the second paper", "Problem Set 1", "Essay #2",
# "the final" (a number counts only after the work's name or "#": "3 7-page essays" counts).
_ORDINAL_RE = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|final|last|midterm)\b|"
    r"(?:#|\b(?:paper|essay|set|assignment|memo|report|lab|project|exercise|homework|quiz|"
    r"exam|part|unit|module)\s+#?)(\d{1,2})\b",
    re.I,
)
_FINAL_RE = re.compile(r"\bfinal\b", re.I)
_ORDINAL_NUMBERS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5"}
_ORDINAL_START_RE = re.compile(r"^(?:first|second|third|fourth|fifth|sixth|final)\b", re.I)
# Words that open a sentence without being its subject: "However, collaboration ...".
_DISCOURSE_RE = re.compile(
    r"^(?:however|moreover|furthermore|also|additionally|of course|note that),?\s+",
    re.I,
)
# The occasion a rule is for: "During the quizzes a student may only access MATLAB".
_OCCASION_RE = re.compile(
    r"^(?:during|on|for|in|at)\s+(?P<subject>(?:the\s+|each\s+|your\s+)?(?:[\w-]+\s+)?"
    r"(?:exams?|quiz(?:zes)?|tests?|midterms?|presentations?|final))\b",
    re.I,
)
_LINE_SUBJECT_WORDS = 4  # a line without a verb ("Fourth Essay (5-7 pages)") is its own subject
# A label before a colon or a dash names what the line is about: "Exams: Mid-term Exam
# ...", "Reflection - Each group member contributes a 2-3 page reflection".
_LABEL_RE = re.compile(r"^(?P<subject>[\w' -]{2,30}?)(?::|\s[-–—])\s")


def _deliverable_kinds(text: str) -> set[str]:
    return {kind for kind, pattern in _DELIVERABLE_KIND_RES.items() if pattern.search(text)}


def _title_kind(title: str) -> str | None:
    """The kind a title ends on: "Project Proposal" is a proposal, "Final Project" a project,
    "Group Project: Wiki and Presentation" a project (what follows a colon details it)."""
    head = title.split(":")[0]
    found = [
        (match.start(), kind)
        for kind, pattern in _DELIVERABLE_KIND_RES.items()
        for match in pattern.finditer(head)
    ]
    return max(found)[1] if found else None


def about_another_deliverable(sentence: str, title: str) -> bool:
    """Whether a sentence states a rule of another deliverable than the assignment's own.
    Its subject (or the occasion it opens with: "During the quizzes, ...") names a kind of
    work the title does not ("The final essay will be ..." on "Project Proposal"), or
    another one of the same series ("The second paper ..." on "First Paper", "the final
    problem set" on "Problem Set 1")."""
    text = _DISCOURSE_RE.sub("", collapse_whitespace(sentence))
    own = _deliverable_kinds(title)
    # A project holds parts of every kind (its proposal, report, presentation), and "the
    # project" names the whole work whatever its title.
    if _title_kind(title) == "project":
        return False
    match = _OCCASION_RE.match(text) or _SUBJECT_RE.match(text) or _LABEL_RE.match(text)
    if match:
        subject = match["subject"]
    elif _ORDINAL_START_RE.match(text):
        subject = " ".join(text.split()[:_LINE_SUBJECT_WORDS])
    else:
        subject = ""
    theirs = _deliverable_kinds(subject) - {"project"}
    if not own:
        # A title that names no kind ("Assignment 3: Regression") is no exam's: "During the
        # quizzes a student may only access MATLAB" is the exams' rule.
        return "exam" in theirs
    if theirs and not theirs & own:
        return True
    mine = _ordinals(title)
    # "the final problem set" anywhere, on "Problem Set 1"
    final_of_own_kind = "final" not in mine and any(
        _DELIVERABLE_KIND_RES[kind].search(text[found.end() :][:30])
        for found in _FINAL_RE.finditer(text)
        for kind in own
    )
    ordinals = _ordinals(subject)
    other_of_series = bool(theirs and ordinals and mine and ordinals.isdisjoint(mine))
    return other_of_series or (final_of_own_kind and bool(mine))


def _ordinals(text: str) -> set[str]:
    """Which ones of a series a text names, as numbers where they have one."""
    found = {(word or number).lower() for word, number in _ORDINAL_RE.findall(text)}
    return {_ORDINAL_NUMBERS.get(ordinal, ordinal) for ordinal in found}


# A line short enough to title what follows it ("Fourth Essay (5-7 pages)", "Assignment 2 –
# EPA Open Docket"), not a sentence that states something.
_TITLE_LINE_WORDS = 8
# The nouns a series of work is numbered by: "Problem Set 2", "Reading Response 1".
_SERIES_NOUNS = (
    r"papers?|essays?|sets?|assignments?|memos?|reports?|labs?|projects?|exercises?|"
    r"homeworks?|quiz(?:zes)?|exams?|responses?|reflections?|posts?|journals?|entr(?:y|ies)"
)
_SERIES_NOUN_RE = re.compile(rf"\b(?:{_SERIES_NOUNS}|units?|modules?)\b", re.I)
_WORD_RE = re.compile(r"[^\W_]+")
_VALUE_LINE_RE = re.compile(r":\s*\d+(?:\.\d+)?\s*(?:%|percent|pts?|points|marks)?\.?$", re.I)
# A rule for every piece of work on the page: "Note for all essays: ...".
_EVERY_DELIVERABLE_RE = re.compile(
    r"\b(?:all|every|each|both)\s+(?:of\s+(?:the|your)\s+)?(?:[\w-]+\s+)?(?:"
    + "|".join(_DELIVERABLE_KIND_WORDS.values())
    + r"|assignments?)\b",
    re.I,
)


def titles_work(line: str, heading: bool) -> bool:
    """Whether a line titles a piece of work and what follows it: a heading, or a short
    line without final punctuation that names one ("Fourth Essay (5-7 pages)"; not "Due
    Session 19", which is that work's date)."""
    text = collapse_whitespace(line)
    if _VALUE_LINE_RE.search(text):
        return False  # a line of a grade breakdown ("First paper: 25%") titles nothing
    if heading:
        return True
    return (
        len(text.split()) <= _TITLE_LINE_WORDS
        and not text.endswith((".", "!", "?", ";", ","))
        and bool(_deliverable_kinds(text) or _SERIES_NOUN_RE.search(text))
    )


def titles_another_deliverable(line: str, title: str) -> bool:
    """Whether a heading or title line opens the part of the page about another piece of
    work: "Fourth Essay (5-7 pages)" on "Third Essay", "Assignment 1 – Hometown Analysis"
    on "Final Assignment". The lines under it (its date, its
    prompt) are that work's."""
    text = collapse_whitespace(line)
    own_words = set(_WORD_RE.findall(title.split(":")[0].lower()))
    if own_words and own_words <= set(_WORD_RE.findall(text.lower())):
        return False
    mine, theirs = _series(title), _series(text)
    if mine and theirs:
        # "Fourth Essay" on "Third Essay": the same series, another one of it.
        same_series = {noun for noun, _ in theirs} & {noun for noun, _ in mine}
        return bool(same_series) and not theirs & mine
    return about_another_deliverable(text, title)


# One of a series, with its noun: "Fourth Essay", "Problem Set 2", "Assignment #1".
_SERIES_RE = re.compile(
    r"\b(?P<word>first|second|third|fourth|fifth|sixth|final|last|midterm)\s+(?:[\w-]+\s+)?"
    rf"(?P<noun>{_SERIES_NOUNS})\b|"
    # a week's or a day's work is one of a series too: "Week 2" on "Reflection: Week 13"
    rf"\b(?P<noun2>{_SERIES_NOUNS}|weeks?|days?)\s+#?(?P<number>\d{{1,2}})\b",
    re.I,
)


def _series(text: str) -> set[tuple[str, str]]:
    """The pieces of a series a text names, as (noun, which one): "Fourth Essay" is
    ("essay", "4"), "Problem Set 2" ("set", "2")."""
    found = set()
    for match in _SERIES_RE.finditer(text):
        plural = (match["noun"] or match["noun2"]).lower()
        noun = re.sub(r"zzes$", "z", re.sub(r"ies$", "y", plural)).removesuffix("s")
        which = (match["word"] or match["number"]).lower()
        found.add((noun, _ORDINAL_NUMBERS.get(which, which)))
    return found


def names_this_one_of_its_series(text: str, title: str) -> bool:
    """Whether a text names the very piece of work the title does: "Problem set 2 due" on
    "Problem Set 2", "Lab 4 Due" on "Lab 4: Plate Tectonics"."""
    return bool(_series(text) & _series(title))


def names_this_or_every_deliverable(sentence: str, title: str, other: str) -> bool:
    """A rule for all the work on the page ("Note for all essays: cite in MLA") or one that
    names this work ("The second part of the midterm is ..." on "Midterm Assignment", "your
    journal must be completed individually" under "Homework Partners" on "Journal Entry"):
    it holds under the line ``other`` that opened another piece of work's part of the page
    too. A kind both share does not tell them apart ("Papers should be 7-10 pp." after
    "Final paper: ..." on "Paper 1")."""
    own = _deliverable_kinds(title) - _deliverable_kinds(other)
    return bool(
        _EVERY_DELIVERABLE_RE.search(sentence)
        or _ordinals(sentence) & _ordinals(title)
        or _deliverable_kinds(sentence) & own
    )
