"""Tortoise ORM models: the durable state of users, workspaces, jobs, plans and events.

Designed for what later features add: plan versions are rows (history, milestone state
keyed by version), credentials carry an auth method and refresh token (OAuth), and
``generation`` fences off a cancelled job's writes.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class WorkspaceStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)

# What a JSON column holds, for the type checker (Tortoise stores any JSON value). Each
# relation's ``<name>_id`` column is declared bare below (``workspace_id: int``): Tortoise
# sets it on every row, and the declaration lets the type checker see it.
JsonObject = dict[str, Any]


class JobType(StrEnum):
    PLAN = "plan"
    MILESTONE_FEEDBACK = "milestone_feedback"
    ASSIGNMENT_FEEDBACK = "assignment_feedback"


class TimestampedModel(Model):
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class User(TimestampedModel):
    """One user per Canvas host and Canvas user id."""

    id = fields.IntField(primary_key=True)
    canvas_host = fields.CharField(max_length=255)
    canvas_user_id = fields.CharField(max_length=64)
    name = fields.CharField(max_length=255, default="")
    # The student's preferences (server/agenda/preferences.py); null: the setting's default.
    agenda_hours_per_day = fields.FloatField(null=True)
    calendar_reminder = fields.CharField(max_length=8, null=True)

    class Meta:
        table = "users"
        unique_together = (("canvas_host", "canvas_user_id"),)


class CanvasAuthMethod(StrEnum):
    PERSONAL_TOKEN = "personal_token"  # noqa: S105 - a method's name, not a secret
    OAUTH = "oauth"


class CanvasCredential(TimestampedModel):
    """The user's Canvas access, encrypted at rest (Fernet); never leaves the server."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="canvas_credential", on_delete=fields.CASCADE
    )
    user_id: int
    base_url = fields.CharField(max_length=255)
    auth_method = fields.CharField(max_length=32, default="personal_token")
    token_ciphertext = fields.TextField()
    refresh_token_ciphertext = fields.TextField(null=True)
    token_expires_at = fields.DatetimeField(null=True)
    # Held by the one process renewing the OAuth token, so two processes never both spend
    # (and, where Canvas rotates it, burn) the same refresh token.
    refresh_lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "canvas_credentials"


