"""The student's language: plans (and feedback) in the Canvas locale of the student, over
real HTTP with the Canvas simulator, from both engines; a setting and a request parameter
override it; quotes from the sources stay verbatim in their own language."""

from __future__ import annotations

import re

import pytest

from server.feedback.wording import FEEDBACK_WORDING
from server.planning.offline.templating import load_templates
from server.text.ai_policy import load_phrases
from server.text.dates import date_words
from server.text.language import canvas_language, choose_language, language_code
from server.text.wording import WordingError, checked_wording
from tests.conftest import onboard_student, wait_for_status
from tests.feedback.jobs import assert_evidence_is_quoted, finished_job, submit
from tests.planning.model_answers import ESSAY_REPAIRS, essay_answer
from tests.planning.no_ai_assignment import NARRATIVE, NO_AI, STORY
from tests.support.graphql import data_of, error_of, graphql
from tests.support.openai_engines import openai_engine, openai_feedback
from tests.support.openai_server import answer

ESSAY = "/assignments/101/1001"
load_wording = FEEDBACK_WORDING.load
ENGLISH_RULE = "Your final essay must be 1,500–2,000 words."


def test_locale_codes_become_base_languages():
    assert language_code("es-MX") == "es"
    assert language_code("en-AU-x-unimelb") == "en"
    assert language_code("pt_BR") == "pt"
    assert language_code("not a locale") is None
    assert canvas_language({"locale": None, "effective_locale": "es"}) == "es"
    assert canvas_language({"locale": "fr"}) == "fr"
    assert canvas_language({}) is None
    assert choose_language("de", "fr", {"effective_locale": "es"}) == "de"
    assert choose_language(None, "fr", {"effective_locale": "es"}) == "fr"
    assert choose_language(None, None, {"effective_locale": "es-ES"}) == "es"
    assert choose_language(None, None, None) == "en"


def test_every_language_has_every_template_and_wording():
    english, spanish = load_templates("en"), load_templates("es")
    assert set(spanish.kinds) == set(english.kinds)
    assert set(spanish.common.wording) == set(english.common.wording)
    assert set(spanish.common.steps) == set(english.common.steps)


def test_every_feedback_wording_has_the_english_names_and_fields():
    assert {"en", "es"} <= FEEDBACK_WORDING.languages()
    assert load_wording("es").say("paragraph", number=2) == "párrafo 2"
    assert FEEDBACK_WORDING.for_language("de").language == "en"
    english = load_wording("en").entries
    # A file that lost an entry or a field is refused when read, not in a student's feedback.
    with pytest.raises(WordingError, match="names differ"):
        checked_wording("xx", {k: v for k, v in english.items() if k != "revise"}, english)
    with pytest.raises(WordingError, match="'paragraph' fields differ"):
        checked_wording("xx", english | {"paragraph": "párrafo"}, english)


async def _plan(client, student, path: str = ESSAY, query: str = "") -> dict:
    started = await client.post(f"{path}/start{query}", headers=student.headers)
    assert started.status_code == 202, started.text
    done = await wait_for_status(client, path, student.headers, {"ready", "failed"})
    assert done["status"] == "ready", done
    return (await client.get(f"{path}/plan", headers=student.headers)).json()


def _dates_are_spanish(plan: dict) -> None:
    """The Canvas due date reads "jue 10 dic 2026, 23:59 (Zone)", never "Thu ... pm"."""
    words = date_words("es")
    spanish = re.compile(
        rf"\b(?:{'|'.join(words.weekdays)}) \d{{1,2}} (?:{'|'.join(words.months)}) \d{{4}}, "
        r"\d\d:\d\d \([\w/]+\)"
    )
    assert spanish.search(plan["submission_strategy"]["final_checklist"][-1])
    english = "|".join(date_words("en").weekdays)
    assert not re.search(rf"\b(?:{english}) \d", plan["milestones"][-1]["due_strategy"])


