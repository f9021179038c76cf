"""The offline planning engine: deterministic rules and templates, no network, no model.

It is honest about what it is (``generated_by.heuristic``). Requirements are sentences of
the instructions picked out by keyword and number patterns and quoted word for word; the
plan is a template for the kind of assignment (essay, lab report, presentation, short
response, anything else), filled in with those requirements, the rubric and a schedule
worked back from the Canvas due date. Same input, same output: "now" is the moment the
context was fetched.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, TypeVar

from models.context import (
    DESCRIPTION_SOURCE_ID,
    AssignmentFacts,
    Requirement,
    RequirementKind,
    Requirements,
    RubricCriterion,
    SourceContext,
)
from models.plan import (
    AssignmentSummary,
    GeneratedBy,
    Milestone,
    Plan,
    Risk,
    SourceReference,
    SubmissionStrategy,
    Task,
)
from server.llm.session import EngineSession
from server.text.grounding import RUBRIC_SOURCE_ID, normalize
from server.text.sentences import (
    LIST_MARKER_RE,
    block_sentences,
    blocks,
    is_table_row,
    sentence_spans,
    trimmed,
)

_T = TypeVar("_T")
AssignmentKind = Literal["essay", "lab", "presentation", "short_response", "generic"]

# Longer "sentences" are usually tables or lost punctuation, not one requirement.
_MAX_REQUIREMENT_CHARS = 400
_MIN_REQUIREMENT_WORDS = 3


# --- headings and tables -----------------------------------------------------------------

_MAX_HEADING_WORDS = 10
# Auxiliaries and modals: a line with one of them says something, it does not title.
_VERBISH_RE = re.compile(
    r"\b(?:must|should|shall|will|would|may|might|can|cannot|could|is|are|was|were|be|been|"
    r"do|does|did|need|needs|required|has|have)\b",
    re.I,
)
_TITLE_SMALL_WORD_CHARS = 3
_HEADING_VALUE_RE = re.compile(r"\b\d{1,2}[- ]?(?:pt|point)\b", re.I)


def _is_title_case(words: list[str]) -> bool:
    long_words = [w for w in words if w[:1].isalpha() and len(w) > _TITLE_SMALL_WORD_CHARS]
    return bool(long_words) and all(w[0].isupper() for w in long_words)


def _states_a_value(line: str) -> bool:
    """Whether a line sets a measurable value: a length, a source count, a style, a file
    type, a date or a late penalty ("Due: Friday, March 3" is not a heading)."""
    return bool(
        _lengths(line)
        or _SOURCES_RE.search(line)
        or _citation_style(line)
        or _EXTENSION_RE.search(line)
        or _HEADING_VALUE_RE.search(line)
        or _DEADLINE_RE.search(line)
        or _MONTH_DAY_RE.search(line)
        or _LATE_POLICY_RE.search(line)
    )


def _is_heading(line: str) -> bool:
    """A short line without final punctuation that names a part rather than saying something:
    "Sources and Academic Integrity", "Requirements:", "Late Work". Headings give the
    sentences under them their context; they are never requirements themselves."""
    flat = " ".join(line.split())
    if not flat or "\n" in line.strip() or flat[-1] in ".!?;" or is_table_row(flat):
        return False
    words = flat.rstrip(":").split()
    if len(words) > _MAX_HEADING_WORDS or _states_a_value(flat):
        return False
    if flat.endswith(":") or _is_title_case(words):
        return not _HARD_RE.search(flat)
    verb = _imperative_verb(flat)
    return not (
        _VERBISH_RE.search(flat)
        or _TYPOGRAPHY_RE.search(flat)
        or verb in _PROCESS_VERBS
        or verb in _DELIVERABLE_VERBS
        or verb in _TASK_VERBS
    )


@dataclass(frozen=True)
class _Place:
    """A sentence, heading or table row of a document, with the heading it sits under."""

    start: int
    end: int
    role: Literal["sentence", "heading", "table_row"]
    section: str
    listed: bool = False


def _places(text: str) -> list[_Place]:
    places: list[_Place] = []
    section = ""
    for block_start, block_end in blocks(text):
        block = text[block_start:block_end]
        start, end = trimmed(text, block_start, block_end)
        if start >= end:
            continue
        if is_table_row(block):
            places.append(_Place(start, end, "table_row", section))
            continue
        listed = bool(LIST_MARKER_RE.match(block.lstrip()))
        if not listed and _is_heading(block):
            section = _clean(text[start:end]).rstrip(":")
            places.append(_Place(start, end, "heading", section))
            continue
        places.extend(
            _Place(sentence_start, sentence_end, "sentence", section, listed)
            for sentence_start, sentence_end in block_sentences(text, block_start, block_end)
        )
    return places


# --- requirement patterns ----------------------------------------------------------------

_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50}
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT = r"(?P<unit>words?|pages?|slides?|minutes?|mins?)\b"
_RANGE_RE = re.compile(
    rf"\b(?P<low>{_NUMBER})\s*(?:-|–|—|to|and)\s*(?P<high>{_NUMBER})[\s-]*{_UNIT}", re.I
)
_MIN_RE = re.compile(
    rf"\b(?:at least|(?:a )?minimum(?: of)?|no fewer than|no less than|not less than)\s+"
    rf"(?P<value>{_NUMBER})[\s-]*{_UNIT}",
    re.I,
)
_MAX_RE = re.compile(
    rf"\b(?:no more than|not more than|at most|(?:a )?maximum(?: of)?|up to|not to exceed|"
    rf"not exceed|under|limited to|a limit of|limit of)\s+(?P<value>{_NUMBER})[\s-]*{_UNIT}",
    re.I,
)
_APPROX_RE = re.compile(rf"\b(?P<value>{_NUMBER})[\s-]*{_UNIT}", re.I)
_SOURCES_RE = re.compile(
    rf"\b(?P<value>{_NUMBER})\s+(?:(?!words?\b|pages?\b|slides?\b|minutes?\b)[\w-]+,?\s+){{0,3}}"
    r"(?:sources|references|citations|articles|studies)\b",
    re.I,
)
_STYLE_RE = re.compile(r"\b(APA|MLA|IEEE|ACS|AMA|CSE|Chicago|Harvard|Turabian|Vancouver)\b")
# Named styles are also ordinary words ("University of Chicago"): only a citation
# context makes them a style.
_NAMED_STYLES = frozenset({"Chicago", "Harvard", "Turabian", "Vancouver"})
_CITATION_CONTEXT_RE = re.compile(
    r"\b(?:style|format\w*|cit\w+|referenc\w*|edition|manual)\b", re.I
)
_EDITION_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\s*(?:ed\b|edition)", re.I)
_STYLE_NUMBER_RE = re.compile(r"\b(?:APA|MLA)\s*\(?(\d{1,2})(?:st|nd|rd|th)?\b")
_CITATION_RE = re.compile(
    r"\b(?:(?i:cite|citations?|in-text|works cited|reference list|bibliography)|APA|MLA|IEEE)\b"
)
_EXTENSION_RE = re.compile(
    r"(?<![\w/])\.(docx|doc|pdf|pptx|ppt|xlsx|xls|ipynb|txt|rtf|odt|csv|zip|py|rmd|key|mp4|mp3)\b",
    re.I,
)
_FORMAT_WORD_RE = re.compile(r"\b(PDF|Word document|PowerPoint|Excel|Jupyter notebook)\b", re.I)
_FORMAT_WORD_EXTENSIONS = {
    "pdf": ".pdf",
    "word document": ".docx",
    "powerpoint": ".pptx",
    "excel": ".xlsx",
    "jupyter notebook": ".ipynb",
}
_FILE_CONTEXT_RE = re.compile(r"\b(?:submit\w*|upload\w*|save\w*|file|format\w*|export\w*)\b", re.I)
_LAYOUT = (
    r"font|times new roman|arial|calibri|\d{1,2}[- ]?(?:pt|point)|double[- ]spac\w*|"
    r"single[- ]spac\w*|1\.5[- ]spac\w*|line spacing|margins?|running head|page numbers?|"
    r"headings?"
)
_LAYOUT_RE = re.compile(rf"\b(?:{_LAYOUT})\b", re.I)
_TYPOGRAPHY_RE = re.compile(rf"\b(?:{_LAYOUT}|title page|cover page|file ?name)\b", re.I)
_TITLE_PAGE_RE = re.compile(r"\b(?:title|cover) page\b", re.I)
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)(?!\w)"
# A deadline is said with "due", "deadline" or "by <when>": a clock time or a weekday alone
# ("office hours on Tuesdays from 2 to 4 p.m.") is a schedule, not a deadline.
_DEADLINE_RE = re.compile(
    rf"\bdue\b(?!\s+to\b)|\bdeadlines?\b|\bby\s+(?:the\s+end\s+of|midnight|noon|{_WEEKDAYS})\b|"
    rf"\bby\s+(?:{_MONTHS})\.?\s+\d|\bby\s+{_CLOCK}",
    re.I,
)
_MONTH_DAY_RE = re.compile(
    rf"\b(?P<month>{_MONTHS})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b|"
    rf"\b(?P<day_first>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month_after>{_MONTHS})\b",
    re.I,
)
_LATE_POLICY_RE = re.compile(
    r"\blate\b[^.]*?(?:penalt|deduct|\blos[est]|reduc|per day|%|percent|not (?:be )?accepted|"
    r"zero)|%\s*(?:per|a|each)\s*(?:day|hour)",
    re.I,
)
_INTEGRITY_RE = re.compile(
    r"\b(?:plagiari\w*|academic (?:integrity|honesty|misconduct)|wikipedia|chatgpt|"
    r"generative ai|ai[- ](?:tools?|generated))\b",
    re.I,
)
_EXCLUDED_SOURCES_RE = re.compile(
    r"\b(?:do not|don't|never|cannot|can't|may not|must not)\s+(?:use|cite)\s+"
    r"(?P<what>[^.;,]+?)(?:\s+as\s+(?:an?\s+)?(?:sources?|references?|citations?))?\s*(?:[.;,]|$)",
    re.I,
)
# The wording of a rule. "At least" is not one by itself: "at least one week before the due
# date" sets nothing on the work (counts on the work are _COUNT_RE's).
_HARD_RE = re.compile(
    r"\b(?:must|required|mandatory|do not|don't|may not|cannot|can't|no more than|"
    r"no fewer than|no less than|not (?:be )?(?:allowed|permitted|accepted)|"
    r"prohibited|never)\b|(?<!not )\bonly\b",
    re.I,
)
# "May" and "can" grant a permission ("You may use it to find background reading"): not a rule.
_PERMISSION_RE = re.compile(
    r"\b(?:may|can|could)\b(?!\s+not\b)(?!\s*\d)|"
    r"\b(?i:are|is)\s+(?i:welcome|free|allowed|permitted)\s+to\b|\b(?i:optional)\b"
)
# What breaking an integrity rule costs: "Plagiarism results in a zero".
_CONSEQUENCE_RE = re.compile(
    r"\b(?:result(?:s|ing)?\s+in|leads?\s+to|penali[sz]\w*|penalt\w*|zero|fail\w*|"
    r"reported|disciplin\w*|consequences?)\b",
    re.I,
)
# Things the work is made of: the objects of an imperative that sets a rule for it.
_DELIVERABLE_NOUN_RE = re.compile(
    r"\b(?:essays?|papers?|reports?|responses?|reflections?|drafts?|submissions?|documents?|"
    r"files?|pages?|paragraphs?|sections?|titles?|headings?|introduction|conclusion|thesis|"
    r"abstract|(?:counter)?arguments?|claims?|evidence|references?|citations?|bibliography|"
    r"works cited|sources?|quot(?:e|es|ation|ations)|figures?|tables?|graphs?|plots?|charts?|"
    r"captions?|ax[ie]s|units?|slides?|deck|presentation|pitch|script|outline|appendix|"
    r"appendices|margins?|font|spacing|name|header|footer|structure|template|words|length|"
    r"calculations?|data|results|methods|discussion|measurements?)\b",
    re.I,
)
# "At least two figures", "no more than three quotations": a count the work must meet.
_COUNT_RE = re.compile(
    rf"\b(?:at least|no fewer than|no less than|not less than|(?:a )?minimum(?: of)?|"
    rf"no more than|not more than|at most|(?:a )?maximum(?: of)?|up to|exactly)\s+"
    rf"(?:{_NUMBER}|a single)\s+(?:[\w'-]+\s+){{0,2}}?"
    r"(?:figures?|tables?|graphs?|plots?|charts?|images?|visuals?|examples?|quot(?:es?|ations?)|"
    r"(?:counter)?arguments?|paragraphs?|sections?|questions?|pieces?|items?|references?|"
    r"citations?|sources?|slides?|pages?|words?|case studies|responses?|replies|posts?|"
    r"peers?|classmates'?|comments?|problems?|exercises?)\b",
    re.I,
)
_IMPERATIVE_RE = re.compile(
    r"^(?:(?:please|first|then|next|finally|also|now|always)\b,?\s+)?"
    r"(?P<ensure>(?:remember|be sure|make sure|don't forget) to\s+|make sure\s+|ensure\s+)?"
    r"(?P<verb>[a-z]+(?:-[a-z]+)?)\b",
    re.I,
)
# Imperatives that set a rule for the work whatever their object ("Include a references
# page", "Cite any data sources") and those that only do with a part of the work as their
# object ("Put your name ... on the first page", but not "Use the materials below").
_DELIVERABLE_VERBS = frozenset(
    "include cite address label number quote attach double-space acknowledge answer caption "
    "title state reference format".split()
)
_RULE_VERBS_WITH_OBJECT = frozenset(
    "use put add give provide list name follow report organize organise structure place end "
    "limit indicate show ensure avoid".split()
)
_OBJECT_WORDS = 5  # how far after the verb its object is looked for
# Imperatives that are steps of doing the work, not rules for what is handed in: "Find at
# least five sources", "Visit the Writing Center". They belong to the plan's tasks.
_PROCESS_VERBS = frozenset(
    "find search look locate choose pick select decide brainstorm research read reread skim "
    "review draft revise proofread edit plan schedule start begin meet visit come attend go "
    "ask contact email talk collect gather take check bring sign register join watch listen "
    "practice practise rehearse think try print book download open log explore browse".split()
)
# Verbs that state the task itself ("Write a response of 250–300 words ..."): never a rule
# by themselves (only with a measurable value), but a line starting with one is no heading.
_TASK_VERBS = frozenset(
    "write analyze analyse discuss compare evaluate argue design create prepare develop explain "
    "investigate reflect present propose pitch summarize summarise describe respond submit "
    "upload post".split()
)
# A section of how-to steps, tips or a timeline: its imperatives are steps, not rules.
_STEP_SECTION_RE = re.compile(
    r"\b(?:steps?|process|procedures?|how to|getting started|timeline|workflow|stages|tips|"
    r"suggestions|suggested|milestones|schedule|checkpoints)\b",
    re.I,
)
# Sentences that begin with a subject (not a verb): they can only state, never command.
_SUBJECT_STARTS = frozenset(
    "the this these that those a an your you it its each every all our we they students "
    "student there here if when".split()
)
# "The essay style guide explains the formatting and citation rules": a document about
# documents, which describes rather than requires.
_DESCRIPTIVE_RE = re.compile(
    r"^(?:the|this|these|our|that)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:guides?|handouts?|documents?|rubrics?|prompts?|sheets?|syllabus|templates?|videos?|"
    r"websites?|pages?|sections?|chapters?|readings?|library|cent(?:er|re)|slides|files?|"
    r"resources?|materials?)\s+"
    r"(?:explains?|describes?|walks?|covers?|shows?|lists?|contains?|provides?|outlines?|"
    r"gives?|introduces?|summari[sz]es?|helps?|offers?|presents?|discusses?)\b",
    re.I,
)
_TASK_STATEMENT_RE = re.compile(
    r"\b(?:you will|your task|you are (?:asked|expected) to|in this (?:assignment|essay|paper|"
    r"lab|project|presentation))\b",
    re.I,
)
_SOFT_RE = re.compile(
    r"\b(?:should|recommend\w*|encourag\w*|suggest\w*|ideally|consider|may want)\b", re.I
)
# Not "submitting": "... from choosing a topic to submitting the final draft" describes.
_SUBMISSION_RE = re.compile(
    r"\b(?:submit(?:s|ted)?|upload(?:s|ed)?|turn in|hand in|turnitin)\b", re.I
)
_GRADING_RE = re.compile(
    r"\bworth\b|\b\d+\s*(?:%|percent)\s+of\s+(?:the|your)\b|\b\d+\s*(?:points|pts|marks)\b|"
    r"\bgraded\b",
    re.I,
)
_TASK_RE = re.compile(
    r"\b(?:(?:you|your \w+|students|each student) will|you are (?:asked|expected|required) to|"
    r"your task|in this (?:assignment|essay|paper|lab|project|presentation)|write|analy[sz]e|"
    r"discuss|compare|evaluate|argue|design|create|prepare|develop|explain|investigate|reflect|"
    r"present|propose|pitch)\b",
    re.I,
)
_GROUP_RE = re.compile(
    r"\b(?:group|team|partner)\s+(?:project|work|presentation|members?|assignment|report)\b|"
    r"\bin (?:groups|teams|pairs)\b|\bwith a partner\b|\byour (?:team|group)\b",
    re.I,
)
_PRESENTATION_RE = re.compile(
    r"\b(?:slides?|slide deck|presentations?|present(?:ing)? to|pitch|oral|powerpoint|speech)\b",
    re.I,
)
_LAB_RE = re.compile(
    r"\b(?:lab|laboratory|experiments?|methods|results|data|hypothes[ie]s|procedure|apparatus|"
    r"measurements?|observations)\b",
    re.I,
)
_ESSAY_RE = re.compile(
    r"\b(?:essay|paper|argument\w*|thesis|reflection|report|literature review|critique)\b", re.I
)

HARD_KINDS: frozenset[RequirementKind] = frozenset(
    {"hard_constraint", "length", "format", "citation", "deadline"}
)


@dataclass(frozen=True)
class Range:
    """A length requirement: "1,500–2,000", "at least 5", "no more than 10", "about 8"."""

    low: int | None
    high: int | None

    @property
    def target(self) -> int:
        return self.high or self.low or 0

    def describe(self, unit: str) -> str:
        if self.low and self.high and self.low != self.high:
            return f"{self.low:,}–{self.high:,} {unit}"
        if self.low and self.high:
            return f"about {self.low:,} {unit}"
        if self.low:
            return f"at least {self.low:,} {unit}"
        return f"at most {self.high or 0:,} {unit}"


def _number(text: str) -> int:
    lowered = text.lower()
    return _NUMBER_WORDS[lowered] if lowered in _NUMBER_WORDS else int(lowered.replace(",", ""))


def _unit(match: re.Match[str]) -> str:
    unit = match.group("unit").lower()
    return "minutes" if unit.startswith("min") else unit.rstrip("s") + "s"


def _lengths(sentence: str) -> dict[str, Range]:
    """Length limits by unit (words, pages, slides, minutes); the first mention wins."""
    found: dict[str, Range] = {}
    for match in _RANGE_RE.finditer(sentence):
        found.setdefault(_unit(match), Range(_number(match["low"]), _number(match["high"])))
    bounds: dict[str, dict[str, int]] = {}
    for pattern, bound in ((_MIN_RE, "low"), (_MAX_RE, "high")):
        for match in pattern.finditer(sentence):
            bounds.setdefault(_unit(match), {}).setdefault(bound, _number(match["value"]))
    for unit, limits in bounds.items():
        found.setdefault(unit, Range(limits.get("low"), limits.get("high")))
    for match in _APPROX_RE.finditer(sentence):
        value = _number(match["value"])
        found.setdefault(_unit(match), Range(value, value))
    return {unit: limits for unit, limits in found.items() if limits.target > 0}


def _ordinal(value: int) -> str:
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def _citation_style(sentence: str) -> str | None:
    """The citation style the sentence names, e.g. "APA (7th ed.)" or "MLA"."""
    for match in _STYLE_RE.finditer(sentence):
        style = match.group(1)
        if style in _NAMED_STYLES and not _CITATION_CONTEXT_RE.search(sentence):
            continue
        edition = _EDITION_RE.search(sentence) or _STYLE_NUMBER_RE.search(sentence)
        return f"{style} ({_ordinal(int(edition.group(1)))} ed.)" if edition else style
    return None


def _imperative_verb(sentence: str) -> str | None:
    """The verb an imperative starts with ("Include ..." -> "include"), lower-cased; for a
    sentence with a subject, its first word."""
    match = _IMPERATIVE_RE.match(sentence.strip())
    if match is None:
        return None
    return "ensure" if match["ensure"] else match["verb"].lower()


def _sets_rule_for_work(sentence: str, verb: str | None) -> bool:
    """An imperative aimed at the work handed in ("Include a references page", "Put your
    name ... on the first page"), not at the student's process ("Use the materials below",
    "Use the library's databases to find sources")."""
    if verb in _DELIVERABLE_VERBS:
        return True
    if verb not in _RULE_VERBS_WITH_OBJECT:
        return False
    match = _IMPERATIVE_RE.match(sentence.strip())
    rest = sentence.strip()[match.end() :] if match else ""
    return bool(_DELIVERABLE_NOUN_RE.search(" ".join(rest.split()[:_OBJECT_WORDS])))


def _is_step(sentence: str, verb: str | None, section: str, listed: bool) -> bool:
    """A step of doing the work ("Find at least five sources through the library"), or an
    item of a how-to, tips or timeline section: tasks for the plan, not rules."""
    if _DEADLINE_RE.search(sentence):
        return False
    if verb in _PROCESS_VERBS:
        return True
    if not (section and _STEP_SECTION_RE.search(section)):
        return False
    return listed or (verb is not None and verb not in _SUBJECT_STARTS)


def _kind(sentence: str, section: str = "", *, listed: bool = False) -> RequirementKind | None:
    """What a sentence under ``section`` requires, if anything.

    A rule needs rule wording (must, do not, only, ...), an imperative aimed at the work,
    or a measurable value (length, source count, style, file format, deadline). Advice
    ("should"), permissions ("may"), steps of the process and descriptions are not rules.
    """
    text = _clean(sentence)
    hard = bool(_HARD_RE.search(text))
    verb = _imperative_verb(text)
    lengths = _lengths(text)
    late = bool(_LATE_POLICY_RE.search(text))
    if not hard and (
        _is_step(text, verb, section, listed)
        or _DESCRIPTIVE_RE.match(text)
        or (_PERMISSION_RE.search(text) and not (lengths or late))
    ):
        return None
    directive = hard or _sets_rule_for_work(text, verb)
    measurable = bool(lengths or _SOURCES_RE.search(text) or _citation_style(text))
    kinds: tuple[tuple[RequirementKind, bool], ...] = (
        ("length", bool(lengths)),
        ("citation", measurable or (directive and bool(_CITATION_RE.search(text)))),
        ("format", bool(_EXTENSION_RE.search(text) or _TYPOGRAPHY_RE.search(text))),
        ("deadline", bool(_DEADLINE_RE.search(text))),
        (
            "hard_constraint",
            directive
            or late
            or bool(_COUNT_RE.search(text))
            or bool(_INTEGRITY_RE.search(text) and _CONSEQUENCE_RE.search(text)),
        ),
        ("grading", bool(_GRADING_RE.search(text))),
        ("soft_constraint", bool(_SOFT_RE.search(text))),
        ("submission", bool(_SUBMISSION_RE.search(text))),
    )
    kind = next((kind for kind, matches in kinds if matches), None)
    # A length, source count or citation style is a rule however it is phrased; otherwise
    # "should" without a "must" is advice, and "you will ..." states the task (the objective).
    if kind is None or measurable or hard:
        return kind
    if _SOFT_RE.search(text):
        return None if _TASK_STATEMENT_RE.search(text) else "soft_constraint"
    return kind


def _clean(quote: str) -> str:
    return " ".join(quote.split())


# --- distill ---------------------------------------------------------------------------


def _points(value: float) -> str:
    return f"{value:g}"


def _rubric_requirements(context: SourceContext) -> list[Requirement]:
    total = context.assignment.points_possible
    requirements: list[Requirement] = []
    for criterion in context.rubric:
        description = criterion.description.strip()
        if not description:
            continue
        text = description
        if criterion.points is not None:
            text += f": {_points(criterion.points)}"
            text += f" of {_points(total)} points" if total else " points"
        requirements.append(
            Requirement(
                id="",
                kind="grading",
                text=text,
                quote=description,
                source_id=RUBRIC_SOURCE_ID,
                rubric_criterion_id=criterion.id,
            )
        )
    return requirements


_STOP_WORDS = frozenset(
    "a an the your you of in to and or be is are with for on at by as it its this that each "
    "every all any".split()
)
_WORD_TOKEN_RE = re.compile(r"[^\W_]+")
# What a sentence's measurable values are written with; the rest is its residue.
_VALUE_PATTERNS = (
    _RANGE_RE,
    _MIN_RE,
    _MAX_RE,
    _APPROX_RE,
    _SOURCES_RE,
    _STYLE_RE,
    _EDITION_RE,
    _EXTENSION_RE,
)


@dataclass(frozen=True)
class _Gist:
    """What a requirement says: its measurable values and the other words, roughly stemmed."""

    values: frozenset[tuple[str, object]]
    words: frozenset[str]

    @classmethod
    def of(cls, quote: str) -> _Gist:
        values: set[tuple[str, object]] = {
            ("length", (unit, limits)) for unit, limits in _lengths(quote).items()
        }
        values |= {("sources", _number(match["value"])) for match in _SOURCES_RE.finditer(quote)}
        values |= {("format", ext.lower()) for ext in _EXTENSION_RE.findall(quote)}
        style = _citation_style(quote)
        if style:
            values.add(("style", style))
        rest = quote
        for pattern in _VALUE_PATTERNS:
            rest = pattern.sub(" ", rest)
        words = {
            word[:-1] if word.endswith("s") and len(word) > 3 and not word.endswith("ss") else word
            for word in _WORD_TOKEN_RE.findall(normalize(rest))
            if word not in _STOP_WORDS
        }
        return cls(frozenset(values), frozenset(words))

    def restates(self, other: _Gist) -> bool:
        """Whether this says nothing that ``other`` does not: same values, no new words.
        "Your essay must be 1,500–2,000 words." restates "Your final essay must be
        1,500–2,000 words."; the sources count phrase ("five peer-reviewed sources") is a
        value, so the adjective in it does not make a new rule."""
        return self.values <= other.values and self.words <= other.words


def _same_class(first: RequirementKind, second: RequirementKind) -> bool:
    return first == second or (first in HARD_KINDS and second in HARD_KINDS)


class _Restatements:
    """The requirements kept so far, indexed by word: a restatement uses only words of the
    one it restates, so only requirements holding all its words are compared (long
    handbooks stay fast)."""

    def __init__(self) -> None:
        self._kept: list[tuple[RequirementKind, _Gist]] = []
        self._by_word: dict[str, set[int]] = {}

    def restates_one(self, kind: RequirementKind, gist: _Gist) -> bool:
        if gist.words:
            holders = sorted((self._by_word.get(word, set()) for word in gist.words), key=len)
            candidates: Iterable[int] = set.intersection(*holders)
        else:
            candidates = range(len(self._kept))
        return any(
            _same_class(kind, self._kept[i][0]) and gist.restates(self._kept[i][1])
            for i in sorted(candidates)
        )

    def add(self, kind: RequirementKind, gist: _Gist) -> None:
        for word in gist.words:
            self._by_word.setdefault(word, set()).add(len(self._kept))
        self._kept.append((kind, gist))


def _document_requirements(context: SourceContext) -> list[Requirement]:
    """Requirements in the order of the instructions, the description (the most
    authoritative text) first. A requirement that restates an earlier one (the prompt PDF
    repeating the description) is left out: the earlier one, with its source, stands."""
    requirements: list[Requirement] = []
    kept = _Restatements()
    seen: set[str] = set()
    documents = sorted(
        context.documents, key=lambda document: document.source_id != DESCRIPTION_SOURCE_ID
    )
    for document in documents:
        for place in _places(document.text):
            if place.role != "sentence":
                continue  # headings are context, table rows are schedules: never rules
            quote = document.text[place.start : place.end]
            key = normalize(quote)
            if key in seen or len(quote) > _MAX_REQUIREMENT_CHARS:
                continue
            if len(quote.split()) < _MIN_REQUIREMENT_WORDS:
                continue
            kind = _kind(quote, place.section, listed=place.listed)
            if kind is None:
                continue
            seen.add(key)
            gist = _Gist.of(quote)
            if kept.restates_one(kind, gist):
                continue
            requirements.append(
                Requirement(
                    id="",
                    kind=kind,
                    text=_clean(quote),
                    quote=quote,
                    source_id=document.source_id,
                )
            )
            kept.add(kind, gist)
    return requirements


_SUBMISSION_TYPE_NAMES = {
    "online_upload": "file upload",
    "online_text_entry": "text entry",
    "online_url": "website URL",
    "media_recording": "media recording",
    "discussion_topic": "discussion post",
    "online_quiz": "quiz",
    "external_tool": "external tool",
    "on_paper": "on paper",
    "student_annotation": "annotation",
    "none": "no online submission",
}


def _canvas_notes(assignment: AssignmentFacts) -> list[str]:
    notes: list[str] = []
    if assignment.due_at:
        notes.append(f"Due (Canvas): {_timestamp(assignment.due_at)}")
    if assignment.unlock_at:
        notes.append(f"Available from (Canvas): {_timestamp(assignment.unlock_at)}")
    if assignment.lock_at:
        notes.append(f"Closes (Canvas): {_timestamp(assignment.lock_at)}")
    if assignment.points_possible is not None:
        notes.append(f"Points possible: {_points(assignment.points_possible)}")
    if assignment.submission_types:
        kinds = ", ".join(_SUBMISSION_TYPE_NAMES.get(t, t) for t in assignment.submission_types)
        notes.append(f"Submission types: {kinds}")
    if assignment.allowed_extensions:
        notes.append(f"Allowed file types: {', '.join(_extensions(assignment))}")
    if assignment.group_name:
        weight = (
            f" ({_points(assignment.group_weight)}% of the course grade)"
            if assignment.group_weight
            else ""
        )
        notes.append(f"Assignment group: {assignment.group_name}{weight}")
    return notes


def distill_requirements(context: SourceContext) -> Requirements:
    items = _rubric_requirements(context) + _document_requirements(context)
    numbered = [item.model_copy(update={"id": f"r{i}"}) for i, item in enumerate(items, 1)]
    return Requirements(items=numbered, notes=_canvas_notes(context.assignment))


# --- facts for the plan ------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the plan is fitted to: the requirements' numbers and rules, and Canvas's facts."""

    kind: AssignmentKind
    now: datetime
    due: datetime | None
    lengths: dict[str, Range]
    citation_style: str | None
    min_sources: int | None
    formats: tuple[str, ...]
    title_page: bool
    excluded_sources: tuple[str, ...]
    late_policy: str | None
    deadlines: tuple[str, ...]
    layout: tuple[str, ...]
    rules: tuple[str, ...]
    soft: tuple[str, ...]
    submission_notes: tuple[str, ...]
    group_work: bool
    rubric: tuple[RubricCriterion, ...]
    attachment_names: tuple[str, ...]
    submission_types: tuple[str, ...]
    scale: float = 1.0

    @property
    def length(self) -> str | None:
        """The headline length requirement, e.g. "1,500–2,000 words"."""
        for unit in ("words", "pages", "slides", "minutes"):
            if unit in self.lengths:
                return self.lengths[unit].describe(unit)
        return None

    @property
    def due_text(self) -> str | None:
        return _timestamp(self.due) if self.due else None

    def requirement_line(self) -> str | None:
        parts = [
            self.length,
            self.citation_style,
            f"at least {self.min_sources} sources" if self.min_sources else None,
            " or ".join(self.formats) if self.formats else None,
        ]
        present = [part for part in parts if part]
        return "; ".join(present) if present else None


