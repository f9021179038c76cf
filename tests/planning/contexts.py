"""Hand-written source contexts of the planning engine's tests: one per kind of assignment
the offline engine knows, and one of no known kind with warnings and a truncated file.
``ALL_CONTEXTS`` lists them for the tests that run on every one."""

from __future__ import annotations

from datetime import UTC, datetime

from models.context import (
    AssignmentFacts,
    ContextWarning,
    RubricCriterion,
    RubricRating,
    SourceContext,
    SourceDocument,
)

ESSAY_DESCRIPTION = """Argumentative Essay: Renewable Energy Policy

In this essay, you will argue whether your country should phase out coal power by 2035, \
using evidence from scholarly sources.

Requirements:
- Your essay must be 1,500–2,000 words, excluding the reference list.
- Cite at least five peer-reviewed sources in APA 7th edition format.
- Do not use Wikipedia as a source.
- Submit your essay as a .docx or .pdf file with a title page.
- Use 12-point Times New Roman, double-spaced.

The essay is due March 10 at 11:59 pm. Late submissions lose 10% per day.
You should use headings to organize your argument."""

ESSAY_GUIDELINES = """Essay Guidelines (Dr. Smith)
Your thesis should be stated clearly in the introduction. Each body paragraph must
support the thesis with evidence from at least one source, and the counterargument
section is required.
The essay is worth 20% of your final grade."""

LAB_DESCRIPTION = """Lab 3: Enzyme Kinetics
In this lab you will measure how substrate concentration affects the reaction rate of catalase.
Your report must include Introduction, Methods, Results and Discussion sections.
Present your data in at least two figures with labelled axes and captions.
Reports are limited to 6 pages and must be submitted as a PDF.
Use APA style for citations."""

SHORT_DESCRIPTION = """Reading Response 4
Write a response of 250–300 words to this week's reading. Explain one idea from the chapter \
that surprised you and connect it to your own experience.
Post your reply by Friday."""

PITCH_DESCRIPTION = """Your team will pitch a product idea to the class. The presentation must \
be no more than 10 minutes and use 8–12 slides.
Cite any data sources on your slides.
Upload your slides as .pptx or .pdf before class."""


# Modelled on the demo's sample essay: a description, a prompt PDF that repeats and extends
# it, and a how-to guide with steps, a schedule table and office hours.
GUIDED_DESCRIPTION = """In this essay you will take a position on a debatable question about \
technology in education and defend it with scholarly evidence.

Requirements

- Your final essay must be 1,500–2,000 words.
- You must cite at least five scholarly sources in APA 7th edition format.
- You should visit the Writing Center at least one week before the due date.

Submit your essay as a .docx or .pdf file. The essay style guide explains the formatting and \
citation rules."""

GUIDED_PROMPT = """ENG 101: Composition I - Argumentative Essay
Requirements
Your essay must be 1,500–2,000 words.
You must cite at least five peer-reviewed sources in APA 7th edition format.
Address at least one counterargument and explain why your position still holds.

Sources and Academic Integrity
Do not use Wikipedia as a source. You may use it to find background reading, but cite the
original works it points to.
Grading
Your essay is graded with the rubric in Canvas: thesis (20%), evidence (30%), counterargument
(20%), organization (15%), and style and mechanics (15%)."""

GUIDED_GUIDE = """Argumentative Essay: Student Guide

Overview

This guide walks you through the argumentative essay from choosing a topic to submitting \
the final draft.

Formatting

- Use 12-point Times New Roman, double-spaced.

Steps

1. Find at least five peer-reviewed sources through the library databases.
2. Write the annotated bibliography.

Milestones

Milestone | Suggested date | Points
Annotated bibliography | Week 5 | 20
Final essay | Week 9 | 100

Questions? Come to office hours on Tuesdays from 2 to 4 p.m."""


def text_document(source_id: str, text: str, name: str = "", truncated: bool = False):
    return SourceDocument(
        source_id=source_id,
        name=name or source_id,
        content_type="text/plain",
        byte_size=len(text.encode()),
        sha256="0" * 64,
        text=text,
        truncated=truncated,
    )


