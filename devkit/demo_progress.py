"""The demo's progress part: tick a task, print the milestone dates, save the calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx

from server.text.dates import format_day


async def show_progress_and_calendar(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], plan: dict[str, Any]
) -> Path:
    """Ticks the plan's first task, prints each milestone's date and status, and writes the
    workspace's calendar feed to the current directory; returns the file written."""
    task = plan["milestones"][0]["tasks"][0]
    ticked = await http.patch(
        f"{path}/tasks/{task['id']}",
        json={"done": True, "plan_version": plan["plan_version"]},
        headers=headers,
    )
    ticked.raise_for_status()
    progress = ticked.json()
    print(f"\nTicked [{task['id']}] {task['title']}: the plan is {progress['progress']}% done.")
    schedule = plan.get("schedule") or {}
    print(f"Milestone dates ({schedule.get('time_zone', 'UTC')}): {schedule.get('note', '')}")
    titles = {milestone["id"]: milestone["title"] for milestone in plan["milestones"]}
    for milestone in progress["milestones"]:
        day = milestone["target_date"]
        when = format_day(date.fromisoformat(day)) if day else "no date"
        status = milestone["status"].replace("_", " ")
        print(f"  {when}  {titles[milestone['milestone_id']]} ({status}, {milestone['progress']}%)")

    feeds = (await http.post("/me/calendar-token", headers=headers)).raise_for_status().json()
    [feed] = [f for f in feeds["assignments"] if path.endswith(f"/{f['assignment_id']}")]
    calendar = await http.get(feed["calendar_url"])
    calendar.raise_for_status()
    written = Path.cwd() / f"canvas-workspace-{feed['course_id']}-{feed['assignment_id']}.ics"
    written.write_bytes(calendar.content)
    print(f"Calendar written to {written} (import it into any calendar app).")
    return written
