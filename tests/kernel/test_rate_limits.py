"""Per-user rate limits on onboarding, start and feedback calls: 429 with Retry-After, and
each action counted on its own (start is covered in tests/workspaces/test_workspaces_api.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import onboard_student
from tests.support.errors import assert_error


@contextmanager
def limited(api, action: str, per_minute: int) -> Iterator[None]:
    """Switch the (otherwise disabled) limiter of the test API on for one action."""
    limiter = api.runtime.rate_limiter
    saved = limiter.enabled, dict(limiter.per_minute)
    limiter.enabled = True
    limiter.per_minute[action] = per_minute
    try:
        yield
    finally:
        limiter.enabled, limiter.per_minute = saved[0], saved[1]


def assert_limited(response) -> None:
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_onboarding_is_limited_per_client_address(client, api, simulator):
    tokens = [f"canvas-{secrets.token_hex(8)}" for _ in range(3)]
    for token in tokens:
        simulator.state.add_user(token, name="Limited Student")
    with limited(api, "onboarding", 2):
        answers = [
            await client.post(
                "/auth/canvas",
                json={"canvas_base_url": simulator.base_url, "canvas_token": token},
            )
            for token in tokens
        ]
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert_limited(answers[2])


async def test_replacing_the_canvas_token_is_limited_per_user(client, api, simulator):
    student = await onboard_student(client, simulator)
    login = {"canvas_base_url": simulator.base_url, "canvas_token": student.canvas_token}
    with limited(api, "onboarding", 1):
        first = await client.put("/me/canvas-credentials", headers=student.headers, json=login)
        second = await client.put("/me/canvas-credentials", headers=student.headers, json=login)
    assert first.status_code == 200
    assert_limited(second)


async def test_feedback_starts_are_limited_per_user_apart_from_other_users(client, api, simulator):
    student, other = [await onboard_student(client, simulator) for _ in range(2)]
    submit = "/assignments/101/1001/submissions/start"
    body = {"text": "My draft."}
    with limited(api, "feedback", 1):
        first = await client.post(submit, headers=student.headers, json=body)
        second = await client.post(submit, headers=student.headers, json=body)
        others = await client.post(submit, headers=other.headers, json=body)
    assert first.status_code != 429  # no plan yet: counted, then refused for that
    assert_limited(second)
    assert others.status_code == first.status_code
