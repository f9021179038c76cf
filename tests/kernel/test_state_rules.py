"""Unit tests of the state rules: fencing, progress, runner, limits, secrets, tokens."""

from __future__ import annotations

import asyncio
import logging
import uuid

import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jobs.runner import InProcessJobRunner
from models.db import AssignmentWorkspace, JobStatus, JobType, ProcessingJob, User, WorkspaceEvent
from server.events.job_context import JobContext
from server.events.service import EventDraft, JobFenced, events_after_commit, publish
from server.kernel.auth import mint_stream_token, verify_access_token, verify_stream_token
from server.kernel.credentials import CredentialsUnreadable, TokenCipher
from server.kernel.errors import RateLimited, Unauthorized
from server.kernel.logs import RedactingFilter, redact
from server.kernel.ratelimit import RateLimiter
from server.kernel.settings import MissingSecretError, Settings, ensure_secrets
from tests.conftest import make_settings


async def new_job(generation: int = 0) -> ProcessingJob:
    user = await User.create(canvas_host="unit.test", canvas_user_id=uuid.uuid4().hex)
    workspace = await AssignmentWorkspace.create(
        user=user, course_id="1", assignment_id="2", generation=generation
    )
    return await ProcessingJob.create(
        workspace=workspace, job_type=JobType.PLAN, generation=generation
    )


async def test_a_job_of_an_older_generation_cannot_write(api):
    job = await new_job()
    ctx = JobContext(api.runtime, job)
    await ctx.start()
    await AssignmentWorkspace.filter(id=job.workspace_id).update(generation=1)
    events_before = await WorkspaceEvent.filter(workspace_id=job.workspace_id).count()
    with pytest.raises(JobFenced):
        await ctx.enter_stage("draft_plan", 50, "drafting")
    with pytest.raises(JobFenced):
        await ctx.fail("x", "y")
    workspace = await AssignmentWorkspace.get(id=job.workspace_id)
    assert workspace.current_stage is None and workspace.status == "running"
    assert await WorkspaceEvent.filter(workspace_id=job.workspace_id).count() == events_before


async def test_a_cancelled_job_cannot_write_even_at_the_same_generation(api):
    """The workspace's row passes the fence, the job's does not: nothing of the event is
    written, the workspace's changes included (one transaction on SQLite, one statement
    on PostgreSQL)."""
    job = await new_job()
    ctx = JobContext(api.runtime, job)
    await ProcessingJob.filter(id=job.id).update(status=JobStatus.CANCELLED)
    with pytest.raises(JobFenced):
        await ctx.start()
    workspace = await AssignmentWorkspace.get(id=job.workspace_id)
    assert (workspace.last_event_id, workspace.status) == (0, "queued")
    assert not await WorkspaceEvent.filter(workspace_id=job.workspace_id).exists()


async def test_progress_never_goes_back_within_a_job(api):
    job = await new_job()
    ctx = JobContext(api.runtime, job)
    await ctx.start()
    await ctx.enter_stage("a", 40, "a")
    await ctx.enter_stage("b", 20, "b")
    workspace = await AssignmentWorkspace.get(id=job.workspace_id)
    assert (workspace.current_stage, workspace.progress) == ("b", 40)
    events = await WorkspaceEvent.filter(workspace_id=job.workspace_id).order_by("seq")
    assert [e.seq for e in events] == [1, 2, 3]
    assert [e.payload["progress"] for e in events] == [0, 40, 40]


async def test_in_process_runner_limits_concurrency_and_cancels():
    running, peak, finished = 0, 0, 0
    release, all_done = asyncio.Event(), asyncio.Event()

    async def handler(_: uuid.UUID) -> None:
        nonlocal running, peak, finished
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        finished += 1
        if finished == 3:  # the cancelled one never finishes
            all_done.set()

    runner = InProcessJobRunner(concurrency=2)
    runner.start(handler)
    ids = [uuid.uuid4() for _ in range(4)]
    for job_id in ids:
        await runner.enqueue(job_id)
    await asyncio.sleep(0.05)
    assert peak == 2
    await runner.cancel(ids[0])
    release.set()
    await asyncio.wait_for(all_done.wait(), 5)
    assert peak == 2
    await runner.close()


async def test_rate_limiter_answers_429_with_retry_after():
    limiter = RateLimiter(enabled=True, per_minute={"start": 2})
    await limiter.check("start", "u1")
    await limiter.check("start", "u1")
    await limiter.check("start", "u2")
    with pytest.raises(RateLimited) as raised:
        await limiter.check("start", "u1")
    assert 1 <= int(raised.value.headers["Retry-After"]) <= 60
    await RateLimiter(enabled=False, per_minute={"start": 0}).check("start", "u1")


