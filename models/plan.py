"""The stable Plan JSON the extension renders (design.md, "Output Schema").

Fields may be added (schema version, source references, verification, dates), never
removed or renamed. The JSON Schema is published from ``Plan.model_json_schema()``.

Length rules are checked by validators rather than schema keywords (``minLength``), so
the same models can later be handed to an LLM's strict structured-output mode.

A plan fresh from an engine is a *draft*: validated with ``Plan.draft(...)`` it may still
have dangling or cyclic ``depends_on`` and unordered milestones, which
``verify_against_source`` repairs. Every other plan gets the full checks.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from graphlib import CycleError, TopologicalSorter
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, model_validator

SCHEMA_VERSION = 1
DRAFT_CONTEXT = {"draft": True}
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# Where the student's time zone came from (server/text/dates.py chooses it).
ZoneSource = Literal["canvas_profile", "course", "utc_fallback"]


def _require_text(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    return stripped


Text = Annotated[str, AfterValidator(_require_text)]
# Ids end up in URL paths (milestone submissions), hence the URL-safe pattern.
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]


class SourceReference(BaseModel):
    """Backs one plan element with a verbatim quote from one source document."""

    pointer: str = Field(description='RFC 6901 pointer into the plan, e.g. "/milestones/0/title"')
    quote: Text
    source_id: Text = Field(description='"description", "file:<id>" or "rubric"')
    start: int | None = Field(default=None, description="offset of the match in the source text")
    end: int | None = Field(default=None, description="end offset (exclusive) of the match")


class AssignmentSummary(BaseModel):
    title: Text
    objective: Text
    success_definition: Text
    hard_constraints: list[Text] = Field(default_factory=list)
    grading_signals: list[Text] = Field(default_factory=list)
    hard_constraint_ids: list[Identifier] = Field(
        default_factory=list,
        description='stable ids of hard_constraints, in the same order ("hc1", "hc2", ...): '
        "what tasks and milestones name in serves",
    )

    @model_validator(mode="after")
    def _check_constraint_ids(self) -> Self:
        # Empty on plans stored before the ids existed; otherwise one id per constraint.
        if self.hard_constraint_ids and len(self.hard_constraint_ids) != len(self.hard_constraints):
            raise ValueError("hard_constraint_ids must name each hard constraint once")
        _require_unique("hard constraint id", self.hard_constraint_ids)
        return self


class Task(BaseModel):
    id: Identifier
    title: Text
    description: Text
    deliverable: Text
    done_definition: Text
    estimated_effort: Text
    depends_on: list[Identifier] = Field(default_factory=list)
    estimated_minutes: int | None = Field(default=None, ge=0)
    serves: list[str] = Field(
        default_factory=list,
        description="ids of the hard constraints (assignment_summary.hard_constraint_ids) and "
        "rubric criteria (rubric_criteria) this task works toward",
    )


class Milestone(BaseModel):
    id: Identifier
    title: Text
    purpose: Text
    acceptance_criteria: list[Text] = Field(default_factory=list)
    due_strategy: Text
    order: int
    tasks: list[Task] = Field(default_factory=list)
    suggested_date: date | None = None
    target_date: date | None = Field(
        default=None,
        description="the concrete date to finish by, in the student's time zone (null when "
        "Canvas has no due date; see the plan's schedule)",
    )
    covers_criteria: list[str] = Field(
        default_factory=list, description="ids of the rubric criteria this milestone addresses"
    )
    serves: list[str] = Field(
        default_factory=list,
        description="ids of the hard constraints and rubric criteria the milestone serves: "
        "its tasks' serves and its covers_criteria",
    )
    anchored: bool = Field(
        default=False,
        description="true for an instructor's checkpoint: its target date is the date the "
        "instructions set, and the other milestones are spread around it",
    )


class PlanCriterion(BaseModel):
    """A rubric criterion as the plan names it: the id tasks' ``serves`` refer to."""

    id: str = Field(description="Canvas's rubric criterion id")
    description: str
    points: float | None = None


class Risk(BaseModel):
    risk: Text
    impact: Text
    mitigation: Text


class SubmissionStrategy(BaseModel):
    final_checklist: list[Text] = Field(default_factory=list)
    quality_bar: Text
    common_failure_modes: list[Text] = Field(default_factory=list)


class DroppedItem(BaseModel):
    pointer: str
    text: str
    reason: Text


class CriterionCoverage(BaseModel):
    criterion_id: str
    description: str
    milestone_ids: list[str] = Field(default_factory=list)


class VerificationReport(BaseModel):
    grounded: int = Field(ge=0, description="hard constraints and grading signals grounded")
    dropped: list[DroppedItem] = Field(default_factory=list)
    corrected: list[str] = Field(default_factory=list)
    rubric_coverage: list[CriterionCoverage] = Field(default_factory=list)
    uncovered_criteria: list[str] = Field(
        default_factory=list, description="rubric criterion ids still uncovered after checks"
    )
    checks: list[str] = Field(default_factory=list)


class PlanSource(BaseModel):
    """One source the plan was made from, or one it could not read."""

    source_id: str = Field(description='"description" or "file:<canvas file id>"')
    name: str
    content_type: str | None = Field(
        default=None, description="detected from the content; null when it was not read"
    )
    status: Literal["read", "truncated", "unreadable"]
    reason: str | None = Field(
        default=None,
        description="why it is truncated or unreadable, or what to know about a file that "
        "was read (a name that lies about its type)",
    )


