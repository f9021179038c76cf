"""Which rubric rating a score falls in, as Canvas shows it
(``ui/shared/rubrics/react/Ratings.jsx`` in instructure/canvas-lms): a rating's own points
always, and on a ``criterion_use_range`` criterion every score down to the next rating's
points (the last rating down to 0)."""

from __future__ import annotations

import pytest

from models.context import RubricRating
from models.feedback_request import CriterionSpec, rating_at

RATINGS = [
    RubricRating(description="Exemplary", points=30),
    RubricRating(description="Proficient", points=22),
    RubricRating(description="Beginning", points=10),
]


def spec(*, use_range: bool, ratings: list[RubricRating] = RATINGS) -> CriterionSpec:
    return CriterionSpec(
        id="c1",
        kind="rubric_criterion",
        criterion="Synthesis",
        points_possible=30,
        ratings=ratings,
        use_range=use_range,
    )


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (30, "Exemplary"),
        (24, "Exemplary"),
        (22, "Proficient"),
        (10.5, "Proficient"),
        (10, "Beginning"),
        (3, "Beginning"),
        (0, "Beginning"),
        (31, None),
    ],
)
def test_a_range_criterion_rates_every_score_in_its_range(points: float, expected: str | None):
    found = rating_at(spec(use_range=True), points)
    assert (found.description if found else None) == expected


@pytest.mark.parametrize(
    ("points", "expected"),
    [(30, "Exemplary"), (24, None), (22, "Proficient"), (10, "Beginning"), (0, None)],
)
def test_without_ranges_only_a_ratings_own_points_are_that_rating(
    points: float, expected: str | None
):
    found = rating_at(spec(use_range=False), points)
    assert (found.description if found else None) == expected


def test_hidden_points_rate_nothing():
    hidden = [RubricRating(description=r.description, points=None) for r in RATINGS]
    assert rating_at(spec(use_range=True, ratings=hidden), 22) is None
