from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from models.context import (
    Requirements,
    SourceContext,
)
from models.plan import Plan
from server.assembly import planning_engine as get_planning_engine
from server.kernel.settings import Settings
from server.planning.milestone_dates import schedule_milestones
from server.planning.offline import OfflineEngine
from server.planning.verification import verify_against_source
from server.text.sentences import sentence_spans
from tests.planning.contexts import (
    ALL_CONTEXTS,
    essay_context,
    guided_essay_context,
    lab_context,
    presentation_context,
    short_response_context,
    warned_context,
)


async def _plan(context: SourceContext) -> tuple[Requirements, Plan]:
    engine = OfflineEngine()
    requirements = await engine.distill(context)
    return requirements, await engine.draft_plan(context, requirements)


def _titles(plan: Plan) -> list[str]:
    return [milestone.title for milestone in plan.milestones]


def _constraint_containing(plan: Plan, fragment: str) -> str:
    matches = [c for c in plan.assignment_summary.hard_constraints if fragment in c]
    assert matches, f"no hard constraint mentions {fragment!r}"
    return matches[0]


# --- distill ----------------------------------------------------------------------------


async def test_every_quote_is_an_exact_substring_of_its_source():
    context = essay_context()
    requirements, _ = await _plan(context)
    rubric = {c.id: c for c in context.rubric}
    for item in requirements.items:
        if item.source_id == "rubric":
            assert item.quote == rubric[item.rubric_criterion_id].description
        else:
            document = context.document(item.source_id)
            assert document is not None
            assert item.quote in document.text


async def test_distill_finds_the_essay_rules_by_kind():
    requirements, _ = await _plan(essay_context())
    by_kind = {}
    for item in requirements.items:
        by_kind.setdefault(item.kind, []).append(item.text)
    assert by_kind["length"] == [
        "Your essay must be 1,500–2,000 words, excluding the reference list."
    ]
    assert by_kind["citation"] == [
        "Cite at least five peer-reviewed sources in APA 7th edition format."
    ]
    assert "Do not use Wikipedia as a source." in by_kind["hard_constraint"]
    assert "Late submissions lose 10% per day." in by_kind["hard_constraint"]
    assert "Submit your essay as a .docx or .pdf file with a title page." in by_kind["format"]
    assert by_kind["deadline"] == ["The essay is due March 10 at 11:59 pm."]
    assert "You should use headings to organize your argument." in by_kind["soft_constraint"]
    assert len(by_kind["grading"]) == 5  # four rubric criteria and "worth 20%"


async def test_distill_reads_attachments_and_names_their_source():
    requirements, _ = await _plan(essay_context())
    from_file = [item for item in requirements.items if item.source_id == "file:501"]
    assert any(item.quote.startswith("Each body paragraph must\nsupport") for item in from_file)
    assert any(item.kind == "grading" and "20%" in item.text for item in from_file)


async def test_canvas_facts_become_notes_not_quotes():
    requirements, _ = await _plan(essay_context())
    assert requirements.notes == [
        "Due (Canvas): Tue 10 Mar 2026, 11:59 pm (UTC)",
        "Points possible: 100",
        "Submission types: file upload",
        "Allowed file types: .docx, .pdf",
        "Assignment group: Essays (30% of the course grade)",
    ]


async def test_task_statement_is_the_objective_not_a_requirement():
    requirements, plan = await _plan(essay_context())
    assert plan.assignment_summary.objective.startswith("In this essay, you will argue")
    assert not any("you will argue" in item.text for item in requirements.items)


def test_sentence_splitter_keeps_abbreviations_and_wrapped_lines_together():
    text = (
        "Use sources, e.g. journals. Dr. Smith grades it.\n"
        "Each body paragraph must support the thesis with evidence from a\n"
        "source.\n"
        "1. Submit a PDF.\n"
        "Formatting\n"
        "Double-space the text."
    )
    sentences = [text[start:end] for start, end in sentence_spans(text)]
    assert sentences == [
        "Use sources, e.g. journals.",
        "Dr. Smith grades it.",
        "Each body paragraph must support the thesis with evidence from a\nsource.",
        "Submit a PDF.",
        "Formatting",
        "Double-space the text.",
    ]


# --- the essay plan ------------------------------------------------------------------------


