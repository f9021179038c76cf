"""The labelled corpus of real assignments in ``fixtures/corpus/``: loading it, casting it as
Canvas state for the simulator, and reading it in-process as the planning pipeline would.

Each assignment is a folder under ``fixtures/corpus/assignments/``: ``assignment.yaml`` (the
source, its licence, the Canvas fields, the description HTML, an attachment's text) and
``labels.yaml`` (the hard constraints and the distractors, labelled by hand from the text).
Attachments are generated into ``fixtures/corpus/files/`` by ``fixtures/make_corpus.py``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from devkit.canvas_simulator import DEFAULT_FIXTURES_DIR, SimulatorState, resolve_date
from models.context import (
    DESCRIPTION_SOURCE_ID,
    AssignmentFacts,
    RubricCriterion,
    RubricRating,
    SourceContext,
    SourceDocument,
    TextSegment,
)
from server.documents.extraction import extract_text_sync
from server.documents.limits import ExtractionLimits
from server.documents.text_files import html_to_text

CORPUS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
ASSIGNMENTS_DIR = CORPUS_DIR / "assignments"
FILES_DIR = CORPUS_DIR / "files"
FIRST_COURSE_ID = 3001
FIRST_FILE_ID = 7001
ASSIGNMENT_ID_OFFSET = 10  # assignment id = course id * 10 + 1: one assignment per course
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# Generous limits: the corpus files are small; the service applies its own settings.
_LIMITS = ExtractionLimits(
    max_file_bytes=10_000_000,
    max_pdf_pages=50,
    max_chars=500_000,
    timeout_seconds=30.0,
    max_docx_uncompressed_bytes=50_000_000,
    max_compression_ratio=100,
    max_memory_bytes=512_000_000,
)

Split = Literal["development", "held-out"]
ConstraintKind = Literal[
    "length",
    "sources",
    "citation_style",
    "format",
    "deadline",
    "submission",
    "sections",
    "required_element",
    "collaboration",
    "ai_policy",
    "audience",
]
KINDS: tuple[str, ...] = get_args(ConstraintKind)


@dataclass(frozen=True)
class Label:
    """A labelled stretch of the source: a hard constraint (with its kind) or a distractor."""

    quote: str
    source: Literal["description", "attachment"] = "description"
    kind: str | None = None


@dataclass(frozen=True)
class Attachment:
    name: str
    text: str  # lines: "# title", "## heading", "- item", or a paragraph

    @property
    def path(self) -> Path:
        return FILES_DIR / self.name


@dataclass
class CorpusAssignment:
    slug: str
    title: str
    field: str
    kinds: list[str]
    split: Split
    source: dict[str, str]
    course: dict[str, str]
    canvas: dict[str, Any]
    description_html: str
    attachment: Attachment | None
    rubric: list[dict[str, Any]]
    constraints: list[Label]
    distractors: list[Label]
    course_id: int = 0
    file_id: int | None = None
    # Which held-out part ("session 8"): each is measured once with the engine of its day,
    # and its figures are followed apart (fixtures/corpus/README.md).
    held_out_part: str | None = None

    @property
    def assignment_id(self) -> int:
        return self.course_id * ASSIGNMENT_ID_OFFSET + 1

    @property
    def description(self) -> str:
        """The description HTML with this assignment's course and file ids filled in."""
        html = self.description_html.replace("$COURSE", str(self.course_id))
        return html.replace("$FILE", str(self.file_id or ""))

    def source_text(self, source: str) -> str:
        """The text a label's ``source`` names, as the author wrote it."""
        if source == "attachment":
            if self.attachment is None:
                raise ValueError(f"{self.slug}: a label names an attachment it does not have")
            return attachment_plain_text(self.attachment.text)
        return html_to_text(self.description)


def attachment_plain_text(text: str) -> str:
    """The attachment's text without its layout marks (what a reader of the file sees)."""
    lines = []
    for line in text.splitlines():
        for mark in ("## ", "# "):
            if line.startswith(mark):
                line = line[len(mark) :]
                break
        lines.append(line)
    return "\n".join(lines)


def _labels(raw: list[dict[str, Any]] | None) -> list[Label]:
    return [
        Label(
            quote=str(item["quote"]),
            source=item.get("source", "description"),
            kind=item.get("kind"),
        )
        for item in raw or []
    ]


