"""Logs: one JSON event a line, with the request id and job id, and no secret in any line,
not even at DEBUG with every library logging."""

from __future__ import annotations

import io
import json
import logging
import re
import secrets

import pytest

from server.kernel.logs import log_context, log_handler, redact
from tests.conftest import read_stream
from tests.support.logs import captured_logs

ESSAY = "/assignments/101/1001"
CANVAS_TOKEN = re.compile(r"\d+~[A-Za-z0-9]{20,}")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
QUERY_TOKEN = re.compile(r"(access_token|token|code|state)=(?!\[redacted\])", re.IGNORECASE)


def canvas_format_token() -> str:
    """What a real Canvas access token looks like: "<shard>~<64 letters and digits>"."""
    return f"{secrets.randbelow(9000) + 1000}~{secrets.token_hex(32)}"


def test_redact_removes_canvas_tokens_jwts_bearer_and_query_tokens():
    canvas = canvas_format_token()
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    line = (
        f"token {canvas} in a message; GET /events?access_token=abc.def&x=1; "
        f"Authorization: Bearer opaque-value; claims {jwt}"
    )
    cleaned = redact(line)
    for secret in (canvas, "abc.def", "opaque-value", jwt):
        assert secret not in cleaned
    assert "x=1" in cleaned
    ordinary = "About ~20 words, 3~4 pages, due 2026-12-01 (course 101, id 7~x)"
    assert redact(ordinary) == ordinary


@pytest.mark.parametrize(
    "secret",
    [
        canvas_format_token(),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
        "cwcal_Zx8-q2Lr5vT0",
    ],
)
def test_each_kind_of_secret_is_redacted_alone(secret):
    """With nothing else in the text that looks like a secret (redaction first looks for
    what every secret holds, and searches only then)."""
    assert secret not in redact(f"failed for {secret} at step 3")


@pytest.mark.parametrize("scheme", ["Bearer", "BEARER", "bEaReR"])
def test_a_bearer_credential_is_redacted_in_any_case(scheme):
    assert "opaque-value" not in redact(f"header: {scheme} opaque-value")


def test_a_line_is_one_json_object_with_its_context_and_nothing_secret():
    canvas, stream = canvas_format_token(), io.StringIO()
    logger = logging.getLogger("tests.logging.unit")
    logger.addHandler(log_handler("json", stream))
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        with log_context(request_id="req-1", job_id="job-1"):
            try:
                raise RuntimeError(f"Canvas said no to {canvas}")
            except RuntimeError:
                logger.exception("call failed", extra={"url": "/x?access_token=s3cret"})
        logger.info("outside any request")
    finally:
        logger.handlers.clear()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "call failed" and first["level"] == "ERROR"
    assert first["request_id"] == "req-1" and first["job_id"] == "job-1"
    assert "RuntimeError" in first["exc_info"] and canvas not in first["exc_info"]
    assert first["url"] == "/x?access_token=[redacted]"
    assert {"timestamp", "logger"} <= set(first)
    assert "request_id" not in second and "job_id" not in second


def test_the_text_format_is_redacted_too():
    stream = io.StringIO()
    record = logging.makeLogRecord(
        {"msg": "GET %s", "args": ("/events?access_token=s3cret",), "levelno": logging.INFO}
    )
    handler = log_handler("text", stream)
    handler.handle(record)
    assert "s3cret" not in stream.getvalue() and "[redacted]" in stream.getvalue()


async def test_a_full_job_at_debug_leaves_no_token_in_any_log_line(client, simulator):
    canvas_token = canvas_format_token()
    simulator.state.add_user(canvas_token, name="Logged Student")
    with captured_logs() as stream:
        onboarded = await client.post(
            "/auth/canvas",
            json={"canvas_base_url": simulator.base_url, "canvas_token": canvas_token},
        )
        access_token = onboarded.json()["access_token"]
        headers = {"Authorization": f"Bearer {access_token}"}
        started = await client.post(f"{ESSAY}/start", headers=headers)
        assert started.status_code == 202
        stream_token = (await client.post(f"{ESSAY}/events/token", headers=headers)).json()
        # EventSource's way: the stream token in the query string, no header.
        events = await read_stream(client, stream_token["events_url"])
        assert events[-1].event == "plan_ready"
        assert (await client.get(f"{ESSAY}/plan", headers=headers)).status_code == 200
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON event

    for line in lines:
        for secret in (canvas_token, access_token, stream_token["token"]):
            assert secret not in line
        assert not CANVAS_TOKEN.search(line) and not JWT.search(line), line
        assert not QUERY_TOKEN.search(line), line
    # The capture saw the job, the requests and the library that logged the stream's URL.
    job_id = events[-1].json()["job_id"]
    assert any(record.get("job_id") == job_id for record in records)
    start_route = "/assignments/{course_id}/{assignment_id}/start"
    access_lines = [record for record in records if record.get("route") == start_route]
    assert [line["request_id"] for line in access_lines] == [started.headers["X-Request-ID"]]
    assert any("access_token=[redacted]" in record["message"] for record in records)
