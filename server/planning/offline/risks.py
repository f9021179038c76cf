"""The risks a plan names: time, scope, unreadable or truncated sources, grade weights
that disagree with the rubric, checkpoints in schedule tables, and the planner's own
limits.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from models.context import (
    DESCRIPTION_SOURCE_ID,
    Requirements,
    RubricCriterion,
    SourceContext,
)
from models.plan import Risk
from server.planning.offline.facts import Facts
from server.planning.offline.places import document_places
from server.planning.offline.stages import criterion_name
from server.planning.offline.templating import Say, length_text
from server.planning.offline.values import (
    MONTH_DAY_RE,
    MONTHS,
    WEEKDAYS,
    collapse_whitespace,
    hard_requirements,
)
from server.text.dates import MONTH_NAMES
from server.text.grounding import RUBRIC_SOURCE_ID

_LITTLE_TIME_HOURS = 48
# Above this share of the remaining hours the estimated work crowds out everything else.
_WORKLOAD_SHARE = 0.2
_LONG_WORDS = 2500
_LONG_PAGES = 8
_MANY_SOURCES = 5


def _risk(say: Say, name: str, /, **values: Any) -> Risk:
    """The risk ``risk_<name>`` of the plan's wording with its impact and mitigation."""
    return Risk(
        risk=say(f"risk_{name}", **values),
        impact=say(f"risk_{name}_impact"),
        mitigation=say(f"risk_{name}_mitigation"),
    )


def _quoted(texts: list[str]) -> str:
    return " / ".join(f"“{text}”" for text in texts)


def _month_days(text: str) -> list[tuple[int, int]]:
    months = [name.lower() for name in MONTH_NAMES]
    found: list[tuple[int, int]] = []
    for match in MONTH_DAY_RE.finditer(text):
        month = (match["month"] or match["month_after"]).lower()[:3]
        found.append((months.index(month) + 1, int(match["day"] or match["day_first"])))
    return found


def _is_other_date(month: int, day: int, due: date) -> bool:
    # The year is not in the text, and a teacher may write the day before a midnight
    # deadline, so a date within a day of the (student's) due day in any adjacent year
    # counts as the same deadline.
    for year in (due.year - 1, due.year, due.year + 1):
        try:
            if abs((date(year, month, day) - due).days) <= 1:
                return False
        except ValueError:  # "February 30"
            continue
    return True


def _deadlines_naming_other_dates(facts: Facts) -> list[str]:
    if facts.due is None:
        return []
    due = facts.clock.day_of(facts.due)
    return [
        text
        for text in facts.deadlines
        if any(_is_other_date(month, day, due) for month, day in _month_days(text))
    ]


def time_risks(facts: Facts, total_minutes: int, say: Say) -> list[Risk]:
    if facts.due is None:
        return [_risk(say, "no_due", quoted=_quoted(list(facts.deadlines)))]
    hours_left = (facts.due - facts.now).total_seconds() / 3600
    if hours_left <= 0:
        return [_risk(say, "passed", due=facts.due_text)]
    work_hours = total_minutes / 60
    if hours_left < _LITTLE_TIME_HOURS:
        return [_risk(say, "little_time", hours=round(hours_left))]
    if work_hours > hours_left * _WORKLOAD_SHARE:
        return [_risk(say, "workload", hours=round(work_hours), days=round(hours_left / 24))]
    return []


def scope_risks(facts: Facts, say: Say) -> list[Risk]:
    risks: list[Risk] = []
    words = facts.lengths.get("words")
    pages = facts.lengths.get("pages")
    headline = facts.headline_length
    long = (words and words.target >= _LONG_WORDS) or (pages and pages.target >= _LONG_PAGES)
    if headline and long:
        risks.append(_risk(say, "long", length=length_text(say, *headline)))
    if facts.min_sources and facts.min_sources >= _MANY_SOURCES:
        risks.append(_risk(say, "many_sources", count=facts.min_sources))
    if facts.group_work:
        risks.append(_risk(say, "group"))
    return risks


# The kinds of unread source a risk names (risk_unread_<kind>), by source id prefix.
_UNREAD_KINDS = ("file", "page", "embed")