def test_token_cipher_rotates_to_the_newest_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ciphertext = TokenCipher([old]).encrypt("canvas-token")
    rotated = TokenCipher([new, old])
    assert rotated.decrypt(ciphertext) == "canvas-token"
    assert rotated.needs_rotation(ciphertext)
    assert not rotated.needs_rotation(rotated.encrypt("canvas-token"))
    with pytest.raises(CredentialsUnreadable):
        TokenCipher([new]).decrypt(ciphertext)


def test_embedded_secrets_are_generated_once_and_production_requires_them(tmp_path):
    embedded = Settings(_env_file=None, data_dir=tmp_path, jwt_secret=None, credentials_keys=None)
    first, second = ensure_secrets(embedded), ensure_secrets(embedded)
    assert first.jwt_secret and first.jwt_secret == second.jwt_secret
    assert first.credentials_keys == second.credentials_keys
    production = Settings(
        _env_file=None, data_dir=tmp_path, database_url="postgres://x/y", jwt_secret=None
    )
    with pytest.raises(MissingSecretError, match="JWT_SECRET and CREDENTIALS_KEYS"):
        ensure_secrets(production)


def test_stream_tokens_are_scoped_to_one_stream(tmp_path):
    settings = make_settings(tmp_path, None)
    token, _ = mint_stream_token(settings, 7, "101", "1001")
    assert verify_stream_token(settings, token, "101", "1001").user_id == 7
    with pytest.raises(Unauthorized):
        verify_stream_token(settings, token, "101", "1002")
    with pytest.raises(Unauthorized):
        verify_access_token(settings, token)


def test_tokens_of_an_external_issuer_verify_with_its_public_key(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = make_settings(tmp_path, None, jwt_public_key=public_pem, jwt_algorithm="RS256")
    claims = {
        "sub": "42",
        "iat": 1,
        "exp": 4_000_000_000,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    assert verify_access_token(settings, jwt.encode(claims, key, algorithm="RS256")) == 42
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        verify_access_token(settings, jwt.encode(claims, other_key, algorithm="RS256"))


def test_log_redaction_removes_query_tokens_bearer_headers_and_jwts():
    line = (
        "GET /assignments/1/2/events?access_token=abc.def.ghi HTTP/1.1 "
        "Authorization: Bearer s3cr3t eyJhbGciOi.eyJzdWIiOjF9.c2lnbmF0dXJl"
    )
    cleaned = redact(line)
    assert "abc.def.ghi" not in cleaned and "s3cr3t" not in cleaned
    assert "eyJzdWIiOjF9" not in cleaned
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token=%s", ("t0k3n",), None)
    RedactingFilter().filter(record)
    assert "t0k3n" not in record.getMessage()


async def test_events_published_inside_a_transaction_wake_followers_only_after_commit(api):
    job = await new_job()
    rt = api.runtime
    draft = EventDraft("stage_started", "x", None, "running", 0, {})
    async with rt.bus.listen(job.workspace_id) as listener:
        async with events_after_commit(rt):
            await publish(rt, job.workspace_id, draft)
            # A follower woken now would read before the commit and find nothing.
            assert not await listener.wait(0.05)
        assert await listener.wait(1)


async def test_a_fenced_event_inside_a_transaction_undoes_the_whole_transaction(api):
    """Inside ``events_after_commit`` an event joins the caller's transaction (no savepoint
    of its own): a fenced write leaves nothing of that transaction and wakes nobody."""
    job = await new_job()
    rt = api.runtime
    ctx = JobContext(rt, job)
    await ctx.start()
    await AssignmentWorkspace.filter(id=job.workspace_id).update(generation=1)
    async with rt.bus.listen(job.workspace_id) as listener:
        with pytest.raises(JobFenced):
            async with events_after_commit(rt):
                await AssignmentWorkspace.filter(id=job.workspace_id).update(plan_version=7)
                await ctx.enter_stage("draft_plan", 50, "drafting")
        assert not await listener.wait(0.05)
    workspace = await AssignmentWorkspace.get(id=job.workspace_id)
    assert (workspace.plan_version, workspace.last_event_id) == (0, 1)
    assert await WorkspaceEvent.filter(workspace_id=job.workspace_id).count() == 1


async def test_an_event_woken_with_is_the_event_stored(api):
    """Followers get the event from the wake-up; a replay reads it from the log: both are
    the same, id and timestamp included (on PostgreSQL both come from the database)."""
    job = await new_job()
    rt = api.runtime
    async with rt.bus.listen(job.workspace_id) as listener:
        await JobContext(rt, job).start()
        [woken] = await listener.wait(1)
    stored = await WorkspaceEvent.get(workspace_id=job.workspace_id, seq=1)
    assert woken == stored.payload
    assert woken["id"] == 1 and woken["timestamp"].endswith("Z")
