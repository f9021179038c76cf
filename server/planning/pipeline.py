"""The planning pipeline: six named stages from a Canvas assignment to a verified plan.

Each stage is a small function with a typed input and output; ``plan_assignment`` runs
them in order, reporting progress through the job's :class:`JobContext`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models.canvas_changes import CanvasFingerprint
from models.context import (
    DESCRIPTION_SOURCE_ID,
    AssignmentFacts,
    ContextWarning,
    Requirements,
    RubricCriterion,
    RubricSettings,
    SourceContext,
    SourceDocument,
    TextSegment,
)
from models.db import AssignmentWorkspace, PlanVersion
from models.plan import Plan, PlanSource
from server.accounts.users import canvas_client_for
from server.canvas.client import CANVAS_UNAUTHORIZED, CanvasClient, CanvasError
from server.canvas.description import read_description
from server.documents.failures import ExtractionFailed
from server.documents.sniffing import HTML, type_mismatch
from server.documents.text_files import html_to_text
from server.events.job_context import JobContext
from server.events.service import events_after_commit
from server.events.types import EventType
from server.llm.session import DraftPreview, EngineSession, usage_totals
from server.planning import canvas_facts
from server.planning.ai_policy import apply_ai_policy
from server.planning.claim_repair import verify_with_repair
from server.planning.fingerprint import take_fingerprint
from server.planning.milestone_dates import schedule_milestones
from server.runtime import Runtime
from server.text.ai_policy import recognize_ai_policy
from server.text.dates import clock_for
from server.text.language import choose_language
from server.tracking.service import carry_progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CanvasAssignment:
    """Stage 1's output: Canvas's facts, the rubric, and the description as fetched."""

    facts: AssignmentFacts
    rubric: list[RubricCriterion]
    description_html: str
    file_ids: list[str]
    fingerprint: CanvasFingerprint  # what a later resume compares with Canvas
    rubric_settings: RubricSettings | None = None
    page_urls: tuple[str, ...] = ()  # Pages of the same course the description links to
    embeds: tuple[str, ...] = ()  # addresses of embedded content that cannot be read
    warnings: tuple[ContextWarning, ...] = ()  # what of Canvas's answers could not be used


async def _profile_time_zone(canvas: CanvasClient) -> tuple[str | None, list[ContextWarning]]:
    """The student's own time zone from their Canvas profile. A profile Canvas will not
    give (a revoked token aside) is a warning: dates then follow the course's zone."""
    try:
        profile = await canvas.get_profile()
    except CanvasError as exc:
        if exc.code == CANVAS_UNAUTHORIZED:
            raise
        return None, [
            ContextWarning(
                code="time_zone_unavailable",
                message=f"Your Canvas profile could not be read ({exc.message}), so dates "
                "follow the course's time zone instead of yours.",
            )
        ]
    zone = profile.get("time_zone")
    return (zone if isinstance(zone, str) else None), []


