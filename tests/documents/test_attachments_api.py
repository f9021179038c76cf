"""Hostile and misnamed attachments through the whole product, over real HTTP: planning
stops what it must within the limits, keeps other jobs running, and the plan says which
sources it read and which it could not."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from devkit.canvas_simulator import RunningSimulator
from server.documents.extractor import DocumentExtractor
from server.documents.sniffing import DOCX, HTML, PDF
from server.kernel.settings import MIB
from tests.conftest import onboard_student, read_stream, wait_for_status

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"
ESSAY = "/assignments/101/1001"
TIMEOUT_SECONDS = 3.0


@asynccontextmanager
async def strict_extractor(runtime: Any, **limits: Any) -> AsyncIterator[DocumentExtractor]:
    """The API's extractor with tighter limits (and an empty cache) for one test."""
    original = runtime.extractor
    async with DocumentExtractor(replace(original.limits, **limits)) as extractor:
        runtime.extractor = extractor
        try:
            yield extractor
        finally:
            runtime.extractor = original


@contextmanager
def assignment_with_files(
    simulator: RunningSimulator, assignment_id: int, files: dict[int, tuple[str, str]]
) -> Iterator[str]:
    """A Canvas assignment in course 101 whose description links corpus files, given as
    file id -> (corpus file name, the content type Canvas declares)."""
    state = simulator.state
    links = "".join(
        f'<li><a href="$CANVAS_BASE/courses/101/files/{file_id}/download">{name}</a></li>'
        for file_id, (name, _) in files.items()
    )
    state.assignments[assignment_id] = {
        **state.assignments[1001],
        "id": assignment_id,
        "name": f"Assignment {assignment_id}",
        "description": f"<p>Read every attached file before you start.</p><ul>{links}</ul>",
        "rubric": [],
    }
    for file_id, (name, content_type) in files.items():
        state.files[file_id] = {
            "id": file_id,
            "course_id": 101,
            "display_name": name,
            "filename": name,
            "content-type": content_type,
        }
        state.file_bytes[file_id] = (CORPUS / name).read_bytes()
    try:
        yield f"/assignments/101/{assignment_id}"
    finally:
        del state.assignments[assignment_id]
        for file_id in files:
            del state.files[file_id]
            del state.file_bytes[file_id]


def warning_codes(events: list[Any]) -> dict[str, str]:
    warnings = [event.json()["warning"] for event in events if event.event == "warning"]
    return {warning["file_name"]: warning["code"] for warning in warnings}


async def test_hostile_files_are_stopped_within_limits_while_another_job_runs(
    client, api, simulator, student
):
    hostile_files = {
        99011: ("zip_bomb.docx", DOCX),
        99012: ("memory_hog.pdf", PDF),
        99013: ("slow_pathological.pdf", PDF),
    }
    other = await onboard_student(client, simulator)
    async with strict_extractor(
        api.runtime, timeout_seconds=TIMEOUT_SECONDS, max_memory_bytes=256 * MIB
    ):
        with assignment_with_files(simulator, 9901, hostile_files) as hostile:
            started = time.monotonic()
            assert (await client.post(f"{hostile}/start", headers=student.headers)).is_success
            assert (await client.post(f"{ESSAY}/start", headers=other.headers)).is_success

            essay = await wait_for_status(client, ESSAY, other.headers, {"ready", "failed"})
            hostile_meanwhile = (await client.get(hostile, headers=student.headers)).json()
            events = await read_stream(client, f"{hostile}/events", headers=student.headers)
            elapsed = time.monotonic() - started
            plan = (await client.get(f"{hostile}/plan", headers=student.headers)).json()

    # The essay was planned while the hostile job was still stuck on its slow PDF.
    assert essay["status"] == "ready"
    assert hostile_meanwhile["status"] == "running"
    # Each hostile file was stopped by its own limit, and planning went on without them.
    assert events[-1].event == "plan_ready"
    assert warning_codes(events) == {
        "zip_bomb.docx": "zip_bomb",
        "memory_hog.pdf": "memory_limit",
        "slow_pathological.pdf": "timeout",
    }
    # Zip bomb at once, memory within a second, the slow PDF at its time limit; the rest
    # is starting worker processes and planning.
    assert elapsed < TIMEOUT_SECONDS + 6
    assert [(s["name"], s["status"]) for s in plan["sources"]] == [
        ("Assignment description", "read"),
        ("zip_bomb.docx", "unreadable"),
        ("memory_hog.pdf", "unreadable"),
        ("slow_pathological.pdf", "unreadable"),
    ]


async def test_the_plan_lists_what_it_read_and_what_it_could_not(client, api, simulator, student):
    files = {
        99021: ("course_syllabus.pdf", PDF),  # 3 pages, over the limit of 2
        99022: ("reading_list.pdf", PDF),  # a Word document under a PDF name and type
        99023: ("encrypted_handout.pdf", PDF),
        99024: ("handout_photo.pdf", PDF),  # a PNG image
    }
    async with strict_extractor(api.runtime, max_pdf_pages=2):
        with assignment_with_files(simulator, 9902, files) as path:
            assert (await client.post(f"{path}/start", headers=student.headers)).is_success
            events = await read_stream(client, f"{path}/events", headers=student.headers)
            plan = (await client.get(f"{path}/plan", headers=student.headers)).json()
            snapshot = (await client.get(path, headers=student.headers)).json()

    assert events[-1].event == "plan_ready"
    assert warning_codes(events) == {
        "course_syllabus.pdf": "truncated",
        "reading_list.pdf": "type_mismatch",
        "encrypted_handout.pdf": "encrypted",
        "handout_photo.pdf": "unsupported_type",
    }
    recorded = {w["source_id"]: w["code"] for w in snapshot["latest_plan_job"]["warnings"]}
    assert recorded == {
        "file:99021": "truncated",
        "file:99022": "type_mismatch",
        "file:99023": "encrypted",
        "file:99024": "unsupported_type",
    }
    mismatch = (
        "Its name or declared type says a PDF, but the content is a Word document; "
        "it was read as a Word document."
    )
    assert plan["sources"] == [
        {
            "source_id": "description",
            "name": "Assignment description",
            "content_type": HTML,
            "status": "read",
            "reason": None,
        },
        {
            "source_id": "file:99021",
            "name": "course_syllabus.pdf",
            "content_type": PDF,
            "status": "truncated",
            "reason": "Only the first 2 of 3 pages were read (the page limit).",
        },
        {
            "source_id": "file:99022",
            "name": "reading_list.pdf",
            "content_type": DOCX,
            "status": "read",
            "reason": mismatch,
        },
        {
            "source_id": "file:99023",
            "name": "encrypted_handout.pdf",
            "content_type": None,
            "status": "unreadable",
            "reason": "encrypted_handout.pdf: The PDF is password-protected, so its text "
            "cannot be read.",
        },
        {
            "source_id": "file:99024",
            "name": "handout_photo.pdf",
            "content_type": None,
            "status": "unreadable",
            "reason": "handout_photo.pdf: The file is a PNG image, which is not supported; "
            "only PDF, Word (.docx), HTML, Markdown and plain text files are read.",
        },
    ]
