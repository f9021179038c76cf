"""Real Canvas shapes through the whole product, over real HTTP against the simulator
(fixtures in fixtures/canvas, shaped after instructure/canvas-lms's serializers; see
fixtures/canvas/README.md): locks, every submission type's facts, the whole rubric,
description parsing as Canvas's editor writes it, and files Canvas will not serve."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from devkit.canvas_simulator import RunningSimulator, resolve_date
from models.context import SourceContext
from server.canvas.description import read_description
from server.documents.text_files import html_to_text
from server.text.grounding import find_quote, grounding_corpus
from tests.conftest import Student, read_stream

# ----- description parsing (no network) -----------------------------------------------

CANVAS = "https://school.instructure.com"
EDITOR_HTML = f"""
<p><a class="instructure_file_link instructure_scribd_file" title="prompt.pdf"
 href="{CANVAS}/courses/7/files/55?wrap=1"
 data-api-endpoint="{CANVAS}/api/v1/courses/7/files/55" data-api-returntype="File">prompt</a>
<a href="/courses/7/files/56/download?download_frd=1">guide</a>
<a href="{CANVAS}/files/57/download?download_frd=1&amp;verifier=Zx81">shared by link</a>
<a href="/courses/7/files/55/download">the prompt again</a>
<a href="/courses/7/files?preview=59">old style</a>
<img src="{CANVAS}/courses/7/files/60/preview" alt="heading icon"
 data-api-endpoint="{CANVAS}/api/v1/courses/7/files/60" data-api-returntype="File">
