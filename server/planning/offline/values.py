"""What a sentence of instructions measures: lengths, source counts, citation styles, file
formats, layout values, dates and deadlines, late policies; and the words that tell an
assignment's kind. The sentence rules (``patterns.py``) and the facts read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from pydantic import BaseModel, ConfigDict, TypeAdapter

from models.context import Requirement, RequirementKind, Requirements
from server.text.data_files import read_data_file

_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50}
NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT = r"(?P<unit>words?|pages?|pp\b\.?|slides?|minutes?|mins?)(?!\w)"
RANGE_RE = re.compile(
    rf"\b(?P<low>{NUMBER})\s*(?:-{{1,2}}|–|—|~|to|and)\s*(?P<high>{NUMBER})[\s-]*{_UNIT}", re.I
)
MIN_RE = re.compile(
    rf"\b(?:at least|(?:a )?minimum(?: of)?|no fewer than|no less than|not less than)\s+"
    rf"(?P<value>{NUMBER})[\s-]*{_UNIT}",
    re.I,
)
MAX_RE = re.compile(
    rf"\b(?:no more than|not more than|at most|(?:a )?maximum(?: of)?|up to|not to exceed|"
    rf"not exceed|under|limited to|a limit of|limit of)\s+(?P<value>{NUMBER})[\s-]*{_UNIT}",
    re.I,
)
# The unit first: "keep the number of words under 250".
MAX_AFTER_RE = re.compile(
    rf"\b{_UNIT}\s+(?:under|below|(?:less|fewer) than|at most|no more than|not exceeding)\s+"
    rf"(?P<value>{NUMBER})\b",
    re.I,
)
APPROX_RE = re.compile(rf"\b(?P<value>{NUMBER})[\s-]*{_UNIT}", re.I)
# The length of a part, counted in paragraphs or sentences ("a 2 paragraph report", "a
# two-sentence summary"): measurable, but not the length of the whole work.
PART_LENGTH_RE = re.compile(
    rf"\b{NUMBER}(?:\s+(?:or|to)\s+{NUMBER})?[\s-]*(?:paragraphs?|sentences?)\b", re.I
)
SOURCES_RE = re.compile(
    # Not the pronoun: "when one studies the history of ..."
    r"(?!one\s+(?:sources|references|citations|articles|studies)\b)"
    rf"\b(?P<value>{NUMBER})\s+(?:(?!words?\b|pages?\b|slides?\b|minutes?\b|paragraphs?\b|"
    rf"sentences?\b)[\w-]+,?\s+){{0,3}}"
    r"(?:sources|references|citations|articles|studies)\b",
    re.I,
)


class CitationStylesError(RuntimeError):
    """The shipped list of citation styles is unreadable or malformed."""


class _CitationStyles(BaseModel):
    """``citation_styles.yaml``: the styles a sentence may name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    always: tuple[str, ...]
    in_citation_context: frozenset[str]