async def test_essay_hard_constraints_are_quoted_from_the_source():
    context = essay_context()
    _, plan = await _plan(context)
    for fragment in ("1,500–2,000 words", "APA 7th edition", ".docx or .pdf", "10% per day"):
        _constraint_containing(plan, fragment)
    assert "Do not use Wikipedia as a source." in plan.assignment_summary.hard_constraints
    # Advice to the student is no rule; what the work itself should be is one.
    hard = plan.assignment_summary.hard_constraints
    assert "You should use headings to organize your argument." not in hard
    assert "Your thesis should be stated clearly in the introduction." in hard
    references = {r.pointer: r for r in plan.source_references}
    for index, _text in enumerate(plan.assignment_summary.hard_constraints):
        reference = references[f"/assignment_summary/hard_constraints/{index}"]
        document = context.document(reference.source_id)
        assert document is not None
        assert reference.quote in document.text


async def test_essay_grading_signals_carry_points_and_rubric_quotes():
    _, plan = await _plan(essay_context())
    signals = plan.assignment_summary.grading_signals
    assert signals[:4] == [
        "Thesis & Argument: 30 of 100 points",
        "Evidence & Sources: 30 of 100 points",
        "Organization: 20 of 100 points",
        "APA Formatting & Mechanics: 20 of 100 points",
    ]
    references = {r.pointer: r for r in plan.source_references}
    assert references["/assignment_summary/grading_signals/0"].quote == "Thesis & Argument"
    assert references["/assignment_summary/grading_signals/0"].source_id == "rubric"
    assert "30% of the course grade" in plan.assignment_summary.success_definition


async def test_essay_gets_the_essay_milestones():
    _, plan = await _plan(essay_context())
    assert _titles(plan) == [
        "Understand the prompt",
        "Research & sources",
        "Outline & thesis",
        "Write the draft",
        "Revise & polish",
        "Final check & submit",
    ]
    assert [m.id for m in plan.milestones] == ["m1", "m2", "m3", "m4", "m5", "m6"]
    assert [m.order for m in plan.milestones] == [1, 2, 3, 4, 5, 6]
    research = plan.milestones[1]
    assert "at least 5 credible sources" in research.tasks[0].description
    assert "not Wikipedia" in research.tasks[0].description


async def test_essay_checklist_and_failure_modes_use_the_requirements():
    _, plan = await _plan(essay_context())
    checklist = plan.submission_strategy.final_checklist
    assert "Length: 1,500–2,000 words" in checklist
    assert "At least 5 sources cited" in checklist
    assert "No Wikipedia among your sources" in checklist
    assert "Title page included" in checklist
    assert "Saved as .docx or .pdf (Canvas accepts only these)" in checklist
    assert any(item.startswith("Citations in APA (7th ed.)") for item in checklist)
    assert "You should use headings" in plan.submission_strategy.quality_bar
    assert "Using a source the instructions exclude (Wikipedia)" in (
        plan.submission_strategy.common_failure_modes
    )


async def test_essay_risks_are_rule_triggered():
    _, plan = await _plan(essay_context())
    risks = [risk.risk for risk in plan.risks]
    assert "At least 5 sources are required" in risks
    assert any(r.startswith("Late work is penalised") and "10% per day" in r for r in risks)
    assert not any("no rubric" in r for r in risks)
    # March 10 in the text is the Canvas due date, so it is not flagged as another date.
    assert not any("other dates" in r for r in risks)


async def test_rubric_criteria_each_covered_and_named_with_effort_by_points():
    context = essay_context()
    _, plan = await _plan(context)
    for criterion in context.rubric:
        covering = [m for m in plan.milestones if criterion.id in m.covers_criteria]
        assert len(covering) == 1
        label = f"Meets rubric criterion '{criterion.description}' ({criterion.points:g} pts)"
        assert label in covering[0].acceptance_criteria
    tasks = {task.title: task for task in plan.tasks()}
    heavy = tasks["Address rubric criterion 'Thesis & Argument'"]
    light = tasks["Address rubric criterion 'Organization'"]
    assert heavy.estimated_minutes is not None and light.estimated_minutes is not None
    assert heavy.estimated_minutes > light.estimated_minutes
    assert "Clear, arguable thesis sustained throughout the essay" in heavy.description


async def test_criteria_go_to_the_matching_stage():
    _, plan = await _plan(essay_context())
    covered_by = {cid: m.title for m in plan.milestones for cid in m.covers_criteria}
    assert covered_by == {
        "c1": "Outline & thesis",
        "c2": "Research & sources",
        "c3": "Outline & thesis",
        "c4": "Final check & submit",
    }


