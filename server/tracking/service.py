"""The student's side of a plan: progress on tasks and milestones, plan history and diffs.

Progress is stored per plan version (``progress_marks``): a task's ``done`` flag, a
milestone's own ``status`` and ``target_date`` when the student set them. A milestone's
status is otherwise derived from its tasks. Writes are compare-and-set on the plan
version: the client sends the version it saw, and a plan replaced meanwhile answers 409.

When a reprocess stores a new version, :func:`carry_progress` moves the marks over. The
rule: a task's mark follows the task with the same id, else a task of the same milestone
whose title is near-identical (``TITLE_MATCH_RATIO`` after case and spacing are ignored);
a milestone's marks follow the milestone with the same id, else the one with a
near-identical title. What finds no match is listed on the new version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from models.db import AssignmentWorkspace, FeedbackRecord, PlanVersion, ProgressMark, User
from models.plan import Plan
from server.events.service import EventDraft, events_after_commit, publish
from server.events.types import EventType
from server.kernel.errors import BadRequest, Conflict, NotFound, ValidationFailed
from server.kernel.representations import Representation, RepresentationCache
from server.runtime import Runtime
from server.workspaces.service import find_workspace, own_workspace

TITLE_MATCH_RATIO = 0.9
# Rendered plan views kept per process (a plan view is some 10 KiB of JSON).
PLAN_CACHE_SIZE = 1024
TASK = "task"
MILESTONE = "milestone"


class MilestoneStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class TaskProgress(BaseModel):
    task_id: str
    done: bool


class MilestoneProgress(BaseModel):
    milestone_id: str
    status: MilestoneStatus
    status_set_by_student: bool
    progress: int = Field(ge=0, le=100, description="share of the milestone's tasks done")
    target_date: date | None
    target_date_set_by_student: bool
    feedback_readiness: str | None = Field(
        description="overall readiness of the newest feedback on this milestone and version"
    )
    tasks: list[TaskProgress]


class PlanProgress(BaseModel):
    plan_version: int
    progress: int = Field(ge=0, le=100, description="share of all tasks done")
    milestones: list[MilestoneProgress]


class PlanItem(BaseModel):
    kind: Literal["milestone", "task"]
    id: str
    title: str
    milestone_id: str | None = Field(default=None, description="a task's milestone")


class ChangedItem(PlanItem):
    fields: list[str]


class PlanChanges(BaseModel):
    from_version: int
    added: list[PlanItem]
    removed: list[PlanItem]
    changed: list[ChangedItem]


class NotCarried(BaseModel):
    """Progress of the previous version that found no matching task or milestone."""

    kind: Literal["milestone", "task"]
    id: str
    title: str
    lost: list[str] = Field(description='what was not carried: "done", "status", "target_date"')


class PlanView(Plan):
    """The Plan JSON, plus its version, the student's progress, and what changed."""

    plan_version: int
    progress: PlanProgress
    changes: PlanChanges | None = Field(
        description="what changed since the previous version (null for the first)"
    )
    progress_not_carried: list[NotCarried]


class PlanVersionSummary(BaseModel):
    version: int
    created_at: datetime
    source_hash: str = Field(description="SHA-256 of the Canvas context the plan was made from")
    engine: str
    model: str | None
    current: bool


# --- reading -------------------------------------------------------------------------------


def _marks_by_key(marks: Iterable[ProgressMark]) -> dict[tuple[str, str], ProgressMark]:
    return {(mark.kind, mark.item_id): mark for mark in marks}


async def _readiness(workspace_id: int, version: int) -> dict[str, str | None]:
    newest: dict[str, str | None] = {}
    records = FeedbackRecord.filter(
        workspace_id=workspace_id, target_type=MILESTONE, plan_version=version
    ).order_by("-created_at", "-id")
    for target_id, blob in await records.values_list("target_id", "feedback_blob"):
        newest.setdefault(str(target_id), (blob.get("scorecard") or {}).get("overall_readiness"))
    return newest


