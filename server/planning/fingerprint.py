"""The fingerprint of a Canvas assignment, and what differs between two of them.

Taken in stage 1 of every planning job (from the assignment exactly as Canvas sent it,
``lib/api/v1/assignment.rb``) and stored with the plan's context; a resume takes it again
and compares (``server/planning/changes.py``). Hashes stand in for the long parts
(description, rubric), so the comparison can say *that* they changed, not how.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from models.canvas_changes import CanvasChange, CanvasFingerprint
from models.context import AssignmentFacts
from server.planning.canvas_facts import instructions_html
from server.text.dates import StudentClock


def _sha256(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def take_fingerprint(
    raw: dict[str, Any], facts: AssignmentFacts, files: dict[str, str], clock: StudentClock
) -> CanvasFingerprint:
    """``files``: the Canvas files the instructions attach or link to, id -> name (empty
    when Canvas and the link give none)."""
    return CanvasFingerprint(
        updated_at=facts.updated_at,
        title=facts.title,
        due_at=facts.due_at,
        unlock_at=facts.unlock_at,
        lock_at=facts.lock_at,
        points_possible=facts.points_possible,
        submission_types=sorted(facts.submission_types),
        description_sha256=_sha256(instructions_html(raw)),
        rubric_sha256=_sha256([raw.get("rubric") or [], raw.get("rubric_settings") or {}]),
        file_ids=sorted(files),
        file_names={file_id: name for file_id, name in sorted(files.items()) if name},
        time_zone=clock.name,
        lock_explanation=facts.lock.explanation if facts.lock else None,
    )


DateField = Literal["due_at", "unlock_at", "lock_at"]
_DATE_NAMES: dict[DateField, str] = {
    "due_at": "due date",
    "unlock_at": "date it opens",
    "lock_at": "date it closes",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _date_change(
    field: DateField, old: datetime | None, new: datetime | None, clock: StudentClock
) -> CanvasChange:
    name = _DATE_NAMES[field]
    if old is None:
        message = f"Canvas now has a {name}: {clock.moment(new)}." if new else ""
    elif new is None:
        message = f"The {name} ({clock.moment(old)}) was removed on Canvas."
    else:
        message = f"The {name} moved from {clock.moment(old)} to {clock.moment(new)}."
    return CanvasChange(field=field, before=_iso(old), after=_iso(new), message=message)


def differences(
    old: CanvasFingerprint, new: CanvasFingerprint, clock: StudentClock
) -> list[CanvasChange]:
    """What changed from ``old`` (the plan's) to ``new`` (Canvas now); dates in the
    messages are on the student's clock."""
    changes: list[CanvasChange] = []
    if old.title != new.title:
        changes.append(
            CanvasChange(
                field="title",
                before=old.title,
                after=new.title,
                message=f"The assignment was renamed from '{old.title}' to '{new.title}'.",
            )
        )
    for field in _DATE_NAMES:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            changes.append(_date_change(field, before, after, clock))
    if old.points_possible != new.points_possible:
        changes.append(
            CanvasChange(
                field="points_possible",
                before=_text(old.points_possible),
                after=_text(new.points_possible),
                message=f"Points possible changed from {_text(old.points_possible) or 'none'} "
                f"to {_text(new.points_possible) or 'none'}.",
            )
        )
    if old.submission_types != new.submission_types:
        changes.append(
            CanvasChange(
                field="submission_types",
                before=", ".join(old.submission_types),
                after=", ".join(new.submission_types),
                message="The ways to submit changed from "
                f"{', '.join(old.submission_types) or 'none'} to "
                f"{', '.join(new.submission_types) or 'none'}.",
            )
        )
    if old.description_sha256 != new.description_sha256:
        changes.append(
            CanvasChange(
                field="description",
                before=old.description_sha256,
                after=new.description_sha256,
                message="The assignment's instructions were edited.",
            )
        )
    if old.rubric_sha256 != new.rubric_sha256:
        changes.append(
            CanvasChange(
                field="rubric",
                before=old.rubric_sha256,
                after=new.rubric_sha256,
                message="The rubric changed.",
            )
        )
    for file_id in sorted(set(new.file_ids) - set(old.file_ids)):
        changes.append(
            CanvasChange(
                field="file_added",
                before=None,
                after=file_id,
                message=f"A file was added to the instructions: {_file(new, file_id)}.",
            )
        )
    for file_id in sorted(set(old.file_ids) - set(new.file_ids)):
        changes.append(
            CanvasChange(
                field="file_removed",
                before=file_id,
                after=None,
                message=f"A file was removed from the instructions: {_file(old, file_id)}.",
            )
        )
    if old.time_zone != new.time_zone:
        changes.append(
            CanvasChange(
                field="time_zone",
                before=old.time_zone,
                after=new.time_zone,
                message=f"Your time zone on Canvas changed from {old.time_zone} to "
                f"{new.time_zone}; the plan's dates are still in {old.time_zone}.",
            )
        )
    if old.lock_explanation != new.lock_explanation:
        changes.append(_lock_change(old.lock_explanation, new.lock_explanation))
    if not changes and old.updated_at != new.updated_at:
        edited = clock.moment(new.updated_at) if new.updated_at else "recently"
        changes.append(
            CanvasChange(
                field="edited",
                before=_iso(old.updated_at),
                after=_iso(new.updated_at),
                message=f"The assignment was edited on Canvas ({edited}), in parts this plan "
                "does not read.",
            )
        )
    return changes


def _file(fingerprint: CanvasFingerprint, file_id: str) -> str:
    """A file as a student recognises it: by its name, with Canvas's id (a plan made before
    names were kept has the id alone)."""
    name = fingerprint.file_names.get(file_id)
    return f'"{name}" (Canvas file {file_id})' if name else f"Canvas file {file_id}"


def _lock_change(old: str | None, new: str | None) -> CanvasChange:
    if new is None:
        message = "Canvas no longer locks the assignment."
    elif old is None:
        message = f"Canvas now locks the assignment: {new}"
    else:
        message = f"Canvas's lock on the assignment changed: {new}"
    return CanvasChange(field="lock", before=old, after=new, message=message)


def _text(value: float | None) -> str | None:
    return f"{value:g}" if value is not None else None


__all__ = ["differences", "take_fingerprint"]