async def fetch_canvas_context(
    canvas: CanvasClient, course_id: str, assignment_id: str
) -> CanvasAssignment:
    course = await canvas.get_course(course_id)
    assignment = await canvas.get_assignment(course_id, assignment_id)
    groups = await canvas.list_assignment_groups(course_id)
    user_time_zone, warnings = await _profile_time_zone(canvas)
    group = next((g for g in groups if g.get("id") == assignment.get("assignment_group_id")), None)
    description_html = canvas_facts.instructions_html(assignment)
    settings = canvas_facts.rubric_settings(assignment.get("rubric_settings"))
    links = read_description(description_html, canvas.base_url, course_id)
    facts = AssignmentFacts(
        course_id=course_id,
        assignment_id=assignment_id,
        course_name=course.get("name"),
        course_code=course.get("course_code"),
        title=str(assignment.get("name") or f"Assignment {assignment_id}"),
        due_at=canvas_facts.parse_time(assignment.get("due_at")),
        unlock_at=canvas_facts.parse_time(assignment.get("unlock_at")),
        lock_at=canvas_facts.parse_time(assignment.get("lock_at")),
        points_possible=assignment.get("points_possible"),
        submission_types=list(assignment.get("submission_types") or []),
        allowed_extensions=list(assignment.get("allowed_extensions") or []),
        group_name=group.get("name") if group else None,
        group_weight=group.get("group_weight") if group else None,
        html_url=assignment.get("html_url"),
        time_zone=course.get("time_zone"),
        lock=canvas_facts.lock(assignment),
        grading_type=assignment.get("grading_type"),
        is_quiz=bool(assignment.get("is_quiz_assignment")),
        is_new_quiz=bool(assignment.get("is_quiz_lti_assignment")),
        external_tool_url=canvas_facts.external_tool_url(assignment),
        group_category_id=_optional_id(assignment.get("group_category_id")),
        discussion=canvas_facts.discussion(assignment),
        user_time_zone=user_time_zone,
        updated_at=canvas_facts.parse_time(assignment.get("updated_at")),
    )
    clock = clock_for(facts)
    warnings += [
        ContextWarning(code="time_zone_unknown", message=message) for message in clock.rejections()
    ]
    files = canvas_facts.topic_files(assignment)  # id -> name, the topic's files first
    for file_id in links.file_ids:
        files[file_id] = files.get(file_id) or links.file_names.get(file_id, "")
    return CanvasAssignment(
        facts=facts,
        rubric=canvas_facts.rubric(assignment.get("rubric"), settings),
        description_html=description_html,
        file_ids=list(files),
        fingerprint=take_fingerprint(assignment, facts, files, clock),
        rubric_settings=settings,
        page_urls=tuple(links.page_urls),
        embeds=tuple(links.embeds),
        warnings=tuple(warnings),
    )


def _optional_id(value: Any) -> str | None:
    return None if value is None else str(value)


def _description_document(html: str) -> SourceDocument:
    text = html_to_text(html)
    raw = html.encode()
    return SourceDocument(
        source_id=DESCRIPTION_SOURCE_ID,
        name="Assignment description",
        content_type=HTML,
        byte_size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        segments=[TextSegment(start=0, end=len(text))],
    )