async def test_submission_comes_last_after_every_check():
    _, plan = await _plan(essay_context())
    tasks = plan.tasks()
    assert tasks[-1].title == "Submit and confirm"
    final = plan.milestones[-1]
    check_ids = [t.id for t in final.tasks if t.title.startswith("Address rubric criterion")]
    assert check_ids and tasks[-1].depends_on == check_ids
    for previous, milestone in zip(plan.milestones, plan.milestones[1:], strict=False):
        first = milestone.tasks[0]
        assert first.depends_on and all(
            dep.startswith(f"{previous.id}-") for dep in first.depends_on
        )


async def test_dates_are_the_milestone_schedules_own():
    """The engine writes the days the milestone schedule sets (issue 15: they used to
    disagree), spread from now to the due date minus the slack."""
    context = essay_context()
    _, plan = await _plan(context)
    dates = [m.suggested_date for m in plan.milestones]
    scheduled = schedule_milestones(plan, context.assignment, context.fetched_at)
    assert dates == [m.target_date for m in scheduled.milestones]
    assert dates == [
        date(2026, 2, 22),
        date(2026, 2, 25),
        date(2026, 2, 28),
        date(2026, 3, 2),
        date(2026, 3, 4),
        date(2026, 3, 7),
    ]
    assert plan.milestones[0].due_strategy == "Finish by Sun 22 Feb 2026"
    assert plan.milestones[-1].due_strategy == (
        "Aim to be done by Sat 7 Mar 2026, ahead of the Canvas due date "
        "(Tue 10 Mar 2026, 11:59 pm (UTC))"
    )


async def test_an_assignment_that_opens_later_is_scheduled_from_its_opening():
    context = essay_context()
    context.assignment.unlock_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _, plan = await _plan(context)
    dates = [m.suggested_date for m in plan.milestones]
    scheduled = schedule_milestones(plan, context.assignment, context.fetched_at)
    assert dates == [m.target_date for m in scheduled.milestones]
    assert min(d for d in dates if d) >= date(2026, 3, 1)


async def test_when_the_due_date_has_passed_every_milestone_keeps_the_due_day():
    # Never a day after the due day (the scheduler and verification agree).
    context = essay_context()
    context.fetched_at = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
    _, plan = await _plan(context)
    assert {m.suggested_date for m in plan.milestones} == {date(2026, 3, 10)}
    assert all("has passed" in m.due_strategy for m in plan.milestones)
    assert plan.risks[0].risk.startswith(
        "The due date, Tue 10 Mar 2026, 11:59 pm (UTC), has passed"
    )


async def test_without_a_due_date_the_schedule_is_relative():
    _, plan = await _plan(warned_context())
    assert all(m.suggested_date is None for m in plan.milestones)
    assert plan.milestones[0].due_strategy == (
        "No due date in Canvas: give this about 15% of your total time, first"
    )
    assert "after 'Understand the task'" in plan.milestones[1].due_strategy


async def test_same_input_gives_the_same_plan():
    context = essay_context()
    first_requirements, first = await _plan(context)
    second_requirements, second = await _plan(essay_context())
    assert first_requirements == second_requirements
    assert first.model_dump_json() == second.model_dump_json()


# --- other kinds of assignment -------------------------------------------------------------


async def test_lab_report_gets_the_lab_milestones():
    _, plan = await _plan(lab_context())
    assert _titles(plan) == [
        "Understand & plan",
        "Collect & analyse data",
        "Draft the report sections",
        "Figures & captions",
        "Revise",
        "Submit",
    ]
    covered_by = {cid: m.title for m in plan.milestones for cid in m.covers_criteria}
    assert covered_by["r2"] == "Draft the report sections"
    assert "Length: at most 6 pages" in plan.submission_strategy.final_checklist


async def test_presentation_gets_the_presentation_milestones():
    _, plan = await _plan(presentation_context())
    assert _titles(plan) == [
        "Research the topic",
        "Storyboard",
        "Build the slides",
        "Rehearse",
        "Submit",
    ]
    covered_by = {cid: m.title for m in plan.milestones for cid in m.covers_criteria}
    assert covered_by == {"p1": "Rehearse", "p2": "Build the slides", "p3": "Research the topic"}
    storyboard = plan.milestones[1].tasks[1].description
    assert "Aim for 8–12 slides." in storyboard
    assert "50 seconds per slide" in storyboard
    assert plan.assignment_summary.objective == "Your team will pitch a product idea to the class."
    assert "This is group work" in [risk.risk for risk in plan.risks]


