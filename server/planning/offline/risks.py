"""The risks a plan names: time, scope, unreadable or truncated sources, grade weights
that disagree with the rubric, checkpoints in schedule tables, and the planner's own
limits.
"""

from __future__ import annotations

import re
from datetime import date

from models.context import (
    DESCRIPTION_SOURCE_ID,
    Requirements,
    RubricCriterion,
    SourceContext,
)
from models.plan import Risk
from server.planning.offline.facts import Facts
from server.planning.offline.patterns import (
    MONTH_DAY_RE,
    MONTHS,
    WEEKDAYS,
    collapse_whitespace,
    hard_requirements,
)
from server.planning.offline.places import document_places
from server.planning.offline.stages import criterion_name
from server.text.dates import MONTH_NAMES
from server.text.grounding import RUBRIC_SOURCE_ID

_LITTLE_TIME_HOURS = 48
# Above this share of the remaining hours the estimated work crowds out everything else.
_WORKLOAD_SHARE = 0.2
_LONG_WORDS = 2500
_LONG_PAGES = 8
_MANY_SOURCES = 5


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


def time_risks(facts: Facts, total_minutes: int) -> list[Risk]:
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
                risk=f"The due date, {facts.due_text}, has passed",
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


def scope_risks(facts: Facts) -> list[Risk]:
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


# What each kind of unread source is called in a risk, by its source id's prefix.
_UNREAD_SOURCES = {
    "file": ("An attached file could not be read", "that file", "the file"),
    "page": ("A linked Canvas page could not be read", "that page", "the page"),
    "embed": ("Embedded content could not be read", "that content", "it"),
}


def source_risks(context: SourceContext, facts: Facts) -> list[Risk]:
    risks: list[Risk] = []
    for warning in context.warnings:
        if warning.source_id is None and warning.file_name is None:
            continue  # about the assignment itself (a lock): lock_risks says it
        what, that, it = _UNREAD_SOURCES.get(
            (warning.source_id or "file").split(":", 1)[0], _UNREAD_SOURCES["file"]
        )
        risks.append(
            Risk(
                risk=f"{what}: {warning.file_name or 'unnamed file'} ({warning.message})",
                impact=f"This plan may miss requirements written in {that}",
                mitigation=f"Open {it} in Canvas yourself and check it for extra requirements "
                "(length, format, sources, dates)",
            )
        )
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


def _source_name(context: SourceContext, source_id: str) -> str:
    document = context.document(source_id)
    if source_id == DESCRIPTION_SOURCE_ID or document is None:
        return "the assignment description"
    return f"'{document.name}'"


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def grading_risks(context: SourceContext, requirements: Requirements, facts: Facts) -> list[Risk]:
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
        stated = ", ".join(f"{name} {value:g}%" for name, value in weights)
        rubric = ", ".join(
            f"{criterion_name(c)} {round((c.scored_points or 0) * 100 / total, 1):g}%"
            for c in facts.rubric
            if not c.ignore_for_scoring
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


def checkpoint_risks(context: SourceContext) -> list[Risk]:
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


def unlisted_risks(requirements: Requirements, listed: int) -> list[Risk]:
    unlisted = len(hard_requirements(requirements)) - listed
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


def heuristic_risk() -> Risk:
    return Risk(
        risk="This plan was made by the offline rule-based planner, not by reading for meaning",
        impact="It can miss requirements phrased in unusual ways; time estimates are rough",
        mitigation="Read the instructions once yourself. The hard constraints here are quoted "
        "word for word from them",
    )


def lock_risks(facts: Facts) -> list[Risk]:
    """What Canvas's lock means for this plan, in Canvas's own words."""
    lock = facts.lock
    if facts.closed_on is not None:
        return [
            Risk(
                risk="Canvas no longer accepts submissions for this assignment"
                + (f": {lock.explanation}" if lock else ""),
                impact="Work handed in now may not count",
                mitigation="Ask your instructor whether a late submission is possible before "
                "doing the work",
            )
        ]
    if lock is None or not lock.instructions_withheld:
        return []
    return [
        Risk(
            risk=f"Canvas withholds the instructions until the assignment opens: "
            f"{lock.explanation}",
            impact="This plan is made without the real instructions and may miss requirements",
            mitigation="When it opens, plan again (reprocess) so the plan uses the instructions",
        )
    ]