_STYLES = read_data_file(
    resources.files("server.planning.offline") / "citation_styles.yaml",
    TypeAdapter(_CitationStyles),
    CitationStylesError,
)
STYLE_RE = re.compile(
    r"\b("
    + "|".join(map(re.escape, (*_STYLES.always, *sorted(_STYLES.in_citation_context))))
    + r")\b"
)
_CITATION_CONTEXT_RE = re.compile(
    r"\b(?:style|format\w*|cit\w+|referenc\w*|edition|manual)\b", re.I
)
EDITION_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\s*(?:ed\b|edition)", re.I)
_STYLE_NUMBER_RE = re.compile(r"\b(?:APA|MLA)\s*\(?(\d{1,2})(?:st|nd|rd|th)?\b")
CITATION_RE = re.compile(
    r"\b(?:(?i:cite|citations?|in-text|works cited|reference list|bibliography)|APA|MLA|IEEE)\b"
)
EXTENSION_RE = re.compile(
    r"(?<![\w/])\.(docx|doc|pdf|pptx|ppt|xlsx|xls|ipynb|txt|rtf|odt|csv|zip|py|rmd|key|mp4|mp3)\b",
    re.I,
)
FORMAT_WORD_RE = re.compile(r"\b(PDF|Word document|PowerPoint|Excel|Jupyter notebook)\b", re.I)
FORMAT_WORD_EXTENSIONS = {
    "pdf": ".pdf",
    "word document": ".docx",
    "powerpoint": ".pptx",
    "excel": ".xlsx",
    "jupyter notebook": ".ipynb",
}
FILE_CONTEXT_RE = re.compile(r"\b(?:submit\w*|upload\w*|save\w*|file|format\w*|export\w*)\b", re.I)
_LAYOUT = (
    r"font|times new roman|arial|calibri|\d{1,2}[- ]?(?:pt|point)|double[- ]spac\w*|"
    r"single[- ]spac\w*|1\.5[- ]spac\w*|line spacing|margins?|running head|page numbers?|"
    r"headings?"
)
LAYOUT_RE = re.compile(rf"\b(?:{_LAYOUT})\b", re.I)
# Typography values (not "use headings"): rules however they are phrased.
TYPE_VALUE_RE = re.compile(
    r"\b(?:times new roman|arial|calibri|\d{1,2}[- ]?(?:pt|point)|double[- ]spac\w*|"
    r"single[- ]spac\w*|1\.5[- ]spac\w*|line spacing|margins?|justification)\b",
    re.I,
)
TYPOGRAPHY_RE = re.compile(rf"\b(?:{_LAYOUT}|title page|cover page|file ?name)\b", re.I)
TITLE_PAGE_RE = re.compile(r"\b(?:title|cover) page\b", re.I)
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)(?!\w)"
# A deadline is said with "due", "deadline" or "by <when>": a clock time or a weekday alone
# ("office hours on Tuesdays from 2 to 4 p.m.") is a schedule, not a deadline.
_MEETING = r"(?:ses(?:sion)?|class(?:es)?|lec(?:ture)?|recitation|meeting|week|seminar)"
DEADLINE_RE = re.compile(
    # Not "due dates", which names dates without giving one ("Grading and Major Due Dates").
    rf"(?<!\bin )\bdue\b(?!\s+(?:to|course|dates)\b)|\bdeadlines?\b|"
    rf"\bby\s+(?:the\s+end\s+of|midnight|noon|{WEEKDAYS})\b|"
    rf"\bby\s+(?:{MONTHS})\.?\s+\d|\bby\s+{_CLOCK}|\bby\s+{_MEETING}\s*#?\s*\d|"
    rf"\b(?:on|by)\s+the\s+(?:night|day|morning|evening)\s+(?:before|preceding)\b|"
    rf"\bwithin\s+(?:the\s+)?(?:first\s+)?{NUMBER}\s+(?:hours|days|weeks)\b|"
    # A deliverable's date in brackets: "Finalized work plan (end of Week 3)".
    rf"\((?:due\s+)?(?:by\s+)?(?:the\s+)?(?:end|beginning|start)\s+of\s+{_MEETING}\s*#?\s*\d|"
    # A recurring hand-over: "Every Wednesday, teams submit a status update".
    rf"\bevery\s+(?:{WEEKDAYS})\b(?=.*\b(?:submit|upload|post|turn in|hand in|e-?mail)\w*)|"
    rf"\b(?:no|not)\s+later\s+than\b|"
    # Work done before a meeting: "solo assignments are to be done BEFORE the class meetings".
    rf"\b(?:done|completed|finished|read)\s+(?:before|prior\s+to)\s+(?:the\s+)?"
    rf"(?:[\w/-]+\s+){{0,4}}?{_MEETING}",
    re.I,
)
# Handing the work over: with a date ("present ... on Tuesday, May 12") it is a deadline.
DELIVERY_RE = re.compile(
    r"\b(?:submit\w*|upload\w*|turn(?:ed|ing)?\s+in|hand(?:ed|ing)?\s+in|e-?mail(?:ed)?|"
    r"present(?:s|ed)?|post(?:ed)?|deliver\w*)\b",
    re.I,
)
MONTH_DAY_RE = re.compile(
    rf"\b(?P<month>{MONTHS})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b|"
    rf"\b(?P<day_first>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month_after>{MONTHS})\b",
    re.I,
)
LATE_POLICY_RE = re.compile(
    r"\bno late\s+(?:[\w-]+\s+){0,2}?(?:will be|is|are)?\s*(?:graded|accepted|considered)\b|"
    r"\blate\b[^.]*?(?:penal|deduct|\blos[est]|reduc|(?:per|each|a) day|%|percent|"
    r"not (?:be )?accepted|"
    r"zero)|%\s*(?:per|a|each)\s*(?:day|hour)|\bdeduct\w*\s+for\s+late|"
    r"\baccept(?:ed)?\s+(?:no\s+\w+\s+)?more\s+than\s+(?:an?\s+)?\w+\s+(?:days?|hours?|weeks?)?\s*late\b|"
    r"\bmark\w*\s+late\s+\w+\s+down\b|\bzero\b[^.]*?\blate\b|"
    # "No credit will be received for late submissions", "No point credit ... for lateness"
    r"\bno\s+(?:[\w-]+\s+)?(?:credit|points?|marks)\b[^.]*?\blate(?:ness)?\b|"
    r"\b(?:extended|extensions?)\b[^.]*?(?:%|percent|penalt|deduct|maximum score)",
    re.I,
)
TASK_RE = re.compile(
    r"\b(?:(?:you|your \w+|students|each student) will|you are (?:asked|expected|required) to|"
    r"your task|in this (?:assignment|essay|paper|lab|project|presentation)|write|analy[sz]e|"
    r"discuss|compare|evaluate|argue|design|create|prepare|develop|explain|investigate|reflect|"
    r"present|propose|pitch)\b",
    re.I,
)
GROUP_RE = re.compile(
    r"\b(?:group|team|partner)\s+(?:project|work|presentation|members?|assignment|report)\b|"
    r"\bin (?:groups|teams|pairs)\b|\bwith a partner\b|\byour (?:team|group)\b",
    re.I,
)
# What makes a mention of groups no group work: it leaves the choice to the student
# ("encouraged", "welcome to team up", "independently, or in groups"), makes the work
# individual ("on an individual basis, though labwork will be done in groups") or is
# conditional ("If we are short machines ... work in pairs"); or a "not" just before it
# refuses it ("on your own, not with your team").
_NOT_GROUP_WORK_RE = re.compile(
    r"\b(?:individual(?:ly)?|on your own|alone|independently|encouraged?|welcome|may|can|"
    r"optional(?:ly)?|if)\b",
    re.I,
)
_REFUSED_RE = re.compile(r"\b(?:not|never|no)\s+(?:\w+\s+){0,2}$", re.I)
_SENTENCE_ENDS = ".!?\n"