def _as_utc(moment: datetime) -> datetime:
    # Canvas sends UTC; a naive timestamp is taken to be UTC rather than local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(day: date) -> str:
    # Spelled out here rather than with strftime, whose names follow the process locale.
    return f"{_WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _timestamp(moment: datetime) -> str:
    utc = _as_utc(moment)
    return f"{_day(utc.date())}, {utc:%H:%M} UTC"


def _extensions(assignment: AssignmentFacts) -> list[str]:
    return [f".{ext.strip().lstrip('.').lower()}" for ext in assignment.allowed_extensions if ext]


def _formats(assignment: AssignmentFacts, quotes: list[str]) -> tuple[str, ...]:
    """Canvas's allowed extensions are authoritative; otherwise what the text names."""
    if assignment.allowed_extensions:
        return tuple(dict.fromkeys(_extensions(assignment)))
    named: list[str] = []
    for quote in quotes:
        named.extend(f".{match.lower()}" for match in _EXTENSION_RE.findall(quote))
        if _FILE_CONTEXT_RE.search(quote):
            named.extend(
                _FORMAT_WORD_EXTENSIONS[word.lower()] for word in _FORMAT_WORD_RE.findall(quote)
            )
    return tuple(dict.fromkeys(named))


def _first(values: list[_T | None]) -> _T | None:
    return next((value for value in values if value is not None), None)


