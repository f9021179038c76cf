"""The calendar feed as a calendar app reads it: a feed token, the feed fetched without an
Authorization header, parsed strictly against RFC 5545, and its events by UID."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar, Component

REQUIRED_CALENDAR = ("VERSION", "PRODID")
REQUIRED_EVENT = ("UID", "DTSTAMP", "DTSTART", "SUMMARY")
# RFC 5545 3.6.6: every VALARM has ACTION and TRIGGER; a DISPLAY alarm also DESCRIPTION;
# DURATION and REPEAT come together or not at all.
REQUIRED_ALARM = ("ACTION", "TRIGGER")
REQUIRED_BY_ACTION = {"DISPLAY": ("DESCRIPTION",), "AUDIO": (), "EMAIL": ("DESCRIPTION", "SUMMARY")}


def strict_parse(body: bytes) -> Calendar:
    """Parses the feed and fails on anything RFC 5545 forbids that icalendar tolerates:
    property errors, lines longer than 75 octets, bare LF line ends, missing properties."""
    lines = body.split(b"\r\n")
    assert lines[-1] == b"", "the feed must end with CRLF"
    for line in lines:
        assert b"\n" not in line and len(line) <= 75, line
    calendar = Calendar.from_ical(body)
    components: list[Component] = list(calendar.walk())
    for component in components:
        assert not component.errors, (component.name, component.errors)
    for name in REQUIRED_CALENDAR:
        assert name in calendar, name
    assert calendar["VERSION"] == "2.0"
    for event in calendar.walk("VEVENT"):
        for name in REQUIRED_EVENT:
            assert name in event, (name, event)
        for alarm in event.subcomponents:
            assert alarm.name == "VALARM", alarm.name
            for name in REQUIRED_ALARM:
                assert name in alarm, (name, alarm)
            action = str(alarm["ACTION"])
            assert action in REQUIRED_BY_ACTION, action
            for name in REQUIRED_BY_ACTION[action]:
                assert name in alarm and str(alarm[name]).strip(), (name, alarm)
            assert ("DURATION" in alarm) == ("REPEAT" in alarm), alarm
    return calendar


async def feed_token(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/me/calendar-token", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def fetch_feed(client: Any, url: str) -> Calendar:
    response = await client.get(url)  # no Authorization header: a calendar app's request
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return strict_parse(response.content)


def events_by_uid(calendar: Calendar) -> dict[str, Component]:
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert len(events) == len(calendar.walk("VEVENT")), "UIDs must be unique"
    return events
