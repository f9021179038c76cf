"""The balancing rule and the effort parser, as pure functions (no database, no HTTP)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.agenda.balance import RATE_STEP_MINUTES, Work, balance
from server.agenda.effort import MIN_TASK_MINUTES, minutes_from_text, task_effort

TODAY = date(2026, 12, 7)


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def work(key: str, minutes: int, aim: int, deadline: int | None = None, release: int = 0) -> Work:
    return Work(
        key=key,
        minutes=minutes,
        release=day(release),
        aim=day(aim),
        deadline=day(aim if deadline is None else deadline),
        order=(key,),
    )


def test_an_even_load_that_meets_every_aim_and_never_exceeds_the_budget():
    tasks = [work(f"a{i}", 60, aim=9) for i in range(5)] + [work("b", 90, aim=2)]
    result = balance(tasks, TODAY, budget_minutes=120)
    assert result.overloaded() == {}
    assert result.daily_minutes % RATE_STEP_MINUTES == 0 and result.daily_minutes <= 120
    assert max(result.load.values()) <= result.daily_minutes
    last = result.last_day()
    assert all(last[item.key] <= item.aim for item in tasks)
    # Earlier-due work first: "b" (aim in 2 days) is finished before "a" work is started.
    first_a = min(piece.day for piece in result.pieces if piece.key != "b")
    assert last["b"] <= first_a
    assert sum(piece.minutes for piece in result.pieces) == 5 * 60 + 90
    # The smallest even load: one step less would miss an aim.
    assert result.daily_minutes > RATE_STEP_MINUTES


def test_slack_is_used_before_a_day_is_overloaded():
    # 4 h due in 2 days (3 days counting today); aiming for day 1 would need 2 h/day > 1.5 h.
    tasks = [work("a", 240, aim=1, deadline=2)]
    result = balance(tasks, TODAY, budget_minutes=90)
    assert result.overloaded() == {}
    assert result.last_day()["a"] == day(2)


def test_what_cannot_fit_overloads_its_deadline_day_by_exactly_the_excess():
    tasks = [work("a", 300, aim=1), work("b", 60, aim=5)]
    result = balance(tasks, TODAY, budget_minutes=120)
    # 2 days x 120 min before a's deadline: 60 min over, on the deadline day.
    assert result.overloaded() == {day(1): 60}
    assert result.last_day()["b"] <= day(5)


def test_overdue_work_lands_today():
    result = balance([work("late", 200, aim=-3)], TODAY, budget_minutes=120)
    assert result.overloaded() == {TODAY: 80}
    assert {piece.day for piece in result.pieces} == {TODAY}


def test_work_waits_for_its_release_day():
    result = balance([work("locked", 60, aim=6, release=4)], TODAY, budget_minutes=120)
    assert min(piece.day for piece in result.pieces) >= day(4)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("~2 h", 120),
        ("~1 h 30 min", 90),
        ("45 min", 45),
        ("1-2 hours", 90),
        ("2 to 3 hrs", 150),
        ("1,5 h", 90),
        ("half an hour", 30),
        ("about 20 minutes", 20),
        ("a while", None),
        ("", None),
        ("3 pages", None),
    ],
)
def test_effort_text(text, minutes):
    assert minutes_from_text(text) == minutes


def test_effort_prefers_the_number_then_the_text_then_the_default():
    assert task_effort({"estimated_minutes": 40, "estimated_effort": "~2 h"}, 60).minutes == 40
    assert task_effort({"estimated_minutes": 0}, 60).minutes == MIN_TASK_MINUTES
    text = task_effort({"estimated_minutes": None, "estimated_effort": "~2 h"}, 60)
    assert (text.minutes, text.source) == (120, "plan_text")
    missing = task_effort({"estimated_effort": "some time"}, 75)
    assert (missing.minutes, missing.source) == (75, "default")
