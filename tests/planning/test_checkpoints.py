"""Instructor checkpoints dated in the instructions become milestones anchored to those
dates; the schedule spreads the other milestones around them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from models.context import AssignmentFacts, SourceContext, SourceDocument
from models.plan import Plan
from server.planning.milestone_dates import schedule_milestones
from server.planning.offline import distill_requirements
from server.planning.offline.assembly import draft_plan
from server.planning.verification import verify_against_source

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
DUE = datetime(2026, 10, 31, 3, 59, tzinfo=UTC)  # Oct 30, 23:59 in New York


def _plan(text: str, due: datetime | None = DUE, language: str = "en") -> Plan:
    context = SourceContext(
        assignment=AssignmentFacts(
            course_id="1",
            assignment_id="2",
            title="Research Paper",
            due_at=due,
            time_zone="America/New_York",
        ),
        documents=[
            SourceDocument(
                source_id="description",
                name="Assignment description",
                content_type="text/html",
                byte_size=len(text),
                sha256="0" * 64,
                text=text,
            )
        ],
        fetched_at=NOW,
        language=language,
    )
    plan = verify_against_source(draft_plan(context, distill_requirements(context)), context)
    return schedule_milestones(plan, context.assignment, NOW)


SCHEDULE = """Research Paper

Oct 9: introduction due for peer review.
Oct 16: full rough draft due in class.
The final paper is due October 30 and must be 2,000 words.
Sources from before Sept 20 are fine."""


def test_dated_checkpoints_become_anchored_milestones_in_date_order() -> None:
    plan = _plan(SCHEDULE)
    anchored = [m for m in plan.milestones if m.anchored]
    assert [(m.id, m.target_date) for m in anchored] == [
        ("c1", date(2026, 10, 9)),
        ("c2", date(2026, 10, 16)),
    ]
    assert "Oct 9: introduction due for peer review." in anchored[0].acceptance_criteria
    assert [m.order for m in plan.milestones] == list(range(1, len(plan.milestones) + 1))
    dates = [m.target_date for m in plan.milestones]
    assert all(d is not None for d in dates)
    # The others are spread from today to before the due date, around the checkpoints.
    spread = [m for m in plan.milestones if not m.anchored]
    assert len(spread) >= 3 and spread[-1].target_date < date(2026, 10, 30)
    before_first = [m for m in plan.milestones if m.order < anchored[0].order]
    assert all(m.target_date <= date(2026, 10, 9) for m in before_first)


def test_a_spanish_plan_writes_its_checkpoints_in_spanish_around_the_english_quote() -> None:
    checkpoint = next(m for m in _plan(SCHEDULE, language="es").milestones if m.anchored)
    assert checkpoint.title == "Entrega intermedia: Oct 9: introduction due for peer review"
    assert checkpoint.acceptance_criteria == [
        "Oct 9: introduction due for peer review.",
        "Entregado antes de vie 9 oct 2026",
    ]
    assert checkpoint.due_strategy == "Vence el vie 9 oct 2026, según las instrucciones"
    assert checkpoint.tasks[0].description == (
        "Las instrucciones dicen: “Oct 9: introduction due for peer review.”"
    )


def test_the_final_deadline_said_again_and_dates_without_a_hand_in_are_no_checkpoints() -> None:
    plan = _plan(
        SCHEDULE.replace("Oct 9: introduction due for peer review.\n", "").replace(
            "Oct 16: full rough draft due in class.\n", ""
        )
    )
    assert not any(m.anchored for m in plan.milestones)


def test_without_a_due_date_there_are_no_anchored_checkpoints() -> None:
    plan = _plan(SCHEDULE, due=None)
    assert not any(m.anchored for m in plan.milestones)
    assert all(m.target_date is None for m in plan.milestones)
