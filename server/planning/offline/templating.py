"""Plan templates as data: ``templates/<language>/<kind>.yaml`` rendered from the ``Facts``.

A kind's file lists its stages (title, purpose, share of the time, rubric keywords,
acceptance criteria, steps), the deliverable its success definition names and its common
failure modes; ``common.yaml`` holds the steps and phrases every kind shares. Text fields
are Jinja templates over the values of ``template_values``; an entry with a ``when``
expression that is false is left out. A new kind or language is a new file or folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

import jinja2
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from models.context import RequirementKind
from server.planning.milestone_dates import MIN_SLACK_DAYS
from server.planning.offline.facts import Facts
from server.planning.offline.stages import Stage, Step, criterion_label
from server.planning.offline.values import CitationStyle, Range
from server.text.data_files import read_data_file
from server.text.dates import StudentClock
from server.text.numbers import format_number
from server.text.wording import Say

DEFAULT_LANGUAGE = "en"
_COMMON = "common"
_HEAVIEST_CRITERIA = 2  # named in the rubric step

# Plain text for the plan's JSON, never HTML: escaping would turn "Research & sources"
# into "Research &amp; sources". A missing value is an error, not an empty string.
_ENV = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)  # noqa: S701
_ENV.filters["capfirst"] = lambda text: text[:1].upper() + text[1:]


@jinja2.pass_context
def _number(context: jinja2.runtime.Context, value: float) -> str:
    """``{{ count | number }}``: 1,500 in English, 1500 and 12 000 in Spanish."""
    return format_number(value, context["language"])


_ENV.filters["number"] = _number


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str | None = None  # a Jinja expression; the entry is left out when it is false


class StepTemplate(_Entry):
    title: str
    description: str
    deliverable: str
    done_definition: str
    minutes: int = Field(gt=0)
    scales: bool = False  # grows with the size of the piece (word count, talk length)
    closing: bool = False  # comes after the stage's rubric checks (submitting)
    # The requirement kinds (length, citation, ...) whose hard constraints this step works
    # on: the plan's tasks name those constraints in their serves.
    serves: list[RequirementKind] = Field(default_factory=list)


class SharedStep(_Entry):
    """``use: <name>`` of a step in ``common.yaml``; its other keys are values for it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    use: str


class Item(_Entry):
    text: str


class StageTemplate(_Entry):
    title: str
    purpose: str
    share: float = Field(gt=0, le=1)  # cumulative share of the time to the deadline
    keywords: str  # stems that attract rubric criteria to this stage
    main: bool = False  # where a rubric criterion goes when no keyword matches
    acceptance: list[str | Item]
    steps: list[StepTemplate | SharedStep]
    # The name of a value holding the stage's own day (the replies' due day): its milestone
    # is anchored to that day instead of spread with the others.
    day: str | None = None


class KindTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    deliverable: str  # what the success definition says is handed in
    failure_modes: list[str]
    stages: list[StageTemplate] = Field(min_length=1)


class CommonTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    phrases: dict[str, str]  # rendered in order; each a value for the later ones
    submission_ways: dict[str, str]  # per Canvas submission type
    submission_types: dict[str, str]  # the names of Canvas's submission types
    # A shared step list may use another one: "submit" uses "replies" unless the replies
    # are a stage of their own.
    steps: dict[str, list[StepTemplate | SharedStep]]
    # Stages every kind ends with when their ``when`` holds (the replies to a discussion
    # whose initial post is due first).
    closing_stages: list[StageTemplate] = Field(default_factory=list)
    wording: dict[str, str]  # the plan's sentences around the templates, by name


@dataclass(frozen=True)
class LanguageTemplates:
    language: str
    common: CommonTemplate
    kinds: dict[str, KindTemplate]

    def say(self, sentence: str, /, **values: Any) -> str:
        """One of ``common.yaml``'s ``wording`` sentences, rendered with ``values``."""
        return _render(self.common.wording[sentence], {"language": self.language, **values})


def style_text(say: Say, style: CitationStyle) -> str:
    """A citation style in the plan's language: "APA (7th ed.)", "APA (7.ª ed.)"."""
    return say("citation_style", name=style.name, edition=style.edition)


def length_text(say: Say, unit: str, limits: Range) -> str:
    """A length requirement in the plan's language: "1,500–2,000 words", "1500–2000
    palabras", "at most 10 minutes"."""
    return say("length", unit=unit, low=limits.low, high=limits.high)


