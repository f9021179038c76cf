"""Canvas's lock rules, for the simulator: what a student is told about a locked
assignment, discussion or file, computed from the fixture's dates as Canvas computes it.

Followed (``instructure/canvas-lms``):
- ``app/models/assignment.rb`` ``low_level_locked_for?``: locked until ``unlock_at``;
  after ``lock_at`` locked with ``can_view: true``; else locked by a module whose
  prerequisites are not met (``context_module``). ``filter_attributes_for_user`` and
  ``include_description?`` remove the description unless ``can_view`` and no module lock.
- ``lib/api/v1/locked.rb`` ``locked_json``: ``locked_for_user``, ``lock_info``,
  ``lock_explanation``.
- ``lib/canvas/lock_explanation.rb``: the explanation's wording (HTML).
- ``lib/api/v1/attachment.rb``: a file locked for the user has ``url: ""``.
- ``lib/api/v1/discussion_topics.rb``: a topic the student cannot view carries the lock
  explanation as its ``message``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

TYPE_NAMES = {"assignment": "assignment", "topic": "topic", "file": "file", "page": "page"}


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def datetime_string(when: datetime, zone: ZoneInfo) -> str:
    """Canvas's ``datetime_string``: "Dec 12 at 11:59pm" in the user's zone."""
    local = when.astimezone(zone)
    hour = local.strftime("%I").lstrip("0") or "12"
    minutes = "" if local.minute == 0 else local.strftime(":%M")
    return f"{local.strftime('%b')} {local.day} at {hour}{minutes}{local.strftime('%p').lower()}"


def lock_explanation(
    info: dict[str, Any], kind: str, zone: ZoneInfo, modules_url: str | None = None
) -> str:
    name = TYPE_NAMES.get(kind, "content")
    if info.get("lock_at"):
        return f"This {name} was locked {datetime_string(info['lock_at'], zone)}."
    if info.get("unlock_at"):
        return f"This {name} is locked until {datetime_string(info['unlock_at'], zone)}."
    module = info.get("context_module")
    if module:
        text = (
            f"This {name} is part of the module <b>{module['name']}</b> and hasn't been "
            "unlocked yet."
        )
        if modules_url:
            text += (
                f"<br/><a href='{modules_url}#module_{module['id']}'>Visit the course modules "
                "page for information on how to unlock this content.</a>"
            )
        return text
    return f"This {name} is currently locked."


def _serialized(info: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else value
        for key, value in info.items()
    }


def lock_info(
    item: dict[str, Any], asset: str, now: datetime, module: dict[str, Any] | None
) -> dict[str, Any] | None:
    """``lock_info`` of an assignment, topic or file, or None when it is not locked."""
    unlock_at, lock_at = _parse(item.get("unlock_at")), _parse(item.get("lock_at"))
    if unlock_at and unlock_at > now:
        return {"asset_string": asset, "unlock_at": unlock_at}
    if lock_at and lock_at < now:
        return {"asset_string": asset, "lock_at": lock_at, "can_view": True}
    if item.get("locked") is True:  # a file locked by hand
        return {"asset_string": asset, "manually_locked": True}
    if module is not None:
        return {"asset_string": asset, "context_module": module}
    return None


def apply_lock(
    rendered: dict[str, Any],
    info: dict[str, Any] | None,
    kind: str,
    zone: ZoneInfo,
    modules_url: str | None,
) -> None:
    """Canvas's ``locked_json`` on a serialized object, in place."""
    rendered["locked_for_user"] = info is not None
    if info is None:
        for key in ("lock_info", "lock_explanation"):
            rendered.pop(key, None)
        return
    rendered["lock_info"] = _serialized(info)
    rendered["lock_explanation"] = lock_explanation(info, kind, zone, modules_url)


def withholds_content(info: dict[str, Any] | None) -> bool:
    """``include_description?`` is false: locked, and not viewable or module-locked."""
    return info is not None and (not info.get("can_view") or "context_module" in info)


def locking_module(
    modules: list[dict[str, Any]], course_id: int, item_type: str, item_id: int
) -> dict[str, Any] | None:
    """The student's locked module (``state: "locked"``) that holds this item, if any."""
    for module in modules:
        if module.get("course_id") != course_id or module.get("state") != "locked":
            continue
        for entry in module.get("items", []):
            if entry.get("type") == item_type and entry.get("content_id") == item_id:
                return {"id": module["id"], "name": module["name"], "context_id": course_id}
    return None


__all__ = [
    "apply_lock",
    "datetime_string",
    "lock_explanation",
    "lock_info",
    "locking_module",
    "withholds_content",
]