def states_group_work(text: str) -> bool:
    """Whether the text sets the work for a group: a sentence that names group work ("Work
    in groups of three students", "your team's response") and neither refuses it nor
    leaves it to the student."""
    for match in GROUP_RE.finditer(text):
        start = max(text.rfind(end, 0, match.start()) for end in _SENTENCE_ENDS) + 1
        ends = [text.find(end, match.end()) for end in _SENTENCE_ENDS]
        stop = min((end for end in ends if end >= 0), default=len(text))
        refused = _REFUSED_RE.search(text[start : match.start()])
        if not (refused or _NOT_GROUP_WORK_RE.search(text, start, stop)):
            return True
    return False


PRESENTATION_RE = re.compile(
    r"\b(?:slides?|slide deck|presentations?|present(?:ing)? to|pitch|oral|powerpoint|speech)\b",
    re.I,
)
PROBLEM_SET_RE = re.compile(
    r"\b(?:problem[- ]sets?|psets?|p-sets?|homework|hw\s*#?\d+|exercises?)\b", re.I
)
# Words of writing code, each with its forms folded to one: a page needs several distinct
# ones to be about programming ("implement a policy" alone is not).
PROGRAMMING_RE = re.compile(
    r"\b(?P<code>cod(?:e|es|ing)|source code|starter code)\b|\b(?P<implement>implement\w*)\b|"
    r"\b(?P<language>python|java(?:script)?|matlab|sql|jupyter|\w+\.py)\b|"
    r"\b(?P<compile>compil(?:e|er|es|ed|ing))\b|\b(?P<debug>debug\w*)\b|"
    r"\b(?P<script>scripts?)\b|\b(?P<algorithm>algorithms?)\b|\b(?P<test>unit tests?)\b|"
    r"\b(?P<software>software)\b|\b(?P<programming>programming)\b",
    re.I,
)
REFLECTION_RE = re.compile(
    r"\b(?:reflect\w*|journal(?!\s+(?:club|articles?|papers?)\b)s?|diar(?:y|ies)|blog|vlog)\b",
    re.I,
)
LAB_RE = re.compile(
    r"\b(?:lab|laboratory|experiments?|methods|results|data|hypothes[ie]s|procedure|apparatus|"
    r"measurements?|observations)\b",
    re.I,
)
ESSAY_RE = re.compile(
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


def parse_number(text: str) -> int:
    lowered = text.lower()
    return _NUMBER_WORDS[lowered] if lowered in _NUMBER_WORDS else int(lowered.replace(",", ""))


def _unit(match: re.Match[str]) -> str:
    unit = match.group("unit").lower()
    if unit.startswith("pp"):
        return "pages"
    return "minutes" if unit.startswith("min") else unit.rstrip("s") + "s"


def length_limits(sentence: str) -> dict[str, Range]:
    """Length limits by unit (words, pages, slides, minutes); the first mention wins."""
    found: dict[str, Range] = {}
    for match in RANGE_RE.finditer(sentence):
        found.setdefault(
            _unit(match), Range(parse_number(match["low"]), parse_number(match["high"]))
        )
    bounds: dict[str, dict[str, int]] = {}
    for pattern, bound in ((MIN_RE, "low"), (MAX_RE, "high"), (MAX_AFTER_RE, "high")):
        for match in pattern.finditer(sentence):
            bounds.setdefault(_unit(match), {}).setdefault(bound, parse_number(match["value"]))
    for unit, limits in bounds.items():
        found.setdefault(unit, Range(limits.get("low"), limits.get("high")))
    for match in APPROX_RE.finditer(sentence):
        value = parse_number(match["value"])
        found.setdefault(_unit(match), Range(value, value))
    return {unit: limits for unit, limits in found.items() if limits.target > 0}


@dataclass(frozen=True)
class CitationStyle:
    """A citation style and its edition, if named: APA, 7. The templates word it."""

    name: str
    edition: int | None = None


def citation_style_in(sentence: str) -> CitationStyle | None:
    """The citation style the sentence names, e.g. APA (7th edition) or MLA."""
    for match in STYLE_RE.finditer(sentence):
        style = match.group(1)
        if style in _STYLES.in_citation_context and not _CITATION_CONTEXT_RE.search(sentence):
            continue
        edition = EDITION_RE.search(sentence) or _STYLE_NUMBER_RE.search(sentence)
        return CitationStyle(style, int(edition.group(1)) if edition else None)
    return None


def states_deadline(sentence: str) -> bool:
    """A deadline: "due", "by Ses #17", "the night before", or a date with a hand-over
    ("present ... on Tuesday, May 12")."""
    return bool(
        DEADLINE_RE.search(sentence)
        or (MONTH_DAY_RE.search(sentence) and DELIVERY_RE.search(sentence))
    )


def collapse_whitespace(quote: str) -> str:
    return " ".join(quote.split())


def hard_requirements(requirements: Requirements) -> list[Requirement]:
    return [item for item in requirements.items if item.kind in HARD_KINDS]
