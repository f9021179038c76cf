"""Limits that hold across API processes (PostgreSQL pass, with Redis): two API processes
count one rate limit in Redis, and one per-user cap on active jobs in the database."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import onboard_student
from tests.production import test_production
from tests.support.errors import assert_error

pytestmark = pytest.mark.production
stack = test_production.stack  # API processes on PostgreSQL and the pass's own Redis


async def test_two_api_processes_share_one_rate_limit(stack, simulator):
    stack.env.update(RATE_LIMIT_ENABLED="true", RATE_LIMIT_ONBOARDING_PER_MINUTE="3")
    apis = [await stack.start_api("api-a"), await stack.start_api("api-b")]
    answers = []
    for attempt in range(4):  # a, b, a, b: two calls per process
        token = f"canvas-shared-limit-{attempt}"
        simulator.state.add_user(token, name="Limited Student")
        async with httpx.AsyncClient(base_url=apis[attempt % 2], timeout=30) as http:
            answers.append(
                await http.post(
                    "/auth/canvas",
                    json={"canvas_base_url": simulator.base_url, "canvas_token": token},
                )
            )
    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert_error(answers[3], 429, "rate_limited")
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60


async def test_two_api_processes_share_one_cap_on_active_jobs(stack, simulator):
    stack.env["MAX_ACTIVE_JOBS_PER_USER"] = "1"  # and no worker: started jobs stay queued
    api_a, api_b = await stack.start_api("api-a"), await stack.start_api("api-b")
    async with httpx.AsyncClient(base_url=api_a, timeout=30) as http:
        student = await onboard_student(http, simulator)
        first = await http.post("/assignments/101/1001/start", headers=student.headers)
    assert first.status_code == 202
    async with httpx.AsyncClient(base_url=api_b, timeout=30) as http:
        second = await http.post("/assignments/101/1003/start", headers=student.headers)
    assert_error(second, 429, "too_many_active_jobs")


async def test_concurrent_starts_never_exceed_the_cap_on_active_jobs(stack, simulator):
    """Eight starts at once, four through each API process, for eight assignments: the
    cap of two holds (the count and the new job are one transaction, serialized per user
    by a lock on the user's row), the others are refused."""
    stack.env["MAX_ACTIVE_JOBS_PER_USER"] = "2"  # and no worker: started jobs stay queued
    apis = [await stack.start_api("api-a"), await stack.start_api("api-b")]
    copies = [simulator.state.copy_assignment(1001) for _ in range(8)]
    async with httpx.AsyncClient(base_url=apis[0], timeout=30) as http:
        student = await onboard_student(http, simulator)
    clients = [httpx.AsyncClient(base_url=api, timeout=30) for api in apis]
    try:
        answers = await asyncio.gather(
            *(
                clients[n % 2].post(f"/assignments/101/{copy['id']}/start", headers=student.headers)
                for n, copy in enumerate(copies)
            )
        )
    finally:
        for http in clients:
            await http.aclose()
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [202, 202] + [429] * 6, [answer.text for answer in answers]