@dataclass(frozen=True)
class PlanTemplate:
    """A kind's template rendered for one assignment."""

    stages: list[Stage]
    deliverable: str
    failure_modes: tuple[str, ...]


_Model = TypeVar("_Model", bound=BaseModel)


class TemplateError(RuntimeError):
    """A template file that cannot be used, with its path and what is wrong: a defect in
    the data, like a bug in code (the tests load and render every shipped file)."""


def _read(path: Traversable, model: type[_Model]) -> _Model:
    return read_data_file(path, TypeAdapter(model), TemplateError)


def read_templates(folder: Traversable, language: str = DEFAULT_LANGUAGE) -> LanguageTemplates:
    """One language's folder: ``common.yaml`` and a ``<kind>.yaml`` per kind, checked."""
    if not folder.is_dir():
        raise TemplateError(f"{folder}: no such template folder")
    common = _read(folder / f"{_COMMON}.yaml", CommonTemplate)
    kinds = {
        entry.name.removesuffix(".yaml"): _read(entry, KindTemplate)
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and entry.name != f"{_COMMON}.yaml"
    }
    for kind, template in kinds.items():
        unknown = {
            step.use
            for stage in template.stages
            for step in stage.steps
            if isinstance(step, SharedStep) and step.use not in common.steps
        }
        if unknown:
            raise TemplateError(f"{folder / kind}.yaml uses unknown steps {sorted(unknown)}")
    return LanguageTemplates(language=language, common=common, kinds=kinds)


def _templates_root() -> Traversable:
    return resources.files("server.planning.offline") / "templates"


@cache
def load_templates(language: str = DEFAULT_LANGUAGE) -> LanguageTemplates:
    """The shipped templates of a language, read and checked once per process; every
    language has the English ``wording`` names, no more, no fewer."""
    templates = read_templates(_templates_root() / language, language)
    if language != DEFAULT_LANGUAGE:
        wanted = set(load_templates(DEFAULT_LANGUAGE).common.wording)
        if set(templates.common.wording) != wanted:
            difference = sorted(wanted ^ set(templates.common.wording))
            raise TemplateError(f"templates/{language}/common.yaml wording differs: {difference}")
    return templates


def template_languages() -> tuple[str, ...]:
    """The languages the offline engine writes plans in."""
    return tuple(sorted(entry.name for entry in _templates_root().iterdir() if entry.is_dir()))


def templates_for(language: str) -> LanguageTemplates:
    """The language's templates; English when the engine has none for it (the plan's
    ``language`` then says "en")."""
    return load_templates(language if language in template_languages() else DEFAULT_LANGUAGE)