def _min_sources(quotes: list[str]) -> int | None:
    counts = [_number(match["value"]) for quote in quotes for match in _SOURCES_RE.finditer(quote)]
    return _first([count for count in counts if count > 0])


_SOURCE_WORD_RE = re.compile(r"\b(?:sources?|references?|citations?)\b", re.I)


def _excluded_sources(quotes: list[str]) -> tuple[str, ...]:
    found = [
        match["what"].strip() for quote in quotes for match in _EXCLUDED_SOURCES_RE.finditer(quote)
    ]
    return tuple(dict.fromkeys(what for what in found if what))


def _merged_lengths(quotes: list[str]) -> dict[str, Range]:
    merged: dict[str, Range] = {}
    for quote in quotes:
        for unit, limits in _lengths(quote).items():
            merged.setdefault(unit, limits)
    return merged


def _classify(
    context: SourceContext,
    lengths: dict[str, Range],
    citation_style: str | None,
    min_sources: int | None,
) -> AssignmentKind:
    title = context.assignment.title
    body = "\n".join(document.text for document in context.documents)
    if _PRESENTATION_RE.search(title):
        return "presentation"
    if _LAB_RE.search(title):
        return "lab"
    presentation_words = {word.lower() for word in _PRESENTATION_RE.findall(body)}
    if "slides" in lengths or len(presentation_words) >= 2:
        return "presentation"
    lab_words = {word.lower() for word in _LAB_RE.findall(body)}
    if not _ESSAY_RE.search(title) and len(lab_words) >= 3:
        return "lab"
    types = set(context.assignment.submission_types)
    writes = not types or bool(types & {"online_upload", "online_text_entry", "discussion_topic"})
    words = lengths.get("words")
    is_short = (
        words is not None
        and words.target < 600
        and not min_sources
        and not citation_style
        and "pages" not in lengths
    )
    if writes and (is_short or "discussion_topic" in types):
        return "short_response"
    if writes and (lengths or citation_style or min_sources or _ESSAY_RE.search(title)):
        return "essay"
    return "generic"