async def test_short_response_without_rubric():
    context = short_response_context()
    _, plan = await _plan(context)
    assert _titles(plan) == ["Understand the prompt", "Draft your response", "Revise & submit"]
    assert plan.assignment_summary.hard_constraints == [
        "Write a response of 250–300 words to this week's reading.",
        "Explain one idea from the chapter that surprised you and connect it to your own "
        "experience.",
        "Post your reply by Friday.",
    ]
    assert plan.assignment_summary.grading_signals == []
    assert all(m.covers_criteria == [] for m in plan.milestones)
    assert plan.milestones[0].tasks[1].title == "Set your own success criteria"
    risks = [risk.risk for risk in plan.risks]
    assert "Canvas has no rubric for this assignment" in risks
    assert "Only about 30 hours until the deadline" in risks
    assert "There is no rubric" in plan.submission_strategy.quality_bar


async def test_warnings_and_truncation_become_risks():
    _, plan = await _plan(warned_context())
    assert _titles(plan)[0] == "Understand the task"
    risks = {risk.risk: risk for risk in plan.risks}
    unreadable = risks[
        "An attached file could not be read: questions.pdf (the PDF is password-protected)"
    ]
    assert "Open the file in Canvas" in unreadable.mitigation
    assert "Only the first part of 'case.pdf' was read" in risks
    assert "Canvas has no due date for this assignment" in risks


async def test_tight_deadline_with_other_dates_in_the_text():
    context = essay_context()
    context.documents[0].text += "\nThe annotated bibliography is due February 27."
    context.fetched_at = context.assignment.due_at - timedelta(hours=20)
    _, plan = await _plan(context)
    risks = [risk.risk for risk in plan.risks]
    assert "Only about 20 hours until the deadline" in risks
    assert any("annotated bibliography is due February 27" in r for r in risks)


async def test_long_rule_lists_are_capped_and_the_rest_counted():
    context = warned_context()
    context.documents[0].text = "\n".join(
        f"Rule {n}: you must complete exercise {n}." for n in range(1, 31)
    )
    _, plan = await _plan(context)
    assert len(plan.assignment_summary.hard_constraints) == 25
    assert plan.assignment_summary.hard_constraints[0] == "Rule 1: you must complete exercise 1."
    assert "5 more rules were found than the 25 listed here" in [r.risk for r in plan.risks]
    assert sum(item.startswith("Rule: ") for item in plan.submission_strategy.final_checklist) == 8
    assert verify_against_source(plan, context).verification.dropped == []


# --- precision: only real rules become hard constraints -------------------------------------


def _everything_listed(plan: Plan) -> list[str]:
    return plan.assignment_summary.hard_constraints + plan.submission_strategy.final_checklist


async def test_advice_is_soft_even_with_at_least():
    requirements, plan = await _plan(guided_essay_context())
    advice = "You should visit the Writing Center at least one week before the due date."
    assert not any("Writing Center" in item for item in _everything_listed(plan))
    assert [item.kind for item in requirements.items if item.text == advice] == ["soft_constraint"]
    assert advice in plan.submission_strategy.quality_bar
    # A count on the work itself is still a rule, and so is a length even with "should".
    _constraint_containing(plan, "Address at least one counterargument")
    context = lab_context()
    context.documents[0].text = "You should keep the report under 8 pages, not counting references."
    _, lab_plan = await _plan(context)
    assert lab_plan.assignment_summary.hard_constraints == [context.documents[0].text]


async def test_headings_are_context_not_requirements():
    requirements, plan = await _plan(guided_essay_context())
    headings = ("Sources and Academic Integrity", "Requirements", "Formatting", "Student Guide")
    for item in [*_everything_listed(plan), *(r.text for r in requirements.items)]:
        assert not any(item.endswith(heading) for heading in headings), item
    # The rules under a heading are still found.
    assert "Do not use Wikipedia as a source." in plan.assignment_summary.hard_constraints
    assert "Formatting: Use 12-point Times New Roman, double-spaced." in (
        plan.submission_strategy.final_checklist
    )


async def test_descriptions_of_documents_are_not_requirements():
    requirements, plan = await _plan(guided_essay_context())
    texts = [item.text for item in requirements.items]
    assert not any("style guide explains" in text for text in texts)
    assert not any("walks you through" in text for text in texts)
    assert not any(item.startswith("Submission instruction") for item in _everything_listed(plan))


