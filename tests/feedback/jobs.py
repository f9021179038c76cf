"""Feedback jobs over the API, as the feedback tests drive them: a ready plan, a draft
submitted, the job's events followed to its end, the finished job read back, and a check
that every evidence quote is the submission's own text (a ready plan comes from
``tests.support.plans``)."""

from __future__ import annotations

import asyncio
from typing import Any

from devkit.sse_client import SseMessage, iter_sse

ESSAY = "/assignments/101/1001"
FEEDBACK_TERMINAL = {"feedback_ready", "failed"}


async def submit(client, student, path: str, text: str, milestone_id=None, key=None):
    route = f"{path}/milestones/{milestone_id}" if milestone_id else path
    headers = {**student.headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"{route}/submissions/start", json={"text": text}, headers=headers)


async def job_events(client, path: str, headers: dict[str, str], job_id: str) -> list[SseMessage]:
    """The job's events on the workspace stream (replayed from the start) to its end."""
    replay = {**headers, "Last-Event-ID": "0"}
    events: list[SseMessage] = []
    async with (
        asyncio.timeout(30),
        client.stream("GET", f"{path}/events", headers=replay) as response,
    ):
        assert response.status_code == 200
        async for message in iter_sse(response):
            if message.event != "snapshot" and message.json().get("job_id") == job_id:
                events.append(message)
                if message.event in FEEDBACK_TERMINAL:
                    return events
    return events


async def finished_job(client, student, path: str, job_id: str) -> dict[str, Any]:
    await job_events(client, path, student.headers, job_id)
    response = await client.get(f"{path}/feedback/jobs/{job_id}", headers=student.headers)
    assert response.status_code == 200, response.text
    return response.json()


def assert_evidence_is_quoted(feedback: dict[str, Any], text: str) -> int:
    """Every evidence quote is the submission's text at its offsets."""
    quotes = [
        evidence
        for score in feedback["scorecard"]["criterion_scores"]
        for evidence in score["evidence"]
    ] + [
        evidence
        for name in ("strengths", "gaps", "required_fixes", "suggested_improvements")
        for item in feedback[name]
        for evidence in item["evidence"]
    ]
    for evidence in quotes:
        assert text[evidence["start"] : evidence["end"]] == evidence["quote"]
    return len(quotes)