def _scale(kind: AssignmentKind, lengths: dict[str, Range]) -> float:
    """How much bigger or smaller than a typical piece of its kind (effort multiplier)."""
    if kind in ("essay", "short_response"):
        words = lengths["words"].target if "words" in lengths else 0
        pages = lengths["pages"].target if "pages" in lengths else 0
        size = words or pages * 275 or (1500 if kind == "essay" else 400)
        return min(max(size / 1500, 0.3), 3.0)
    if kind == "presentation":
        minutes = lengths["minutes"].target if "minutes" in lengths else 0
        slides = lengths["slides"].target if "slides" in lengths else 0
        return min(max((minutes or slides or 10) / 10, 0.5), 3.0)
    return 1.0


def derive_facts(context: SourceContext, requirements: Requirements) -> Facts:
    items = [item for item in requirements.items if item.kind != "grading"]
    quotes = [item.quote for item in items]
    lengths = _merged_lengths(quotes)
    citation_style = _first([_citation_style(quote) for quote in quotes])
    min_sources = _min_sources(quotes)
    kind = _classify(context, lengths, citation_style, min_sources)
    assignment = context.assignment
    body = "\n".join(document.text for document in context.documents)
    return Facts(
        kind=kind,
        now=_as_utc(context.fetched_at),
        due=_as_utc(assignment.due_at) if assignment.due_at else None,
        lengths=lengths,
        citation_style=citation_style,
        min_sources=min_sources,
        formats=_formats(assignment, quotes),
        title_page=any(_TITLE_PAGE_RE.search(quote) for quote in quotes),
        excluded_sources=_excluded_sources(quotes),
        late_policy=_first([item.text for item in items if _LATE_POLICY_RE.search(item.quote)]),
        # Any kind: "The annotated bibliography is due May 3" is a citation rule and a date.
        deadlines=tuple(item.text for item in items if _DEADLINE_RE.search(item.quote)),
        layout=tuple(
            item.text for item in items if item.kind == "format" and _LAYOUT_RE.search(item.quote)
        ),
        rules=tuple(item.text for item in items if item.kind == "hard_constraint"),
        soft=tuple(item.text for item in items if item.kind == "soft_constraint"),
        submission_notes=tuple(item.text for item in items if item.kind == "submission"),
        group_work=bool(_GROUP_RE.search(f"{assignment.title}\n{body}")),
        rubric=tuple(context.rubric),
        attachment_names=tuple(
            document.name
            for document in context.documents
            if document.source_id != DESCRIPTION_SOURCE_ID
        ),
        submission_types=tuple(assignment.submission_types),
        scale=_scale(kind, lengths),
    )


# --- stage templates ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    title: str
    description: str
    deliverable: str
    done_definition: str
    minutes: int
    scales: bool = False  # grows with the size of the piece (word count, talk length)
    closing: bool = False  # comes after the stage's rubric checks (submitting)


@dataclass(frozen=True)
class Stage:
    title: str
    purpose: str
    share: float  # cumulative fraction of the time to the deadline when this should be done
    keywords: str  # space-separated stems that attract rubric criteria to this stage
    acceptance: tuple[str, ...]
    steps: tuple[Step, ...]
    main: bool = False  # where a rubric criterion goes when no keyword matches


def _present(*parts: str | None) -> tuple[str, ...]:
    return tuple(part for part in parts if part)


def _read_step(facts: Facts, focus: str) -> Step:
    attached = (
        f" and the attached {'file' if len(facts.attachment_names) == 1 else 'files'} "
        f"({', '.join(facts.attachment_names)})"
        if facts.attachment_names
        else ""
    )
    return Step(
        title="Read the instructions closely",
        description=(
            f"Read the assignment description{attached} twice. Mark the task verbs (analyse, "
            f"argue, compare, ...) and every rule on {focus}."
        ),
        deliverable="A short list, in your own words, of what is asked and every rule",
        done_definition=(
            "Every hard constraint in this plan is on your list and you know what it means"
        ),
        minutes=20,
    )


def _rubric_step(facts: Facts) -> Step:
    if not facts.rubric:
        return Step(
            title="Set your own success criteria",
            description=(
                "Canvas has no rubric for this assignment. From the instructions, write down 3–5 "
                "things a strong submission must do, and ask the instructor how it will be graded."
            ),
            deliverable="3–5 success criteria of your own",
            done_definition="You can say how your work will be judged",
            minutes=15,
        )
    heaviest = sorted(
        (c for c in facts.rubric if c.points), key=lambda c: c.points or 0, reverse=True
    )[:2]
    weight_hint = (
        " The heaviest: " + " and ".join(_criterion_label(c) for c in heaviest) + "."
        if heaviest
        else ""
    )
    return Step(
        title="Study the rubric",
        description=(
            f"For each of the {len(facts.rubric)} rubric criteria, note what the top rating asks "
            f"for.{weight_hint}"
        ),
        deliverable="One line per criterion: what full marks looks like",
        done_definition="You know what each criterion rewards and which carry the most points",
        minutes=15,
    )


def _questions_step() -> Step:
    return Step(
        title="Ask about anything unclear",
        description=(
            "Note any unclear point (what counts toward the length, which sources are acceptable, "
            "the exact format) and ask the instructor or TA now, not the night before."
        ),
        deliverable="Questions sent, or a note that everything is clear",
        done_definition="No open question blocks the next step",
        minutes=10,
    )


_HOW_TO_SUBMIT = {
    "online_upload": "upload your file{formats} in Canvas",
    "online_text_entry": (
        "paste your text into the Canvas text box (keep a copy: formatting can be lost)"
    ),
    "online_url": "submit the link in Canvas (check it opens for someone who is not you)",
    "media_recording": "record or upload your media in Canvas",
    "discussion_topic": "post your reply in the Canvas discussion",
    "online_quiz": "complete the quiz in Canvas",
    "external_tool": "submit through the tool linked from the Canvas assignment",
    "on_paper": "hand in a paper copy as your instructor asks",
    "student_annotation": "annotate the document in Canvas",
}


def _how_to_submit(facts: Facts) -> str:
    formats = f" as {' or '.join(facts.formats)}" if facts.formats else ""
    ways = [
        _HOW_TO_SUBMIT[kind].format(formats=formats)
        for kind in facts.submission_types
        if kind in _HOW_TO_SUBMIT
    ]
    return " or ".join(ways) if ways else "hand in your work as the instructions say"


def _submit_step(facts: Facts) -> Step:
    deadline = f" before {facts.due_text}" if facts.due_text else ""
    how = _how_to_submit(facts)
    return Step(
        title="Submit and confirm",
        description=(
            f"{how[0].upper()}{how[1:]}{deadline}. Then reopen the submission and check that the "
            "right version arrived."
        ),
        deliverable="A confirmed submission",
        done_definition=f"Canvas shows your submission{deadline}",
        minutes=15,
        closing=True,
    )


def _sources_phrase(facts: Facts, *, with_exclusions: bool = True) -> str:
    count = f"at least {facts.min_sources}" if facts.min_sources else "enough"
    excluded = (
        " (" + "; ".join(f"not {what}" for what in facts.excluded_sources) + ")"
        if facts.excluded_sources and with_exclusions
        else ""
    )
    return f"{count} credible sources{excluded}"