class AttachmentFetcher:
    """Downloads and parses the description's files within the per-assignment limits;
    a file that cannot be used becomes a warning and the rest goes on."""

    def __init__(self, rt: Runtime, canvas: CanvasClient, ctx: JobContext) -> None:
        self.settings = rt.settings
        self.extractor = rt.extractor
        self.canvas = canvas
        self.ctx = ctx
        self.bytes_left = rt.settings.attachment_max_total_bytes
        self.warnings: list[ContextWarning] = []

    async def _unreadable(
        self, file_id: str, code: str, message: str, file_name: str | None
    ) -> None:
        await self._warn(
            ContextWarning(
                code=code, message=message, file_name=file_name, source_id=f"file:{file_id}"
            )
        )

    async def _notice(self, document: SourceDocument, code: str, message: str) -> None:
        """A warning about a file that was read: the job records it, the plan's sources
        say it, but the file is not among the context's unreadable ones."""
        notice = ContextWarning(
            code=code,
            message=f"{document.name}: {message}",
            file_name=document.name,
            source_id=document.source_id,
        )
        await self.ctx.warn(notice.model_dump())

    async def fetch(self, file_id: str) -> SourceDocument | None:
        try:
            meta = await self.canvas.get_file(file_id)
        except CanvasError as exc:
            await self._unreadable(
                file_id, exc.code, f"File {file_id} could not be fetched: {exc.message}", None
            )
            return None
        name = str(meta.get("display_name") or meta.get("filename") or f"file {file_id}")
        refusal = canvas_facts.file_refusal(meta)
        if refusal is not None:
            code = "canvas_file_locked" if meta.get("locked_for_user") else "canvas_file_withheld"
            message = f"{name}: Canvas will not let you download this file: {refusal}"
            await self._unreadable(file_id, code, message, name)
            return None
        limit = min(self.settings.attachment_max_file_bytes, self.bytes_left)
        size = meta.get("size")
        if isinstance(size, int) and size > limit:
            await self._unreadable(
                file_id, "too_large", f"{name} was skipped: {size} bytes is over the limit", name
            )
            return None
        try:
            data = await self.canvas.download(str(meta.get("url") or ""), max_bytes=limit)
        except CanvasError as exc:
            await self._unreadable(
                file_id, exc.code, f"{name} could not be downloaded: {exc.message}", name
            )
            return None
        self.bytes_left -= len(data)
        declared_type = meta.get("content-type")
        try:
            document = await self.extractor.extract(
                source_id=f"file:{file_id}",
                name=name,
                data=data,
                declared_type=str(declared_type) if declared_type else None,
            )
        except ExtractionFailed as exc:
            await self._unreadable(file_id, exc.code, f"{name}: {exc.message}", name)
            return None
        mismatch = type_mismatch(name, document.declared_type, document.content_type)
        if mismatch:
            await self._notice(document, "type_mismatch", mismatch)
        if document.truncated_reason:
            await self._notice(document, "truncated", document.truncated_reason)
        return document

    async def fetch_page(self, course_id: str, page_url: str) -> SourceDocument | None:
        """A Page of the course, read like an HTML file within the same limits."""
        source_id = f"page:{page_url}"
        try:
            page = await self.canvas.get_page(course_id, page_url)
        except CanvasError as exc:
            message = f"Page '{page_url}' could not be fetched: {exc.message}"
            await self._warn(ContextWarning(code=exc.code, message=message, source_id=source_id))
            return None
        name = str(page.get("title") or page_url)
        body = page.get("body")
        if page.get("locked_for_user") or not isinstance(body, str):
            reason = canvas_facts.lock_text(page.get("lock_explanation")) or "it has no body"
            message = f"{name}: Canvas will not show this page: {reason}"
            code = "canvas_page_locked" if page.get("locked_for_user") else "no_text"
            await self._warn(
                ContextWarning(code=code, message=message, file_name=name, source_id=source_id)
            )
            return None
        data = body.encode()
        if len(data) > min(self.settings.attachment_max_file_bytes, self.bytes_left):
            message = f"{name} was skipped: {len(data)} bytes is over the limit"
            await self._warn(
                ContextWarning(
                    code="too_large", message=message, file_name=name, source_id=source_id
                )
            )
            return None
        self.bytes_left -= len(data)
        try:
            return await self.extractor.extract(
                source_id=source_id, name=name, data=data, declared_type=HTML
            )
        except ExtractionFailed as exc:
            await self._warn(
                ContextWarning(
                    code=exc.code,
                    message=f"{name}: {exc.message}",
                    file_name=name,
                    source_id=source_id,
                )
            )
            return None

    async def _warn(self, warning: ContextWarning) -> None:
        self.warnings.append(warning)
        await self.ctx.warn(warning.model_dump())

    async def fetch_all(
        self, file_ids: list[str], course_id: str = "", page_urls: tuple[str, ...] = ()
    ) -> list[SourceDocument]:
        """The files, then the Pages, at most ``attachment_max_files`` of them together."""
        sources = [("file", file_id) for file_id in file_ids]
        sources += [("page", page_url) for page_url in page_urls]
        allowed = sources[: self.settings.attachment_max_files]
        for kind, skipped in sources[len(allowed) :]:
            what = "File" if kind == "file" else "Page"
            await self._warn(
                ContextWarning(
                    code="too_many_files",
                    message=f"{what} {skipped} was skipped: at most {len(allowed)} files "
                    "and pages are read",
                    source_id=f"{kind}:{skipped}",
                )
            )
        documents = [
            await (self.fetch(key) if kind == "file" else self.fetch_page(course_id, key))
            for kind, key in allowed
        ]
        return [document for document in documents if document is not None]

    async def warn_unreadable_embeds(self, embeds: tuple[str, ...]) -> None:
        """Embedded content (a video, a Google Doc in an iframe) cannot be read: say so."""
        for address in embeds:
            await self._warn(
                ContextWarning(
                    code="embedded_content",
                    message=f"The description embeds {address}; its content cannot be read "
                    "here, so open it in Canvas",
                    file_name=address,
                    source_id=f"embed:{address}",
                )
            )

    async def warn_withheld_instructions(self, facts: AssignmentFacts) -> None:
        if facts.lock is not None and facts.lock.instructions_withheld:
            await self._warn(
                ContextWarning(
                    code="instructions_locked",
                    message=f"Canvas withholds the instructions: {facts.lock.explanation}",
                )
            )


