"""The student's own agenda and reminder preferences, over the operator's defaults.

``hours_per_day`` is the daily work budget of the agenda (default ``AGENDA_HOURS_PER_DAY``);
``reminder`` is when the calendar feed's alarms go off: ``"HH:MM"`` local time the day
before a milestone, or ``"off"`` (default ``CALENDAR_REMINDER``). ``null`` in a PUT
returns a preference to the default.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.db import User
from server.kernel.errors import ValidationFailed
from server.kernel.settings import REMINDER_PATTERN, Settings

REMINDER_OFF = "off"

HoursPerDay = Annotated[float, Field(gt=0, le=24, description="hours of work a day")]
Reminder = Annotated[
    str,
    Field(
        pattern=REMINDER_PATTERN,
        description='"HH:MM" (local time, the day before a milestone) or "off"',
    ),
]


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours_per_day: HoursPerDay | None = Field(default=None, description="null: the default")
    reminder: Reminder | None = Field(default=None, description="null: the default")


def preferences_update(hours_per_day: float | None, reminder: str | None) -> PreferencesUpdate:
    """The update checked by the model's rules, for transports that do not check it
    themselves (GraphQL); a value out of range is a 422 naming the field."""
    try:
        return PreferencesUpdate(hours_per_day=hours_per_day, reminder=reminder)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(map(str, first["loc"]))
        raise ValidationFailed(f"{field}: {first['msg']}", details={"field": field}) from None


class Preferences(BaseModel):
    hours_per_day: float
    hours_per_day_is_default: bool
    reminder: str
    reminder_is_default: bool


def preferences_of(settings: Settings, user: User) -> Preferences:
    return Preferences(
        hours_per_day=user.agenda_hours_per_day or settings.agenda_hours_per_day,
        hours_per_day_is_default=user.agenda_hours_per_day is None,
        reminder=user.calendar_reminder or settings.calendar_reminder,
        reminder_is_default=user.calendar_reminder is None,
    )


async def set_preferences(settings: Settings, user: User, update: PreferencesUpdate) -> Preferences:
    """Replace the user's preferences (a missing or null one goes back to the default)."""
    user.agenda_hours_per_day = update.hours_per_day
    user.calendar_reminder = update.reminder
    await user.save(update_fields=["agenda_hours_per_day", "calendar_reminder", "updated_at"])
    return preferences_of(settings, user)


def budget_minutes(preferences: Preferences) -> int:
    return max(1, round(preferences.hours_per_day * 60))


def reminder_before_day(preferences: Preferences) -> timedelta | None:
    """How long before the start of an all-day event the alarm goes off (a local time on
    the day before), or None when reminders are off."""
    if preferences.reminder == REMINDER_OFF:
        return None
    hours, minutes = map(int, preferences.reminder.split(":"))
    return timedelta(days=1) - timedelta(hours=hours, minutes=minutes)