class LeftOutText(BaseModel):
    """Source text the model was not given: long sources are cut to a token budget by
    relevance, and what was cut is said here rather than silently dropped."""

    source_id: str
    name: str
    omitted_chars: int = Field(ge=0)
    total_chars: int = Field(ge=0)
    pages: list[int] = Field(default_factory=list, description="pages left out entirely")


class GeneratedBy(BaseModel):
    engine: Text
    model: str | None = None
    heuristic: bool
    left_out: list[LeftOutText] = Field(
        default_factory=list, description="source text the model did not read (token budget)"
    )
    fallback: str | None = Field(
        default=None,
        description="why the offline engine made this plan or feedback instead of the "
        "configured model: the model's error code and message (null when the model's answer "
        "was used)",
    )
    restored: list[str] = Field(
        default_factory=list,
        description="the quotes of the hard constraints the model's plan left out that the "
        "offline engine found in the sources, added back to the plan's hard constraints",
    )


class PlanTimeZone(BaseModel):
    """The student's time zone: every date and time in the plan's texts, and every
    ``suggested_date`` and ``target_date``, is on this clock."""

    name: str = Field(description='the IANA name, e.g. "America/Chicago"')
    source: ZoneSource = Field(
        description="where it came from: the student's Canvas profile, else the course, else UTC"
    )
    note: str = Field(description="the same, in a sentence for the student")


class Schedule(BaseModel):
    """How the milestones' target dates were set."""

    time_zone: str
    starts_on: date | None = None
    due_on: date | None = Field(default=None, description="the Canvas due date, local")
    note: str


AiPolicyStance = Literal["forbidden", "allowed_with_disclosure", "allowed", "unstated"]


class AiPolicy(BaseModel):
    """The instructor's rule on generative AI, as the sources state it."""

    stance: AiPolicyStance
    quote: str | None = Field(
        default=None, description="the sources' sentence stating it, verbatim (null if unstated)"
    )
    source_id: str | None = None
    start: int | None = Field(default=None, description="offset of the quote in its source")
    end: int | None = None


class Plan(BaseModel):
    schema_version: int = SCHEMA_VERSION
    assignment_summary: AssignmentSummary
    milestones: list[Milestone] = Field(min_length=1)
    risks: list[Risk] = Field(default_factory=list)
    submission_strategy: SubmissionStrategy
    source_references: list[SourceReference] = Field(default_factory=list)
    verification: VerificationReport | None = None
    generated_by: GeneratedBy
    sources: list[PlanSource] = Field(
        default_factory=list,
        description="every source: what was read, and which files could not be (filled by "
        "the service from the extracted context, whatever the engine)",
    )
    schedule: Schedule | None = Field(
        default=None, description="filled by the service when the plan is saved"
    )
    language: str | None = Field(
        default=None,
        description='the language the plan is written in ("en", "es"; null on plans made '
        "before it was recorded); quotes from the sources stay in theirs",
    )
    ai_policy: AiPolicy | None = Field(
        default=None,
        description="the instructor's rule on generative AI (null on plans made before it "
        "was recognized)",
    )
    rubric_criteria: list[PlanCriterion] = Field(
        default_factory=list,
        description="the rubric's criteria, whose ids tasks and milestones name in serves "
        "(filled by verification from Canvas's rubric)",
    )
    time_zone: PlanTimeZone | None = Field(
        default=None,
        description="the student's time zone, which every date in the plan is in (filled by "
        "the service when the plan is saved)",
    )

    @classmethod
    def draft(cls, data: Any) -> Self:
        """Validate an engine's output, leaving dependency and order repairs to verification."""
        return cls.model_validate(data, context=DRAFT_CONTEXT)

    def tasks(self) -> list[Task]:
        return [task for milestone in self.milestones for task in milestone.tasks]

    @model_validator(mode="after")
    def _check_structure(self, info: ValidationInfo) -> Self:
        _require_unique("milestone id", [m.id for m in self.milestones])
        _require_unique("task id", [t.id for t in self.tasks()])
        if not (info.context or {}).get("draft"):
            _require_unique("milestone order", [m.order for m in self.milestones])
            _require_dependency_dag(self.tasks())
        return self


def _require_unique(what: str, values: list[Any]) -> None:
    duplicates = sorted(str(value) for value, count in Counter(values).items() if count > 1)
    if duplicates:
        raise ValueError(f"duplicate {what}: {', '.join(duplicates)}")


def _require_dependency_dag(tasks: list[Task]) -> None:
    known = {task.id for task in tasks}
    for task in tasks:
        unknown = [dep for dep in task.depends_on if dep not in known]
        if unknown:
            raise ValueError(f"task {task.id} depends on unknown task(s): {', '.join(unknown)}")
    try:
        TopologicalSorter({task.id: task.depends_on for task in tasks}).prepare()
    except CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise ValueError(f"task dependencies form a cycle: {cycle}") from error


__all__ = [
    "DRAFT_CONTEXT",
    "SCHEMA_VERSION",
    "AiPolicy",
    "AiPolicyStance",
    "AssignmentSummary",
    "CriterionCoverage",
    "DroppedItem",
    "GeneratedBy",
    "LeftOutText",
    "Milestone",
    "Plan",
    "PlanCriterion",
    "PlanSource",
    "PlanTimeZone",
    "Risk",
    "Schedule",
    "SourceReference",
    "SubmissionStrategy",
    "Task",
    "VerificationReport",
    "ZoneSource",
]