def _quotes_are_verbatim_english(plan: dict) -> None:
    """The sources' own English sentences back the constraints, character for character."""
    quotes = {r["quote"] for r in plan["source_references"]}
    assert ENGLISH_RULE in quotes


async def test_a_spanish_student_gets_a_spanish_offline_plan_with_english_quotes(client, simulator):
    student = await onboard_student(client, simulator, name="Ana Estudiante", locale="es")
    plan = await _plan(client, student)

    assert plan["language"] == "es"
    assert ENGLISH_RULE in plan["assignment_summary"]["hard_constraints"]
    titles = [m["title"] for m in plan["milestones"]]
    assert titles[0] == "Entiende el enunciado" and titles[-1] == "Revisión final y entrega"
    assert plan["assignment_summary"]["success_definition"].startswith("Entrega un ensayo")
    assert any(
        t["title"] == "Trabaja el criterio de la rúbrica 'Thesis & Argument'"
        for m in plan["milestones"]
        for t in m["tasks"]
    )
    assert plan["submission_strategy"]["final_checklist"][-1].startswith("Entregado antes de")
    _dates_are_spanish(plan)
    _quotes_are_verbatim_english(plan)
    # Lengths, styles and numbers the Spanish way (RAE: 1500, not 1,500); the checks, the
    # schedule and the time zone said in Spanish.
    checklist = plan["submission_strategy"]["final_checklist"]
    assert "Extensión: 1500–2000 palabras" in checklist
    assert any(item.startswith("Citas en APA (7.ª ed.):") for item in checklist)
    _notes_are_spanish(plan)

    query = """{ plan(courseId: "101", assignmentId: "1001") { language milestones { title }
        verification { checks } schedule { note } timeZone { note } } }"""
    answer_ = data_of(await graphql(client, query, headers=student.headers))["plan"]
    assert answer_["language"] == "es"
    assert [m["title"] for m in answer_["milestones"]] == titles
    assert answer_["verification"]["checks"] == plan["verification"]["checks"]
    assert answer_["schedule"]["note"] == plan["schedule"]["note"]
    assert answer_["timeZone"]["note"] == plan["time_zone"]["note"]


def _notes_are_spanish(plan: dict) -> None:
    """What verification checked, the schedule and the time zone, in Spanish."""
    checks = plan["verification"]["checks"]
    assert checks[0].startswith("Citas: ") and checks[-1].startswith("Método: ")
    assert plan["schedule"]["note"].startswith("Hitos repartidos del ")
    assert plan["time_zone"]["note"].startswith("Las fechas se muestran en ")


async def test_a_spanish_offline_plan_names_its_risks_in_spanish(client, simulator):
    """Every risk the English plan names is there in Spanish, none left in English."""
    english = await _plan(client, await onboard_student(client, simulator, name="Ann"))
    spanish = await _plan(client, await onboard_student(client, simulator, locale="es"))

    assert len(spanish["risks"]) == len(english["risks"]) >= 2
    english_texts = {text for risk in english["risks"] for text in risk.values()}
    assert not english_texts & {text for risk in spanish["risks"] for text in risk.values()}
    heuristic = spanish["risks"][-1]
    assert heuristic["risk"].startswith("Este plan lo hizo el planificador sin conexión")
    assert heuristic["mitigation"].startswith("Lee tú las instrucciones una vez")


def test_every_risk_sentence_renders_in_every_language_with_the_same_values():
    values = {
        "quoted": "“x”", "due": "d", "hours": 3, "days": 2, "length": "l", "count": 5,
        "name": None, "message": "m", "policy": "p", "document": None, "stated": "s",
        "rubric": "r", "listed": 2, "more": 1, "unlisted": 1, "explanation": None,
    }  # fmt: skip
    english, spanish = load_templates("en"), load_templates("es")
    names = [name for name in english.common.wording if name.startswith("risk_")]
    assert len(names) >= 3 * 20
    for name in names:
        assert spanish.say(name, **values) != english.say(name, **values), name