def source_risks(context: SourceContext, facts: Facts, say: Say) -> list[Risk]:
    risks: list[Risk] = []
    for warning in context.warnings:
        if warning.source_id is None and warning.file_name is None:
            continue  # about the assignment itself (a lock): lock_risks says it
        kind = (warning.source_id or "file").split(":", 1)[0]
        risks.append(
            _risk(
                say,
                f"unread_{kind if kind in _UNREAD_KINDS else 'file'}",
                name=warning.file_name,
                message=warning.message,
            )
        )
    risks.extend(
        _risk(say, "truncated", name=document.name)
        for document in context.documents
        if document.truncated
    )
    if not any(document.text.strip() for document in context.documents):
        risks.append(_risk(say, "no_instructions"))
    if not facts.rubric:
        risks.append(_risk(say, "no_rubric"))
    if facts.late_policy:
        risks.append(_risk(say, "late", policy=facts.late_policy))
    other_dates = _deadlines_naming_other_dates(facts)
    if other_dates:
        risks.append(_risk(say, "other_dates", quoted=_quoted(other_dates)))
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
    for part in _WEIGHT_PART_SPLIT_RE.split(collapse_whitespace(text)):
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
        abs(stated.get(c.id, 0) - (c.scored_points or 0) * 100 / total) > _WEIGHT_SLACK
        for c in rubric
        if not c.ignore_for_scoring
    )


def _document_name(context: SourceContext, source_id: str) -> str | None:
    """The attached document's name; None for the assignment description."""
    document = context.document(source_id)
    if source_id == DESCRIPTION_SOURCE_ID or document is None:
        return None
    return document.name


def grading_risks(
    context: SourceContext, requirements: Requirements, facts: Facts, say: Say
) -> list[Risk]:
    """The instructions' own grade breakdown when it disagrees with the Canvas rubric."""
    total = sum(c.scored_points or 0 for c in facts.rubric)
    if not total or not facts.graded:
        return []
    risks: list[Risk] = []
    for item in requirements.items:
        if item.source_id == RUBRIC_SOURCE_ID:
            continue
        weights = _stated_weights(item.quote)
        if not weights or not _weights_disagree(weights, facts.rubric, total):
            continue
        stated = ", ".join(say("share", name=name, percent=f"{value:g}") for name, value in weights)
        rubric = ", ".join(
            say(
                "share",
                name=criterion_name(c, say),
                percent=f"{round((c.scored_points or 0) * 100 / total, 1):g}",
            )
            for c in facts.rubric
            if not c.ignore_for_scoring
        )
        risks.append(
            _risk(
                say,
                "weights",
                document=_document_name(context, item.source_id),
                stated=stated,
                rubric=rubric,
            )
        )
        break
    return risks


_WHEN_CELL_RE = re.compile(
    rf"\b(?:week|wk|day|session|class|lecture|unit|module)\s*\d{{1,2}}\b|"
    rf"\b(?:{MONTHS})\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+(?:{MONTHS})\b|\b(?:{WEEKDAYS})\b",
    re.I,
)
_MAX_LISTED_CHECKPOINTS = 6


def _table_checkpoints(text: str) -> list[str]:
    """Rows of a schedule table ("Annotated bibliography | Week 5 | 20") as "label (when)"."""
    checkpoints: list[str] = []
    for place in document_places(text):
        if place.role != "table_row":
            continue
        row = text[place.start : place.end].strip().strip("|")
        cells = [collapse_whitespace(cell) for cell in row.split("|")]
        cells = [cell for cell in cells if cell.strip("-: ")]
        when = next((cell for cell in cells[1:] if _WHEN_CELL_RE.search(cell)), None)
        if when and not _WHEN_CELL_RE.search(cells[0]):
            checkpoints.append(f"{cells[0]} ({when})")
    return checkpoints


def checkpoint_risks(context: SourceContext, say: Say) -> list[Risk]:
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
        risks.append(
            _risk(
                say,
                "checkpoints",
                document=_document_name(context, document.source_id),
                listed=", ".join(checkpoints[:_MAX_LISTED_CHECKPOINTS]),
                more=len(checkpoints) - _MAX_LISTED_CHECKPOINTS,
            )
        )
    return risks


def unlisted_risks(requirements: Requirements, listed: int, say: Say) -> list[Risk]:
    unlisted = len(hard_requirements(requirements)) - listed
    if unlisted <= 0:
        return []
    return [_risk(say, "unlisted", unlisted=unlisted, listed=listed)]


def heuristic_risk(say: Say) -> Risk:
    return _risk(say, "heuristic")


def lock_risks(facts: Facts, say: Say) -> list[Risk]:
    """What Canvas's lock means for this plan, in Canvas's own words."""
    lock = facts.lock
    if facts.closed_on is not None:
        return [_risk(say, "closed", explanation=lock.explanation if lock else None)]
    if lock is None or not lock.instructions_withheld:
        return []
    return [_risk(say, "withheld", explanation=lock.explanation)]
