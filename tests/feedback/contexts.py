"""Assignment texts and a one-document source context, for the tests of the feedback
engine's parts without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from models.context import (
    AssignmentFacts,
    RubricCriterion,
    RubricRating,
    SourceContext,
    SourceDocument,
)

READING_RESPONSE = (
    "Write a 120-word response to this week's reading. Your response must quote the "
    "chapter at least once and should end with a question for class discussion. "
    "Responses are due before class; late responses lose one point per day."
)
PITCH = (
    "Prepare a five-minute pitch for your research project. Your pitch must state your "
    "research question and name at least two sources."
)
PITCH_RUBRIC = [
    RubricCriterion(
        id="q",
        description="Research Question",
        long_description="A focused, researchable question with a clear reason it matters.",
        points=10,
        ratings=[
            RubricRating(description="Exemplary", points=10),
            RubricRating(description="Proficient", points=8),
            RubricRating(description="Developing", points=6),
            RubricRating(description="Beginning", points=3),
        ],
    ),
    RubricCriterion(
        id="talk",
        description="Oral delivery",
        long_description="Eye contact, pace and volume during the live presentation.",
        points=10,
    ),
]


def context(description: str, rubric: list[RubricCriterion] | None = None) -> SourceContext:
    return SourceContext(
        assignment=AssignmentFacts(course_id="1", assignment_id="7", title="Task"),
        rubric=rubric or [],
        documents=[
            SourceDocument(
                source_id="description",
                name="Assignment description",
                content_type="text/html",
                byte_size=len(description),
                sha256="0" * 64,
                text=description,
            )
        ],
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
