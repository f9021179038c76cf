"""Feedback through GraphQL: mutations start the same jobs as the REST routes, a job's
subscription watches one to its end, and queries answer as REST does."""

from __future__ import annotations

from tests.conftest import wait_for_status
from tests.feedback.jobs import ESSAY
from tests.feedback.samples import sample
from tests.graphql.documents import JOB_EVENTS
from tests.support.graphql import data_of, error_of, graphql, same, selection
from tests.support.subscriptions import collect, connected, events_of, never

START_MILESTONE = """
mutation ($milestoneId: String!, $text: String!, $key: String) {
  startMilestoneFeedback(
    courseId: "101", assignmentId: "1001", milestoneId: $milestoneId, text: $text,
    idempotencyKey: $key
  ) { started job { id status target { type id } } }
}
"""
START_ASSIGNMENT = """
mutation ($text: String!) {
  startAssignmentFeedback(courseId: "101", assignmentId: "1001", text: $text) {
    started job { id }
  }
}
"""


async def test_feedback_through_graphql_matches_rest(client, api, student):
    await client.post(f"{ESSAY}/start", headers=student.headers)
    assert (await wait_for_status(client, ESSAY, student.headers, {"ready"}))["status"] == "ready"
    plan = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    milestone_id = plan["milestones"][0]["id"]
    text = sample("essay_outline.md")

    variables = {"milestoneId": milestone_id, "text": text, "key": "draft-1"}
    first = data_of(await graphql(client, START_MILESTONE, variables, headers=student.headers))
    started = first["startMilestoneFeedback"]
    assert started["started"] is True
    assert started["job"]["target"] == {"type": "milestone", "id": milestone_id}
    job_id = started["job"]["id"]
    again = data_of(await graphql(client, START_MILESTONE, variables, headers=student.headers))
    assert again["startMilestoneFeedback"]["started"] is False
    assert again["startMilestoneFeedback"]["job"]["id"] == job_id

    async with connected(api, student) as session:
        messages = await collect(
            session, JOB_EVENTS, {"jobId": job_id, "lastEventId": 0}, stop=never
        )
    assert messages[0]["__typename"] == "Job"
    assert events_of(messages)[-1]["eventType"] == "feedback_ready"

    whole = await graphql(client, START_ASSIGNMENT, {"text": text}, headers=student.headers)
    whole_job = data_of(whole)["startAssignmentFeedback"]["job"]["id"]
    async with connected(api, student) as session:
        await collect(session, JOB_EVENTS, {"jobId": whole_job, "lastEventId": 0}, stop=never)

    where = 'courseId: "101", assignmentId: "1001"'
    # Lists carry no feedback (REST answers null), so the list asks for everything else.
    listed = selection("FeedbackJob", skip=frozenset({"FeedbackJob.feedback"}))
    queries = {
        "feedbackJob": (
            f"query ($jobId: ID!) {{ feedbackJob({where}, jobId: $jobId) "
            f"{selection('FeedbackJob')} }}",
            f"{ESSAY}/feedback/jobs/{job_id}",
        ),
        "feedbackJobs": (
            f"{{ feedbackJobs({where}, limit: 5) {{ items {listed} nextCursor }} }}",
            f"{ESSAY}/feedback/jobs?limit=5",
        ),
        "feedback": (
            f"{{ feedback({where}) {selection('WorkspaceFeedback')} }}",
            f"{ESSAY}/feedback",
        ),
    }
    answer = {}
    for name, (query, path) in queries.items():
        body = await graphql(client, query, {"jobId": job_id}, headers=student.headers)
        answer[name] = data_of(body)[name]
        rest = (await client.get(path, headers=student.headers)).json()
        if name == "feedbackJobs":
            assert all(item.pop("feedback") is None for item in rest["items"])
        same(answer[name], rest)
    assert answer["feedbackJob"]["feedback"]["scorecard"]["criterionScores"]
    assert [job["id"] for job in answer["feedbackJobs"]["items"]] == [whole_job, job_id]
    assert answer["feedback"]["assignment"]["jobId"] == whole_job

    unknown = await graphql(
        client,
        START_MILESTONE,
        {**variables, "milestoneId": "no-such-milestone", "key": None},
        headers=student.headers,
    )
    assert error_of(unknown)["extensions"]["code"] == "milestone_not_found"