def _milestone_progress(
    milestone: dict[str, Any],
    marks: dict[tuple[str, str], ProgressMark],
    readiness: dict[str, str | None],
) -> MilestoneProgress:
    tasks = [
        TaskProgress(
            task_id=task["id"],
            done=bool((mark := marks.get((TASK, task["id"]))) and mark.done),
        )
        for task in milestone["tasks"]
    ]
    done = sum(task.done for task in tasks)
    own = marks.get((MILESTONE, milestone["id"]))
    if own is not None and own.status is not None:
        status = MilestoneStatus(own.status)
    elif tasks and done == len(tasks):
        status = MilestoneStatus.DONE
    else:
        status = MilestoneStatus.IN_PROGRESS if done else MilestoneStatus.NOT_STARTED
    own_date = own.target_date if own is not None else None
    scheduled = milestone.get("target_date")
    return MilestoneProgress(
        milestone_id=milestone["id"],
        status=status,
        status_set_by_student=own is not None and own.status is not None,
        progress=round(100 * done / len(tasks)) if tasks else 100 * (status == "done"),
        target_date=own_date or (date.fromisoformat(scheduled) if scheduled else None),
        target_date_set_by_student=own_date is not None,
        feedback_readiness=readiness.get(milestone["id"]),
        tasks=tasks,
    )


async def plan_progress(workspace_id: int, version: int, plan: dict[str, Any]) -> PlanProgress:
    marks = _marks_by_key(
        await ProgressMark.filter(workspace_id=workspace_id, plan_version=version)
    )
    readiness = await _readiness(workspace_id, version)
    milestones = [_milestone_progress(m, marks, readiness) for m in plan["milestones"]]
    tasks = [task for milestone in milestones for task in milestone.tasks]
    overall = round(100 * sum(t.done for t in tasks) / len(tasks)) if tasks else 0
    return PlanProgress(plan_version=version, progress=overall, milestones=milestones)


def _not_ready(status: str) -> BadRequest:
    return BadRequest(f"No plan yet: the workspace is {status}", code="plan_not_ready")


async def _version_row(workspace_id: int, version: int) -> PlanVersion:
    row = await PlanVersion.get_or_none(workspace_id=workspace_id, version=version)
    if row is None:
        raise NotFound(f"No plan version {version}", code="plan_version_not_found")
    return row


async def _plan_view(workspace_id: int, version: int) -> PlanView:
    row = await _version_row(workspace_id, version)
    previous = await PlanVersion.get_or_none(workspace_id=workspace_id, version=version - 1)
    return PlanView.model_validate(
        {
            **row.plan_blob,
            "plan_version": row.version,
            "progress": await plan_progress(workspace_id, row.version, row.plan_blob),
            "changes": diff_plans(previous.version, previous.plan_blob, row.plan_blob)
            if previous is not None
            else None,
            "progress_not_carried": row.progress_not_carried,
        }
    )


async def get_plan_view(
    user: User, course_id: str, assignment_id: str, version: int | None = None
) -> PlanView:
    """One version of the plan (the current one by default) with progress and changes."""
    workspace = await find_workspace(user, course_id, assignment_id)
    if workspace.plan_version == 0:
        raise _not_ready(workspace.status)
    return await _plan_view(workspace.id, version or workspace.plan_version)


_RENDERED_PLANS = RepresentationCache(PLAN_CACHE_SIZE)
_PLAN_KEY_FIELDS = ("id", "status", "plan_version", "last_event_id", "created_at")


async def read_plan(
    user_id: int, course_id: str, assignment_id: str, version: int | None = None
) -> Representation:
    """:func:`get_plan_view` as JSON with its entity tag, rendered once per version of the
    view. Everything a plan view shows changes only with an event on the workspace's stream
    (a new version, a progress mark, a feedback), written in the same transaction, so the
    workspace's ``last_event_id`` names the view's version; ``created_at`` tells apart a
    workspace deleted and made again under a reused id."""
    workspace = await own_workspace(user_id, course_id, assignment_id, _PLAN_KEY_FIELDS)
    if workspace["plan_version"] == 0:
        raise _not_ready(workspace["status"])
    wanted = version or workspace["plan_version"]

    async def render() -> bytes:
        return (await _plan_view(workspace["id"], wanted)).model_dump_json().encode()

    key = (workspace["id"], workspace["created_at"], wanted, workspace["last_event_id"])
    return await _RENDERED_PLANS.get(key, workspace["id"], render)