async def test_permissions_are_not_rules():
    requirements, plan = await _plan(guided_essay_context())
    assert not any("You may use it" in item.text for item in requirements.items)
    assert not any("background reading" in item for item in _everything_listed(plan))
    assert "Do not use Wikipedia as a source." in plan.assignment_summary.hard_constraints


async def test_table_rows_are_checkpoints_not_constraints():
    context = guided_essay_context()
    requirements, plan = await _plan(context)
    assert not any("|" in item.text for item in requirements.items)
    risks = [risk.risk for risk in plan.risks]
    assert (
        "'essay_guide.docx' lists checkpoints: Annotated bibliography (Week 5), "
        "Final essay (Week 9)"
    ) in risks
    # A guide about another piece of work schedules that work, not this assignment.
    context.assignment.title = "Portfolio Reflection"
    _, other = await _plan(context)
    assert not any("checkpoints" in risk.risk for risk in other.risks)


async def test_a_time_alone_is_not_a_deadline():
    requirements, plan = await _plan(guided_essay_context())
    assert not any("office hours" in item.text for item in requirements.items)
    assert not any("office hours" in item for item in _everything_listed(plan))
    # A deadline needs deadline wording: "due", "deadline", "by ...".
    context = short_response_context()
    context.documents[0].text += "\nThe TA holds a review session on Thursday at 3 p.m."
    _, short = await _plan(context)
    assert short.assignment_summary.hard_constraints == [
        "Write a response of 250–300 words to this week's reading.",
        "Explain one idea from the chapter that surprised you and connect it to your own "
        "experience.",
        "Post your reply by Friday.",
    ]


async def test_how_to_steps_are_not_constraints():
    requirements, plan = await _plan(guided_essay_context())
    hard = plan.assignment_summary.hard_constraints
    assert not any(c.startswith(("Find at least", "Write the annotated")) for c in hard)
    assert not any(
        item.source_id == "file:502" and "Find" in item.text for item in requirements.items
    )
    # The sources rule is the prompt's own, quoted from the description.
    sources = _constraint_containing(plan, "at least five")
    assert sources == "You must cite at least five scholarly sources in APA 7th edition format."
    assert "At least 5 sources cited" in plan.submission_strategy.final_checklist
    # A source count that only a how-to step gives is no requirement of the work.
    context = guided_essay_context()
    context.documents = [context.documents[0], context.documents[2]]
    context.documents[0].text = "Write an essay on technology in education."
    _, guide_only = await _plan(context)
    assert not any("sources" in c for c in guide_only.assignment_summary.hard_constraints)
    assert not any("At least" in item for item in guide_only.submission_strategy.final_checklist)


async def test_near_duplicates_keep_the_description_and_its_source():
    context = guided_essay_context()
    _, plan = await _plan(context)
    hard = plan.assignment_summary.hard_constraints
    assert [c for c in hard if "1,500–2,000 words" in c] == [
        "Your final essay must be 1,500–2,000 words."
    ]
    assert [c for c in hard if "APA 7th edition" in c] == [
        "You must cite at least five scholarly sources in APA 7th edition format."
    ]
    references = {r.pointer: r for r in plan.source_references}
    for index, constraint in enumerate(hard):
        reference = references[f"/assignment_summary/hard_constraints/{index}"]
        if "1,500–2,000" in constraint or "APA 7th" in constraint:
            assert reference.source_id == "description"
            assert reference.quote in context.documents[0].text
    verified = verify_against_source(plan, context)
    assert verified.verification is not None and verified.verification.dropped == []
    # A repetition that adds something is not a duplicate.
    context.documents[1].text += "\nDo not use Wikipedia or blogs as sources."
    _, longer = await _plan(context)
    assert "Do not use Wikipedia as a source." in longer.assignment_summary.hard_constraints
    assert "Do not use Wikipedia or blogs as sources." in longer.assignment_summary.hard_constraints


