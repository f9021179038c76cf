"""Canvas's assignment JSON read field for field, as Canvas serializes it.

Sources (``instructure/canvas-lms``): ``lib/api/v1/assignment.rb`` (``assignment_json``:
the rubric with ``ignore_for_scoring`` and ratings' ``long_description``,
``rubric_settings`` with ``hide_points``, ``is_quiz_assignment``,
``is_quiz_lti_assignment``, ``external_tool_tag_attributes``, ``checkpoints``),
``lib/api/v1/locked.rb`` (``locked_for_user``, ``lock_info``, ``lock_explanation``),
``app/models/assignment.rb`` (``filter_attributes_for_user``: the description is removed
unless ``lock_info[:can_view]`` and no module lock), ``lib/api/v1/discussion_topics.rb``
(the topic's ``message`` is the lock explanation when the student cannot view it; its
``attachments``; ``require_initial_post``) and ``lib/canvas/lock_explanation.rb``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.context import (
    AssignmentLock,
    DiscussionFacts,
    RubricCriterion,
    RubricRating,
    RubricSettings,
)
from server.documents.text_files import html_to_text

REPLY_CHECKPOINT_TAG = "reply_to_entry"  # Canvas's CheckpointLabels::REPLY_TO_ENTRY
INITIAL_POST_CHECKPOINT_TAG = "reply_to_topic"  # CheckpointLabels::REPLY_TO_TOPIC


def parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rubric_settings(raw: Any) -> RubricSettings | None:
    if not isinstance(raw, dict):
        return None
    return RubricSettings(
        title=raw.get("title"),
        points_possible=_number(raw.get("points_possible")),
        free_form_criterion_comments=bool(raw.get("free_form_criterion_comments")),
        hide_score_total=bool(raw.get("hide_score_total")),
        hide_points=bool(raw.get("hide_points")),
    )


def rubric(raw: Any, settings: RubricSettings | None) -> list[RubricCriterion]:
    """The criteria with every rating's ``long_description``. When Canvas hides the
    rubric's points from the student (``hide_points``), the context has none either."""
    hidden = settings is not None and settings.hide_points
    criteria: list[RubricCriterion] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        ratings = [
            RubricRating(
                description=str(r.get("description") or ""),
                points=None if hidden else _number(r.get("points")),
                long_description=str(r.get("long_description") or "").strip(),
            )
            for r in item.get("ratings") or []
            if isinstance(r, dict)
        ]
        criteria.append(
            RubricCriterion(
                id=str(item.get("id")),
                description=str(item.get("description") or "").strip() or "Criterion",
                long_description=str(item.get("long_description") or "").strip(),
                points=None if hidden else _number(item.get("points")),
                ratings=ratings,
                criterion_use_range=bool(item.get("criterion_use_range")),
                ignore_for_scoring=bool(item.get("ignore_for_scoring")),
            )
        )
    return criteria


def lock_text(html: Any) -> str:
    """Canvas's lock explanation is HTML (a module name in <b>, a link to the modules
    page): the words are kept, the markup is not."""
    return " ".join(html_to_text(str(html or "")).split())


def lock(assignment: dict[str, Any]) -> AssignmentLock | None:
    """The assignment's lock for the student, or None when Canvas says it is not locked."""
    if not assignment.get("locked_for_user"):
        return None
    info = _mapping(assignment.get("lock_info"))
    module = _mapping(info.get("context_module"))
    return AssignmentLock(
        explanation=lock_text(assignment.get("lock_explanation"))
        or "Canvas says this assignment is locked.",
        unlock_at=parse_time(info.get("unlock_at")),
        lock_at=parse_time(info.get("lock_at")),
        module_name=str(module["name"]) if module.get("name") else None,
        instructions_withheld=assignment.get("description") is None,
    )


def _topic_viewable(topic: dict[str, Any]) -> bool:
    info = topic.get("lock_info")
    return (
        not topic.get("locked_for_user") or not isinstance(info, dict) or bool(info.get("can_view"))
    )


def discussion(assignment: dict[str, Any]) -> DiscussionFacts | None:
    topic = assignment.get("discussion_topic")
    if not isinstance(topic, dict):
        return None
    checkpoints = {
        c.get("tag"): c for c in assignment.get("checkpoints") or [] if isinstance(c, dict)
    }
    replies = checkpoints.get(REPLY_CHECKPOINT_TAG)
    initial_post = checkpoints.get(INITIAL_POST_CHECKPOINT_TAG)
    required = topic.get("reply_to_entry_required_count")
    return DiscussionFacts(
        topic_id=str(topic["id"]) if topic.get("id") is not None else None,
        require_initial_post=bool(topic.get("require_initial_post")),
        required_replies=required if isinstance(required, int) and replies is not None else 0,
        reply_due_at=parse_time(replies.get("due_at")) if replies else None,
        initial_post_due_at=parse_time(initial_post.get("due_at")) if initial_post else None,
    )


def instructions_html(assignment: dict[str, Any]) -> str:
    """The instructions: a graded discussion's prompt is its topic's ``message`` (unless
    that message is Canvas's lock explanation), else the assignment's description."""
    topic = assignment.get("discussion_topic")
    if isinstance(topic, dict) and topic.get("message") and _topic_viewable(topic):
        return str(topic["message"])
    return str(assignment.get("description") or "")


def topic_files(assignment: dict[str, Any]) -> dict[str, str]:
    """The files attached to a graded discussion's topic (read like any linked file): id ->
    name (``display_name``, else ``filename``; empty when Canvas gives neither)."""
    topic = assignment.get("discussion_topic")
    if not isinstance(topic, dict):
        return {}
    return {
        str(item["id"]): str(item.get("display_name") or item.get("filename") or "")
        for item in topic.get("attachments") or []
        if isinstance(item, dict) and item.get("id") is not None
    }


def external_tool_url(assignment: dict[str, Any]) -> str | None:
    attributes = assignment.get("external_tool_tag_attributes")
    url = attributes.get("url") if isinstance(attributes, dict) else None
    return str(url) if url else None


def file_refusal(meta: dict[str, Any]) -> str | None:
    """Why Canvas will not serve a file to the student, in Canvas's words, or None.

    ``lib/api/v1/attachment.rb`` sends ``url: ""`` when the file is locked for the user,
    with ``locked_for_user`` and ``lock_explanation``; a hidden file keeps its address
    (students with the link may open it) unless it is also locked.
    """
    if str(meta.get("url") or "").strip():
        return None
    if meta.get("locked_for_user"):
        return lock_text(meta.get("lock_explanation")) or "Canvas says the file is locked"
    if meta.get("hidden_for_user"):
        return "the file is hidden from students"
    return "Canvas gave no download address for it"


__all__ = [
    "discussion",
    "external_tool_url",
    "file_refusal",
    "instructions_html",
    "lock",
    "lock_text",
    "parse_time",
    "rubric",
    "rubric_settings",
    "topic_files",
]