async def fetch_and_parse_attachments(
    fetcher: AttachmentFetcher, assignment: CanvasAssignment
) -> SourceContext:
    documents = [_description_document(assignment.description_html)]
    await fetcher.warn_withheld_instructions(assignment.facts)
    documents += await fetcher.fetch_all(
        assignment.file_ids, assignment.facts.course_id, assignment.page_urls
    )
    await fetcher.warn_unreadable_embeds(assignment.embeds)
    return SourceContext(
        assignment=assignment.facts,
        rubric=assignment.rubric,
        rubric_settings=assignment.rubric_settings,
        documents=documents,
        warnings=[*assignment.warnings, *fetcher.warnings],
        fetched_at=datetime.now(UTC),
        canvas_fingerprint=assignment.fingerprint,
    )


async def distill_assignment_requirements(
    rt: Runtime, context: SourceContext, session: EngineSession
) -> Requirements:
    return await rt.engine.distill(context, session)


async def draft_plan(
    rt: Runtime, context: SourceContext, requirements: Requirements, session: EngineSession
) -> Plan:
    return await rt.engine.draft_plan(context, requirements, session)


def plan_sources(context: SourceContext) -> list[PlanSource]:
    """Every source the plan was made from, then every file that could not be read:
    taken from the context alone, so it is the same whatever the engine did."""
    sources = [
        PlanSource(
            source_id=document.source_id,
            name=document.name,
            content_type=document.content_type,
            status="truncated" if document.truncated else "read",
            reason=document.truncated_reason
            or type_mismatch(document.name, document.declared_type, document.content_type),
        )
        for document in context.documents
    ]
    listed = {source.source_id for source in sources}
    for warning in context.warnings:
        if warning.source_id is None or warning.source_id in listed:
            continue
        listed.add(warning.source_id)
        file_id = warning.source_id.removeprefix("file:")
        sources.append(
            PlanSource(
                source_id=warning.source_id,
                name=warning.file_name or f"File {file_id}",
                status="unreadable",
                reason=warning.message,
            )
        )
    return sources


async def finalize_plan(ctx: JobContext, plan: Plan, context: SourceContext) -> int:
    """Store the plan as the workspace's next version; returns the version number."""
    plan = plan.model_copy(update={"sources": plan_sources(context)})
    plan = apply_ai_policy(plan, recognize_ai_policy(context), plan.language or "en")
    plan = schedule_milestones(plan, context.assignment, context.fetched_at)
    plan_blob = plan.model_dump(mode="json")
    context_blob = context.model_dump(mode="json")
    async with events_after_commit(ctx.rt):
        # Locked first, so a progress write on the old version commits before its marks
        # are carried over, or finds the new version and is refused.
        current, previous_plan = (
            await AssignmentWorkspace.select_for_update()
            .filter(id=ctx.workspace_id)
            .first()
            .values_list("plan_version", "plan_blob")
        )
        version = int(current) + 1
        not_carried = (
            await carry_progress(ctx.workspace_id, version - 1, previous_plan, version, plan)
            if previous_plan is not None
            else []
        )
        await PlanVersion.create(
            workspace_id=ctx.workspace_id,
            version=version,
            job_id=ctx.job.id,
            plan_blob=plan_blob,
            context_blob=context_blob,
            progress_not_carried=[item.model_dump() for item in not_carried],
        )
        await ctx.succeed(
            EventType.PLAN_READY,
            f"Plan ready: {len(plan.milestones)} milestones",
            result={
                "plan_version": version,
                "warnings": len(context.warnings),
                "llm_usage": usage_totals(ctx.llm_usage),
            },
            workspace_changes={
                "plan_blob": plan_blob,
                "context_blob": context_blob,
                "plan_version": version,
                "canvas_check": None,  # the new plan is made from Canvas as it is now
            },
            plan_version=version,
        )
    return version