@cache
def _compiled(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


@cache
def _condition(expression: str) -> Any:
    return _ENV.compile_expression(expression)


def _render(source: str, values: dict[str, Any]) -> str:
    return _compiled(source).render(values)


def _holds(entry: _Entry, values: dict[str, Any]) -> bool:
    return entry.when is None or bool(_condition(entry.when)(**values))


def _replies_day(clock: StudentClock, post: datetime, replies_due: datetime) -> date:
    """The day to aim to have replied by: a day of slack before the replies' deadline, as
    the schedule leaves before the due date, but never before the initial post's day."""
    return max(clock.day_of(post), clock.day_of(replies_due) - timedelta(days=MIN_SLACK_DAYS))


def template_values(facts: Facts, templates: LanguageTemplates) -> dict[str, Any]:
    """The names a template can use: the facts, then ``common.yaml``'s phrases."""
    common, say = templates.common, templates.say
    headline = facts.headline_length
    length = length_text(say, *headline) if headline else None
    style = style_text(say, facts.citation_style) if facts.citation_style else None
    minutes = facts.lengths.get("minutes")
    slides = facts.lengths.get("slides")
    heaviest = sorted(
        (c for c in facts.rubric if c.scored_points and facts.graded),
        key=lambda c: c.scored_points or 0,
        reverse=True,
    )[:_HEAVIEST_CRITERIA]
    lock, discussion = facts.lock, facts.discussion
    post = discussion.initial_post_due_at if discussion else None
    replies_due = (discussion.reply_due_at if discussion else None) or facts.due
    replies_apart = bool(
        discussion
        and discussion.required_replies
        and post is not None
        and replies_due is not None
        and post < replies_due
    )
    values: dict[str, Any] = {
        "language": templates.language,  # numbers are written its way (``| number``)
        "length": length,  # the headline length, e.g. "1,500–2,000 words"
        "style": style,
        "min_sources": facts.min_sources,
        "excluded_sources": facts.excluded_sources,
        "formats": facts.formats,
        "title_page": facts.title_page,
        "layout": facts.layout,
        "requirement_line": say(
            "requirement_line",
            length=length,
            style=style,
            min_sources=facts.min_sources,
            formats=facts.formats,
        )
        or None,
        "attachments": facts.attachment_names,
        "rubric_criteria": len(facts.rubric),
        "heaviest": [criterion_label(c, say) for c in heaviest],
        "due": facts.due_text,
        "minutes": length_text(say, "minutes", minutes) if minutes else None,
        "slides": length_text(say, "slides", slides) if slides else None,
        "seconds_per_slide": round(minutes.target * 60 / slides.target)
        if minutes and slides
        else None,
        # What Canvas says: a lock, a group assignment, a graded discussion, New Quizzes.
        "withheld": facts.withheld,
        "lock_explanation": lock.explanation if lock else None,
        "opens_on": facts.clock.day(facts.clock.day_of(lock.unlock_at))
        if lock and lock.unlock_at
        else None,
        "group_assignment": facts.group_assignment,
        "discussion": discussion is not None,
        "posts_hidden_until_posting": bool(discussion and discussion.require_initial_post),
        "required_replies": discussion.required_replies if discussion else 0,
        "replies_due": facts.clock.moment(discussion.reply_due_at)
        if discussion and discussion.reply_due_at
        else None,
        "initial_post_due": facts.clock.moment(discussion.initial_post_due_at)
        if discussion and discussion.initial_post_due_at
        else None,
        # The replies are a stage of their own, on their due day, when Canvas dates the
        # initial post before them (its reply_to_topic checkpoint).
        "replies_apart": replies_apart,
        "replies_day": _replies_day(facts.clock, post, replies_due)
        if replies_apart and post and replies_due
        else None,
        "new_quiz": facts.new_quiz,
        "in_person": facts.in_person,
        "on_paper": "on_paper" in facts.submission_types,
    }
    values["ways"] = [
        _render(common.submission_ways[kind], values)
        for kind in facts.submission_types
        if kind in common.submission_ways
    ]
    for name, source in common.phrases.items():
        values[name] = _render(source, values)
    return values


def _step(template: StepTemplate, values: dict[str, Any]) -> Step:
    return Step(
        title=_render(template.title, values),
        description=_render(template.description, values),
        deliverable=_render(template.deliverable, values),
        done_definition=_render(template.done_definition, values),
        minutes=template.minutes,
        scales=template.scales,
        closing=template.closing,
        serves=tuple(template.serves),
    )


def _steps(stage: StageTemplate, common: CommonTemplate, values: dict[str, Any]) -> list[Step]:
    return _resolved(stage.steps, common, values)


def _resolved(
    entries: list[StepTemplate | SharedStep], common: CommonTemplate, values: dict[str, Any]
) -> list[Step]:
    steps: list[Step] = []
    for entry in entries:
        if not _holds(entry, values):
            continue
        if isinstance(entry, StepTemplate):
            steps.append(_step(entry, values))
            continue
        with_values = {**values, **(entry.model_extra or {})}
        steps.extend(_resolved(common.steps[entry.use], common, with_values))
    return steps


def _acceptance(stage: StageTemplate, values: dict[str, Any]) -> tuple[str, ...]:
    items = [Item(text=item) if isinstance(item, str) else item for item in stage.acceptance]
    return tuple(_render(item.text, values) for item in items if _holds(item, values))


def render_plan_template(facts: Facts, templates: LanguageTemplates) -> PlanTemplate:
    if facts.kind not in templates.kinds:
        raise TemplateError(f"no plan template for the kind {facts.kind!r}")
    template = templates.kinds[facts.kind]
    values = template_values(facts, templates)
    stages = [
        Stage(
            title=_render(stage.title, values),
            purpose=_render(stage.purpose, values),
            share=stage.share,
            keywords=stage.keywords,
            acceptance=_acceptance(stage, values),
            steps=tuple(_steps(stage, templates.common, values)),
            main=stage.main,
            day=values[stage.day] if stage.day else None,
        )
        for stage in [*template.stages, *templates.common.closing_stages]
        if _holds(stage, values)
    ]
    return PlanTemplate(
        stages=stages,
        deliverable=_render(template.deliverable, values),
        failure_modes=tuple(_render(mode, values) for mode in template.failure_modes),
    )
