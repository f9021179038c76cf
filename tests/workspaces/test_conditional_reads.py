"""Conditional reads of the snapshot and the plan: ``ETag``, ``If-None-Match`` → 304, and a
new tag as soon as what they show changes."""

from __future__ import annotations

from tests.conftest import onboard_student
from tests.support.errors import assert_error
from tests.support.plans import ESSAY, ready_plan


async def test_snapshot_and_plan_answer_304_while_unchanged(client, student):
    await ready_plan(client, student.headers)
    for path in (ESSAY, f"{ESSAY}/plan"):
        first = await client.get(path, headers=student.headers)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"')
        again = await client.get(path, headers={**student.headers, "If-None-Match": etag})
        assert again.status_code == 304, again.text
        assert again.content == b"" and again.headers["etag"] == etag
        # A list of tags, a weak comparison and "*" match too; another tag does not.
        for sent in (f'"other", {etag}', f"W/{etag}", "*"):
            matched = await client.get(path, headers={**student.headers, "If-None-Match": sent})
            assert matched.status_code == 304, sent
        other = await client.get(path, headers={**student.headers, "If-None-Match": '"x"'})
        assert other.status_code == 200 and other.json() == first.json()


async def test_a_change_gives_the_plan_and_snapshot_new_tags(client, student):
    plan = await ready_plan(client, student.headers)
    before = {
        path: await client.get(path, headers=student.headers) for path in (ESSAY, f"{ESSAY}/plan")
    }
    task = plan["milestones"][0]["tasks"][0]["id"]
    ticked = await client.patch(
        f"{ESSAY}/tasks/{task}", json={"done": True, "plan_version": 1}, headers=student.headers
    )
    assert ticked.status_code == 200, ticked.text
    for path, old in before.items():
        fresh = await client.get(
            path, headers={**student.headers, "If-None-Match": old.headers["etag"]}
        )
        assert fresh.status_code == 200, path
        assert fresh.headers["etag"] != old.headers["etag"]
    plan_now = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    assert plan_now["progress"]["milestones"][0]["tasks"][0] == {"task_id": task, "done": True}
    # An older version is its own representation, with its own tag.
    version_1 = await client.get(f"{ESSAY}/plan?version=1", headers=student.headers)
    assert version_1.status_code == 200 and version_1.json()["plan_version"] == 1


async def test_conditional_reads_keep_their_errors(client, student, simulator):
    missing = await client.get("/assignments/101/9999/plan", headers=student.headers)
    assert_error(missing, 404, "workspace_not_found")
    await ready_plan(client, student.headers)
    absent = await client.get(f"{ESSAY}/plan?version=7", headers=student.headers)
    assert_error(absent, 404, "plan_version_not_found")
    # Another user's workspace is not found, tag or not.
    other = await onboard_student(client, simulator)
    etag = (await client.get(ESSAY, headers=student.headers)).headers["etag"]
    foreign = await client.get(ESSAY, headers={**other.headers, "If-None-Match": etag})
    assert_error(foreign, 404, "workspace_not_found")
    # A deleted user's token is refused, not answered 404.
    assert (await client.delete("/me", headers=student.headers)).status_code == 204
    gone = await client.get(f"{ESSAY}/plan", headers=student.headers)
    assert_error(gone, 401, "invalid_token")