<a href="https://github.com/org/repo/files/123">GitHub</a>
<a href="https://canvas.other.edu/courses/7/files/124/download">another school</a>
<a href="http://school.instructure.com:8443/files/125">another port</a>
<a href="/courses/7/pages/week-3-reading">reading</a>
<a href="{CANVAS}/courses/7/pages/week-3-reading">reading again</a>
<a href="/courses/8/pages/elsewhere">another course's page</a>
<a href="/courses/7/files/folder/readings">a folder</a>
<a href="/courses/7/files/60abc">not an id</a>
<a href="http://[broken">broken</a>
<iframe src="https://www.youtube.com/embed/xyz"></iframe>
<video><source src="https://media.example/lecture.mp4"></video>
<a class="instructure_inline_media_comment video_comment" id="media_comment_m-4uoGqVdE">clip</a>
</p>
"""


def test_attachments_are_canvas_file_links_on_the_students_host_only() -> None:
    links = read_description(EDITOR_HTML, CANVAS, "7")
    assert links.file_ids == ["55", "56", "57", "59"]  # no image, no other host or port
    assert links.page_urls == ["week-3-reading"]
    assert links.embeds == [
        "https://www.youtube.com/embed/xyz",
        "https://media.example/lecture.mp4",
        "media_comment_m-4uoGqVdE",
    ]


def test_a_file_link_names_its_file_by_its_title_else_by_its_text() -> None:
    # The RCE writes the file's name as the link's title; a hand-written link has only
    # its text. The first link to a file names it.
    assert read_description(EDITOR_HTML, CANVAS, "7").file_names == {
        "55": "prompt.pdf",
        "56": "guide",
        "57": "shared by link",
        "59": "old style",
    }
    nested = '<a href="/courses/7/files/61"><b>Lab</b>  handout\n(v2)</a><a href="/files/62"></a>'
    assert read_description(nested, CANVAS, "7").file_names == {"61": "Lab handout (v2)"}


def test_an_empty_or_plain_description_links_nothing() -> None:
    assert read_description("", CANVAS, "7").file_ids == []
    assert read_description("Write 500 words about files/12.", CANVAS, "7").file_ids == []


def test_images_keep_their_alt_text_and_equations_their_formula() -> None:
    text = html_to_text(
        '<p>Plot <img src="/x" alt="Michaelis-Menten curve"> and use '
        '<img class="equation_image" alt="LaTeX: v = \\frac{V_{max}[S]}{K_m + [S]}" '
        'data-equation-content="v = \\frac{V_{max}[S]}{K_m + [S]}"> or '
        '<img class="equation_image" alt="LaTeX: K_m">, '
        '<math alttext="E = mc^2"><mi>E</mi></math>, '
        '<math><mi>x</mi><annotation encoding="application/x-tex">x^2</annotation></math>'
        '<img src="/icon.png" alt="" role="presentation"></p>'
    )
    assert text == (
        "Plot [Image: Michaelis-Menten curve] and use "
        "[Equation: v = \\frac{V_{max}[S]}{K_m + [S]}] or [Equation: K_m] , "
        "[Equation: E = mc^2] , [Equation: x^2]"
    )


# ----- through the product --------------------------------------------------------------


async def plan_of(
    client: httpx.AsyncClient, student: Student, course: int, assignment: int
) -> tuple[dict[str, Any], list[dict[str, Any]], SourceContext]:
    """Plan the assignment; its plan, the warnings the job emitted, and its context."""
    path = f"/assignments/{course}/{assignment}"
    assert (await client.post(f"{path}/start", headers=student.headers)).is_success
    events = await read_stream(client, f"{path}/events", headers=student.headers)
    assert events[-1].event == "plan_ready", events[-1].json()
    plan = (await client.get(f"{path}/plan", headers=student.headers)).json()
    warnings = [e.json()["warning"] for e in events if e.event == "warning"]
    export = (await client.get("/me/export", headers=student.headers)).json()
    [row] = [
        w
        for w in export["tables"]["assignment_workspaces"]
        if w["assignment_id"] == str(assignment)
    ]
    return plan, warnings, SourceContext.model_validate(row["context_blob"])


def file_requests(simulator: RunningSimulator, since: int) -> set[str]:
    return {
        r.path.rsplit("/", 1)[-1]
        for r in simulator.state.requests[since:]
        if r.server == "canvas" and "/files/" in r.path and r.path.startswith("/api/")
    }


async def test_case_study_reads_files_pages_and_names_what_it_cannot(
    client: httpx.AsyncClient, simulator: RunningSimulator, student: Student
) -> None:
    before = len(simulator.state.requests)
    plan, warnings, context = await plan_of(client, student, 101, 1025)

    # Thirteen heading icons and a chart are images, GitHub and another school's Canvas
    # are other hosts: none of them is looked up on Canvas.
    assert file_requests(simulator, before) == {"501", "508", "510", "511", "512"}
    assert any(
        r.path == "/api/v1/courses/101/pages/case-study-background"
        for r in simulator.state.requests[before:]
    )
    by_source = {w["source_id"]: w for w in warnings if w.get("source_id")}
    locked = by_source["file:510"]
    assert locked["code"] == "canvas_file_locked"
    assert (
        "Canvas will not let you download this file: This file is locked until"
        in (locked["message"])
    )
    assert by_source["file:511"]["code"] == "canvas_forbidden"
    assert "bad response" not in by_source["file:511"]["message"].lower()
    assert "Canvas says: user not authorized" in by_source["file:511"]["message"]
    for address in (
        "https://www.youtube-nocookie.com/embed/abc123XYZ",
        "https://docs.google.com/document/d/1AbCdEf/preview",
    ):
        assert by_source[f"embed:{address}"]["code"] == "embedded_content"
        assert address in by_source[f"embed:{address}"]["message"]

    status = {source["source_id"]: source["status"] for source in plan["sources"]}
    assert status["page:case-study-background"] == "read"
    assert status["file:512"] == "read"  # hidden, but served to whoever has the link
    assert status["file:510"] == status["file:511"] == "unreadable"
    assert status["embed:https://docs.google.com/document/d/1AbCdEf/preview"] == "unreadable"
    description = context.document("description")
    assert description is not None
    assert "[Image: Bar chart of daily screen time by grade]" in description.text
    assert "[Equation: d = \\frac{\\bar{x}_1 - \\bar{x}_2}{s}]" in description.text
    page = context.document("page:case-study-background")
    assert page is not None and "at least one confounding factor" in page.text


async def test_withheld_instructions_are_said_and_nothing_is_scheduled_before_they_open(
    client: httpx.AsyncClient, student: Student
) -> None:
    plan, warnings, context = await plan_of(client, student, 101, 1010)
    lock = context.assignment.lock
    assert lock is not None and lock.instructions_withheld and lock.unlock_at is not None
    assert lock.explanation.startswith("This assignment is locked until")
    [withheld] = [w for w in warnings if w["code"] == "instructions_locked"]
    assert lock.explanation in withheld["message"]
    opens = lock.unlock_at.astimezone(ZoneInfo("America/New_York")).date()
    targets = [date.fromisoformat(m["target_date"]) for m in plan["milestones"]]
    assert targets and min(targets) >= opens
    assert plan["schedule"]["starts_on"] == opens.isoformat()
    assert "Nothing is scheduled before Canvas opens" in plan["schedule"]["note"]


async def test_a_module_lock_gives_canvass_reason_and_no_dates(
    client: httpx.AsyncClient, student: Student
) -> None:
    plan, warnings, context = await plan_of(client, student, 101, 1011)
    lock = context.assignment.lock
    assert lock is not None and lock.module_name == "Week 7: Research Proposal"
    assert "hasn't been unlocked yet" in lock.explanation and "<" not in lock.explanation
    assert all(m["target_date"] is None for m in plan["milestones"])
    assert "Week 7: Research Proposal" in plan["schedule"]["note"]
    assert any(w["code"] == "instructions_locked" for w in warnings)


async def test_a_closed_assignment_keeps_its_instructions_and_gets_no_dates(
    client: httpx.AsyncClient, student: Student
) -> None:
    plan, warnings, context = await plan_of(client, student, 101, 1012)
    lock = context.assignment.lock
    assert lock is not None and not lock.instructions_withheld and lock.lock_at is not None
    assert lock.explanation.startswith("This assignment was locked")
    description = context.document("description")
    assert description is not None and "annotated bibliography" in description.text.lower()
    assert all(m["target_date"] is None for m in plan["milestones"])
    assert "no longer accepts submissions" in plan["schedule"]["note"]
    assert not any(w["code"] == "instructions_locked" for w in warnings)


async def test_a_graded_discussion_reads_its_prompt_and_attachment(
    client: httpx.AsyncClient, simulator: RunningSimulator, student: Student
) -> None:
    before = len(simulator.state.requests)
    plan, _, context = await plan_of(client, student, 202, 2010)
    discussion = context.assignment.discussion
    assert discussion is not None
    assert discussion.require_initial_post and discussion.required_replies == 2
    assert discussion.reply_due_at is not None
    # The initial post has its own checkpoint ("reply_to_topic"), three days earlier: the
    # plan's step to post says that date, not the replies' one.
    assert discussion.initial_post_due_at is not None
    assert (discussion.reply_due_at - discussion.initial_post_due_at).days == 3
    [post] = [
        t for m in plan["milestones"] for t in m["tasks"] if t["title"] == "Post your initial reply"
    ]
    initial_post_day = discussion.initial_post_due_at.astimezone(ZoneInfo("America/New_York"))
    assert (
        f"by {initial_post_day:%a} {initial_post_day.day} {initial_post_day:%b}"
        in post["description"]
    )
    # Everything but the replies is done by then: the milestones are spread up to it. The
    # replies are a milestone of their own, anchored on their own due day.
    *earlier, replies = plan["milestones"]
    targets = [date.fromisoformat(m["target_date"]) for m in earlier]
    assert targets and max(targets) < initial_post_day.date()
    assert replies["title"] == "Reply to classmates" and replies["anchored"]
    assert replies["tasks"][-1]["title"] == "Reply to 2 classmates"
    assert "Post your initial reply" not in [t["title"] for t in replies["tasks"]]
    # A day of slack before the replies' deadline, as before the due date.
    replies_day = discussion.reply_due_at.astimezone(ZoneInfo("America/New_York")).date()
    assert date.fromisoformat(replies["target_date"]) == replies_day - timedelta(days=1)
    assert "before the initial post is due" in plan["schedule"]["note"]
    assert "509" in file_requests(simulator, before)
    questions = context.document("file:509")
    assert questions is not None and "germline editing" in questions.text
    prompt = context.document("description")
    assert prompt is not None and "reply to at least two classmates" in prompt.text
    # The replies' checkpoint is due on the course's local day, 23:59 in Chicago.
    local = discussion.reply_due_at.astimezone(ZoneInfo("America/Chicago"))
    assert (local.hour, local.minute) == (23, 59)


async def test_every_submission_type_is_read_from_canvas(
    client: httpx.AsyncClient, student: Student
) -> None:
    _, _, quiz = await plan_of(client, student, 101, 1014)
    assert quiz.assignment.is_quiz and quiz.assignment.submission_types == ["online_quiz"]
    _, _, new_quiz = await plan_of(client, student, 101, 1015)
    assert new_quiz.assignment.is_new_quiz
    assert new_quiz.assignment.external_tool_url is not None
    _, _, group = await plan_of(client, student, 101, 1021)
    assert group.assignment.group_category_id == "61"
    assert group.assignment.allowed_extensions == ["pdf", "pptx"]


async def test_the_whole_rubric_is_kept_and_quotable(
    client: httpx.AsyncClient, student: Student
) -> None:
    _, _, context = await plan_of(client, student, 101, 1022)
    synthesis, _, draft = context.rubric
    assert synthesis.criterion_use_range and not synthesis.ignore_for_scoring
    assert draft.ignore_for_scoring and draft.scored_points is None
    assert context.rubric_settings is not None
    assert context.rubric_settings.free_form_criterion_comments
    top = synthesis.ratings[0].long_description
    assert top.startswith("Groups sources by theme")
    assert find_quote(
        "every paragraph compares at least two sources", grounding_corpus(context)["rubric"]
    )
    assert sum(c.scored_points or 0 for c in context.rubric) == 60  # Canvas's points_possible


async def test_hidden_rubric_points_are_not_kept(
    client: httpx.AsyncClient, student: Student
) -> None:
    _, _, context = await plan_of(client, student, 101, 1023)
    assert context.rubric_settings is not None and context.rubric_settings.hide_points
    assert all(c.points is None for c in context.rubric)
    assert all(r.points is None for c in context.rubric for r in c.ratings)


def test_local_deadlines_are_sent_in_utc_like_canvas(simulator: RunningSimulator) -> None:
    raw = simulator.state.assignments[1025]["due_at"]
    assert raw.endswith("23:59 local")
    sent = datetime.fromisoformat(resolve_date(raw, zone="America/New_York").replace("Z", "+00:00"))
    local = sent.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (23, 59) and sent.utcoffset() is not None


# ----- what the plans say ------------------------------------------------------------------


def task_titles(plan: dict[str, Any]) -> list[str]:
    return [task["title"] for milestone in plan["milestones"] for task in milestone["tasks"]]


def plan_text(plan: dict[str, Any]) -> str:
    return json.dumps(plan, ensure_ascii=False)


async def test_an_essay_handed_in_on_paper_or_outside_canvas_is_still_an_essay(
    client: httpx.AsyncClient, simulator: RunningSimulator, student: Student
) -> None:
    # Canvas's on_paper (a printed paper handed in in class) and none say how the work is
    # handed in, not what it is: the text (1,500-2,000 words, APA) still makes it an essay.
    for types, last_task in (
        (["on_paper"], "Hand in your paper copy"),
        (["none"], "Do it as the instructions say"),
    ):
        essay = simulator.state.copy_assignment(1001, submission_types=types)
        plan, _, _ = await plan_of(client, student, 101, essay["id"])
        titles = task_titles(plan)
        assert "Draft the body sections" in titles and titles[-1] == last_task
        assert "Submit and confirm" not in titles
        # There is no Canvas submission to reopen or confirm.
        assert "reopen" not in plan_text(plan)
        assert "confirmed in Canvas" not in plan_text(plan)
    # A talk's minutes are no paper: done in person, nothing to hand in, it stays so.
    talk = simulator.state.copy_assignment(
        1018,
        name="Teaching demonstration",
        description="<p>Teach a 5-minute lesson to the group during the session.</p>",
    )
    plan, _, _ = await plan_of(client, student, 101, talk["id"])
    assert [m["title"] for m in plan["milestones"]] == ["Prepare", "Take part"]


async def test_problem_sets_and_programming_get_their_own_plans(
    client: httpx.AsyncClient, simulator: RunningSimulator, student: Student
) -> None:
    pset = simulator.state.copy_assignment(
        1001,
        name="Problem Set 4",
        description="<p>Solve problems 2, 5 and 7 of chapter 3. Show all your work.</p>",
        submission_types=["on_paper"],
    )
    plan, _, _ = await plan_of(client, student, 101, pset["id"])
    assert [m["title"] for m in plan["milestones"]] == [
        "Understand the problems",
        "Solve",
        "Check & write up",
        "Submit",
    ]
    assert task_titles(plan)[-1] == "Hand in your paper copy"
    program = simulator.state.copy_assignment(
        1001,
        name="Project 2: Word Counter",
        description="<p>Implement a word counter in Python. Your code must pass the unit "
        "tests in the starter repository.</p>",
        submission_types=["online_upload"],
    )
    plan, _, _ = await plan_of(client, student, 101, program["id"])
    assert "Set up and run the starter code" in task_titles(plan)
    assert "Test against the specification" in task_titles(plan)


async def test_engine_and_schedule_agree_on_every_date(
    client: httpx.AsyncClient, student: Student
) -> None:
    for course, assignment in ((101, 1001), (101, 1010), (202, 2010), (101, 1011)):
        plan, _, _ = await plan_of(client, student, course, assignment)
        for milestone in plan["milestones"]:
            assert milestone["suggested_date"] == milestone["target_date"], (assignment, milestone)


async def test_withheld_and_closed_assignments_say_so_in_the_plan(
    client: httpx.AsyncClient, student: Student
) -> None:
    locked, _, context = await plan_of(client, student, 101, 1010)
    assert context.assignment.lock is not None
    first = locked["milestones"][0]["tasks"][0]
    assert first["title"] == "Read the instructions when Canvas opens them"
    assert context.assignment.lock.explanation in first["description"]
    assert "plan again" in first["description"]
    assert any("withholds the instructions" in r["risk"] for r in locked["risks"])
    closed, _, _ = await plan_of(client, student, 101, 1012)
    assert "no longer accepts submissions" in closed["assignment_summary"]["success_definition"]
    assert all("no longer accepts submissions" in m["due_strategy"] for m in closed["milestones"])


async def test_each_submission_type_gets_its_own_plan(
    client: httpx.AsyncClient, student: Student
) -> None:
    quiz, _, _ = await plan_of(client, student, 101, 1014)
    assert [m["title"] for m in quiz["milestones"]] == [
        "Know what the quiz covers",
        "Review and practise",
        "Take the quiz",
    ]
    minutes = sum(t["estimated_minutes"] for m in quiz["milestones"] for t in m["tasks"])
    assert minutes <= 180  # a preparation plan, not a writing project
    new_quiz, _, _ = await plan_of(client, student, 101, 1015)
    assert "New Quizzes" in plan_text(new_quiz)
    tool, _, _ = await plan_of(client, student, 101, 1016)
    assert "Open the tool from the Canvas assignment" in task_titles(tool)
    for paper_or_none in (1017, 1018):
        in_person, _, _ = await plan_of(client, student, 101, paper_or_none)
        assert [m["title"] for m in in_person["milestones"]] == ["Prepare", "Take part"]
    discussion, _, _ = await plan_of(client, student, 202, 2010)
    titles = task_titles(discussion)
    assert titles[-1] == "Reply to 2 classmates"
    assert titles.index("Post your initial reply") < titles.index("Reply to 2 classmates")
    assert "Submit and confirm" not in titles
    group, _, _ = await plan_of(client, student, 101, 1021)
    assert task_titles(group)[0] == "Agree on the work with your group"
    url, _, _ = await plan_of(client, student, 101, 1020)
    assert "submit the link in canvas" in plan_text(url).lower()
    media, _, _ = await plan_of(client, student, 101, 1019)
    assert "record or upload your media in canvas" in plan_text(media).lower()


async def test_the_plan_quotes_the_top_ratings_standard_and_counts_only_scored_points(
    client: httpx.AsyncClient, student: Student
) -> None:
    plan, _, _ = await plan_of(client, student, 101, 1022)
    text = plan_text(plan)
    assert "every paragraph compares at least two sources" in text
    assert "60 points" in plan["assignment_summary"]["success_definition"]
    assert "'Draft conference' (feedback only, not scored)" in text
    assert "65" not in plan["assignment_summary"]["success_definition"]


async def test_ungraded_and_hidden_point_assignments_show_no_points(
    client: httpx.AsyncClient, student: Student
) -> None:
    ungraded, _, context = await plan_of(client, student, 101, 1024)
    assert not context.assignment.graded
    assert "It is not graded." in ungraded["assignment_summary"]["success_definition"]
    assert " pts)" not in plan_text(ungraded) and "20 points" not in plan_text(ungraded)
    hidden, _, _ = await plan_of(client, student, 101, 1023)
    assert " pts)" not in plan_text(hidden)


async def test_feedback_counts_only_the_points_canvas_counts(
    client: httpx.AsyncClient, student: Student
) -> None:
    path = "/assignments/101/1022"
    await plan_of(client, student, 101, 1022)
    text = (
        "Recent studies of screen time (Lee, 2021; Park, 2022) agree that short sessions help, "
        "while Diaz (2020) disagrees; together they leave a gap on older students. "
    ) * 8
    started = await client.post(
        f"{path}/submissions/start", json={"text": text}, headers=student.headers
    )
    assert started.status_code == 202, started.text
    events = await read_stream(
        client, f"{path}/events", headers=student.headers, until={"feedback_ready", "failed"}
    )
    assert events[-1].event == "feedback_ready", events[-1].json()
    current = (await client.get(f"{path}/feedback", headers=student.headers)).json()
    scorecard = current["assignment"]["feedback"]["scorecard"]
    scores = {score["criterion_id"]: score for score in scorecard["criterion_scores"]}
    assert scores["_1022_draft"]["points_possible"] is None
    assert scores["_1022_draft"]["estimated_points"] is None
    assert scores["_1022_synthesis"]["points_possible"] == 30