DRAFT = (
    "I argue that cities should plant more street trees, because shade lowers summer "
    "temperatures and cuts energy use (Nowak, 2018). However, critics say trees cost too "
    "much to maintain.\n\nOn the other hand, the savings outweigh the costs. Therefore, "
    "councils should fund planting first.\n\nFinally, would a city without trees be one "
    "anyone wants to live in?"
)


async def test_a_spanish_student_gets_spanish_offline_feedback_with_the_draft_quoted(
    client, simulator
):
    student = await onboard_student(client, simulator, locale="es")
    await _plan(client, student)
    started = await submit(client, student, ESSAY, DRAFT)
    assert started.status_code == 202, started.text
    done = await finished_job(client, student, ESSAY, started.json()["id"])
    assert done["status"] == "succeeded", done
    feedback = done["feedback"]

    spanish, english = load_wording("es"), load_wording("en")
    assert spanish.say("notice") in feedback["notices"]
    assert feedback["next_actions"][-1]["text"] == spanish.say("revise")
    rationales = [s["rationale"] for s in feedback["scorecard"]["criterion_scores"]]
    assert any(r.startswith("Estimación heurística: ") for r in rationales)
    text = str(feedback)
    assert english.say("notice") not in text and "Heuristic estimate" not in text
    thesis = next(i for i in feedback["strengths"] if i["text"].startswith("'Thesis"))
    assert thesis["text"] == (
        "'Thesis & Argument' se nota en tu texto: el párrafo inicial toma una postura."
    )
    assert thesis["location"] == spanish.say("paragraph", number=1)
    assert feedback["next_actions"][-1]["location"] == spanish.say("whole")
    # The measured checks too, numbers written the Spanish way (RAE: 1443, not 1,443).
    length = next(c for c in feedback["checks"] if c["id"] == "length")
    assert length["requirement"] == "Extensión: 1500–2000 palabras"
    assert length["detail"] == "la entrega tiene 57 palabras (faltan 1443)"
    assert length["location"] == spanish.say("whole")
    for name in ("whole", "missing"):
        assert english.say(name) not in text
    assert "paragraph " not in text and "distinct source(s)" not in text
    # The student's own sentences are quoted as written, at their offsets.
    assert assert_evidence_is_quoted(feedback, DRAFT) > 0


async def test_the_request_parameter_overrides_the_locale_over_rest_and_graphql(
    client, simulator, student
):
    spanish = await onboard_student(client, simulator, name="Ana Estudiante", locale="es")
    english_plan = await _plan(client, spanish, query="?language=en")
    assert english_plan["language"] == "en"
    assert english_plan["milestones"][0]["title"] == "Understand the prompt"

    mutation = """mutation { startPlanning(courseId: "101", assignmentId: "1001",
        language: "es-MX") { started } }"""
    assert data_of(await graphql(client, mutation, headers=student.headers))["startPlanning"]
    await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    plan = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    assert plan["language"] == "es"

    bad = await client.post(f"{ESSAY}/start?reprocess=true&language=x1!", headers=student.headers)
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "validation_error"
    assert bad.json()["details"] == {"field": "language"}
    bad_mutation = mutation.replace("es-MX", "??")
    assert (
        error_of(await graphql(client, bad_mutation, headers=student.headers))["extensions"][
            "status"
        ]
        == 422
    )


async def test_the_setting_overrides_the_locale(client, api, simulator, monkeypatch):
    monkeypatch.setattr(
        api.runtime, "settings", api.runtime.settings.model_copy(update={"plan_language": "es"})
    )
    english = await onboard_student(client, simulator, locale="en")
    plan = await _plan(client, english)
    assert plan["language"] == "es"


async def test_a_language_without_templates_gets_an_english_offline_plan_that_says_so(
    client, simulator
):
    french = await onboard_student(client, simulator, locale="fr")
    plan = await _plan(client, french)
    assert plan["language"] == "en"
    assert plan["milestones"][0]["title"] == "Understand the prompt"