def load_corpus(assignments_dir: Path = ASSIGNMENTS_DIR) -> list[CorpusAssignment]:
    """Every corpus assignment, in a stable order, with its Canvas ids."""
    corpus = []
    file_id = FIRST_FILE_ID
    for index, folder in enumerate(sorted(p for p in assignments_dir.iterdir() if p.is_dir())):
        meta = yaml.safe_load((folder / "assignment.yaml").read_text(encoding="utf-8"))
        labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
        attachment = meta.get("attachment")
        entry = CorpusAssignment(
            slug=folder.name,
            title=meta["title"],
            field=meta["field"],
            kinds=list(meta["kind"]),
            split=meta["split"],
            source=meta["source"],
            course=meta["course"],
            canvas=meta["canvas"],
            description_html=meta["description_html"],
            attachment=Attachment(attachment["name"], attachment["text"]) if attachment else None,
            rubric=list(meta.get("rubric") or []),
            constraints=_labels(labels.get("constraints")),
            distractors=_labels(labels.get("distractors")),
            course_id=FIRST_COURSE_ID + index,
            held_out_part=meta.get("held_out_part"),
        )
        if entry.attachment is not None:
            entry.file_id = file_id
            file_id += 1
        corpus.append(entry)
    return corpus


# ----- Canvas-shaped JSON, as fixtures/canvas/*.json has it -------------------------------


def _rubric(entry: CorpusAssignment) -> list[dict[str, Any]]:
    criteria = []
    for number, item in enumerate(entry.rubric, start=1):
        criterion_id = f"_{entry.assignment_id}_{number}"
        points = float(item["points"])
        criteria.append(
            {
                "id": criterion_id,
                "description": item["description"],
                "long_description": item.get("long_description", ""),
                "points": points,
                "criterion_use_range": False,
                "ratings": [
                    {
                        "id": f"{criterion_id}_full",
                        "description": "Full marks",
                        "long_description": "",
                        "points": points,
                    },
                    {
                        "id": f"{criterion_id}_none",
                        "description": "No marks",
                        "long_description": "",
                        "points": 0.0,
                    },
                ],
            }
        )
    return criteria


def canvas_assignment(entry: CorpusAssignment) -> dict[str, Any]:
    """The assignment as Canvas's API serializes it (``lib/api/v1/assignment.rb``)."""
    canvas = entry.canvas
    rubric = _rubric(entry)
    return {
        "id": entry.assignment_id,
        "course_id": entry.course_id,
        "name": entry.title,
        "position": 1,
        "assignment_group_id": entry.course_id * ASSIGNMENT_ID_OFFSET,
        "description": entry.description,
        "due_at": canvas.get("due_at"),
        "unlock_at": canvas.get("unlock_at", "-7d"),
        "lock_at": canvas.get("lock_at"),
        "points_possible": canvas.get("points_possible"),
        "submission_types": canvas.get("submission_types", ["online_upload"]),
        "allowed_extensions": canvas.get("allowed_extensions", []),
        "rubric": rubric or None,
        "rubric_settings": (
            {
                "id": entry.assignment_id,
                "title": f"{entry.title} Rubric",
                "points_possible": sum(c["points"] for c in rubric),
                "free_form_criterion_comments": False,
                "hide_score_total": False,
                "hide_points": False,
            }
            if rubric
            else None
        ),
        "use_rubric_for_grading": bool(rubric),
        "grading_type": "points",
        "published": True,
        "workflow_state": "published",
        "has_submitted_submissions": False,
        "muted": False,
        "only_visible_to_overrides": False,
        "locked_for_user": False,
        "peer_reviews": False,
        "group_category_id": None,
    }


def _course(entry: CorpusAssignment) -> dict[str, Any]:
    return {
        "id": entry.course_id,
        "name": entry.course["name"],
        "course_code": entry.course["code"],
        "workflow_state": "available",
        "account_id": 1,
        "enrollment_term_id": 7,
        "start_at": "-30d",
        "end_at": "+90d",
        "time_zone": entry.course["time_zone"],
        "default_view": "modules",
        "public_description": entry.source["course"],
    }