def source_hash(context_blob: dict[str, Any]) -> str:
    # fetched_at changes on every fetch; the hash is about what the plan was made from.
    content = {key: value for key, value in context_blob.items() if key != "fetched_at"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


async def list_plan_versions(
    user: User, course_id: str, assignment_id: str
) -> list[PlanVersionSummary]:
    """Every stored plan version of the workspace, newest first."""
    workspace = await find_workspace(user, course_id, assignment_id)
    rows = await PlanVersion.filter(workspace_id=workspace.id).order_by("-version")
    return [
        PlanVersionSummary(
            version=row.version,
            created_at=row.created_at,
            source_hash=source_hash(row.context_blob),
            engine=row.plan_blob["generated_by"]["engine"],
            model=row.plan_blob["generated_by"].get("model"),
            current=row.version == workspace.plan_version,
        )
        for row in rows
    ]


# --- diff and carry-over -------------------------------------------------------------------

_MILESTONE_FIELDS = (
    "title",
    "purpose",
    "acceptance_criteria",
    "due_strategy",
    "order",
    "target_date",
)
_TASK_FIELDS = (
    "title",
    "description",
    "deliverable",
    "done_definition",
    "estimated_effort",
    "depends_on",
    "milestone_id",
)


def _items(plan: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for milestone in plan["milestones"]:
        items[(MILESTONE, milestone["id"])] = milestone
        for task in milestone["tasks"]:
            items[(TASK, task["id"])] = {**task, "milestone_id": milestone["id"]}
    return items


def _item(key: tuple[str, str], item: dict[str, Any]) -> PlanItem:
    kind = MILESTONE if key[0] == MILESTONE else TASK
    return PlanItem(
        kind=kind, id=key[1], title=item["title"], milestone_id=item.get("milestone_id")
    )


def diff_plans(from_version: int, old: dict[str, Any], new: dict[str, Any]) -> PlanChanges:
    """Milestones and tasks added, removed and changed (matched by id) from old to new."""
    before, after = _items(old), _items(new)
    changed = []
    for key in after.keys() & before.keys():
        names = _MILESTONE_FIELDS if key[0] == MILESTONE else _TASK_FIELDS
        fields = [name for name in names if before[key].get(name) != after[key].get(name)]
        if fields:
            changed.append(ChangedItem(**_item(key, after[key]).model_dump(), fields=fields))
    return PlanChanges(
        from_version=from_version,
        added=[_item(key, after[key]) for key in after if key not in before],
        removed=[_item(key, before[key]) for key in before if key not in after],
        changed=sorted(changed, key=lambda item: (item.kind, item.id)),
    )


def _normalized(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip().casefold()


def _near_identical(a: str, b: str) -> bool:
    return SequenceMatcher(None, _normalized(a), _normalized(b)).ratio() >= TITLE_MATCH_RATIO


def _match(
    key: tuple[str, str],
    old_items: dict[tuple[str, str], dict[str, Any]],
    new_items: dict[tuple[str, str], dict[str, Any]],
    taken: set[tuple[str, str]],
) -> tuple[str, str] | None:
    if key in new_items:
        return key
    old = old_items[key]
    for candidate, item in new_items.items():
        # A candidate whose id the old plan had is that old item's, not a renamed one.
        if candidate[0] != key[0] or candidate in taken or candidate in old_items:
            continue
        same_place = key[0] == MILESTONE or item.get("milestone_id") == old.get("milestone_id")
        if same_place and _near_identical(old["title"], item["title"]):
            return candidate
    return None


def _lost(mark: ProgressMark) -> list[str]:
    lost = ["done"] if mark.done else []
    lost += ["status"] if mark.status is not None else []
    return lost + (["target_date"] if mark.target_date is not None else [])


async def carry_progress(
    workspace_id: int, old_version: int, old_plan: dict[str, Any], new_version: int, new_plan: Plan
) -> list[NotCarried]:
    """Copy the old version's marks onto the new version by the module's rule; returns
    what could not be carried. Runs inside the transaction that stores the new version."""
    old_items = _items(old_plan)
    new_items = _items(new_plan.model_dump(mode="json"))
    marks = await ProgressMark.filter(workspace_id=workspace_id, plan_version=old_version)
    taken: set[tuple[str, str]] = set()
    not_carried: list[NotCarried] = []
    for mark in marks:
        key = (mark.kind, mark.item_id)
        old = old_items.get(key)
        if old is None or not _lost(mark):
            continue
        target = _match(key, old_items, new_items, taken)
        if target is None:
            not_carried.append(
                NotCarried(
                    kind=_item(key, old).kind, id=key[1], title=old["title"], lost=_lost(mark)
                )
            )
            continue
        taken.add(target)
        await ProgressMark.create(
            workspace_id=workspace_id,
            plan_version=new_version,
            kind=target[0],
            item_id=target[1],
            done=mark.done,
            status=mark.status,
            target_date=mark.target_date,
        )
    return not_carried


# --- writing -------------------------------------------------------------------------------


def _plan_changed(expected: int, workspace: AssignmentWorkspace) -> Conflict:
    return Conflict(
        f"The plan changed (version {workspace.plan_version}, you sent {expected}); "
        "reload it and try again",
        code="plan_version_conflict",
        details={"plan_version": workspace.plan_version},
    )


def _find_item(plan: dict[str, Any], kind: str, item_id: str) -> dict[str, Any]:
    item = _items(plan).get((kind, item_id))
    if item is None:
        raise NotFound(f"No {kind} {item_id!r} in the current plan", code=f"{kind}_not_found")
    return item


async def _write_mark(
    rt: Runtime,
    user: User,
    course_id: str,
    assignment_id: str,
    plan_version: int,
    kind: str,
    item_id: str,
    changes: dict[str, Any],
) -> PlanProgress:
    workspace = await find_workspace(user, course_id, assignment_id)
    if workspace.plan_blob is None:
        raise BadRequest(f"No plan yet: the workspace is {workspace.status}", code="plan_not_ready")
    if plan_version != workspace.plan_version:
        raise _plan_changed(plan_version, workspace)
    item = _find_item(workspace.plan_blob, kind, item_id)
    async with events_after_commit(rt):
        # Compare-and-set: this conditional update holds the workspace row until commit, so
        # a new plan version cannot be stored (and marks carried) in between.
        if not await AssignmentWorkspace.filter(id=workspace.id, plan_version=plan_version).update(
            updated_at=workspace.updated_at
        ):
            await workspace.refresh_from_db()
            raise _plan_changed(plan_version, workspace)
        mark, _ = await ProgressMark.get_or_create(
            workspace_id=workspace.id, plan_version=plan_version, kind=kind, item_id=item_id
        )
        await mark.update_from_dict(changes).save()
        progress = await plan_progress(workspace.id, plan_version, workspace.plan_blob)
        draft = EventDraft(
            EventType.PROGRESS_UPDATED,
            f"{kind.capitalize()} {item['title']!r} updated",
            None,
            str(workspace.status),
            workspace.progress,
            {
                "plan_version": plan_version,
                "progress_update": {"kind": kind, "id": item_id, **_json(changes)},
            },
        )
        await publish(rt, workspace.id, draft)
    return progress


def _json(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in changes.items()}


async def set_task_done(
    rt: Runtime,
    user: User,
    course_id: str,
    assignment_id: str,
    task_id: str,
    *,
    done: bool,
    plan_version: int,
) -> PlanProgress:
    return await _write_mark(
        rt, user, course_id, assignment_id, plan_version, TASK, task_id, {"done": done}
    )


UNSET: Any = object()


async def update_milestone(
    rt: Runtime,
    user: User,
    course_id: str,
    assignment_id: str,
    milestone_id: str,
    *,
    plan_version: int,
    status: MilestoneStatus | None = UNSET,
    target_date: date | None = UNSET,
) -> PlanProgress:
    """Set the milestone's own status and/or target date; ``None`` returns either to the
    derived status or the scheduled date."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (("status", status), ("target_date", target_date))
        if value is not UNSET
    }
    if not changes:
        raise ValidationFailed("Send status, target_date or both", details={"field": "status"})
    if "status" in changes and changes["status"] is not None:
        changes["status"] = str(MilestoneStatus(changes["status"]))
    return await _write_mark(
        rt, user, course_id, assignment_id, plan_version, MILESTONE, milestone_id, changes
    )
