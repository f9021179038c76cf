"""The offline engine's rule patterns on sentences instructors write without "must": each
case is a rule (with the kind the plan lists it under) or not one. The corpus
(tests/planning/test_corpus_quality.py) measures them on whole assignments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.context import AssignmentFacts, SourceContext, SourceDocument
from server.planning.offline import derive_facts, distill_requirements
from server.planning.offline.deliverables import (
    about_another_deliverable,
    names_this_or_every_deliverable,
    titles_another_deliverable,
    titles_work,
)
from server.planning.offline.engine import OfflineEngine
from server.planning.offline.patterns import excluded_sources_in, requirement_kind
from server.planning.offline.places import document_places
from server.planning.offline.values import (
    CitationStyle,
    Range,
    citation_style_in,
    length_limits,
    states_group_work,
)


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        # intermediate deadlines
        ("Please submit a brief project proposal by Ses #17.", "deadline"),
        ("Submit each write-up on the night before the case is to be discussed.", "deadline"),
        ("The memo should be emailed to the TA within 24 hours after each meeting.", "deadline"),
        ("Your team will present its design in recitation on Tuesday, May 12.", "deadline"),
        ("Oct 9: introduction due for peer review.", "deadline"),
        ("Problem sets extended beyond two days have a maximum score of 50%.", "hard_constraint"),
        # collaboration, AI use, audience
        ("Write up each problem independently.", "hard_constraint"),
        ("Students will work in pairs to present an article of their choice.", "hard_constraint"),
        ("However, the work you submit should be written by you alone.", "hard_constraint"),
        (
            "Using ChatGPT or other AI tools to write your answers is not reasonable.",
            "hard_constraint",
        ),
        ("This paper should be written in the form of a memo for a manager.", "hard_constraint"),
        # what the work holds, how it is handed in, typography
        ("The proposal should include: a topic, the group and a work plan.", "hard_constraint"),
        (
            "At the top of each paper, please include one question you still have.",
            "hard_constraint",
        ),
        ("Submitting involves uploading your code via submit50.", "hard_constraint"),
        ("The report should be single spaced, in 12-point font.", "format"),
        ("1.5 line spacing, left justification.", "format"),
        ("Plagiarism not tolerated: the usual standards apply.", "hard_constraint"),
        ("It is illegal to consult solutions from previous semesters.", "hard_constraint"),
        # parts, prose, citation stated as a consequence
        ("This essay has two parts.", "hard_constraint"),
        ("The report will be divided into three sections:", "hard_constraint"),
        ("Written in prose, no bullets.", "hard_constraint"),
        ("Any material used without citation receives 0.", "citation"),
        # a named style is a rule even in a step, and styles beyond the common six
        (
            "Begin each entry with a full citation in the American Sociological "
            "Association (ASA) citation style.",
            "citation",
        ),
        ("Cite cases in Bluebook format.", "citation"),
        ("Include a table that summarizes your measurements.", "hard_constraint"),
        # deadlines without "due", late policies without a penalty
        ("Reading responses are accepted no later than 8 a.m. on Friday.", "deadline"),
        ("Lab questions are to be completed before the recitation meeting.", "deadline"),
        ("No late problem sets will be accepted.", "hard_constraint"),
        ("Attendance and weekly exercises are requirements of the seminar.", "hard_constraint"),
        # who works with whom, phrased as a circumstance
        ("The first lab write-up is to be completed individually.", "hard_constraint"),
        ("Working in a team of 4, build a prototype of the device.", "hard_constraint"),
        # counted deliverables, expectations, what the work does, its reader and form
        ("The portfolio consists of three essays and a reflection.", "hard_constraint"),
        ("Students are expected to keep a field notebook.", "hard_constraint"),
        ("Each response should discuss both readings of the week.", "hard_constraint"),
        ("Write a letter to the editor of your local newspaper.", "hard_constraint"),
        ("Your advice will be given in memo form.", "hard_constraint"),
        ("Post your video link as a reply in the forum.", "hard_constraint"),
        ("Summarize the article in one paragraph.", "length"),
        # obligations without "must", commands with any verb, the work stated as a task
        ("The rewrite needs to respond to the comments on the first version.", "hard_constraint"),
        ("The essay should use a mix of first and third person.", "hard_constraint"),
        ("Specifically, describe two things you did well.", "hard_constraint"),
        ("Instead, summarize the key players and moments of the story.", "hard_constraint"),
        ("However, explain why the result differs from the model.", "hard_constraint"),
        ("Frame and defend a hypothesis about memory and narrative.", "hard_constraint"),
        ("Hand in one copy of the write-up for each group.", "hard_constraint"),
        ("Be sure to address the following three issues.", "hard_constraint"),
        ("For this project, you will design a poster about a local habitat.", "hard_constraint"),
        ("You will choose a pop song and trace four of its musical influences.", "hard_constraint"),
        # what breaking a rule costs
        ("Consulting old solutions is considered plagiarism.", "hard_constraint"),
        ("Each late assignment is penalized one letter grade per day.", "hard_constraint"),
        # deadlines written as spans, brackets and weekdays
        ("Within the first 3 days after a module opens, post one question.", "deadline"),
        ("Finalized work plan (end of Week 3)", "deadline"),
        ("Every Wednesday, teams submit a short status update.", "deadline"),
        # the task and who hands it in
        ("Your job is to fix the six issues with the script.", "hard_constraint"),
        ("The proposal will be submitted by the group.", "hard_constraint"),
        # things of the work that should be so, labels before a command, what graders do
        ("The heading should be Basic Electronics Lab.", "format"),
        ("Take 3-4 pp., double-spaced, to prepare your response.", "length"),
        ("PS2: Address the questions listed on your team page.", "hard_constraint"),
        ("Make sure you handle this and related cases properly.", "hard_constraint"),
        ("We also ask you to write down the names of your collaborators.", "hard_constraint"),
        ("The graders are told not to accept sloppy work.", "hard_constraint"),
        ("The final project is an individual task.", "hard_constraint"),
        # expectations, steps joined to the work, a zero for late work
        ("Each paper is expected to review the state of the art.", "hard_constraint"),
        ("Pick two objects and briefly compare them.", "hard_constraint"),
        ("Give an example of an object that engages with these tensions.", "hard_constraint"),
        ("Daily assignments get a zero for no or late work.", "hard_constraint"),
        # what the work involves, what a student will do, dates before a "should"
        ("Each problem set will involve programming in Python.", "hard_constraint"),
        ("A student will carry out a literature search on the compound.", "hard_constraint"),
        ("You will also be expected to give a presentation on your project.", "hard_constraint"),
        ("It is furthermore not acceptable to copy a proof.", "hard_constraint"),
        ("It should be polished and free of grammatical errors.", "hard_constraint"),
        ("Final versions are due after Lec #18; they should answer the comments.", "deadline"),
        ("The draft is due one day after Lec #13; this may be a complete draft.", "deadline"),
        ("I will mark late papers down a half grade each day.", "hard_constraint"),
        ("No credit will be given for late submissions without an excuse.", "hard_constraint"),
        ("No point credit is given for lateness beyond 3 days.", "hard_constraint"),
        ("Give a speech that informs the class about a local issue.", "hard_constraint"),
        ("Based on the readings, define justice and explain its role.", "hard_constraint"),
        # a permission conceded before the rule
        ("You may choose the text, but essays are due on the day it is discussed.", "deadline"),
        ("There is no specified length, but it should be no more than 20 pages.", "length"),
        ("Monday, July 18 (no later than 9 a.m. PT)", "deadline"),
        ("Note that you must cite every source you use.", "citation"),
    ],
)
def test_rules_written_without_must_are_found(sentence: str, kind: str) -> None:
    assert requirement_kind(sentence) == kind


@pytest.mark.parametrize(
    "sentence",
    [
        "Do not worry about obtaining original research results.",
        "A good rule of thumb is no more than five bullets per slide.",
        "We encourage you to work in groups of 2-3 people.",
        "Problem sets will be posted here roughly weekly.",
        "You should use headings to organize your argument.",
        "This guide walks you through the essay from choosing a topic to submitting it.",
        "This workshop provides the opportunity to practice the documents you will write.",
        # a rule word lifted, admission, the instructor's steps, where the dates are
        "Completion of the challenge problems is not required.",
        "Oxford English Dictionary (OED) [subscription required]",
        # the class's timetable, the pronoun "one"
        "Lectures: 2 sessions / week, 80 minutes / session",
        "Friday (50 minutes) will be a studio day.",
        "This problem becomes more obvious when one studies the history of interpretation.",
        "Circuit diagram (if required)",
        "Auditors are not accepted in 18.100.",
        "Graded papers will be returned a week after the due date.",
        "The due dates are listed in the course calendar.",
        "This page lists the required readings and the assignments.",
        "It is important to familiarize yourself with the library databases.",
        # examples, options and encouragement, even with a value in them
        "For example, a 2,000-word essay on one novel would be appropriate.",
        "Extra credit: a 2-page review of a second film.",
        "You are encouraged to cite at least three sources.",
        # negated or predicted obligations, permissions, titles, labels, goals
        "No additional materials need to be prepared.",
        "Memo writing is something you are going to have to do.",
        "Feel free to include both big-picture and detailed comments.",
        "Sound recordings have been put on reserve in the library.",
        "Essay style guide",
        "Part 1 of the case...",
        "Use visuals in place of words if you're having trouble with this limit.",
        "Have a friend critique the rehearsal.",
        "You will learn how to structure an argument.",
        "Walk through a research library if you get the chance.",
        "If you find yourself daunted, I commend the steps outlined in the guide.",
        "You get to select which questions you respond to.",
        "You may not appreciate the circuit at this level.",
        "We do not expect your code to handle cross-site request forgery.",
        "Many of you will want to write a research paper.",
        "Students can run MATLAB on their own laptops.",
        "PS4: No modifications required.",
        "Each student should have a personal copy of the team write-up.",
        "Full description of the exams will be distributed in due course.",
        "MIT students were required to attend a public meeting.",
        "The minutes will be read and evaluated by the instructor.",
        "If you are new to museums, try spending at least two minutes at each object.",
        "Keep in mind that specifics will vary with the assignment.",
        "“You Can't Make It on YouTube Anymore.”",
        "You will not be expected to do any hardcore programming.",
        "You should visit the Writing Center at least one week before the due date.",
        # a noun that is also a verb, before a passive or perfect predicate: a subject
        "Study group email lists will be created to simplify all this correspondence.",
        "Video presentations by MIT students in the class have been archived on the website.",
        # asides, offers to the interested, a limit said not to exist, a name
        "Note that this is different from the purpose of the lab.",
        "For those of you interested in secondary sources, please see the list of works.",
        "There is no specified length, but we expect most papers to run 10-15 pages.",
        "Many projects continue at the People's Collaborative Governance Network.",
        "Take advantage of the notebook by providing screenshots and links.",
        # taking part in the course: missing a class, the reading before it
        "Students who miss more than one meeting will be required to write a short paper.",
        "You must do the reading and answer reading questions before each class.",
        "Remember that the weekly readings are to be done before lecture.",
        "Please sit in groups in the session.",
        "For in-class problem solving you will work in groups of 3.",
        "Those who submit by this deadline will get their grades at the end of January.",
        # why the work is set
        "The goal of this project is to give you the opportunity to apply the frameworks.",
        "Remember, the purpose of the annotation is to provide a summary of the source.",
        # a noun before "of", what the instructor does
        "Part of the design project assignment is to learn to work productively in this setting.",
        "We will teach you everything you need to know to use R in this class.",
        "We provide design teams with template working agreements.",
        # "due dates" names dates without giving one
        "Below is a list of the major assignments and their respective due dates.",
        "Note that you will answer questions on quiz 3 related to this content.",
        # steps of a bench or computer procedure
        "Connect the RL circuit as shown in Figure 3.",
        "Sweep the frequency from 500 Hz to 30 kHz and check the cut-off.",
        'Click "Add a README file".',
        "Run \u2192 Run All Cells.",
        # a pointer to another page
        "See the calendar page for a weekly breakdown of these assignments.",
        "Please see the wiki page that is here.",
        # a title of what follows, a comparison, and what the student will feel
        "How to submit",
        "Like this or this.",
        "You will regret the lack of the explanatory notes in that edition.",
    ],
)
def test_reassurance_suggestions_and_descriptions_are_not_rules(sentence: str) -> None:
    assert requirement_kind(sentence) not in {"hard_constraint", "length", "format", "deadline"}


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ('Your final project will be a "then and now" comparison.', "hard_constraint"),
        (
            "The final project will be a response to any one of the plays we have read.",
            "hard_constraint",
        ),
        (
            "The project consists of an outline, a class presentation, and a final paper.",
            "hard_constraint",
        ),
        (
            "This is a group assignment that will take the form of a written report.",
            "hard_constraint",
        ),
        ("In this project you will choose a topic and read about it.", None),
        # what the work offers the student is no rule
        ("This paper is a chance to explore a topic you care about.", None),
        ("The final project is a great opportunity to apply what you learned.", None),
    ],
)
def test_the_work_stated_as_what_it_is_or_is_made_of_is_a_rule(
    sentence: str, kind: str | None
) -> None:
    assert requirement_kind(sentence) == kind


def test_the_items_under_a_lead_in_announcing_penalties_are_rules() -> None:
    item = "Careless self-identification on an anonymous exam: 5%"
    lead_in = "Specific penalties will be imposed depending on the circumstances:"
    assert requirement_kind(item, "Penalties", listed=True, lead_in=lead_in) == "hard_constraint"
    assert requirement_kind(item, "Penalties", listed=True) is None


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        (
            "For analytical questions, you should include your intermediate steps.",
            "hard_constraint",
        ),
        ("You should cite every source you quote.", "citation"),
        # other verbs are advice (a soft constraint, not in the plan's hard constraints); a
        # lead-in leaves the rules to its items
        ("You should start early and ask questions in office hours.", "soft_constraint"),
        (
            "Of the items on the project checklist, you should include in this phase:",
            "soft_constraint",
        ),
    ],
)
def test_you_should_with_a_verb_that_shapes_the_work_is_a_rule(
    sentence: str, kind: str | None
) -> None:
    assert requirement_kind(sentence) == kind


def test_the_items_of_a_list_opened_by_what_the_work_should_be_are_rules() -> None:
    item = "The approach you plan to use (e.g., preliminary data sources.)"
    lead_in = "The project outline/proposal should be one page including:"
    assert requirement_kind(item, listed=True, lead_in=lead_in) == "hard_constraint"
    assert requirement_kind(item, listed=True) is None
    # the sections the work should hold may be headings with notes nested under them
    note = "This is a refining of the problem statement developed earlier."
    lead_in = "The following sections should be included in the written document:"
    assert requirement_kind(note, listed=True, lead_in=lead_in) is None


def test_a_question_is_a_rule_only_as_an_item_of_a_list_the_work_answers() -> None:
    question = "What did you find most surprising about the visit?"
    assert requirement_kind(question) is None
    assert requirement_kind("Will you argue for a choice? etc...)") is None
    assert requirement_kind('Is business a profession? Should it be?"') is None
    assert requirement_kind(question, listed=True, lead_in="Useful prompts") is None
    lead_in = "Write a one-page paper to respond to the following"
    assert requirement_kind(question, listed=True, lead_in=lead_in) == "hard_constraint"


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        (
            "This means you will be graded on how you arrive at and present your answer.",
            "hard_constraint",
        ),
        (
            "Problem Set grades are based on correct answers as well as presentation.",
            "hard_constraint",
        ),
        ("Your grade will reflect the quality of your work.", "hard_constraint"),
        ("Working safely is crucial and will be a big factor in your grade.", "hard_constraint"),
        # how the course grade is made up, or a scale: no rule for the work
        ("The course grade will be based on three quizzes and five problem sets.", None),
        ("Grades will be based on a combination of lab exercises and the final problem set.", None),
        ("Papers are graded on a scale of A to F.", "grading"),
    ],
)
def test_what_the_grade_rests_on_is_a_rule_but_not_the_grades_make_up(
    sentence: str, kind: str | None
) -> None:
    assert requirement_kind(sentence) == kind


@pytest.mark.parametrize(
    ("sentence", "section", "kind"),
    [
        ("Final Exam: 40%", "Grading", "grading"),
        ("Three quizzes: 90", "Grading", "grading"),
        # a percentage under another heading is no weight (a penalty: its lead-in decides)
        ("Self-identification on an anonymous exam: 5%", "Penalties", None),
        ("Introduction: 6 pts", "", "grading"),
        ("Completion of mandatory finger exercises: 10%", "Grading Policy", "grading"),
        ("You will write two papers, and this will count for half your grade.", "", "grading"),
        ("A large portion (20%) of your grade consists of a final project.", "", "grading"),
        # a length, a date or a rule besides the share stays a rule
        ("Four essays (1-2 pages each) constitute 20% of your grade.", "", "length"),
        ("The paper is due in the last session and is worth 20% of the grade.", "", "deadline"),
        (
            "30% of the grade is based on 4 assignments you are expected to hand in to the TA.",
            "",
            "hard_constraint",
        ),
    ],
)
def test_a_share_of_the_grade_is_grading_not_a_rule(
    sentence: str, section: str, kind: str | None
) -> None:
    assert requirement_kind(sentence, section, listed=":" in sentence) == kind


def test_the_items_of_a_list_of_suggestions_are_options_whatever_their_wording() -> None:
    lead_in = "Here are suggested topics, but feel free to create your own:"
    assert requirement_kind("A rhetor must be morally good.", listed=True, lead_in=lead_in) is None
    options = "Once you have an idea, decide how to present it. There are several options:"
    assert requirement_kind("Write a short paper (5 pages)", listed=True, lead_in=options) is None
    # only the sentence that opens the list counts: "could" before it offers nothing to it
    parts = (
        "Students will write a final paper. It could be a research paper or a proposal. "
        "The project will be divided into two parts:"
    )
    assert requirement_kind("A class presentation", listed=True, lead_in=parts)


def test_the_items_of_a_list_whose_lead_in_obliges_are_rules() -> None:
    lead_in = "Students complete the following tasks this term"
    assert requirement_kind("A field notebook", lead_in, listed=True) == "hard_constraint"
    assert requirement_kind("A field notebook", "Useful resources", listed=True) is None


def test_list_items_take_the_force_of_the_paragraph_that_opens_their_list() -> None:
    item = "provide help to anyone, or"
    assert requirement_kind(item, listed=True, lead_in="you may not") == "hard_constraint"
    assert requirement_kind("use VS Code, and", listed=True, lead_in="you may") is None
    # a lead-in that binds by itself still leaves the items that say "must" rules
    assert (
        requirement_kind("all answers must be your own,", listed=True, lead_in="you may")
        == "hard_constraint"
    )


def test_a_heading_that_obliges_makes_its_list_items_rules_unless_they_offer() -> None:
    heading = "A well-written paper should"
    item = "A clear statement of the main claim"
    assert requirement_kind(item, heading, listed=True) == "hard_constraint"
    assert requirement_kind("(You can update these later.)", heading, listed=True) is None
    assert requirement_kind(item, "Project outline", listed=True) is None
    # a section on earning a grade obliges, even when it calls itself suggestions
    tips = "Suggestions for earning an A+"
    assert requirement_kind("Post your question as a complete sentence.", tips, listed=True)


@pytest.mark.parametrize(
    ("sentence", "title", "other"),
    [
        ("The final essay will be 1200-1500 words.", "Project Proposal (Midterm)", True),
        ("An action-learning exercise on marketing is due on the last day.", "Case Reports", True),
        ("You may not collaborate on the final problem set.", "Problem Set 1", True),
        ("Exams: Mid-term Exam (50 minutes) on Tuesday, Nov. 6", "Essay #1", True),
        ("However, collaboration on the exams is strictly prohibited.", "Problem set 2", True),
        ("During the quizzes a student may only access MATLAB.", "Problem Set 3", True),
        ("During the quizzes a student may only access MATLAB.", "Assignment 3: Regression", True),
        ("The paper should be 6 pages.", "Assignment 3: Regression", False),
        ("The second paper (6-7 pages) will be due in Session #15.", "Paper 1", True),
        ("Fourth Essay (5-7 pages)", "Third Essay", True),
        ("The first paper (4-5 pages) is due in Session #7.", "Paper 1", False),
        ("3 7-page essays, each 15% of the grade.", "Essay #1", False),
        ("Please submit a paper copy of your report.", "Lab Report 2", False),
        ("The proposal should include a timeline.", "Final Project", False),
        ("The essay should be 5 pages.", "Reading Response Essay", False),
        ("The paper should be 6 pages.", "24 Hours", False),
        ("Reflection - Each member writes a 2-3 page reflection.", "Project Proposal", True),
    ],
)
def test_rules_of_another_deliverable_on_the_same_page(
    sentence: str, title: str, other: bool
) -> None:
    assert about_another_deliverable(sentence, title) is other


def _context(text: str, title: str) -> SourceContext:
    document = SourceDocument(
        source_id="description",
        name="description",
        content_type="text/plain",
        byte_size=len(text),
        sha256="0" * 64,
        text=text,
    )
    return SourceContext(
        assignment=AssignmentFacts(course_id="1", assignment_id="2", title=title),
        documents=[document],
        fetched_at=datetime(2026, 2, 20, 9, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("line", "heading", "title", "other"),
    [
        ("Fourth Essay (5-7 pages)", False, "Third Essay", True),
        ("Third Essay (5 pages)", False, "Third Essay", False),
        ("Assignment 1 – Hometown Analysis", True, "Final Assignment", True),
        ("Final Assignment", True, "Final Assignment", False),
        ("Problem Sets and Final Exam", True, "Problem Set 2", False),
        ("Final Paper (6 pages)", False, "Paper 1", True),
        ("Reading Response 1", True, "Reading Response 2", True),
        ("Week 2", True, "Reflection: Week 13", True),
        ("Week 13", True, "Reflection: Week 13", False),
        ("Late Work", True, "Essay 2", False),
    ],
)
def test_a_heading_or_title_line_of_another_deliverable_opens_its_part_of_the_page(
    line: str, heading: bool, title: str, other: bool
) -> None:
    assert titles_work(line, heading)
    assert titles_another_deliverable(line, title) is other


def test_a_date_or_a_grade_line_titles_no_work() -> None:
    assert not titles_work("Due Session 19", heading=False)
    assert not titles_work("First paper: 25%", heading=True)
    assert not titles_work("The fourth essay is about a cookbook.", heading=False)


def test_a_rule_for_every_deliverable_or_naming_this_one_holds_under_another_heading() -> None:
    fourth = "Fourth Essay (5-7 pages)"
    assert names_this_or_every_deliverable(
        "Note for all essays: cite in MLA.", "Third Essay", fourth
    )
    assert not names_this_or_every_deliverable("Due Session 19", "Third Essay", fourth)
    assert not names_this_or_every_deliverable("The essay is due May 2.", "Third Essay", fourth)
    midterm = "The second part of the midterm is a proposal."
    title = "Project Proposal (Midterm Assignment)"
    assert names_this_or_every_deliverable(midterm, title, "Final Essay Proposal")
    journal = "Your journal must be completed individually."
    assert names_this_or_every_deliverable(journal, "Journal Entry", "Homework Partners")


def test_the_date_and_prompt_under_another_deliverable_are_not_this_ones_rules() -> None:
    text = (
        "Third Essay (5 pages)\n\nDue Session 11\n\nCompare two recipes.\n\n"
        "Fourth Essay (5-7 pages)\n\nDue Session 19\n\nRefer to specific recipes.\n\n"
        "Note for all essays: you must cite your sources in MLA format.\n"
    )
    quotes = [item.quote for item in distill_requirements(_context(text, "Third Essay")).items]
    assert "Due Session 11" in quotes
    assert "Due Session 19" not in quotes
    assert "Refer to specific recipes." not in quotes
    assert "Note for all essays: you must cite your sources in MLA format." in quotes


def test_a_schedule_row_gives_this_works_own_date_and_nothing_else() -> None:
    text = (
        "Calendar\n\n"
        "3 | Sampling | Problem set 1 due; Problem set 2 out\n"
        "5 | Regression | Problem set 2 due. Optional problems: 4.1, 4.2\n"
        "7 | Clustering | Problem set 3 due\n"
    )
    items = distill_requirements(_context(text, "Problem Set 2")).items
    assert [(item.kind, item.quote) for item in items] == [("deadline", "Problem set 2 due.")]
    assert not distill_requirements(_context(text, "Final Essay")).items


def test_a_table_row_with_a_late_policy_is_a_rule() -> None:
    text = "Grading\n\nHomework | 40% (points deducted for lateness)\nFinal exam | 60%\n"
    items = distill_requirements(_context(text, "Homework")).items
    assert [(item.kind, item.quote) for item in items] == [
        ("hard_constraint", "Homework | 40% (points deducted for lateness)")
    ]


def test_a_paragraph_that_opens_on_another_deliverables_rule_is_that_works() -> None:
    text = (
        "Final paper: you must argue for one account of character. "
        "Papers should be 7-10 pages, double-spaced.\n\n"
        "Exercises will help you develop a topic before the paper. "
        "Students will also be required to present their research.\n"
    )
    quotes = [item.quote for item in distill_requirements(_context(text, "Paper 1")).items]
    assert "Papers should be 7-10 pages, double-spaced." not in quotes
    assert "Students will also be required to present their research." in quotes


def test_a_bare_lead_in_adds_no_rule_of_its_own_but_one_that_counts_does() -> None:
    text = (
        "Your notebook entry must contain:\n\n- Your methods and results.\n\n"
        "Then you must do one of the following:\n\n- Write a critique of the method.\n\n"
        "In preparing this assignment, please adhere to the following guidelines:\n\n"
        "- Exhibits must be numbered.\n"
    )
    quotes = [item.quote for item in distill_requirements(_context(text, "Lab Notebook")).items]
    assert "Your notebook entry must contain:" not in quotes
    assert "Your methods and results." in quotes
    assert "Then you must do one of the following:" in quotes
    assert "In preparing this assignment, please adhere to the following guidelines:" not in quotes


def test_a_list_opened_by_the_task_lists_its_parts() -> None:
    lead_in = "Students will write a final paper for the class, which will include"
    item = "A class presentation of the project at the end of the semester"
    assert requirement_kind(item, listed=True, lead_in=lead_in) == "hard_constraint"


def test_a_list_opened_by_a_command_for_the_work_lists_its_parts() -> None:
    lead_in = "Complete your electronic notebook, including"
    assert requirement_kind("Your results and methods", listed=True, lead_in=lead_in)


def test_what_sits_under_a_section_of_examples_shows_it_does_not_require() -> None:
    section = "Student Examples: Final Project Presentations"
    assert requirement_kind("Each video is 10 minutes long.", section) is None
    assert requirement_kind("Your video must be 10 minutes long.", section) == "length"


def test_a_line_about_due_dates_heads_what_follows() -> None:
    text = "Schedule and Due Dates for the Paper\n\nThe paper is due May 2.\n"
    assert [place.role for place in document_places(text)] == ["heading", "sentence"]


def test_a_line_that_links_a_file_neither_heads_nor_rules() -> None:
    text = (
        "Example student work - The Forme of Cury (PDF)\n\n"
        "Third Essay (5 pages)\n\nChoose a recipe and compare it with another.\n"
    )
    places = document_places(text)
    assert [place.role for place in places] == ["link", "sentence", "sentence"]
    assert places[2].section == ""


def test_a_list_item_is_its_first_sentence_the_rest_explains_it() -> None:
    text = "Requirements\n\n- Post one question. This is the topic you will teach.\n"
    places = [place for place in document_places(text) if place.role == "sentence"]
    assert [place.listed for place in places] == [True, False]


def test_an_open_list_item_introduces_the_items_nested_under_it() -> None:
    text = (
        "For this project you will hand in two pieces of work, both of them graded:\n\n"
        "1. An essay of 6-8 pages. Your essay needs to include the following:\n"
        "  - An appendix of song lyrics.\n"
        "2. An oral presentation of 10 minutes.\n"
    )
    places = [place for place in document_places(text) if place.listed]
    essay = "An essay of 6-8 pages. Your essay needs to include the following:"
    assert [place.lead_in for place in places] == [
        "For this project you will hand in two pieces of work, both of them graded:",
        essay,
        "For this project you will hand in two pieces of work, both of them graded:",
    ]
    appendix = places[1]
    assert requirement_kind(
        text[appendix.start : appendix.end], listed=True, lead_in=appendix.lead_in
    )


def test_only_an_open_paragraph_introduces_a_list() -> None:
    text = (
        "You will be required to submit a draft.\n\n"
        "- It is also very helpful to have friends read your papers.\n\n"
        "you may not\n\n"
        "- copy answers from the internet,\n"
    )
    places = [place for place in document_places(text) if place.role == "sentence"]
    assert [place.lead_in for place in places] == ["", "", "", "you may not"]


@pytest.mark.parametrize(
    ("sentence", "limits"),
    [
        ("Write 1,500--2,000 words.", Range(1500, 2000)),
        ("Write 1500 ~ 2000 words.", Range(1500, 2000)),
        ("Please keep the number of words under 250.", Range(None, 250)),
        ("About ~800 words.", Range(800, 800)),
    ],
)
def test_word_ranges_with_double_hyphens_tildes_and_the_unit_first(
    sentence: str, limits: Range
) -> None:
    assert length_limits(sentence)["words"] == limits


def test_a_style_that_is_also_a_name_needs_a_word_of_citing() -> None:
    assert citation_style_in("Use the ASA citation style.") == CitationStyle("ASA")
    assert citation_style_in("Data come from the ASA's yearly survey.") is None
    assert citation_style_in("Follow MLA 9 throughout.") == CitationStyle("MLA", 9)


@pytest.mark.parametrize(
    ("sentence", "excluded"),
    [
        ("Do not use Wikipedia.", ["Wikipedia"]),
        ("Don't cite blogs as sources.", ["blogs"]),
        ("Never cite websites without an author.", ["websites without an author"]),
        ("Do not use the internet as a source.", ["internet"]),
        ("Do not use sources published before 2015.", ["sources published before 2015"]),
        # Forbidden to use, but no source: a rule of style or delivery, kept as a rule.
        ("Do not use the informal second person pronoun (“you”).", []),
        ("Don't use a boring monotone.", []),
        ("Do not use generative AI.", []),  # the AI policy, not a source
    ],
)
def test_only_a_forbidden_kind_of_source_is_an_excluded_source(
    sentence: str, excluded: list[str]
) -> None:
    assert excluded_sources_in(sentence) == excluded


async def test_a_forbidden_style_stays_a_rule_and_is_never_called_a_source() -> None:
    context = _context("Do not use the second person. Do not use Wikipedia.", "Essay")
    plan = await OfflineEngine().draft_plan(context, distill_requirements(context))
    checklist = plan.submission_strategy.final_checklist
    assert "Rule: Do not use the second person." in checklist
    assert "No Wikipedia among your sources" in checklist
    assert not any("second person among" in item for item in checklist)


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("1. Work in groups of three students. Any exception must be approved.", True),
        ("Take 3-4 pp., double-spaced, to prepare your team's response.", True),
        ("Flesh them out by talking with your group members.", True),
        ("Please write up the case on your own, not with your team.", False),
        ("Do not work in groups.", False),
        ("Working in groups is encouraged, but each student must submit their own.", False),
        ("You are also welcome to team up in pairs to execute a lab.", False),
        ("Reports are individual, though labwork will be done in groups of two.", False),
        ("If we are short machines, some of you will work in pairs.", False),
    ],
)
def test_group_work_is_work_the_text_sets_for_a_group(text: str, group: bool) -> None:
    assert states_group_work(text) is group


@pytest.mark.parametrize(
    ("title", "kind"),
    [("Literature Report", "essay"), ("Research project", "presentation")],
)
def test_a_title_that_names_a_paper_outweighs_a_talk_the_page_mentions(
    title: str, kind: str
) -> None:
    text = (
        "Write a 10-page report on the compound, citing at least five sources. You will also "
        "give a short oral presentation of it, with slides, in the last week."
    )
    context = _context(text, title)
    assert derive_facts(context, distill_requirements(context)).kind == kind


async def test_the_objective_is_this_works_task_not_anothers_on_the_same_page() -> None:
    text = (
        "Students will revise and resubmit their second papers before the final paper. "
        "In this first paper you will analyse one primary source of your choice in depth."
    )
    context = _context(text, "Paper 1")
    plan = await OfflineEngine().draft_plan(context, distill_requirements(context))
    assert plan.assignment_summary.objective.startswith("In this first paper you will analyse")


def test_a_length_stated_for_this_piece_of_a_series_outweighs_the_series_total() -> None:
    text = (
        "There will be three papers assigned for a total of 20-24 pages of writing. "
        "The first paper (4-5 pages) will be due in class during Session #7."
    )
    context = _context(text, "Paper 1")
    pages = derive_facts(context, distill_requirements(context)).lengths["pages"]
    assert (pages.low, pages.high) == (4, 5)


@pytest.mark.parametrize(
    ("title", "text", "kind"),
    [
        ("Problem Set 3", "Solve problems 1-6 from chapter 4. Show your work.", "problem_set"),
        ("Homework 2", "Answer the questions below on separate paper.", "problem_set"),
        (
            "Problem Set 2: Crypto",
            "Write a program in C that compiles without warnings, and comment your code.",
            "programming",
        ),
        (
            "Project 1: Ordinary Differential Equations",
            "Implement the solver in MATLAB, compare the algorithms, and submit your script.",
            "programming",
        ),
        # Implementing a policy with software support is not writing code.
        (
            "Policy Project",
            "Explain how the city would implement the policy and which software it would buy.",
            "generic",
        ),
        (
            "Final Paper",
            "Write a 10-page paper on how software is implemented; cite the code and algorithms.",
            "essay",
        ),
        # A reflection or journal on one's own experience, unless it asks for sources.
        ("Reflective Paper", "Write 1,200 words on your first week of teaching.", "reflection"),
        ("Site Journal", "Each week, write 800 words on what you observed on site.", "reflection"),
        (
            "Reflection Paper",
            "Write 1,200 words citing at least three course readings in APA style.",
            "essay",
        ),
        ("Journal Club Summary", "Summarize the article in 1,000 words.", "essay"),
    ],
)
def test_problem_sets_programming_and_reflections_are_kinds_of_their_own(
    title: str, text: str, kind: str
) -> None:
    context = _context(text, title)
    assert derive_facts(context, distill_requirements(context)).kind == kind


@pytest.mark.parametrize(
    ("text", "objective"),
    [
        (
            "You are welcome and encouraged to discuss the homework with classmates. "
            "Design and build a two-stage amplifier with a gain of at least 20.",
            "Design and build a two-stage amplifier with a gain of at least 20.",
        ),
        (
            "We will have an expert design review panel at each presentation. "
            "Each team will give a 15-minute presentation to share its work with the class.",
            "Each team will give a 15-minute presentation to share its work with the class.",
        ),
        (
            "If I were applying to MIT in 1916, how would that compare with today? "
            "Write a short paper (5 pages in length) on that question.",
            "Write a short paper (5 pages in length) on that question.",
        ),
    ],
)
async def test_the_objective_is_the_sentence_that_states_the_task(
    text: str, objective: str
) -> None:
    context = _context(text, "Assignment 2")
    plan = await OfflineEngine().draft_plan(context, distill_requirements(context))
    assert plan.assignment_summary.objective == objective