def _essay_stages(facts: Facts) -> list[Stage]:
    style = facts.citation_style
    length = facts.length
    return [
        Stage(
            title="Understand the prompt",
            purpose="Know exactly what is asked and how it is graded before writing anything.",
            share=0.10,
            keywords="prompt question task purpose audience understand",
            acceptance=_present(
                "You can state the question you are answering in one sentence",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                _read_step(facts, "length, sources, format and deadline"),
                _rubric_step(facts),
                _questions_step(),
            ),
        ),
        Stage(
            title="Research & sources",
            purpose=f"Gather the evidence your argument will rest on: {_sources_phrase(facts)}.",
            share=0.30,
            keywords="source evidence research support literature reference cite citation",
            acceptance=_present(
                f"At least {facts.min_sources} usable sources selected"
                if facts.min_sources
                else "Enough credible sources to support each main point",
                f"Full citation details recorded for {style}"
                if style
                else "Full citation details recorded for every source",
            ),
            steps=(
                Step(
                    title="Find credible sources",
                    description=(
                        "Search the library databases and course readings for "
                        f"{_sources_phrase(facts)}. "
                        "Skim abstracts first and keep only sources that help answer the prompt."
                    ),
                    deliverable="A list of candidate sources with full citation details",
                    done_definition=(
                        f"You have {_sources_phrase(facts, with_exclusions=False)} you can cite"
                    ),
                    minutes=60,
                    scales=True,
                ),
                Step(
                    title="Take notes with citations",
                    description=(
                        "For each source, note its key points and any quotes you may use, with "
                        "page "
                        "numbers, so citing later takes minutes, not hours."
                    ),
                    deliverable="Notes for each source, tagged with its citation",
                    done_definition="Every note traces back to a source and page",
                    minutes=60,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Outline & thesis",
            purpose="Decide what you will argue and in what order, before drafting.",
            share=0.45,
            keywords="thesis argument claim position structure organi outline focus logic coheren",
            acceptance=(
                "The thesis answers the prompt in one or two sentences",
                "Every section of the outline has its evidence assigned",
            ),
            steps=(
                Step(
                    title="Write a working thesis",
                    description=(
                        "Write one or two sentences that answer the prompt directly and that a "
                        "reader "
                        "could disagree with."
                    ),
                    deliverable="A working thesis statement",
                    done_definition=(
                        "The thesis answers the prompt and every planned section supports it"
                    ),
                    minutes=30,
                ),
                Step(
                    title="Outline the structure",
                    description=(
                        "Plan the introduction, one body section per main point (with the evidence "
                        "for "
                        "each) and the conclusion. Give each section a word budget"
                        + (f" adding up to {length}." if length else ".")
                    ),
                    deliverable="An outline with evidence and a word budget per section",
                    done_definition="Each body section has a main point and at least one source",
                    minutes=45,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Write the draft",
            purpose="Get a complete first draft down; polishing comes later.",
            share=0.70,
            keywords=(
                "content analy develop depth critical discussion idea insight synthes "
                "understanding knowledge application"
            ),
            acceptance=_present(
                "A complete draft with every outline section written",
                f"Draft length roughly {length}" if length else None,
                f"In-text citations in {style} for every borrowed idea"
                if style
                else "A citation for every borrowed idea",
            ),
            steps=(
                Step(
                    title="Draft the body sections",
                    description=(
                        "Write each body section from the outline without stopping to polish: make "
                        "the point, give the evidence, explain how it supports the thesis. Cite as "
                        "you go" + (f", with in-text citations in {style}." if style else ".")
                    ),
                    deliverable="Drafted body sections",
                    done_definition="Every main point in the outline is written with its evidence",
                    minutes=120,
                    scales=True,
                ),
                Step(
                    title="Draft the introduction and conclusion",
                    description=(
                        "Write these last, once you know what the body says: the introduction "
                        "leads "
                        "to the thesis, the conclusion says what the argument shows."
                    ),
                    deliverable="A complete first draft",
                    done_definition="The draft reads from start to finish",
                    minutes=45,
                    scales=True,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Revise & polish",
            purpose="Turn the draft into your best work: argument first, then sentences.",
            share=0.90,
            keywords=(
                "clarity style grammar mechanic spelling punctuation language writing convention "
                "tone flow proofread sentence voice"
            ),
            acceptance=_present(
                "Each paragraph has a clear point tied to the thesis",
                f"Length within {length}" if length else None,
                "No errors left that reading aloud would catch",
            ),
            steps=(
                Step(
                    title="Revise the argument",
                    description=(
                        "Re-read the draft against the rubric. Does every paragraph support the "
                        "thesis? "
                        "Cut, move or strengthen what does not."
                    ),
                    deliverable="A revised draft",
                    done_definition="Each paragraph earns its place",
                    minutes=60,
                    scales=True,
                ),
                Step(
                    title="Edit sentences and check the length",
                    description=(
                        "Read the draft aloud to catch unclear sentences, then fix grammar and "
                        "spelling."
                        + (
                            f" Bring the length within {length} (check whether the reference list "
                            f"counts)."
                            if length
                            else ""
                        )
                    ),
                    deliverable="A clean, edited draft",
                    done_definition="No errors you can find reading aloud"
                    + ("; length within range" if length else ""),
                    minutes=45,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Final check & submit",
            purpose="Make sure nothing avoidable costs marks, then submit on time.",
            share=1.0,
            keywords="format apa mla chicago harvard ieee layout submission",
            acceptance=(
                "Every item on the final checklist is ticked",
                "The submission is confirmed in Canvas",
            ),
            steps=(
                Step(
                    title="Format and check citations",
                    description=(
                        f"Apply {style or 'the required'} formatting"
                        + (", including the title page" if facts.title_page else "")
                        + (" and the font and spacing rules" if facts.layout else "")
                        + ". Check that every in-text citation has a reference-list entry and vice "
                        "versa."
                    ),
                    deliverable="The formatted final version",
                    done_definition="The final checklist is all ticked",
                    minutes=30,
                ),
                _submit_step(facts),
            ),
        ),
    ]


def _lab_stages(facts: Facts) -> list[Stage]:
    style = facts.citation_style
    return [
        Stage(
            title="Understand & plan",
            purpose="Know what the report must show and plan the analysis that will show it.",
            share=0.10,
            keywords="purpose aim objective hypothes question background",
            acceptance=_present(
                "You can state the aim or hypothesis in one sentence",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                _read_step(facts, "sections, figures, length, format and deadline"),
                _rubric_step(facts),
                Step(
                    title="Plan the analysis",
                    description=(
                        "List the variables, calculations, statistics and figures the report "
                        "needs, "
                        "and check you have (or can get) the data for each."
                    ),
                    deliverable="An analysis plan: variables, calculations, planned figures",
                    done_definition="You know what each figure and table will show",
                    minutes=30,
                ),
            ),
        ),
        Stage(
            title="Collect & analyse data",
            purpose="Turn the raw data into the results the report will present.",
            share=0.40,
            keywords="data analy calculat statistic measure accura uncertaint result",
            acceptance=(
                "Raw data organised in tables with units",
                "Every planned calculation done, with its uncertainty noted",
            ),
            steps=(
                Step(
                    title="Organise the raw data",
                    description=(
                        "Put the data in clearly labelled tables with units, flag missing or odd "
                        "values, and keep an untouched copy of the original."
                    ),
                    deliverable="Clean data tables",
                    done_definition="Every value has a unit and odd values are explained",
                    minutes=45,
                ),
                Step(
                    title="Run the analysis",
                    description=(
                        "Do the calculations and statistics from your plan, estimate "
                        "uncertainties, "
                        "and save the workings so you can show them."
                    ),
                    deliverable="Results with workings",
                    done_definition="Each result you will report is calculated and checked",
                    minutes=90,
                ),
            ),
        ),
        Stage(
            title="Draft the report sections",
            purpose="Write every section while the analysis is fresh.",
            share=0.65,
            keywords=(
                "method procedure introduction discussion conclusion interpret content "
                "understanding reasoning error"
            ),
            acceptance=_present(
                "Methods, results, introduction and discussion drafted",
                "The discussion interprets the results and names sources of error",
                f"Sources cited in {style}" if style else None,
            ),
            steps=(
                Step(
                    title="Write methods and results",
                    description=(
                        "Methods: what you did, in the past tense, precisely enough to repeat. "
                        "Results: what you found, with no interpretation yet."
                    ),
                    deliverable="Drafted methods and results sections",
                    done_definition="Someone could repeat the work from your methods",
                    minutes=75,
                ),
                Step(
                    title="Write introduction and discussion",
                    description=(
                        "Introduction: background and the aim or hypothesis"
                        + (f", with sources cited in {style}" if style else "")
                        + ". Discussion: what the results mean, how they compare with what "
                        "you expected, sources of error, and a conclusion."
                    ),
                    deliverable="Drafted introduction, discussion and conclusion",
                    done_definition="Every claim in the discussion points to a result",
                    minutes=90,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Figures & captions",
            purpose="Make the results readable at a glance.",
            share=0.80,
            keywords="figure graph table chart caption visual plot",
            acceptance=(
                "Every figure has labelled axes with units and a caption",
                "The text refers to every figure and table",
            ),
            steps=(
                Step(
                    title="Make figures and tables",
                    description=(
                        "Plot the key results: axes labelled with quantity and unit, consistent "
                        "numbering, readable when printed."
                    ),
                    deliverable="Final figures and tables",
                    done_definition="Each figure shows one clear result",
                    minutes=60,
                ),
                Step(
                    title="Write captions and cross-references",
                    description=(
                        "Give every figure and table a caption that says what it shows, and refer "
                        "to each one in the text."
                    ),
                    deliverable="Captioned, referenced figures",
                    done_definition="No figure is left unexplained",
                    minutes=20,
                ),
            ),
        ),
        Stage(
            title="Revise",
            purpose="Check the report against the instructions and rubric, then proofread.",
            share=0.92,
            keywords="clarity style grammar mechanic spelling writing convention organi structure",
            acceptance=_present(
                "Every required section present, in the required order",
                f"Length within {facts.length}" if facts.length else None,
            ),
            steps=(
                Step(
                    title="Check against the rubric and instructions",
                    description=(
                        "Go through each rubric criterion and hard constraint and fix whatever the "
                        "report does not yet show."
                    ),
                    deliverable="A revised report",
                    done_definition="Every criterion and constraint is met",
                    minutes=45,
                ),
                Step(
                    title="Proofread numbers and units",
                    description=(
                        "Check that numbers in the text match the tables, units and significant "
                        "figures are consistent, and the writing is clear."
                    ),
                    deliverable="A proofread report",
                    done_definition="Numbers, units and text agree",
                    minutes=30,
                ),
            ),
        ),
        Stage(
            title="Submit",
            purpose="Hand in the complete report on time.",
            share=1.0,
            keywords="format submission apa mla ieee layout",
            acceptance=(
                "Every item on the final checklist is ticked",
                "The submission is confirmed in Canvas",
            ),
            steps=(_submit_step(facts),),
        ),
    ]


def _presentation_stages(facts: Facts) -> list[Stage]:
    minutes = facts.lengths.get("minutes")
    slides = facts.lengths.get("slides")
    style = facts.citation_style
    timing = (
        f" Budget about {round(minutes.target * 60 / slides.target)} seconds per slide."
        if minutes and slides
        else ""
    )
    return [
        Stage(
            title="Research the topic",
            purpose="Know the brief and gather the content worth presenting.",
            share=0.25,
            keywords="research content source evidence knowledge accura understanding topic",
            acceptance=_present(
                "You know the time limit, audience and what is graded",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                _read_step(facts, "time limit, slide count, audience, format and deadline"),
                _rubric_step(facts),
                Step(
                    title="Gather content and evidence",
                    description=(
                        f"Collect facts, examples and visuals from {_sources_phrase(facts)}, "
                        "noting where each came from."
                    ),
                    deliverable="Notes and visuals with their sources",
                    done_definition="Each point you want to make has evidence behind it",
                    minutes=90,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Storyboard",
            purpose="Decide the message and the order before opening the slide software.",
            share=0.45,
            keywords="organi structure flow logic message introduction conclusion coheren",
            acceptance=_present(
                "One key message the audience should remember",
                f"A storyboard of {slides.describe('slides')}"
                if slides
                else "A slide-by-slide storyboard",
            ),
            steps=(
                Step(
                    title="Write the key message",
                    description=(
                        "Write the one sentence your audience should remember, and the 3–4 points "
                        "that support it."
                    ),
                    deliverable="Key message and supporting points",
                    done_definition="Every planned slide serves the message",
                    minutes=20,
                ),
                Step(
                    title="Storyboard slide by slide",
                    description=(
                        "Sketch one idea per slide: title, visual, what you will say."
                        + (f" Aim for {slides.describe('slides')}." if slides else "")
                        + timing
                    ),
                    deliverable="A storyboard",
                    done_definition="The storyboard fits the time limit",
                    minutes=45,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Build the slides",
            purpose="Turn the storyboard into clear, visual slides and speaker notes.",
            share=0.70,
            keywords="visual design slide creativ graphic citation cite reference",
            acceptance=_present(
                "Every slide has one idea, more visual than text",
                f"Sources cited on the slides in {style}"
                if style
                else "Sources credited on the slides",
            ),
            steps=(
                Step(
                    title="Build the deck",
                    description=(
                        "Build the slides from the storyboard: visuals over text, a few short "
                        "lines "
                        "per slide, fonts readable from the back of the room, sources credited"
                        + (f" in {style}" if style else "")
                        + "."
                    ),
                    deliverable="A complete slide deck",
                    done_definition="Every storyboard slide exists and is readable",
                    minutes=120,
                    scales=True,
                ),
                Step(
                    title="Write speaker notes",
                    description=(
                        "Write brief notes per slide: the point, the evidence, the transition to "
                        "the "
                        "next slide."
                    ),
                    deliverable="Speaker notes",
                    done_definition="You could present from the notes alone",
                    minutes=45,
                    scales=True,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Rehearse",
            purpose="Deliver it smoothly and on time.",
            share=0.90,
            keywords="deliver speak oral voice eye timing time engage audience confiden present",
            acceptance=_present(
                "At least two full timed run-throughs",
                f"Run time: {minutes.describe('minutes')}" if minutes else None,
            ),
            steps=(
                Step(
                    title="Rehearse with a timer",
                    description=(
                        "Run through the whole talk at least twice with a timer"
                        + (f" (time limit: {minutes.describe('minutes')})" if minutes else "")
                        + ". Cut content rather than speaking faster."
                    ),
                    deliverable="Timed run-throughs",
                    done_definition="The talk fits the time limit without rushing",
                    minutes=60,
                    scales=True,
                ),
                Step(
                    title="Get feedback and fix",
                    description=(
                        "Present to a friend or record yourself; fix the slides where you stumble "
                        "or lose them."
                    ),
                    deliverable="A revised deck and notes",
                    done_definition="You can deliver each slide without reading it",
                    minutes=45,
                ),
            ),
        ),
        Stage(
            title="Submit",
            purpose="Hand in the slides (and anything else required) on time.",
            share=1.0,
            keywords="submission format file",
            acceptance=(
                "Every item on the final checklist is ticked",
                "The submission is confirmed in Canvas",
            ),
            steps=(
                Step(
                    title="Export and check the file",
                    description=(
                        "Export the deck"
                        + (f" as {' or '.join(facts.formats)}" if facts.formats else "")
                        + ", open the exported file to check fonts, images and videos survived, "
                        "and "
                        "keep a backup copy for presenting."
                    ),
                    deliverable="The final exported file",
                    done_definition="The exported file opens and looks right",
                    minutes=15,
                ),
                _submit_step(facts),
            ),
        ),
    ]


def _short_response_stages(facts: Facts) -> list[Stage]:
    length = facts.length
    return [
        Stage(
            title="Understand the prompt",
            purpose="Know exactly what the question asks before answering it.",
            share=0.25,
            keywords="prompt question task purpose understand",
            acceptance=_present(
                "You can restate the question in your own words",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(_read_step(facts, "length, format and deadline"), _rubric_step(facts)),
        ),
        Stage(
            title="Draft your response",
            purpose="Answer the question directly, with specific support.",
            share=0.70,
            keywords=(
                "content idea analy insight example evidence reflect argument connect depth "
                "understanding"
            ),
            acceptance=_present(
                "The first sentences answer the question directly",
                "Each point is backed by a specific example or reading",
                f"Length about right: {length}" if length else None,
            ),
            steps=(
                Step(
                    title="Plan your main point",
                    description=(
                        "Write a one-sentence answer to the prompt and the 2–3 points or examples "
                        "that support it."
                    ),
                    deliverable="A one-sentence answer and supporting points",
                    done_definition="You know what you will say and why",
                    minutes=15,
                ),
                Step(
                    title="Write the response",
                    description=(
                        "Write the response from your plan, leading with your answer"
                        + (f"; aim for {length}" if length else "")
                        + "."
                    ),
                    deliverable="A complete draft",
                    done_definition="The draft answers every part of the prompt",
                    minutes=40,
                    scales=True,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Revise & submit",
            purpose="Tighten it, check the rules, and submit on time.",
            share=1.0,
            keywords="clarity grammar mechanic writing convention spelling format submission",
            acceptance=_present(
                "Every part of the prompt is answered",
                f"Length within {length}" if length else None,
                "The submission is confirmed in Canvas",
            ),
            steps=(
                Step(
                    title="Revise and proofread",
                    description=(
                        "Check that every part of the prompt is answered, cut anything off-topic"
                        + (f", bring the length within {length}" if length else "")
                        + ", and read it aloud to catch errors."
                    ),
                    deliverable="The final text",
                    done_definition="You would be happy for the instructor to read it now",
                    minutes=20,
                    scales=True,
                ),
                _submit_step(facts),
            ),
        ),
    ]


def _generic_stages(facts: Facts) -> list[Stage]:
    return [
        Stage(
            title="Understand the task",
            purpose="Know what is asked and how it is graded before starting.",
            share=0.15,
            keywords="understand task purpose question instruction",
            acceptance=_present(
                "You can say in one sentence what you must hand in",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                _read_step(facts, "what to hand in, format and deadline"),
                _rubric_step(facts),
                _questions_step(),
            ),
        ),
        Stage(
            title="Plan the work",
            purpose="Break the work into parts you can schedule.",
            share=0.30,
            keywords="plan organi structure approach method",
            acceptance=("Every part of the work listed with a time estimate",),
            steps=(
                Step(
                    title="Break the work into parts",
                    description=(
                        "List every part, question or component the assignment asks for, estimate "
                        "each, and block the time in your calendar."
                    ),
                    deliverable="A list of parts with time estimates",
                    done_definition="Nothing the instructions ask for is missing from the list",
                    minutes=20,
                ),
            ),
        ),
        Stage(
            title="Do the work",
            purpose="Complete every part, highest value first.",
            share=0.75,
            keywords=(
                "content accura correct complete analy solution understanding quality knowledge"
            ),
            acceptance=("Every part from your list is done",),
            steps=(
                Step(
                    title="Work through each part",
                    description=(
                        "Start with the hardest or highest-value part. Note where you get stuck "
                        "and "
                        "ask early rather than late."
                    ),
                    deliverable="Every part completed",
                    done_definition="Each part meets the instructions",
                    minutes=120,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Review against the requirements",
            purpose="Catch what would cost marks while there is still time to fix it.",
            share=0.92,
            keywords="clarity presentation format mechanic convention organi",
            acceptance=("Every hard constraint and rubric criterion checked",),
            steps=(
                Step(
                    title="Check against the requirements",
                    description=(
                        "Go through every hard constraint and rubric criterion in this plan and "
                        "fix "
                        "whatever the work does not yet meet."
                    ),
                    deliverable="A checked, final version",
                    done_definition="Every constraint and criterion is met",
                    minutes=30,
                ),
            ),
        ),
        Stage(
            title="Submit",
            purpose="Hand it in on time.",
            share=1.0,
            keywords="submission format",
            acceptance=("The submission is confirmed",),
            steps=(_submit_step(facts),),
        ),
    ]


_TEMPLATES: dict[AssignmentKind, Callable[[Facts], list[Stage]]] = {
    "essay": _essay_stages,
    "lab": _lab_stages,
    "presentation": _presentation_stages,
    "short_response": _short_response_stages,
    "generic": _generic_stages,
}


# --- assembling the plan ------------------------------------------------------------------

_WORD_RE = re.compile(r"[a-z]+")
# Worth reading as the top rating only if it says more than "Full marks" or "Excellent".
_MIN_RATING_CHARS = 25
_AVERAGE_CRITERION_MINUTES = 30


def _keyword_score(stage: Stage, text: str) -> int:
    words = _WORD_RE.findall(text)
    return sum(1 for keyword in stage.keywords.split() if any(w.startswith(keyword) for w in words))


def _stage_for(criterion: RubricCriterion, stages: list[Stage]) -> int:
    text = f"{criterion.description} {criterion.long_description}".lower()
    scores = [_keyword_score(stage, text) for stage in stages]
    if max(scores) == 0:
        return next(i for i, stage in enumerate(stages) if stage.main)
    return scores.index(max(scores))


def _top_rating(criterion: RubricCriterion) -> str | None:
    ranked = sorted(criterion.ratings, key=lambda rating: rating.points or 0, reverse=True)
    best = ranked[0].description.strip() if ranked else ""
    if len(best) >= _MIN_RATING_CHARS:
        return best
    return criterion.long_description.strip() or None


def _round_minutes(minutes: float) -> int:
    step = 5 if minutes < 30 else 15
    return max(step, round(minutes / step) * step)


def _effort(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"~{rest} min"
    return f"~{hours} h" + (f" {rest} min" if rest else "")


def _criterion_name(criterion: RubricCriterion) -> str:
    return criterion.description.strip() or f"criterion {criterion.id}"


def _criterion_label(criterion: RubricCriterion) -> str:
    points = f" ({_points(criterion.points)} pts)" if criterion.points is not None else ""
    return f"'{_criterion_name(criterion)}'{points}"


def _criterion_step(criterion: RubricCriterion, facts: Facts) -> Step:
    total = sum(c.points or 0 for c in facts.rubric)
    share = criterion.points / total if criterion.points and total else 1 / len(facts.rubric)
    top = _top_rating(criterion)
    worth = (
        f"Worth {_points(criterion.points)} of the rubric's {_points(total)} points. "
        if criterion.points is not None and total
        else ""
    )
    target = f"Compare your work with the top rating: “{top}”" if top else "Aim for the top rating"
    return Step(
        title=f"Address rubric criterion '{_criterion_name(criterion)}'",
        description=f"{worth}{target}, and fix what falls short.",
        deliverable=f"Work that shows '{_criterion_name(criterion)}' clearly",
        done_definition="You would give yourself the top rating on this criterion",
        minutes=_round_minutes(_AVERAGE_CRITERION_MINUTES * len(facts.rubric) * share),
    )


def _schedule(stages: list[Stage], facts: Facts) -> list[tuple[date | None, str]]:
    """A finish date and a human strategy per stage, worked back from the due date."""
    if facts.due is None:
        shares = [stage.share for stage in stages]
        return [
            (
                None,
                f"No due date in Canvas: give this about "
                f"{round((share - (shares[i - 1] if i else 0)) * 100)}% of your total time"
                + (f", after '{stages[i - 1].title}'" if i else ", first"),
            )
            for i, share in enumerate(shares)
        ]
    if facts.due <= facts.now:
        passed = f"The Canvas due date ({facts.due_text}) has passed: do this now"
        return [(facts.now.date(), passed) for _ in stages]
    window = facts.due - facts.now
    schedule: list[tuple[date | None, str]] = []
    for stage in stages:
        if stage.share >= 1.0:
            schedule.append((facts.due.date(), f"Submit by {facts.due_text} (the Canvas due date)"))
            continue
        finish = max(facts.now + window * stage.share, facts.now).date()
        schedule.append(
            (
                finish,
                f"Finish by {_day(finish)} — about {round(stage.share * 100)}% of the time to "
                "the deadline",
            )
        )
    return schedule


def _task(task_id: str, step: Step, depends_on: list[str], facts: Facts) -> Task:
    minutes = _round_minutes(step.minutes * (facts.scale if step.scales else 1.0))
    return Task(
        id=task_id,
        title=step.title,
        description=step.description,
        deliverable=step.deliverable,
        done_definition=step.done_definition,
        estimated_effort=_effort(minutes),
        estimated_minutes=minutes,
        depends_on=depends_on,
    )


def _stage_tasks(
    index: int,
    stage: Stage,
    criteria: list[RubricCriterion],
    previous_leaves: list[str],
    facts: Facts,
) -> tuple[list[Task], list[str]]:
    """The stage's tasks and the ids the next stage has to wait for.

    Template steps run in order; each rubric check follows the last of them; closing steps
    (submitting) wait for every check.
    """
    tasks: list[Task] = []
    leaves = previous_leaves
    for step in (s for s in stage.steps if not s.closing):
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts))
        leaves = [tasks[-1].id]
    checks: list[str] = []
    for criterion in criteria:
        step = _criterion_step(criterion, facts)
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts))
        checks.append(tasks[-1].id)
    leaves = checks or leaves
    for step in (s for s in stage.steps if s.closing):
        tasks.append(_task(f"m{index}-t{len(tasks) + 1}", step, leaves, facts))
        leaves = [tasks[-1].id]
    return tasks, leaves


def _milestones(stages: list[Stage], facts: Facts) -> list[Milestone]:
    criteria_by_stage: dict[int, list[RubricCriterion]] = {}
    for criterion in facts.rubric:
        criteria_by_stage.setdefault(_stage_for(criterion, stages), []).append(criterion)
    milestones: list[Milestone] = []
    leaves: list[str] = []
    schedule = _schedule(stages, facts)
    for index, (stage, (suggested, strategy)) in enumerate(zip(stages, schedule, strict=True), 1):
        criteria = criteria_by_stage.get(index - 1, [])
        tasks, leaves = _stage_tasks(index, stage, criteria, leaves, facts)
        milestones.append(
            Milestone(
                id=f"m{index}",
                title=stage.title,
                purpose=stage.purpose,
                acceptance_criteria=[
                    *stage.acceptance,
                    *(f"Meets rubric criterion {_criterion_label(c)}" for c in criteria),
                ],
                due_strategy=strategy,
                order=index,
                tasks=tasks,
                suggested_date=suggested,
                covers_criteria=[c.id for c in criteria],
            )
        )
    return milestones


def _shorten(text: str, limit: int = 300) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _objective(context: SourceContext) -> str:
    """The instructions' own statement of the task, else a plain restatement of the title."""
    documents = sorted(
        context.documents, key=lambda document: document.source_id != DESCRIPTION_SOURCE_ID
    )
    for document in documents:
        for start, end in sentence_spans(document.text):
            sentence = _clean(document.text[start:end])
            if len(sentence.split()) >= 6 and _TASK_RE.search(sentence):
                return _shorten(sentence)
    course = f" for {context.assignment.course_name}" if context.assignment.course_name else ""
    return f"Complete '{context.assignment.title}'{course} as described in Canvas."


_DELIVERABLE_NOUNS: dict[AssignmentKind, str] = {
    "essay": "a finished essay",
    "lab": "a complete lab report",
    "presentation": "a rehearsed presentation and its slides",
    "short_response": "a focused response",
    "generic": "complete work",
}


def _success_definition(context: SourceContext, facts: Facts) -> str:
    total = sum(c.points or 0 for c in facts.rubric)
    if facts.rubric:
        target = f" that reaches the top rating on all {len(facts.rubric)} rubric criteria" + (
            f" ({_points(total)} points)" if total else ""
        )
    else:
        target = " that does everything the instructions ask"
    deadline = f", submitted by {facts.due_text}" if facts.due_text else ""
    text = (
        f"Hand in {_DELIVERABLE_NOUNS[facts.kind]}{target}, meeting every hard constraint"
        f"{deadline}."
    )
    assignment = context.assignment
    if assignment.points_possible:
        text += f" It is worth {_points(assignment.points_possible)} points"
        if assignment.group_name and assignment.group_weight:
            text += (
                f" in the '{assignment.group_name}' group "
                f"({_points(assignment.group_weight)}% of the course grade)"
            )
        text += "."
    return text


# A plan listing every "must" of a 40-page handbook helps nobody: the first ones, in the
# order of the instructions (description first), are listed and the rest counted as a risk.
_MAX_LISTED_CONSTRAINTS = 25
_MAX_CHECKLIST_RULES = 8


def _hard_requirements(requirements: Requirements) -> list[Requirement]:
    return [item for item in requirements.items if item.kind in HARD_KINDS]


def _summary(
    context: SourceContext, requirements: Requirements, facts: Facts
) -> tuple[AssignmentSummary, list[SourceReference]]:
    hard = _hard_requirements(requirements)[:_MAX_LISTED_CONSTRAINTS]
    grading = [item for item in requirements.items if item.kind == "grading"]
    references = [
        SourceReference(
            pointer=f"/assignment_summary/{section}/{index}",
            quote=item.quote,
            source_id=item.source_id,
        )
        for section, items in (("hard_constraints", hard), ("grading_signals", grading))
        for index, item in enumerate(items)
    ]
    summary = AssignmentSummary(
        title=context.assignment.title,
        objective=_objective(context),
        success_definition=_success_definition(context, facts),
        hard_constraints=[item.text for item in hard],
        grading_signals=[item.text for item in grading],
    )
    return summary, references


_LITTLE_TIME_HOURS = 48
# Above this share of the remaining hours the estimated work crowds out everything else.
_WORKLOAD_SHARE = 0.2
_LONG_WORDS = 2500
_LONG_PAGES = 8
_MANY_SOURCES = 5


def _month_days(text: str) -> list[tuple[int, int]]:
    months = [name.lower() for name in _MONTH_NAMES]
    found: list[tuple[int, int]] = []
    for match in _MONTH_DAY_RE.finditer(text):
        month = (match["month"] or match["month_after"]).lower()[:3]
        found.append((months.index(month) + 1, int(match["day"] or match["day_first"])))
    return found


def _is_other_date(month: int, day: int, due: datetime) -> bool:
    # The year is not in the text and the due date is in UTC, so a date within a day of
    # the due date in any adjacent year counts as the same deadline.
    for year in (due.year - 1, due.year, due.year + 1):
        try:
            if abs((date(year, month, day) - due.date()).days) <= 1:
                return False
        except ValueError:  # "February 30"
            continue
    return True


def _deadlines_naming_other_dates(facts: Facts) -> list[str]:
    if facts.due is None:
        return []
    due = facts.due
    return [
        text
        for text in facts.deadlines
        if any(_is_other_date(month, day, due) for month, day in _month_days(text))
    ]


def _time_risks(facts: Facts, total_minutes: int) -> list[Risk]:
    if facts.due is None:
        said = (
            ". The instructions say: " + " / ".join(f"“{text}”" for text in facts.deadlines)
            if facts.deadlines
            else ""
        )
        return [
            Risk(
                risk=f"Canvas has no due date for this assignment{said}",
                impact="Without a deadline the work drifts and the schedule here is only relative",
                mitigation="Confirm the deadline with the instructor, or set your own and put it "
                "in your calendar",
            )
        ]
    hours_left = (facts.due - facts.now).total_seconds() / 3600
    if hours_left <= 0:
        return [
            Risk(
                risk=f"The due date ({facts.due_text}) has passed",
                impact="Late work may lose marks or not be accepted",
                mitigation="Check the late policy, contact the instructor now, and submit as soon "
                "as possible",
            )
        ]
    work_hours = total_minutes / 60
    if hours_left < _LITTLE_TIME_HOURS:
        return [
            Risk(
                risk=f"Only about {round(hours_left)} hours until the deadline",
                impact="Not enough time to do every step properly",
                mitigation="Work through the milestones in order today, cut optional polish "
                "first, and keep time for the final check",
            )
        ]
    if work_hours > hours_left * _WORKLOAD_SHARE:
        return [
            Risk(
                risk=f"The estimated work (about {round(work_hours)} h) is large for the "
                f"{round(hours_left / 24)} days left",
                impact="Other deadlines could squeeze it into the last days",
                mitigation="Block the time for each milestone in your calendar now",
            )
        ]
    return []


def _scope_risks(facts: Facts) -> list[Risk]:
    risks: list[Risk] = []
    words = facts.lengths.get("words")
    pages = facts.lengths.get("pages")
    if (words and words.target >= _LONG_WORDS) or (pages and pages.target >= _LONG_PAGES):
        risks.append(
            Risk(
                risk=f"A long piece: {facts.length}",
                impact="Drafting takes longer than expected and revision gets squeezed",
                mitigation="Draft in daily chunks from the start of 'Write the draft' rather than "
                "in one sitting",
            )
        )
    if facts.min_sources and facts.min_sources >= _MANY_SOURCES:
        risks.append(
            Risk(
                risk=f"At least {facts.min_sources} sources are required",
                impact="Finding and reading good sources takes time; missing ones cost marks",
                mitigation="Start searching early and record full citation details as you go",
            )
        )
    if facts.group_work:
        risks.append(
            Risk(
                risk="This is group work",
                impact="Uneven contributions or late pieces from others delay everyone",
                mitigation="Agree who does what and internal deadlines before the first milestone",
            )
        )
    return risks


def _source_risks(context: SourceContext, facts: Facts) -> list[Risk]:
    risks = [
        Risk(
            risk=f"An attached file could not be read: {warning.file_name or 'unnamed file'} "
            f"({warning.message})",
            impact="This plan may miss requirements written in that file",
            mitigation="Open the file in Canvas yourself and check it for extra requirements "
            "(length, format, sources, dates)",
        )
        for warning in context.warnings
    ]
    risks.extend(
        Risk(
            risk=f"Only the first part of '{document.name}' was read",
            impact="Requirements later in that file may be missing from this plan",
            mitigation="Read the rest of the file yourself and add anything it requires",
        )
        for document in context.documents
        if document.truncated
    )
    if not any(document.text.strip() for document in context.documents):
        risks.append(
            Risk(
                risk="The assignment has almost no written instructions",
                impact="The plan can only follow a generic template",
                mitigation="Ask the instructor what is expected before starting",
            )
        )
    if not facts.rubric:
        risks.append(
            Risk(
                risk="Canvas has no rubric for this assignment",
                impact="It is unclear how the work will be graded",
                mitigation="Ask the instructor how it will be graded; meanwhile use the hard "
                "constraints as your checklist",
            )
        )
    if facts.late_policy:
        risks.append(
            Risk(
                risk=f"Late work is penalised: “{facts.late_policy}”",
                impact="Every late day costs marks",
                mitigation="Plan to submit a day early; the schedule ends the working steps "
                "before the deadline",
            )
        )
    other_dates = _deadlines_naming_other_dates(facts)
    if other_dates:
        risks.append(
            Risk(
                risk="The instructions name other dates than the Canvas due date: "
                + " / ".join(f"“{text}”" for text in other_dates),
                impact="An earlier checkpoint (proposal, outline, draft) could be missed; this "
                "schedule uses only the Canvas due date",
                mitigation="Check those dates against the schedule and move milestones if needed",
            )
        )
    return risks


_WEIGHT_RE = re.compile(r"(?P<value>\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b)", re.I)
_WEIGHT_PART_SPLIT_RE = re.compile(r"[,;:]")
_WEIGHT_NAME_JUNK_RE = re.compile(r"^(?:and|or|plus|with|for|on)\s+|[()\[\]]|\s+(?:for|on)$", re.I)
_MAX_WEIGHT_NAME_WORDS = 5
_WEIGHT_SLACK = 0.5  # percentage points: rounding, not a disagreement
_STEM_WORD_RE = re.compile(r"[a-z]+")
_STEM_CHARS = 5


def _stated_weights(text: str) -> list[tuple[str, float]]:
    """A breakdown of the grade such as "thesis (20%), evidence (30%), ...": its named
    parts with their percentages, when they add up to the whole grade."""
    weights: list[tuple[str, float]] = []
    for part in _WEIGHT_PART_SPLIT_RE.split(_clean(text)):
        matches = list(_WEIGHT_RE.finditer(part))
        if len(matches) != 1:
            continue
        match = matches[0]
        name = f"{part[: match.start()]} {part[match.end() :]}"
        for _ in range(2):
            name = _WEIGHT_NAME_JUNK_RE.sub(" ", name.strip(" .")).strip(" .-–—")
        if name and len(name.split()) <= _MAX_WEIGHT_NAME_WORDS:
            weights.append((name, float(match["value"])))
    total = sum(value for _, value in weights)
    return weights if len(weights) >= 2 and abs(total - 100) <= 1 else []


def _stems_of(text: str) -> set[str]:
    return {word[:_STEM_CHARS] for word in _STEM_WORD_RE.findall(text.lower()) if len(word) >= 4}


def _matching_criterion(name: str, rubric: tuple[RubricCriterion, ...]) -> RubricCriterion | None:
    wanted = _stems_of(name)
    scored = sorted(
        ((len(wanted & _stems_of(c.description)), i) for i, c in enumerate(rubric)), reverse=True
    )
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return rubric[scored[0][1]]


def _weights_disagree(
    weights: list[tuple[str, float]], rubric: tuple[RubricCriterion, ...], total: float
) -> bool:
    stated: dict[str, float] = {}
    for name, value in weights:
        criterion = _matching_criterion(name, rubric)
        if criterion is None:
            return True  # a graded part the rubric does not have
        stated[criterion.id] = stated.get(criterion.id, 0) + value
    return any(
        abs(stated.get(c.id, 0) - (c.points or 0) * 100 / total) > _WEIGHT_SLACK for c in rubric
    )


def _source_name(context: SourceContext, source_id: str) -> str:
    document = context.document(source_id)
    if source_id == DESCRIPTION_SOURCE_ID or document is None:
        return "the assignment description"
    return f"'{document.name}'"


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _grading_risks(context: SourceContext, requirements: Requirements, facts: Facts) -> list[Risk]:
    """The instructions' own grade breakdown when it disagrees with the Canvas rubric."""
    total = sum(c.points or 0 for c in facts.rubric)
    if not total:
        return []
    risks: list[Risk] = []
    for item in requirements.items:
        if item.source_id == RUBRIC_SOURCE_ID:
            continue
        weights = _stated_weights(item.quote)
        if not weights or not _weights_disagree(weights, facts.rubric, total):
            continue
        stated = ", ".join(f"{name} {value:g}%" for name, value in weights)
        rubric = ", ".join(
            f"{_criterion_name(c)} {round((c.points or 0) * 100 / total, 1):g}%"
            for c in facts.rubric
        )
        risks.append(
            Risk(
                risk=f"The grading weights in {_source_name(context, item.source_id)} "
                f"({stated}) do not match the Canvas rubric ({rubric})",
                impact="Effort could go to parts that carry fewer marks than you think",
                mitigation="Ask the instructor which weighting is current; until then this "
                "plan weights its tasks by the Canvas rubric",
            )
        )
        break
    return risks


_WHEN_CELL_RE = re.compile(
    rf"\b(?:week|wk|day|session|class|lecture|unit|module)\s*\d{{1,2}}\b|"
    rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+(?:{_MONTHS})\b|\b(?:{_WEEKDAYS})\b",
    re.I,
)
_MAX_LISTED_CHECKPOINTS = 6


def _table_checkpoints(text: str) -> list[str]:
    """Rows of a schedule table ("Annotated bibliography | Week 5 | 20") as "label (when)"."""
    checkpoints: list[str] = []
    for place in _places(text):
        if place.role != "table_row":
            continue
        row = text[place.start : place.end].strip().strip("|")
        cells = [_clean(cell) for cell in row.split("|")]
        cells = [cell for cell in cells if cell.strip("-: ")]
        when = next((cell for cell in cells[1:] if _WHEN_CELL_RE.search(cell)), None)
        if when and not _WHEN_CELL_RE.search(cells[0]):
            checkpoints.append(f"{cells[0]} ({when})")
    return checkpoints


def _checkpoint_risks(context: SourceContext) -> list[Risk]:
    """Table rows are never rules, but a schedule table names checkpoints worth knowing."""
    risks: list[Risk] = []
    title = _stems_of(context.assignment.title)
    for document in context.documents:
        checkpoints = _table_checkpoints(document.text)
        # A file about another piece of work (a general style guide) schedules that work.
        about_this = document.source_id == DESCRIPTION_SOURCE_ID or (
            len(title & _stems_of(document.text)) * 2 >= len(title)
        )
        if not checkpoints or not about_this:
            continue
        listed = ", ".join(checkpoints[:_MAX_LISTED_CHECKPOINTS])
        more = len(checkpoints) - _MAX_LISTED_CHECKPOINTS
        risks.append(
            Risk(
                risk=f"{_capitalized(_source_name(context, document.source_id))} lists "
                f"checkpoints: {listed}" + (f" and {more} more" if more > 0 else ""),
                impact="Earlier checkpoints may have their own deadlines or points; this "
                "schedule works back from the Canvas due date only",
                mitigation="Check the course calendar for when these checkpoints are due (and "
                "whether they apply to this assignment), and move the milestones to match",
            )
        )
    return risks


def _unlisted_risks(requirements: Requirements, listed: int) -> list[Risk]:
    unlisted = len(_hard_requirements(requirements)) - listed
    if unlisted <= 0:
        return []
    return [
        Risk(
            risk=f"{unlisted} more rules were found than the {listed} listed here",
            impact="Some requirements of long instructions are not in this plan's list",
            mitigation="Skim the instructions for 'must', 'required' and numbers beyond the ones "
            "listed",
        )
    ]


def _heuristic_risk() -> Risk:
    return Risk(
        risk="This plan was made by the offline rule-based planner, not by reading for meaning",
        impact="It can miss requirements phrased in unusual ways; time estimates are rough",
        mitigation="Read the instructions once yourself. The hard constraints here are quoted "
        "word for word from them",
    )


def _checklist(context: SourceContext, facts: Facts) -> list[str]:
    items: list[str] = [
        f"{'Timing' if unit == 'minutes' else 'Length'}: {limits.describe(unit)}"
        for unit, limits in facts.lengths.items()
    ]
    if facts.citation_style:
        items.append(
            f"Citations in {facts.citation_style}: in-text citations and a matching reference list"
        )
    if facts.min_sources:
        items.append(f"At least {facts.min_sources} sources cited")
    items.extend(
        f"No {what}" + ("" if _SOURCE_WORD_RE.search(what) else " among your sources")
        for what in facts.excluded_sources
    )
    if facts.title_page:
        items.append("Title page included")
    items.extend(f"Formatting: {text}" for text in facts.layout)
    rules = [
        text
        for text in facts.rules
        if not (_LATE_POLICY_RE.search(text) or _EXCLUDED_SOURCES_RE.search(text))
    ]
    items.extend(f"Rule: {text}" for text in rules[:_MAX_CHECKLIST_RULES])
    if facts.formats:
        only = " (Canvas accepts only these)" if context.assignment.allowed_extensions else ""
        items.append(f"Saved as {' or '.join(facts.formats)}{only}")
    if facts.rubric:
        items.append(f"Checked against all {len(facts.rubric)} rubric criteria")
    items.extend(f"Submission instruction: {text}" for text in facts.submission_notes)
    deadline = f" before {facts.due_text}" if facts.due_text else ""
    items.append(f"Submitted{deadline} and the submission reopened to confirm it arrived")
    return items


def _quality_bar(facts: Facts) -> str:
    if facts.rubric:
        heaviest = max(facts.rubric, key=lambda c: c.points or 0)
        bar = (
            f"The top rating on every rubric criterion, above all {_criterion_label(heaviest)}, "
            "with every hard constraint met exactly."
        )
    else:
        bar = (
            "There is no rubric: every part of the prompt answered and every hard constraint "
            "met exactly."
        )
    if facts.soft:
        bar += " The instructions also recommend: " + " ".join(facts.soft[:3])
    return bar


_FAILURE_MODES: dict[AssignmentKind, tuple[str, ...]] = {
    "essay": (
        "Summarising sources instead of arguing a clear thesis",
        "Missing or inconsistent citations",
        "Leaving the final proofread to the last hour",
    ),
    "lab": (
        "Interpreting results in the results section instead of the discussion",
        "Figures without labelled axes, units or captions",
        "No discussion of error or uncertainty",
        "Methods too vague for someone else to repeat",
    ),
    "presentation": (
        "Slides full of text that get read aloud",
        "Running over the time limit",
        "Skipping rehearsal",
        "Fonts or videos that break on the presentation computer",
    ),
    "short_response": (
        "Not answering the question that was asked",
        "General statements without a specific example",
    ),
    "generic": (
        "Missing a part of what the instructions ask for",
        "Starting too late to ask questions",
    ),
}


def _failure_modes(facts: Facts) -> list[str]:
    modes = list(_FAILURE_MODES[facts.kind])
    if facts.length and facts.kind != "presentation":
        modes.append(f"Going outside the length limit ({facts.length})")
    if facts.excluded_sources:
        modes.append(
            f"Using a source the instructions exclude ({'; '.join(facts.excluded_sources)})"
        )
    if "online_upload" in facts.submission_types:
        modes.append("Uploading the wrong file or a file type Canvas does not accept")
    if facts.late_policy:
        modes.append("Submitting late and losing marks to the late policy")
    return modes


def draft_plan(context: SourceContext, requirements: Requirements) -> Plan:
    facts = derive_facts(context, requirements)
    milestones = _milestones(_TEMPLATES[facts.kind](facts), facts)
    summary, references = _summary(context, requirements, facts)
    total_minutes = sum(task.estimated_minutes or 0 for m in milestones for task in m.tasks)
    return Plan(
        assignment_summary=summary,
        milestones=milestones,
        risks=[
            *_time_risks(facts, total_minutes),
            *_scope_risks(facts),
            *_source_risks(context, facts),
            *_grading_risks(context, requirements, facts),
            *_checkpoint_risks(context),
            *_unlisted_risks(requirements, len(summary.hard_constraints)),
            _heuristic_risk(),
        ],
        submission_strategy=SubmissionStrategy(
            final_checklist=_checklist(context, facts),
            quality_bar=_quality_bar(facts),
            common_failure_modes=_failure_modes(facts),
        ),
        source_references=references,
        generated_by=GeneratedBy(engine="offline", model=None, heuristic=True),
    )


class OfflineEngine:
    """Rule-based engine: no network, no model, same output for the same input."""

    name = "offline"

    # The rules are CPU work on possibly long documents: they run in a worker thread so the
    # server's event loop keeps serving. They are pure functions of their input, so the
    # result is the same wherever they run.
    async def distill(
        self, context: SourceContext, session: EngineSession | None = None
    ) -> Requirements:
        return await asyncio.to_thread(distill_requirements, context)

    async def draft_plan(
        self,
        context: SourceContext,
        requirements: Requirements,
        session: EngineSession | None = None,
    ) -> Plan:
        return await asyncio.to_thread(draft_plan, context, requirements)


__all__ = [
    "HARD_KINDS",
    "OfflineEngine",
    "distill_requirements",
    "draft_plan",
    "sentence_spans",
]
