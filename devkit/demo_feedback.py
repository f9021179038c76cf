"""The demo's second half: submit a sample draft for one milestone and print its feedback.

The drafts are in ``fixtures/submissions/``; each is submitted to the milestone of the
plan that works on the rubric criterion it was written for.
"""

from __future__ import annotations

import textwrap
from typing import Any

import httpx

from devkit.canvas_simulator import REPO_ROOT
from devkit.sse_client import iter_sse

SAMPLES_DIR = REPO_ROOT / "fixtures" / "submissions"
# assignment id -> (sample draft, the rubric criterion whose milestone it is a draft for)
SAMPLE_DRAFTS = {
    "1001": ("essay_outline.md", "_1001_thesis"),
    "1005": ("pitch_script.md", "_1005_question"),
}
LEVELS = {
    "met": "met",
    "partially_met": "partly met",
    "not_met": "not met",
    "not_assessable": "not assessable",
}
WIDTH = 96


def _milestone_for(plan: dict[str, Any], criterion_id: str) -> dict[str, Any]:
    milestones: list[dict[str, Any]] = plan["milestones"]
    return next((m for m in milestones if criterion_id in m["covers_criteria"]), milestones[0])


async def _follow_job(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], job_id: str, after: int
) -> str:
    replay = {**headers, "Last-Event-ID": str(after)}
    async with http.stream("GET", f"{path}/events", headers=replay) as response:
        response.raise_for_status()
        async for message in iter_sse(response):
            event = message.json()
            if event.get("job_id") != job_id:
                continue
            print(f"  {event['progress']:3d}%  {event['message']}")
            if message.event in ("feedback_ready", "failed"):
                return message.event
    return "failed"


def _wrapped(prefix: str, text: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=prefix, subsequent_indent=" " * len(prefix))


def _print_feedback(feedback: dict[str, Any]) -> None:
    scorecard = feedback["scorecard"]
    engine = feedback["generated_by"]
    kind = "heuristic" if engine["heuristic"] else engine.get("model") or "model"
    print(f"\n=== Feedback on {feedback['target']['type']} '{feedback['target']['title']}' ===")
    score = scorecard["readiness_score"]
    print(
        f"Readiness: {scorecard['overall_readiness'].replace('_', ' ')}"
        + (f" ({score}/100)" if score is not None else "")
        + f"  [engine: {engine['engine']}, {kind}]"
    )
    print("\nCriteria:")
    for criterion in scorecard["criterion_scores"]:
        points = ""
        if criterion["estimated_points"] is not None:
            points = f"  ~{criterion['estimated_points']:g}/{criterion['points_possible']:g}"
        print(f"  [{LEVELS[criterion['level']]}] {criterion['criterion']}{points}")
        detail = criterion["not_assessable_reason"] or criterion["rationale"]
        print(_wrapped("      ", detail))
    for heading, key in (
        ("Required fixes", "required_fixes"),
        ("Gaps", "gaps"),
        ("Strengths", "strengths"),
        ("Next actions", "next_actions"),
    ):
        if feedback[key]:
            print(f"\n{heading}:")
            for item in feedback[key]:
                print(_wrapped("  - ", f"{item['text']} ({item['location']})"))
    for notice in feedback["notices"]:
        print("\n" + _wrapped("Note: ", notice))


async def show_sample_feedback(
    http: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    plan: dict[str, Any],
    assignment_id: str,
) -> bool:
    """Submit the assignment's sample draft for one milestone and print the feedback;
    False if the feedback job failed."""
    sample = SAMPLE_DRAFTS.get(assignment_id)
    if sample is None:
        print("\n(No sample draft for this assignment: feedback is not shown.)")
        return True
    name, criterion_id = sample
    milestone = _milestone_for(plan, criterion_id)
    print(f"\nSubmitting fixtures/submissions/{name} as a draft for '{milestone['title']}'")
    after = (await http.get(path, headers=headers)).json()["last_event_id"]
    started = await http.post(
        f"{path}/milestones/{milestone['id']}/submissions/start",
        json={"text": (SAMPLES_DIR / name).read_text()},
        headers=headers,
    )
    started.raise_for_status()
    job_id = started.json()["id"]
    outcome = await _follow_job(http, path, headers, job_id, after)
    job = (await http.get(f"{path}/feedback/jobs/{job_id}", headers=headers)).json()
    if outcome != "feedback_ready":
        print(f"Feedback failed: {job.get('error')}")
        return False
    _print_feedback(job["feedback"])
    return True
