"""Dates as the student reads them: in the student's own time zone, spelled out.

Canvas sends every moment in UTC; a student reads them on their own clock. The zone is
chosen once per plan from what Canvas says (decisions.md §6, README "Time zones"):

1. the Canvas user's profile ``time_zone`` (``GET /api/v1/users/self/profile``; Canvas
   fills it from the user's setting, else the account's default: ``user_profile.rb``);
2. else the course's ``time_zone`` (``course_json.rb``);
3. else UTC, and every moment names it.

Both fields are IANA names (Canvas serializes ``zone.tzinfo.name``); a name that is not a
known IANA zone is passed over and said so. Conversions go through ``zoneinfo``, so a
daylight-saving change between today and the due date is applied to each moment.

Every text, scheduler, checker and calendar feed formats dates through this module, so a
plan never shows one date in two zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.context import AssignmentFacts
from models.plan import PlanTimeZone, ZoneSource

FALLBACK_ZONE = "UTC"

# Spelled out here rather than with strftime, whose names follow the process locale.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SOURCE_WORDS: dict[ZoneSource, str] = {
    "canvas_profile": "the time zone of your Canvas profile",
    "course": "the course's time zone in Canvas",
    "utc_fallback": "because Canvas gave no usable time zone",
}
_SOURCE_LABELS: dict[ZoneSource, str] = {
    "canvas_profile": "your Canvas profile's time zone",
    "course": "the course's time zone",
    "utc_fallback": "UTC",
}


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be UTC (as Canvas
    sends), never the server's local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None when there is no such zone."""
    if not name or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a path-like or malformed key
        return None


def format_day(day: date) -> str:
    """``Thu 10 Dec 2026``."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def format_time(moment: datetime) -> str:
    """``11:59 pm``, ``9:05 am``, ``12:00 pm`` (noon): a 12-hour clock, as Canvas shows."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"


@dataclass(frozen=True)
class StudentClock:
    """The zone a student's dates are shown in, and where it came from."""

    zone: ZoneInfo
    source: ZoneSource
    # Names Canvas sent that are not IANA zones, with where they came from, e.g.
    # ("canvas_profile", "Central Time (US & Canada)"): passed over, and said so.
    rejected: tuple[tuple[ZoneSource, str], ...] = ()

    @property
    def name(self) -> str:
        return self.zone.key

    def local(self, moment: datetime) -> datetime:
        """``moment`` on the student's clock (with that day's UTC offset)."""
        return as_utc(moment).astimezone(self.zone)

    def day_of(self, moment: datetime) -> date:
        """The student's calendar day at ``moment``."""
        return self.local(moment).date()

    def day(self, day: date) -> str:
        return format_day(day)

    def moment(self, moment: datetime) -> str:
        """``Thu 10 Dec 2026, 11:59 pm (America/Chicago)``."""
        local = self.local(moment)
        return f"{format_day(local.date())}, {format_time(local)} ({self.name})"

    def rejections(self) -> list[str]:
        """A sentence per zone name Canvas sent that could not be used."""
        return [
            f"Canvas gave '{name}' as {_SOURCE_LABELS[source]}, which is not an IANA time "
            "zone name; it was not used."
            for source, name in self.rejected
        ]

    def explanation(self) -> str:
        """Which zone the dates are in, why that one, and what was passed over."""
        return " ".join(
            [f"Dates are shown in {self.name}, {_SOURCE_WORDS[self.source]}.", *self.rejections()]
        )

    def plan_time_zone(self) -> PlanTimeZone:
        return PlanTimeZone(name=self.name, source=self.source, note=self.explanation())


def clock_for(facts: AssignmentFacts) -> StudentClock:
    """The student's clock for this assignment: profile zone, else course zone, else UTC."""
    rejected: list[tuple[ZoneSource, str]] = []
    candidates: tuple[tuple[ZoneSource, str | None], ...] = (
        ("canvas_profile", facts.user_time_zone),
        ("course", facts.time_zone),
    )
    for source, name in candidates:
        zone = zone_named(name)
        if zone is not None:
            return StudentClock(zone, source, tuple(rejected))
        if name and name.strip():
            rejected.append((source, name))
    return StudentClock(ZoneInfo(FALLBACK_ZONE), "utc_fallback", tuple(rejected))


__all__ = [
    "FALLBACK_ZONE",
    "MONTH_NAMES",
    "StudentClock",
    "as_utc",
    "clock_for",
    "format_day",
    "format_time",
    "zone_named",
]
