"""The offline planner's templates are data: every shipped file loads and renders, and a
new language or kind is a folder or a file, with no code change."""

import dataclasses
import shutil
from importlib import resources
from pathlib import Path
from typing import get_args

import jinja2
import pytest
import yaml

from server.planning.offline import derive_facts, distill_requirements
from server.planning.offline.facts import AssignmentKind, Facts
from server.planning.offline.templating import (
    TemplateError,
    load_templates,
    read_templates,
    render_plan_template,
)
from tests.planning.contexts import essay_context, presentation_context

SHIPPED = resources.files("server.planning.offline") / "templates"


def _facts(make_context=essay_context) -> Facts:
    context = make_context()
    return derive_facts(context, distill_requirements(context))


def _copy_of_english(tmp_path: Path, language: str) -> Path:
    folder = tmp_path / language
    shutil.copytree(Path(str(SHIPPED / "en")), folder)
    return folder


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("language", sorted(p.name for p in SHIPPED.iterdir() if p.is_dir()))
@pytest.mark.parametrize("kind", get_args(AssignmentKind))
def test_every_shipped_language_renders_every_kind(language: str, kind: str) -> None:
    facts = dataclasses.replace(_facts(presentation_context), kind=kind)
    plan = render_plan_template(facts, load_templates(language))
    assert plan.stages and plan.deliverable and plan.failure_modes
    assert sum(stage.main for stage in plan.stages) == 1  # rubric criteria need a home
    assert [stage.share for stage in plan.stages] == sorted(s.share for s in plan.stages)
    assert plan.stages[-1].share == 1.0
    texts = [step.description for stage in plan.stages for step in stage.steps]
    assert all(text and "{" not in text for text in texts)


def _shared_steps(language: str, kind: str) -> list[str]:
    data = yaml.safe_load((SHIPPED / language / f"{kind}.yaml").read_text(encoding="utf-8"))
    return [step["use"] for stage in data["stages"] for step in stage["steps"] if "use" in step]


@pytest.mark.parametrize("language", sorted(p.name for p in SHIPPED.iterdir() if p.is_dir()))
@pytest.mark.parametrize("kind", get_args(AssignmentKind))
def test_every_language_uses_the_shared_steps_english_does(language: str, kind: str) -> None:
    # A translation that leaves out `use: group` drops the group step from every group
    # assignment planned in that language.
    assert _shared_steps(language, kind) == _shared_steps("en", kind)


def test_a_new_language_is_a_folder(tmp_path: Path) -> None:
    folder = _copy_of_english(tmp_path, "es")

    def retitle(data: dict) -> None:
        data["stages"][0]["title"] = "Entender la consigna"
        data["stages"][1]["purpose"] = "Reunir la evidencia: {{ sources }}."

    _edit(folder / "essay.yaml", retitle)
    spanish = render_plan_template(_facts(), read_templates(folder))
    english = render_plan_template(_facts(), load_templates("en"))
    assert spanish.stages[0].title == "Entender la consigna"
    assert spanish.stages[1].purpose == (
        "Reunir la evidencia: at least 5 credible sources (not Wikipedia)."
    )
    assert spanish.stages[2:] == english.stages[2:]


def test_a_new_kind_is_a_file(tmp_path: Path) -> None:
    folder = _copy_of_english(tmp_path, "en")
    (folder / "poster.yaml").write_text(
        """
deliverable: a printed poster
failure_modes: [Too much text to read from two metres away]
stages:
  - title: Design the poster
    purpose: One message, readable from across the room.
    share: 1.0
    keywords: design visual layout
    main: true
    acceptance:
      - text: "Sources cited in {{ style }}"
        when: style
      - text: never shown
        when: not style
    steps:
      - use: read
        focus: size, format and deadline
      - use: submit
""",
        encoding="utf-8",
    )
    facts = dataclasses.replace(_facts(), kind="poster")
    plan = render_plan_template(facts, read_templates(folder))
    assert plan.deliverable == "a printed poster"
    assert plan.stages[0].acceptance == ("Sources cited in APA (7th ed.)",)
    assert [step.title for step in plan.stages[0].steps] == [
        "Read the instructions closely",
        "Submit and confirm",
    ]
    assert "size, format and deadline" in plan.stages[0].steps[0].description
    assert plan.stages[0].steps[1].closing


def test_a_kind_without_a_template_is_an_error() -> None:
    facts = dataclasses.replace(_facts(), kind="podcast")
    with pytest.raises(TemplateError, match="podcast"):
        render_plan_template(facts, load_templates("en"))


def test_an_unknown_language_is_an_error() -> None:
    with pytest.raises(TemplateError, match="xx"):
        load_templates("xx")


def test_a_shared_step_that_does_not_exist_is_named(tmp_path: Path) -> None:
    folder = _copy_of_english(tmp_path, "en")
    _edit(folder / "lab.yaml", lambda data: data["stages"][0]["steps"].append({"use": "nap"}))
    with pytest.raises(TemplateError, match=r"lab\.yaml uses unknown steps \['nap'\]"):
        read_templates(folder)


def test_a_misspelt_field_is_named_with_its_file(tmp_path: Path) -> None:
    folder = _copy_of_english(tmp_path, "en")
    _edit(folder / "generic.yaml", lambda data: data["stages"][0].update(titel="Oops"))
    with pytest.raises(TemplateError, match=r"(?s)generic\.yaml.*titel"):
        read_templates(folder)


def test_a_placeholder_that_is_no_fact_fails_loudly(tmp_path: Path) -> None:
    folder = _copy_of_english(tmp_path, "en")
    _edit(folder / "essay.yaml", lambda data: data["stages"][0].update(title="{{ lenght }}"))
    with pytest.raises(jinja2.UndefinedError, match="lenght"):
        render_plan_template(_facts(), read_templates(folder))


@pytest.mark.parametrize(
    ("language", "low", "high", "unit", "worded"),
    [
        ("en", 1, 1, "pages", "about 1 page"),
        ("en", None, 1, "pages", "at most 1 page"),
        ("en", 1, None, "minutes", "at least 1 minute"),
        ("en", 1, 2, "pages", "1–2 pages"),
        ("en", 5, 5, "slides", "about 5 slides"),
        ("es", 1, 1, "pages", "alrededor de 1 página"),
        ("es", 1, 2, "pages", "1–2 páginas"),
        ("es", 5, 5, "slides", "unas 5 diapositivas"),
    ],
)
def test_one_of_a_unit_is_singular(
    language: str, low: float | None, high: float | None, unit: str, worded: str
) -> None:
    say = load_templates(language).say
    assert say("length", low=low, high=high, unit=unit) == worded


@pytest.mark.parametrize("language", sorted(p.name for p in SHIPPED.iterdir() if p.is_dir()))
def test_every_language_has_englishs_closing_stages(language: str) -> None:
    def shape(name: str) -> list[tuple[str | None, str | None, list[str]]]:
        common = load_templates(name).common
        return [
            (stage.when, stage.day, [step.use for step in stage.steps if hasattr(step, "use")])
            for stage in common.closing_stages
        ]

    assert shape(language) == shape("en") and shape("en")