def _milestone_preview(plan: Plan) -> list[dict[str, Any]]:
    return [
        {"id": m.id, "title": m.title, "order": m.order, "tasks": len(m.tasks)}
        for m in plan.milestones
    ]


async def _emit_preview(ctx: JobContext, preview: DraftPreview) -> None:
    """A draft as the model writes it: its summary, then each milestone it finished."""
    await ctx.emit(
        EventType.DRAFT_PREVIEW,
        f"Drafting: {len(preview.milestone_preview)} milestone(s) written so far",
        draft_summary=preview.draft_summary,
        milestone_preview=preview.milestone_preview,
    )


async def _plan_language(rt: Runtime, ctx: JobContext, canvas: CanvasClient) -> str:
    """The request's language, else PLAN_LANGUAGE, else the student's Canvas locale (one
    more Canvas call, made only when needed: the locale can change between plans)."""
    requested, setting = ctx.job.language, rt.settings.plan_language
    profile = None if requested or setting else await canvas.get_self()
    return choose_language(requested, setting, profile)


async def _run_stages(
    rt: Runtime, ctx: JobContext, user_id: int, course_id: str, assignment_id: str
) -> None:
    await ctx.enter_stage("fetch_canvas_context", 5, "Fetching the assignment from Canvas")
    async with await canvas_client_for(rt, user_id) as canvas:
        assignment = await fetch_canvas_context(canvas, course_id, assignment_id)
        for warning in assignment.warnings:
            await ctx.warn(warning.model_dump())
        files = len(assignment.file_ids)
        await ctx.enter_stage(
            "fetch_and_parse_attachments", 15, f"Reading the description and {files} file(s)"
        )
        context = await fetch_and_parse_attachments(AttachmentFetcher(rt, canvas, ctx), assignment)
        context.language = await _plan_language(rt, ctx, canvas)
    session = ctx.engine_session(on_preview=lambda preview: _emit_preview(ctx, preview))
    await ctx.enter_stage("distill_assignment_requirements", 40, "Finding the requirements")
    requirements = await distill_assignment_requirements(rt, context, session)
    await ctx.enter_stage(
        "draft_plan", 55, f"Drafting a plan from {len(requirements.items)} requirements"
    )
    plan = await draft_plan(rt, context, requirements, session)
    await ctx.emit(
        EventType.DRAFT_READY,
        "Draft plan ready; checking it against the sources",
        draft_summary=plan.assignment_summary.objective,
        milestone_preview=_milestone_preview(plan),
    )
    await ctx.enter_stage("verify_against_source", 75, "Checking the draft against the sources")
    plan = await verify_with_repair(rt.engine, plan, context, session)
    await ctx.enter_stage("finalize_plan", 90, "Saving the plan")
    await finalize_plan(ctx, plan, context)


async def plan_assignment(rt: Runtime, ctx: JobContext) -> None:
    """The planning pipeline for the job's workspace."""
    workspace = await AssignmentWorkspace.get(id=ctx.workspace_id)
    await _run_stages(
        rt,
        ctx,
        workspace.user_id,
        workspace.course_id,
        workspace.assignment_id,
    )
