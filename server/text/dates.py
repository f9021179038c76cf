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
plan never shows one date in two zones. Day and month names are data, one file per
language in ``date_words/`` (a plan's dates are written in the plan's language).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from models.context import AssignmentFacts
from models.plan import PlanTimeZone, ZoneSource
from server.text.data_files import languages_in, read_data_file
from server.text.language import DEFAULT_LANGUAGE

FALLBACK_ZONE = "UTC"


class DateWordsError(RuntimeError):
    """A shipped ``date_words/<language>.yaml`` is unreadable or incomplete."""


class DateWords(BaseModel):
    """How one language spells a date out. Names come from data rather than strftime,
    whose names follow the process locale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weekdays: tuple[str, ...] = Field(min_length=7, max_length=7)
    months: tuple[str, ...] = Field(min_length=12, max_length=12)
    twelve_hour: bool  # "11:59 pm" rather than "23:59"
    am: str
    pm: str
    # Which zone a plan's dates are in and why (``zone_shown`` with ``zone_reasons``), and
    # a zone name Canvas sent that is not one (``zone_rejected`` with ``zone_labels``).
    zone_shown: str
    zone_reasons: dict[ZoneSource, str]
    zone_rejected: str
    zone_labels: dict[ZoneSource, str]

    def day(self, day: date) -> str:
        """``Thu 10 Dec 2026``, ``jue 10 dic 2026``."""
        return f"{self.weekdays[day.weekday()]} {day.day} {self.months[day.month - 1]} {day.year}"

    def time(self, moment: datetime) -> str:
        """``11:59 pm``, ``12:00 pm`` (noon) on a 12-hour clock; else ``23:59``."""
        if not self.twelve_hour:
            return f"{moment.hour:02d}:{moment.minute:02d}"
        hour = moment.hour % 12 or 12
        return f"{hour}:{moment.minute:02d} {self.am if moment.hour < 12 else self.pm}"


def _date_words_folder() -> resources.abc.Traversable:
    return resources.files("server.text") / "date_words"


@cache
def date_word_languages() -> frozenset[str]:
    """The languages dates can be spelled out in."""
    return languages_in(_date_words_folder())


@cache
def date_words(language: str | None = DEFAULT_LANGUAGE) -> DateWords:
    """The date words of ``language``, read and checked once; English when there is no
    file for it."""
    code = language if language in date_word_languages() else DEFAULT_LANGUAGE
    path = _date_words_folder() / f"{code}.yaml"
    return read_data_file(path, TypeAdapter(DateWords), DateWordsError)


# English month names: the offline engine also reads them in English sources' dates.
MONTH_NAMES = date_words().months


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
    return date_words().day(day)


def format_time(moment: datetime) -> str:
    """``11:59 pm``, ``9:05 am``, ``12:00 pm`` (noon): a 12-hour clock, as Canvas shows."""
    return date_words().time(moment)


@dataclass(frozen=True)
class StudentClock:
    """The zone a student's dates are shown in, and where it came from."""

    zone: ZoneInfo
    source: ZoneSource
    # Names Canvas sent that are not IANA zones, with where they came from, e.g.
    # ("canvas_profile", "Central Time (US & Canada)"): passed over, and said so.
    rejected: tuple[tuple[ZoneSource, str], ...] = ()
    # The language day and month names are written in (the plan's).
    language: str = DEFAULT_LANGUAGE

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
        return date_words(self.language).day(day)

    def moment(self, moment: datetime) -> str:
        """``Thu 10 Dec 2026, 11:59 pm (America/Chicago)``, in Spanish
        ``jue 10 dic 2026, 23:59 (America/Chicago)``."""
        local, words = self.local(moment), date_words(self.language)
        return f"{words.day(local.date())}, {words.time(local)} ({self.name})"

    def rejections(self) -> list[str]:
        """A sentence per zone name Canvas sent that could not be used."""
        words = date_words(self.language)
        return [
            words.zone_rejected.format(name=name, label=words.zone_labels[source])
            for source, name in self.rejected
        ]

    def explanation(self) -> str:
        """Which zone the dates are in, why that one, and what was passed over."""
        words = date_words(self.language)
        shown = words.zone_shown.format(zone=self.name, reason=words.zone_reasons[self.source])
        return " ".join([shown, *self.rejections()])

    def plan_time_zone(self) -> PlanTimeZone:
        return PlanTimeZone(name=self.name, source=self.source, note=self.explanation())


def clock_for(facts: AssignmentFacts, language: str = DEFAULT_LANGUAGE) -> StudentClock:
    """The student's clock for this assignment: profile zone, else course zone, else UTC;
    its dates spelled out in ``language``."""
    rejected: list[tuple[ZoneSource, str]] = []
    candidates: tuple[tuple[ZoneSource, str | None], ...] = (
        ("canvas_profile", facts.user_time_zone),
        ("course", facts.time_zone),
    )
    for source, name in candidates:
        zone = zone_named(name)
        if zone is not None:
            return StudentClock(zone, source, tuple(rejected), language)
        if name and name.strip():
            rejected.append((source, name))
    return StudentClock(ZoneInfo(FALLBACK_ZONE), "utc_fallback", tuple(rejected), language)


__all__ = [
    "FALLBACK_ZONE",
    "MONTH_NAMES",
    "DateWords",
    "DateWordsError",
    "StudentClock",
    "as_utc",
    "clock_for",
    "date_word_languages",
    "date_words",
    "format_day",
    "format_time",
    "zone_named",
]