class OAuthFlow(Model):
    """One Canvas OAuth sign-in: its ``state`` (usable once, at the callback), then the
    one-time code the extension trades for a backend JWT (usable once, bound by PKCE to the
    client that started the sign-in)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    canvas_base_url = fields.CharField(max_length=255)
    redirect_uri = fields.CharField(max_length=2048)  # the extension's, from the allowlist
    callback_url = fields.CharField(max_length=2048)  # ours, as sent to Canvas
    code_challenge = fields.CharField(max_length=64)
    # The deadline of the current step: the state's, then the one-time code's.
    expires_at = fields.DatetimeField()
    state_used_at = fields.DatetimeField(null=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="oauth_flows", null=True, on_delete=fields.CASCADE
    )
    user_id: int | None
    one_time_code_hash = fields.CharField(max_length=64, null=True, unique=True)
    completed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "oauth_flows"


class AssignmentWorkspace(TimestampedModel):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="workspaces", on_delete=fields.CASCADE
    )
    user_id: int
    course_id = fields.CharField(max_length=64)
    assignment_id = fields.CharField(max_length=64)
    status = fields.CharEnumField(WorkspaceStatus, max_length=16, default=WorkspaceStatus.QUEUED)
    current_stage = fields.CharField(max_length=64, null=True)
    progress = fields.IntField(default=0)
    last_error: fields.JSONField[JsonObject | None] = fields.JSONField(null=True)
    context_blob: fields.JSONField[JsonObject | None] = fields.JSONField(null=True)
    plan_blob: fields.JSONField[JsonObject | None] = fields.JSONField(null=True)
    plan_version = fields.IntField(default=0)
    # Bumped by every reprocess; a job may write only while its generation is current.
    generation = fields.IntField(default=0)
    last_event_id = fields.IntField(default=0)
    # The last comparison of the current plan's sources with Canvas (a CanvasCheck, made
    # on resume); cleared when a new plan is saved.
    canvas_check: fields.JSONField[JsonObject | None] = fields.JSONField(null=True)

    class Meta:
        table = "assignment_workspaces"
        unique_together = (("user", "course_id", "assignment_id"),)


class ProcessingJob(TimestampedModel):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    workspace: fields.ForeignKeyRelation[AssignmentWorkspace] = fields.ForeignKeyField(
        "models.AssignmentWorkspace", related_name="jobs", on_delete=fields.CASCADE
    )
    workspace_id: int
    job_type = fields.CharEnumField(JobType, max_length=32)
    status = fields.CharEnumField(JobStatus, max_length=16, default=JobStatus.QUEUED)
    stage = fields.CharField(max_length=64, null=True)
    progress = fields.IntField(default=0)
    generation = fields.IntField(default=0)
    reprocess = fields.BooleanField(default=False)
    attempts = fields.IntField(default=0)
    idempotency_key = fields.CharField(max_length=128, null=True)
    result_blob: fields.JSONField[JsonObject | None] = fields.JSONField(null=True)
    error_code = fields.CharField(max_length=64, null=True)
    error_message = fields.TextField(null=True)
    warnings: fields.JSONField[list[JsonObject]] = fields.JSONField(default=list)
    llm_usage: fields.JSONField[list[JsonObject]] = fields.JSONField(default=list)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # Renewed while the job runs; a lapsed lease means its worker died (see jobs/lease.py).
    lease_expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "processing_jobs"
        unique_together = (("workspace", "idempotency_key"),)


class PlanVersion(Model):
    """Every finished plan, with the context it was made from; the workspace points at the
    newest. Unique per job so a retried job can never add a second version."""

    id = fields.IntField(primary_key=True)
    workspace: fields.ForeignKeyRelation[AssignmentWorkspace] = fields.ForeignKeyField(
        "models.AssignmentWorkspace", related_name="plan_versions", on_delete=fields.CASCADE
    )
    workspace_id: int
    version = fields.IntField()
    job: fields.OneToOneRelation[ProcessingJob] = fields.OneToOneField(
        "models.ProcessingJob", related_name="plan_version", on_delete=fields.CASCADE
    )
    job_id: uuid.UUID
    plan_blob: fields.JSONField[JsonObject] = fields.JSONField()
    context_blob: fields.JSONField[JsonObject] = fields.JSONField()
    # What of the previous version's progress could not be carried over (see progress_marks).
    progress_not_carried: fields.JSONField[list[JsonObject]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "plan_versions"
        unique_together = (("workspace", "version"),)


class MilestoneSubmission(TimestampedModel):
    id = fields.IntField(primary_key=True)
    workspace: fields.ForeignKeyRelation[AssignmentWorkspace] = fields.ForeignKeyField(
        "models.AssignmentWorkspace", related_name="submissions", on_delete=fields.CASCADE
    )
    workspace_id: int
    milestone_id = fields.CharField(max_length=64, null=True)  # null: the whole assignment
    submission_text = fields.TextField()
    # The plan version the submission is judged against (the workspace's at submission).
    plan_version = fields.IntField()
    job: fields.ForeignKeyRelation[ProcessingJob] = fields.ForeignKeyField(
        "models.ProcessingJob", related_name="submissions", on_delete=fields.CASCADE
    )
    job_id: uuid.UUID

    class Meta:
        table = "milestone_submissions"


class FeedbackRecord(TimestampedModel):
    id = fields.IntField(primary_key=True)
    workspace: fields.ForeignKeyRelation[AssignmentWorkspace] = fields.ForeignKeyField(
        "models.AssignmentWorkspace", related_name="feedback_records", on_delete=fields.CASCADE
    )
    workspace_id: int
    job: fields.OneToOneRelation[ProcessingJob] = fields.OneToOneField(
        "models.ProcessingJob", related_name="feedback_record", on_delete=fields.CASCADE
    )
    job_id: uuid.UUID
    target_type = fields.CharField(max_length=16)  # milestone | assignment
    target_id = fields.CharField(max_length=64)
    feedback_blob: fields.JSONField[JsonObject] = fields.JSONField()
    plan_version = fields.IntField()
    # False once a reprocess replaced the plan it was made against: kept as history.
    is_current = fields.BooleanField(default=True)

    class Meta:
        table = "feedback_records"


class WorkspaceEvent(Model):
    """The durable, bounded event log behind SSE replay (``Last-Event-ID``)."""

    id = fields.BigIntField(primary_key=True)
    workspace: fields.ForeignKeyRelation[AssignmentWorkspace] = fields.ForeignKeyField(
        "models.AssignmentWorkspace", related_name="events", on_delete=fields.CASCADE
    )
    workspace_id: int
    seq = fields.IntField()
    job_id = fields.UUIDField(null=True)
    event_type = fields.CharField(max_length=32)
    payload: fields.JSONField[JsonObject] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workspace_events"
        unique_together = (("workspace", "seq"),)


class ProgressMark(Model):
    """The student's own state of one task (``done``) or milestone (``status``,
    ``target_date``) in one plan version; absent means untouched."""

    id = fields.IntField(primary_key=True)
    workspace: fields.ForeignKeyRelation[AssignmentWorkspace] = fields.ForeignKeyField(
        "models.AssignmentWorkspace", related_name="progress_marks", on_delete=fields.CASCADE
    )
    workspace_id: int
    plan_version = fields.IntField()
    kind = fields.CharField(max_length=16)  # task | milestone
    item_id = fields.CharField(max_length=64)
    done = fields.BooleanField(null=True)
    status = fields.CharField(max_length=16, null=True)
    target_date = fields.DateField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "progress_marks"
        unique_together = (("workspace", "plan_version", "kind", "item_id"),)


class CalendarToken(Model):
    """The user's calendar feed token (read-only, calendar routes only); only its hash is
    kept, and rotating it replaces the row, so an old URL stops working."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="calendar_token", on_delete=fields.CASCADE
    )
    user_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "calendar_tokens"
