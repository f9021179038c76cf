"""Row 6, cost: the model calls and tokens one plan and one feedback take for each sample
assignment (as recorded on the job), against the tokens of what the model must read at
least: the assignment's sources for a plan, the draft for feedback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.figures import Row
from bench.pipeline import FOLLOW_SECONDS, POLL_SECONDS, plan
from bench.setups import Setup, TimedSimulator
from models.context import SourceContext
from server.llm.prompts import estimate_tokens
from server.text.grounding import rubric_text

SUBMISSIONS = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
# The fixture drafts: the pitch script for the presentation, the essay outline elsewhere.
DRAFTS = {"1005": SUBMISSIONS / "pitch_script.md"}
DEFAULT_DRAFT = SUBMISSIONS / "essay_outline.md"


def draft_for(assignment_id: str) -> Path:
    return DRAFTS.get(assignment_id, DEFAULT_DRAFT)


async def feedback_on(
    http: httpx.AsyncClient, setup: Setup, course_id: str, assignment_id: str
) -> tuple[str, dict[str, Any]]:
    """Ask for feedback on the fixture draft for the whole assignment and wait for it;
    returns the job's id and its Feedback JSON."""
    path = f"/assignments/{course_id}/{assignment_id}"
    text = await asyncio.to_thread(draft_for(assignment_id).read_text, encoding="utf-8")
    answer = await http.post(
        f"{path}/submissions/start", json={"text": text}, headers=setup.headers
    )
    job_id = str(answer.raise_for_status().json()["id"])
    async with asyncio.timeout(FOLLOW_SECONDS):
        while True:
            job = (
                (await http.get(f"{path}/feedback/jobs/{job_id}", headers=setup.headers))
                .raise_for_status()
                .json()
            )
            if job["status"] in ("succeeded", "failed", "cancelled"):
                if job["status"] != "succeeded":
                    raise RuntimeError(f"feedback on {path} ended {job['status']}: {job['error']}")
                return job_id, dict(job["feedback"])
            await asyncio.sleep(POLL_SECONDS)


async def offline_feedback(setup: Setup, sim: TimedSimulator) -> dict[str, dict[str, Any]]:
    """Assignment title -> the feedback the offline engine gives on its fixture draft."""
    titles = {str(a["id"]): str(a["name"]) for a in sim.canvas.state.assignments.values()}
    given = {}
    async with httpx.AsyncClient(base_url=setup.api, timeout=30) as http:
        for course_id, assignment_id in sim.sample_assignments():
            await plan(http, setup, f"/assignments/{course_id}/{assignment_id}", reprocess=False)
            _, feedback = await feedback_on(http, setup, course_id, assignment_id)
            given[titles[assignment_id]] = feedback
    return given


async def _llm_usage(database_url: str, job_id: str) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(database_url)
    try:
        usage = await connection.fetchval(
            "SELECT llm_usage FROM processing_jobs WHERE id = $1::uuid", job_id
        )
    finally:
        await connection.close()
    return list(json.loads(usage))


def _spent(calls: list[dict[str, Any]]) -> str:
    prompt = sum(call["prompt_tokens"] for call in calls)
    completion = sum(call["completion_tokens"] for call in calls)
    return f"{len(calls)} call{'s' if len(calls) != 1 else ''}, {prompt:,} in + {completion:,} out"


def _times(spent: int, baseline: int) -> str:
    """``spent`` as a multiple of ``baseline``; an assignment Canvas locks has no text at all."""
    return f"{spent / baseline:.1f}×" if baseline else "- (no text to compare with)"


def source_tokens(context: SourceContext) -> int:
    """Tokens of the assignment's own material: its documents and its rubric."""
    texts = [document.text for document in context.documents] + [rubric_text(context)]
    return sum(estimate_tokens(text) for text in texts)


async def cost_rows(setup: Setup, sim: TimedSimulator, contexts: list[SourceContext]) -> list[Row]:
    """One plan and one feedback per sample assignment on ``setup`` (an LLM engine)."""
    assert setup.database_url is not None, "the cost is read from the jobs in PostgreSQL"
    by_title = {context.assignment.title: context for context in contexts}
    rows = []
    async with httpx.AsyncClient(base_url=setup.api, timeout=30) as http:
        for course_id, assignment_id in sim.sample_assignments():
            path = f"/assignments/{course_id}/{assignment_id}"
            plan_job = await plan(http, setup, path, reprocess=True)
            feedback_job, feedback = await feedback_on(http, setup, course_id, assignment_id)
            planning = await _llm_usage(setup.database_url, plan_job)
            reviewing = await _llm_usage(setup.database_url, feedback_job)
            title = feedback["target"]["title"]
            draft = await asyncio.to_thread(draft_for(assignment_id).read_text, encoding="utf-8")
            sources, submission = source_tokens(by_title[title]), estimate_tokens(draft)
            plan_in = sum(call["prompt_tokens"] for call in planning)
            feedback_in = sum(call["prompt_tokens"] for call in reviewing)
            rows.append(
                Row(
                    f"6. cost, {title}",
                    f"plan: {_spent(planning)} tokens; feedback: {_spent(reviewing)} tokens",
                    f"sources {sources:,} tokens; draft {submission:,} tokens",
                    f"plan input {_times(plan_in, sources)}, feedback input "
                    f"{_times(feedback_in, submission)}",
                )
            )
    return rows


def prefix_rows(prefixes: dict[str, tuple[int, int, float]]) -> list[Row]:
    """The cacheable part of each kind of model call: its fixed prefix (schema,
    instructions), byte-identical across the run's calls, against the whole prompt."""
    return [
        Row(
            f"6. cost, fixed prompt prefix of {answer_type} calls",
            f"{prefix:,} tokens, byte-identical across all {calls} calls",
            f"whole prompt p50 {median:,.0f} tokens",
            f"{100 * prefix / median:.0f}% cacheable",
        )
        for answer_type, (prefix, calls, median) in sorted(prefixes.items())
    ]