async def test_a_spanish_student_under_a_no_ai_rule_gets_spanish_policy_wording_and_feedback(
    client, simulator
):
    student = await onboard_student(client, simulator, locale="es")
    plan = await _plan(client, student, NARRATIVE)
    spanish = load_phrases("es").texts
    assert plan["ai_policy"]["quote"] == NO_AI  # the instructor's words, untranslated
    assert spanish.forbidden_check in plan["submission_strategy"]["final_checklist"]

    started = await submit(client, student, NARRATIVE, STORY)
    done = await finished_job(client, student, NARRATIVE, started.json()["id"])
    assert done["status"] == "succeeded", done
    assert spanish.forbidden_feedback_notice in done["feedback"]["notices"]


async def test_the_model_engine_is_told_the_language_in_planning_and_feedback(
    client, api, simulator, model, model_server
):
    student = await onboard_student(client, simulator, locale="es")
    model.script(answer(essay_answer()), answer(ESSAY_REPAIRS))
    async with openai_engine(api, model_server):
        plan = await _plan(client, student)
    assert plan["language"] == "es"
    user_message = model.requests[0]["messages"][1]["content"]
    assert "language with code 'es'" in user_message
    _quotes_are_verbatim_english(plan)
    _notes_are_spanish(plan)  # verification of the model's plan speaks the plan's language

    model.requests.clear()
    forgetful = _feedback_answer()
    forgetful["criterion_scores"].pop()  # the model judges three of the four criteria
    model.script(answer(forgetful))
    async with openai_feedback(api, model_server):
        started = await submit(client, student, ESSAY, STORY)
        done = await finished_job(client, student, ESSAY, started.json()["id"])
    assert done["status"] == "succeeded", done
    assert "language with code 'es'" in model.requests[0]["messages"][1]["content"]
    feedback = done["feedback"]
    assert feedback["gaps"][0]["text"].startswith("La tesis")
    # Verification of the model's feedback reports in Spanish too: the criterion the model
    # left out is not assessable, and says so in Spanish.
    spanish = load_wording("es")
    assert spanish.say("no_score", id="_1001_style") in feedback["verification"]["corrected"]
    style = feedback["scorecard"]["criterion_scores"][-1]
    assert style["criterion_id"] == "_1001_style"
    assert style["not_assessable_reason"] == spanish.say("no_judgement")
    assert style["rationale"] == spanish.say("not_judged")


def _feedback_answer() -> dict:
    def score(criterion_id: str) -> dict:
        return {
            "criterion_id": criterion_id,
            "level": "not_met",
            "rating": None,
            "estimated_points": None,
            "rationale": "No se ve todavía en el texto.",
            "not_assessable_reason": None,
            "evidence": [],
        }

    ids = ["_1001_thesis", "_1001_evidence", "_1001_organization", "_1001_style"]
    item = {"text": "La tesis no aparece en el primer párrafo.", "location": "párrafo 1"}
    return {
        "criterion_scores": [score(i) for i in ids],
        "strengths": [],
        "gaps": [{**item, "criterion_id": "_1001_thesis", "evidence": []}],
        "required_fixes": [],
        "suggested_improvements": [],
        "next_actions": [],
    }


@pytest.mark.parametrize("language", ["en", "es"])
def test_ai_policy_phrases_exist_for_every_template_language(language):
    assert load_phrases(language).texts.forbidden_check


async def test_a_spanish_student_whose_model_answer_is_garbage_gets_a_spanish_fallback_plan(
    client, api, simulator, model, model_server
):
    student = await onboard_student(client, simulator, locale="es")
    model.script(answer("I think the essay is about technology."), answer("{not json"))
    async with openai_engine(api, model_server):
        plan = await _plan(client, student)
    assert plan["language"] == "es" and plan["generated_by"]["engine"] == "offline"
    fallback = plan["risks"][0]
    assert fallback["risk"].startswith("No se pudo usar la respuesta del modelo de lenguaje")
    assert fallback["impact"] == "El plan sigue reglas prácticas, no una lectura de la tarea"
    _notes_are_spanish(plan)