def essay_context() -> SourceContext:
    return SourceContext(
        assignment=AssignmentFacts(
            course_id="101",
            assignment_id="9001",
            course_name="ENV 210",
            title="Argumentative Essay",
            due_at=datetime(2026, 3, 10, 23, 59, tzinfo=UTC),
            points_possible=100,
            submission_types=["online_upload"],
            allowed_extensions=["docx", "pdf"],
            group_name="Essays",
            group_weight=30,
        ),
        rubric=[
            RubricCriterion(
                id="c1",
                description="Thesis & Argument",
                long_description="A clear, arguable thesis sustained throughout.",
                points=30,
                ratings=[
                    RubricRating(
                        description="Clear, arguable thesis sustained throughout the essay",
                        points=30,
                    ),
                    RubricRating(description="Thesis unclear", points=10),
                ],
            ),
            RubricCriterion(
                id="c2",
                description="Evidence & Sources",
                long_description="Uses at least five credible peer-reviewed sources.",
                points=30,
            ),
            RubricCriterion(id="c3", description="Organization", points=20),
            RubricCriterion(id="c4", description="APA Formatting & Mechanics", points=20),
        ],
        documents=[
            text_document("description", ESSAY_DESCRIPTION, "Assignment description"),
            text_document("file:501", ESSAY_GUIDELINES, "guidelines.pdf"),
        ],
        fetched_at=datetime(2026, 2, 20, 9, 0, tzinfo=UTC),
    )


def lab_context() -> SourceContext:
    return SourceContext(
        assignment=AssignmentFacts(
            course_id="2",
            assignment_id="3",
            title="Lab 3 Report",
            due_at=datetime(2026, 4, 2, 17, 0, tzinfo=UTC),
            points_possible=50,
            submission_types=["online_upload"],
            allowed_extensions=["pdf"],
        ),
        rubric=[
            RubricCriterion(id="r1", description="Data analysis and figures", points=20),
            RubricCriterion(
                id="r2", description="Discussion of results and sources of error", points=20
            ),
            RubricCriterion(id="r3", description="Writing quality", points=10),
        ],
        documents=[text_document("description", LAB_DESCRIPTION)],
        fetched_at=datetime(2026, 3, 26, 12, 0, tzinfo=UTC),
    )


def short_response_context() -> SourceContext:
    return SourceContext(
        assignment=AssignmentFacts(
            course_id="3",
            assignment_id="4",
            title="Reading Response 4",
            due_at=datetime(2026, 2, 13, 23, 59, tzinfo=UTC),
            points_possible=10,
            submission_types=["online_text_entry"],
        ),
        documents=[text_document("description", SHORT_DESCRIPTION)],
        fetched_at=datetime(2026, 2, 12, 18, 0, tzinfo=UTC),
    )


def presentation_context() -> SourceContext:
    return SourceContext(
        assignment=AssignmentFacts(
            course_id="4",
            assignment_id="5",
            title="Product Pitch",
            due_at=datetime(2026, 5, 4, 14, 0, tzinfo=UTC),
            points_possible=100,
            submission_types=["online_upload"],
        ),
        rubric=[
            RubricCriterion(id="p1", description="Delivery and timing", points=40),
            RubricCriterion(id="p2", description="Slide design", points=30),
            RubricCriterion(id="p3", description="Content and evidence", points=30),
        ],
        documents=[text_document("description", PITCH_DESCRIPTION)],
        fetched_at=datetime(2026, 4, 20, 8, 0, tzinfo=UTC),
    )


def warned_context() -> SourceContext:
    return SourceContext(
        assignment=AssignmentFacts(
            course_id="5", assignment_id="6", title="Case Study", submission_types=["online_upload"]
        ),
        documents=[
            text_document(
                "description",
                "Analyze the attached case study and answer the questions. "
                "You must answer every question.",
            ),
            text_document("file:9", "Part 1 of the case...", "case.pdf", truncated=True),
        ],
        warnings=[
            ContextWarning(
                code="encrypted",
                message="the PDF is password-protected",
                file_name="questions.pdf",
            )
        ],
        fetched_at=datetime(2026, 2, 1, tzinfo=UTC),
    )


def guided_essay_context() -> SourceContext:
    return SourceContext(
        assignment=AssignmentFacts(
            course_id="101",
            assignment_id="1001",
            title="Argumentative Essay",
            due_at=datetime(2026, 12, 16, 23, 59, tzinfo=UTC),
            points_possible=100,
            submission_types=["online_upload"],
            allowed_extensions=["docx", "pdf"],
        ),
        rubric=[
            RubricCriterion(id="c1", description="Thesis & Argument", points=30),
            RubricCriterion(id="c2", description="Evidence & Sources", points=30),
            RubricCriterion(id="c3", description="Organization", points=20),
            RubricCriterion(id="c4", description="Style & Mechanics (APA)", points=20),
        ],
        documents=[
            text_document("description", GUIDED_DESCRIPTION, "Assignment description"),
            text_document("file:501", GUIDED_PROMPT, "essay_prompt.pdf"),
            text_document("file:502", GUIDED_GUIDE, "essay_guide.docx"),
        ],
        fetched_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
    )


ALL_CONTEXTS = [
    essay_context,
    guided_essay_context,
    lab_context,
    short_response_context,
    presentation_context,
    warned_context,
]
