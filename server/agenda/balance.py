"""Balancing open tasks of every assignment over the student's days: a pure function.

Each open task is work of some minutes with a window: from its release day (today, or
the day the assignment unlocks) to its deadline. Two deadlines per task:

- ``aim``: the day to finish by. The student's own date for the milestone when they
  moved it; else the assignment's finish-by day (the Canvas due day minus the plan's
  slack, see ``server/planning/milestone_dates.py``).
- ``deadline``: the latest acceptable day. The student's own date, else the due day.

Work is laid out by earliest-deadline-first (EDF), splitting a task over days when a
day's share runs out; EDF meets every deadline whenever any schedule can, so the search
below is exact. The schedule asks for the smallest even daily load, in steps of
``RATE_STEP_MINUTES`` and never above the budget, that

1. meets every ``aim``; failing that,
2. meets every ``deadline`` (eating into the slack); failing that,
3. the budget itself, and what still does not fit lands on its deadline day (today for
   overdue work), which is then *overloaded* by that much.

An even load spreads the work over the weeks instead of front-loading it, as the
per-assignment schedule did; one assignment alone gets the same spread as before.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

RATE_STEP_MINUTES = 15


@dataclass(frozen=True)
class Work:
    key: Hashable
    minutes: int
    release: date
    aim: date
    deadline: date
    # Ties between equal deadlines: earlier-due assignment, then plan order.
    order: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Piece:
    key: Hashable
    day: date
    minutes: int


@dataclass
class Balanced:
    daily_minutes: int
    budget_minutes: int
    pieces: list[Piece]
    load: dict[date, int] = field(default_factory=dict)

    def overloaded(self) -> dict[date, int]:
        """Day -> minutes over the budget."""
        return {
            day: minutes - self.budget_minutes
            for day, minutes in sorted(self.load.items())
            if minutes > self.budget_minutes
        }

    def last_day(self) -> dict[Hashable, date]:
        """Each piece of work's last day."""
        last: dict[Hashable, date] = {}
        for piece in self.pieces:
            last[piece.key] = max(piece.day, last.get(piece.key, piece.day))
        return last


Due = Callable[[Work], date]


def _edf(work: Sequence[Work], today: date, rate: int, due: Due) -> tuple[list[Piece], bool]:
    """Lay ``work`` out at ``rate`` minutes a day from ``today``; True when every piece of
    work finishes by ``due`` (clamped to today). What does not fit lands on its due day."""
    waiting = sorted(work, key=lambda item: max(item.release, today))
    pending: list[tuple[date, tuple[Any, ...], int, Work]] = []
    left = {index: item.minutes for index, item in enumerate(waiting)}
    pieces: list[Piece] = []
    met = True
    day, next_index = today, 0
    while next_index < len(waiting) or pending:
        while next_index < len(waiting) and max(waiting[next_index].release, today) <= day:
            item = waiting[next_index]
            heapq.heappush(pending, (max(due(item), today), item.order, next_index, item))
            next_index += 1
        if not pending:
            day = max(waiting[next_index].release, today)
            continue
        capacity = rate
        while pending and capacity > 0:
            _, _, index, item = pending[0]
            spent = min(left[index], capacity)
            pieces.append(Piece(item.key, day, spent))
            capacity -= spent
            left[index] -= spent
            if not left[index]:
                heapq.heappop(pending)
        while pending and pending[0][0] <= day:
            _, _, index, item = heapq.heappop(pending)
            pieces.append(Piece(item.key, day, left[index]))
            met = False
        day += timedelta(days=1)
    return pieces, met


def _smallest_rate(work: Sequence[Work], today: date, budget: int, due: Due) -> int | None:
    rates = [*range(RATE_STEP_MINUTES, budget, RATE_STEP_MINUTES), budget]
    # Feasibility only grows with the rate, so the first feasible one is found by bisection.
    first = bisect_left(rates, True, key=lambda rate: _edf(work, today, rate, due)[1])
    return rates[first] if first < len(rates) else None


def _load(pieces: list[Piece]) -> dict[date, int]:
    load: dict[date, int] = defaultdict(int)
    for piece in pieces:
        load[piece.day] += piece.minutes
    return dict(load)


def balance(work: Sequence[Work], today: date, budget_minutes: int) -> Balanced:
    """The schedule of the module's rule, for a budget of ``budget_minutes`` a day."""
    budget = max(budget_minutes, 1)
    for due in (lambda item: item.aim, lambda item: item.deadline):
        rate = _smallest_rate(work, today, budget, due)
        if rate is not None:
            pieces, _ = _edf(work, today, rate, due)
            return Balanced(rate, budget, pieces, _load(pieces))
    pieces, _ = _edf(work, today, budget, lambda item: item.deadline)
    return Balanced(budget, budget, pieces, _load(pieces))
