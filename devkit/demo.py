"""``canvas-workspace demo``: the whole product on one laptop, against a Canvas simulator.

Starts the simulator and the service on embedded defaults (a temporary SQLite database,
in-process jobs, the offline engine), onboards the simulator's demo student, starts
planning a sample assignment, draws the SSE progress as a bar, and prints the plan; then
submits a sample draft for one milestone and prints its feedback.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from devkit import demo_feedback, demo_oauth, demo_progress
from devkit.asgi_server import serve_in_background
from devkit.canvas_simulator import RunningSimulator, running_simulator
from devkit.sse_client import iter_sse
from server.app import create_app
from server.kernel.settings import Settings, ensure_secrets
from server.text.dates import format_day

DEMO_CANVAS_TOKEN = "demo-canvas-token-9001"  # noqa: S105 - the simulator's fixture token
TERMINAL = {"plan_ready", "failed"}
BAR_WIDTH = 30


def _bar(progress: int, label: str) -> str:
    filled = BAR_WIDTH * progress // 100
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {progress:3d}%  {label}"


def _show_progress(event: dict[str, Any]) -> None:
    kind = event.get("event_type")
    if kind == "snapshot":
        return
    if kind == "warning":
        print(f"\n  warning: {event.get('message')}", flush=True)
        return
    label = f"{event.get('stage') or kind}: {event.get('message', '')}"[:90]
    end = "\n" if kind in TERMINAL or not sys.stdout.isatty() else ""
    print(f"\r{_bar(int(event.get('progress') or 0), label):<130}", end=end, flush=True)


def _print_plan(plan: dict[str, Any]) -> None:
    summary = plan["assignment_summary"]
    print(f"\n=== {summary['title']} ===")
    print(f"Objective: {summary['objective']}")
    print(f"Success:   {summary['success_definition']}")
    if plan.get("time_zone"):
        print(f"Dates:     {plan['time_zone']['note']}")
    for heading, items in (
        ("Hard constraints", summary["hard_constraints"]),
        ("Grading signals", summary["grading_signals"]),
    ):
        print(f"\n{heading}:")
        for item in items:
            print(f"  - {item}")
    print("\nMilestones:")
    for milestone in plan["milestones"]:
        day = milestone.get("suggested_date")
        when = format_day(date.fromisoformat(day)) if day else "no date"
        print(
            f"  {milestone['order']}. {milestone['title']}  {when}  ({milestone['due_strategy']})"
        )
        for task in milestone["tasks"]:
            print(f"       - [{task['id']}] {task['title']} ({task['estimated_effort']})")
    print("\nRisks:")
    for risk in plan["risks"]:
        print(f"  - {risk['risk']} -> {risk['mitigation']}")
    print("\nFinal checklist:")
    for item in plan["submission_strategy"]["final_checklist"]:
        print(f"  [ ] {item}")
    verification = plan.get("verification") or {}
    print(
        f"\nVerified against the sources: {verification.get('grounded', 0)} grounded, "
        f"{len(verification.get('dropped', []))} dropped, "
        f"{len(verification.get('corrected', []))} corrected "
        f"(engine: {plan.get('generated_by', {}).get('engine')})"
    )


async def _follow_until_done(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> str:
    # Last-Event-ID 0 replays the job's events from its start, however fast it ran.
    replay = {**headers, "Last-Event-ID": "0"}
    async with http.stream("GET", f"{path}/events", headers=replay) as response:
        response.raise_for_status()
        async for message in iter_sse(response):
            event = message.json()
            _show_progress(event)
            if message.event in TERMINAL:
                return message.event
    return "failed"


def _settings(data_dir: str, simulator: RunningSimulator) -> Settings:
    return ensure_secrets(
        Settings(
            data_dir=Path(data_dir),
            database_url=None,
            redis_url=None,
            canvas_allow_local=True,
            llm_engine="offline",
            canvas_oauth_clients=simulator.oauth_clients_setting(),
        )
    )


async def _sign_in_with_token(
    http: httpx.AsyncClient, simulator: RunningSimulator
) -> dict[str, Any]:
    login = await http.post(
        "/auth/canvas",
        json={"canvas_base_url": simulator.base_url, "canvas_token": DEMO_CANVAS_TOKEN},
    )
    login.raise_for_status()
    body: dict[str, Any] = login.json()
    return body


async def run_demo(
    *,
    course_id: str,
    assignment_id: str,
    keep_running: bool,
    port: int,
    as_json: bool = False,
    oauth: bool = False,
) -> int:
    with tempfile.TemporaryDirectory(prefix="canvas-workspace-demo-") as data_dir:
        async with (
            running_simulator() as simulator,
            serve_in_background(
                create_app(_settings(data_dir, simulator)), port=port or None
            ) as api_url,
            httpx.AsyncClient(base_url=api_url, timeout=60) as http,
        ):
            print(f"Canvas simulator: {simulator.base_url}\nCanvas Workspace API: {api_url}")
            simulator.register_developer_key(f"{api_url}/auth/canvas/oauth/callback")
            if oauth:
                login = await demo_oauth.sign_in_with_oauth(http, simulator)
            else:
                login = await _sign_in_with_token(http, simulator)
            access_token = login["access_token"]
            headers = {"Authorization": f"Bearer {access_token}"}
            print(f"Signed in as {login['user']['name']}; planning assignment {assignment_id}")
            path = f"/assignments/{course_id}/{assignment_id}"
            (await http.post(f"{path}/start", headers=headers)).raise_for_status()
            outcome = await _follow_until_done(http, path, headers)
            if outcome != "plan_ready":
                workspace = (await http.get(path, headers=headers)).json()
                print(f"Planning failed: {workspace.get('last_error')}", file=sys.stderr)
                return 1
            plan = (await http.get(f"{path}/plan", headers=headers)).json()
            if as_json:
                print(json.dumps(plan, indent=2))
            else:
                _print_plan(plan)
                feedback_shown = await demo_feedback.show_sample_feedback(
                    http, path, headers, plan, assignment_id
                )
                if not feedback_shown:
                    return 1
                await demo_progress.show_progress_and_calendar(http, path, headers, plan)
            if oauth:
                demo_oauth.report_refreshes(simulator)
            if keep_running:
                print(
                    f"\nStill running. Try:\n  curl -H 'Authorization: Bearer {access_token}' "
                    f"{api_url}{path}\nPress Ctrl+C to stop."
                )
                await asyncio.Event().wait()
    return 0