def _file(entry: CorpusAssignment) -> dict[str, Any] | None:
    if entry.attachment is None or entry.file_id is None:
        return None
    name = entry.attachment.name
    return {
        "id": entry.file_id,
        "course_id": entry.course_id,
        "folder_id": entry.course_id,
        "display_name": name,
        "filename": name,
        "content-type": CONTENT_TYPES[Path(name).suffix],
        "mime_class": Path(name).suffix.lstrip(".").replace("docx", "doc"),
        "created_at": "-20d",
        "updated_at": "-20d",
    }


def corpus_state(corpus: list[CorpusAssignment] | None = None) -> SimulatorState:
    """Simulator state serving every corpus assignment (one course each), its file, and the
    simulator's usual users."""
    corpus = corpus if corpus is not None else load_corpus()
    users_raw = json.loads((DEFAULT_FIXTURES_DIR / "users.json").read_text(encoding="utf-8"))
    users = {u["token"]: {k: v for k, v in u.items() if k != "token"} for u in users_raw}
    files = {f["id"]: f for f in (_file(entry) for entry in corpus) if f is not None}
    return SimulatorState(
        users_by_token=users,
        courses={entry.course_id: _course(entry) for entry in corpus},
        assignments={entry.assignment_id: canvas_assignment(entry) for entry in corpus},
        assignment_groups={
            entry.course_id: [
                {
                    "id": entry.course_id * ASSIGNMENT_ID_OFFSET,
                    "name": "Assignments",
                    "position": 1,
                    "group_weight": 100.0,
                    "sis_source_id": None,
                    "integration_data": {},
                    "rules": {},
                }
            ]
            for entry in corpus
        },
        files=files,
        files_dir=FILES_DIR,
    )


# ----- In-process: the SourceContext the pipeline would build ------------------------------


def _parse(value: Any, now: datetime) -> datetime | None:
    resolved = resolve_date(value, now)
    return datetime.fromisoformat(resolved.replace("Z", "+00:00")) if resolved else None


def source_context(entry: CorpusAssignment, now: datetime | None = None) -> SourceContext:
    """What stage 2 of the planning pipeline gives the engine for this assignment, built
    without HTTP: the description's text and the attachment's text as the service's own
    extractor reads them."""
    now = now or datetime.now(UTC)
    raw = canvas_assignment(entry)
    text = html_to_text(raw["description"])
    html = raw["description"].encode()
    documents = [
        SourceDocument(
            source_id=DESCRIPTION_SOURCE_ID,
            name="Assignment description",
            content_type="text/html",
            byte_size=len(html),
            sha256=hashlib.sha256(html).hexdigest(),
            text=text,
            segments=[TextSegment(start=0, end=len(text))],
        )
    ]
    if entry.attachment is not None:
        data = entry.attachment.path.read_bytes()
        extracted = extract_text_sync(data, _LIMITS, entry.attachment.name)
        documents.append(
            SourceDocument(
                source_id=f"file:{entry.file_id}",
                name=entry.attachment.name,
                content_type=extracted.content_type,
                byte_size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                text=extracted.text,
                segments=extracted.segments,
            )
        )
    facts = AssignmentFacts(
        course_id=str(entry.course_id),
        assignment_id=str(entry.assignment_id),
        course_name=entry.course["name"],
        course_code=entry.course["code"],
        title=entry.title,
        due_at=_parse(raw["due_at"], now),
        unlock_at=_parse(raw["unlock_at"], now),
        lock_at=_parse(raw["lock_at"], now),
        points_possible=raw["points_possible"],
        submission_types=raw["submission_types"],
        allowed_extensions=raw["allowed_extensions"],
        group_name="Assignments",
        group_weight=100.0,
        time_zone=entry.course["time_zone"],
    )
    rubric = [
        RubricCriterion(
            id=c["id"],
            description=c["description"],
            long_description=c["long_description"],
            points=c["points"],
            ratings=[
                RubricRating(description=r["description"], points=r["points"]) for r in c["ratings"]
            ],
        )
        for c in raw["rubric"] or []
    ]
    return SourceContext(assignment=facts, rubric=rubric, documents=documents, fetched_at=now)


__all__ = [
    "ASSIGNMENTS_DIR",
    "CORPUS_DIR",
    "FILES_DIR",
    "KINDS",
    "Attachment",
    "CorpusAssignment",
    "Label",
    "attachment_plain_text",
    "canvas_assignment",
    "corpus_state",
    "load_corpus",
    "source_context",
]