async def test_grading_weights_that_disagree_with_the_rubric_are_a_risk():
    context = guided_essay_context()
    _, plan = await _plan(context)
    weights = [risk for risk in plan.risks if risk.risk.startswith("The grading weights")]
    assert len(weights) == 1
    assert weights[0].risk == (
        "The grading weights in 'essay_prompt.pdf' (thesis 20%, evidence 30%, counterargument "
        "20%, organization 15%, style and mechanics 15%) do not match the Canvas rubric "
        "(Thesis & Argument 30%, Evidence & Sources 30%, Organization 20%, "
        "Style & Mechanics (APA) 20%)"
    )
    assert "Ask the instructor which weighting is current" in weights[0].mitigation
    # The same weights in other words are no disagreement.
    context.documents[1].text = (
        "Your essay is graded on thesis and argument (30%), evidence (30%), organization "
        "(20%), and style and mechanics (20%)."
    )
    _, agreeing = await _plan(context)
    assert not any(risk.risk.startswith("The grading weights") for risk in agreeing.risks)
    # A single share of the course grade is not a breakdown of this one.
    _, essay = await _plan(essay_context())
    assert not any(risk.risk.startswith("The grading weights") for risk in essay.risks)


async def test_the_rules_run_off_the_event_loop(monkeypatch):
    import threading

    from server.planning.offline import engine as offline

    threads: list[int] = []
    for name in ("distill_requirements", "draft_plan"):
        original = getattr(offline, name)

        def spy(*args, _original=original):
            threads.append(threading.get_ident())
            return _original(*args)

        monkeypatch.setattr(offline, name, spy)
    requirements, plan = await _plan(essay_context())
    assert len(threads) == 2
    assert threading.get_ident() not in threads
    _, again = await _plan(essay_context())
    assert plan.model_dump_json() == again.model_dump_json()
    assert requirements.items


@pytest.mark.parametrize("make_context", ALL_CONTEXTS)
async def test_every_plan_is_honest_and_passes_verification(make_context):
    context = make_context()
    _, plan = await _plan(context)
    assert plan.generated_by.engine == "offline"
    assert plan.generated_by.heuristic is True
    assert plan.generated_by.model is None
    assert any("rule-based planner" in risk.risk for risk in plan.risks)
    verified = verify_against_source(plan, context)
    assert verified.verification is not None
    assert verified.verification.dropped == []
    assert verified.verification.corrected == []
    assert verified.verification.uncovered_criteria == []
    claims = plan.assignment_summary.hard_constraints + plan.assignment_summary.grading_signals
    assert verified.verification.grounded == len(claims)
    assert all(r.start is not None for r in verified.source_references)


async def test_get_planning_engine_selects_offline_and_settings_refuse_unknown_engines():
    engine = get_planning_engine(Settings(llm_engine="offline"))
    assert isinstance(engine, OfflineEngine)
    assert engine.name == "offline"
    with pytest.raises(ValidationError, match="'offline' or 'openai'"):
        Settings(llm_engine="gpt")
    with pytest.raises(ValidationError, match="LLM_ENGINE=openai needs OPENAI_API_KEY"):
        Settings(_env_file=None, llm_engine="openai", openai_api_key=None)


# --- serves: why each task is there ---------------------------------------------------------


@pytest.mark.parametrize("make_context", ALL_CONTEXTS)
async def test_every_constraint_and_criterion_is_served_by_a_task_the_engine_chose(make_context):
    context = make_context()
    _, draft = await _plan(context)
    summary = draft.assignment_summary
    assert summary.hard_constraint_ids == [
        f"hc{i}" for i in range(1, len(summary.hard_constraints) + 1)
    ]
    served = {ref for task in draft.tasks() for ref in task.serves}
    assert served == {*summary.hard_constraint_ids, *(c.id for c in context.rubric)}
    for milestone in draft.milestones:
        assert set(milestone.serves) == {
            *(ref for task in milestone.tasks for ref in task.serves),
            *milestone.covers_criteria,
        }

    plan = verify_against_source(draft, context)
    assert plan.verification is not None
    # The engine placed everything itself: verification had nothing to attach.
    assert not [n for n in plan.verification.corrected if "served by no task" in n]


async def test_a_rule_goes_to_the_task_about_it_and_a_length_to_the_length_check():
    _, plan = await _plan(essay_context())
    serving = {
        ref: task.title for task in plan.tasks() for ref in task.serves if ref.startswith("hc")
    }
    texts = dict(
        zip(
            plan.assignment_summary.hard_constraint_ids,
            plan.assignment_summary.hard_constraints,
            strict=True,
        )
    )
    by_text = {texts[ref]: title for ref, title in serving.items()}
    length = next(text for text in by_text if "words" in text and "1,500" in text)
    assert "length" in by_text[length].lower()
    wikipedia = next(text for text in by_text if "Wikipedia" in text)
    assert "source" in by_text[wikipedia].lower()
