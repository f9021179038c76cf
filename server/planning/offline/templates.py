"""The stage templates per kind of assignment (essay, lab report, presentation, short
response, anything else), filled in from the ``Facts``.
"""

from __future__ import annotations

from collections.abc import Callable

from server.planning.offline.facts import AssignmentKind, Facts
from server.planning.offline.stages import (
    Stage,
    Step,
    present_parts,
    questions_step,
    read_step,
    rubric_step,
    sources_phrase,
    submit_step,
)


def _essay_stages(facts: Facts) -> list[Stage]:
    style = facts.citation_style
    length = facts.length
    return [
        Stage(
            title="Understand the prompt",
            purpose="Know exactly what is asked and how it is graded before writing anything.",
            share=0.10,
            keywords="prompt question task purpose audience understand",
            acceptance=present_parts(
                "You can state the question you are answering in one sentence",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                read_step(facts, "length, sources, format and deadline"),
                rubric_step(facts),
                questions_step(),
            ),
        ),
        Stage(
            title="Research & sources",
            purpose=f"Gather the evidence your argument will rest on: {sources_phrase(facts)}.",
            share=0.30,
            keywords="source evidence research support literature reference cite citation",
            acceptance=present_parts(
                f"At least {facts.min_sources} usable sources selected"
                if facts.min_sources
                else "Enough credible sources to support each main point",
                f"Full citation details recorded for {style}"
                if style
                else "Full citation details recorded for every source",
            ),
            steps=(
                Step(
                    title="Find credible sources",
                    description=(
                        "Search the library databases and course readings for "
                        f"{sources_phrase(facts)}. "
                        "Skim abstracts first and keep only sources that help answer the prompt."
                    ),
                    deliverable="A list of candidate sources with full citation details",
                    done_definition=(
                        f"You have {sources_phrase(facts, with_exclusions=False)} you can cite"
                    ),
                    minutes=60,
                    scales=True,
                ),
                Step(
                    title="Take notes with citations",
                    description=(
                        "For each source, note its key points and any quotes you may use, with "
                        "page "
                        "numbers, so citing later takes minutes, not hours."
                    ),
                    deliverable="Notes for each source, tagged with its citation",
                    done_definition="Every note traces back to a source and page",
                    minutes=60,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Outline & thesis",
            purpose="Decide what you will argue and in what order, before drafting.",
            share=0.45,
            keywords="thesis argument claim position structure organi outline focus logic coheren",
            acceptance=(
                "The thesis answers the prompt in one or two sentences",
                "Every section of the outline has its evidence assigned",
            ),
            steps=(
                Step(
                    title="Write a working thesis",
                    description=(
                        "Write one or two sentences that answer the prompt directly and that a "
                        "reader "
                        "could disagree with."
                    ),
                    deliverable="A working thesis statement",
                    done_definition=(
                        "The thesis answers the prompt and every planned section supports it"
                    ),
                    minutes=30,
                ),
                Step(
                    title="Outline the structure",
                    description=(
                        "Plan the introduction, one body section per main point (with the evidence "
                        "for "
                        "each) and the conclusion. Give each section a word budget"
                        + (f" adding up to {length}." if length else ".")
                    ),
                    deliverable="An outline with evidence and a word budget per section",
                    done_definition="Each body section has a main point and at least one source",
                    minutes=45,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Write the draft",
            purpose="Get a complete first draft down; polishing comes later.",
            share=0.70,
            keywords=(
                "content analy develop depth critical discussion idea insight synthes "
                "understanding knowledge application"
            ),
            acceptance=present_parts(
                "A complete draft with every outline section written",
                f"Draft length roughly {length}" if length else None,
                f"In-text citations in {style} for every borrowed idea"
                if style
                else "A citation for every borrowed idea",
            ),
            steps=(
                Step(
                    title="Draft the body sections",
                    description=(
                        "Write each body section from the outline without stopping to polish: make "
                        "the point, give the evidence, explain how it supports the thesis. Cite as "
                        "you go" + (f", with in-text citations in {style}." if style else ".")
                    ),
                    deliverable="Drafted body sections",
                    done_definition="Every main point in the outline is written with its evidence",
                    minutes=120,
                    scales=True,
                ),
                Step(
                    title="Draft the introduction and conclusion",
                    description=(
                        "Write these last, once you know what the body says: the introduction "
                        "leads "
                        "to the thesis, the conclusion says what the argument shows."
                    ),
                    deliverable="A complete first draft",
                    done_definition="The draft reads from start to finish",
                    minutes=45,
                    scales=True,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Revise & polish",
            purpose="Turn the draft into your best work: argument first, then sentences.",
            share=0.90,
            keywords=(
                "clarity style grammar mechanic spelling punctuation language writing convention "
                "tone flow proofread sentence voice"
            ),
            acceptance=present_parts(
                "Each paragraph has a clear point tied to the thesis",
                f"Length within {length}" if length else None,
                "No errors left that reading aloud would catch",
            ),
            steps=(
                Step(
                    title="Revise the argument",
                    description=(
                        "Re-read the draft against the rubric. Does every paragraph support the "
                        "thesis? "
                        "Cut, move or strengthen what does not."
                    ),
                    deliverable="A revised draft",
                    done_definition="Each paragraph earns its place",
                    minutes=60,
                    scales=True,
                ),
                Step(
                    title="Edit sentences and check the length",
                    description=(
                        "Read the draft aloud to catch unclear sentences, then fix grammar and "
                        "spelling."
                        + (
                            f" Bring the length within {length} (check whether the reference list "
                            f"counts)."
                            if length
                            else ""
                        )
                    ),
                    deliverable="A clean, edited draft",
                    done_definition="No errors you can find reading aloud"
                    + ("; length within range" if length else ""),
                    minutes=45,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Final check & submit",
            purpose="Make sure nothing avoidable costs marks, then submit on time.",
            share=1.0,
            keywords="format apa mla chicago harvard ieee layout submission",
            acceptance=(
                "Every item on the final checklist is ticked",
                "The submission is confirmed in Canvas",
            ),
            steps=(
                Step(
                    title="Format and check citations",
                    description=(
                        f"Apply {style or 'the required'} formatting"
                        + (", including the title page" if facts.title_page else "")
                        + (" and the font and spacing rules" if facts.layout else "")
                        + ". Check that every in-text citation has a reference-list entry and vice "
                        "versa."
                    ),
                    deliverable="The formatted final version",
                    done_definition="The final checklist is all ticked",
                    minutes=30,
                ),
                submit_step(facts),
            ),
        ),
    ]


def _lab_stages(facts: Facts) -> list[Stage]:
    style = facts.citation_style
    return [
        Stage(
            title="Understand & plan",
            purpose="Know what the report must show and plan the analysis that will show it.",
            share=0.10,
            keywords="purpose aim objective hypothes question background",
            acceptance=present_parts(
                "You can state the aim or hypothesis in one sentence",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                read_step(facts, "sections, figures, length, format and deadline"),
                rubric_step(facts),
                Step(
                    title="Plan the analysis",
                    description=(
                        "List the variables, calculations, statistics and figures the report "
                        "needs, "
                        "and check you have (or can get) the data for each."
                    ),
                    deliverable="An analysis plan: variables, calculations, planned figures",
                    done_definition="You know what each figure and table will show",
                    minutes=30,
                ),
            ),
        ),
        Stage(
            title="Collect & analyse data",
            purpose="Turn the raw data into the results the report will present.",
            share=0.40,
            keywords="data analy calculat statistic measure accura uncertaint result",
            acceptance=(
                "Raw data organised in tables with units",
                "Every planned calculation done, with its uncertainty noted",
            ),
            steps=(
                Step(
                    title="Organise the raw data",
                    description=(
                        "Put the data in clearly labelled tables with units, flag missing or odd "
                        "values, and keep an untouched copy of the original."
                    ),
                    deliverable="Clean data tables",
                    done_definition="Every value has a unit and odd values are explained",
                    minutes=45,
                ),
                Step(
                    title="Run the analysis",
                    description=(
                        "Do the calculations and statistics from your plan, estimate "
                        "uncertainties, "
                        "and save the workings so you can show them."
                    ),
                    deliverable="Results with workings",
                    done_definition="Each result you will report is calculated and checked",
                    minutes=90,
                ),
            ),
        ),
        Stage(
            title="Draft the report sections",
            purpose="Write every section while the analysis is fresh.",
            share=0.65,
            keywords=(
                "method procedure introduction discussion conclusion interpret content "
                "understanding reasoning error"
            ),
            acceptance=present_parts(
                "Methods, results, introduction and discussion drafted",
                "The discussion interprets the results and names sources of error",
                f"Sources cited in {style}" if style else None,
            ),
            steps=(
                Step(
                    title="Write methods and results",
                    description=(
                        "Methods: what you did, in the past tense, precisely enough to repeat. "
                        "Results: what you found, with no interpretation yet."
                    ),
                    deliverable="Drafted methods and results sections",
                    done_definition="Someone could repeat the work from your methods",
                    minutes=75,
                ),
                Step(
                    title="Write introduction and discussion",
                    description=(
                        "Introduction: background and the aim or hypothesis"
                        + (f", with sources cited in {style}" if style else "")
                        + ". Discussion: what the results mean, how they compare with what "
                        "you expected, sources of error, and a conclusion."
                    ),
                    deliverable="Drafted introduction, discussion and conclusion",
                    done_definition="Every claim in the discussion points to a result",
                    minutes=90,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Figures & captions",
            purpose="Make the results readable at a glance.",
            share=0.80,
            keywords="figure graph table chart caption visual plot",
            acceptance=(
                "Every figure has labelled axes with units and a caption",
                "The text refers to every figure and table",
            ),
            steps=(
                Step(
                    title="Make figures and tables",
                    description=(
                        "Plot the key results: axes labelled with quantity and unit, consistent "
                        "numbering, readable when printed."
                    ),
                    deliverable="Final figures and tables",
                    done_definition="Each figure shows one clear result",
                    minutes=60,
                ),
                Step(
                    title="Write captions and cross-references",
                    description=(
                        "Give every figure and table a caption that says what it shows, and refer "
                        "to each one in the text."
                    ),
                    deliverable="Captioned, referenced figures",
                    done_definition="No figure is left unexplained",
                    minutes=20,
                ),
            ),
        ),
        Stage(
            title="Revise",
            purpose="Check the report against the instructions and rubric, then proofread.",
            share=0.92,
            keywords="clarity style grammar mechanic spelling writing convention organi structure",
            acceptance=present_parts(
                "Every required section present, in the required order",
                f"Length within {facts.length}" if facts.length else None,
            ),
            steps=(
                Step(
                    title="Check against the rubric and instructions",
                    description=(
                        "Go through each rubric criterion and hard constraint and fix whatever the "
                        "report does not yet show."
                    ),
                    deliverable="A revised report",
                    done_definition="Every criterion and constraint is met",
                    minutes=45,
                ),
                Step(
                    title="Proofread numbers and units",
                    description=(
                        "Check that numbers in the text match the tables, units and significant "
                        "figures are consistent, and the writing is clear."
                    ),
                    deliverable="A proofread report",
                    done_definition="Numbers, units and text agree",
                    minutes=30,
                ),
            ),
        ),
        Stage(
            title="Submit",
            purpose="Hand in the complete report on time.",
            share=1.0,
            keywords="format submission apa mla ieee layout",
            acceptance=(
                "Every item on the final checklist is ticked",
                "The submission is confirmed in Canvas",
            ),
            steps=(submit_step(facts),),
        ),
    ]


def _presentation_stages(facts: Facts) -> list[Stage]:
    minutes = facts.lengths.get("minutes")
    slides = facts.lengths.get("slides")
    style = facts.citation_style
    timing = (
        f" Budget about {round(minutes.target * 60 / slides.target)} seconds per slide."
        if minutes and slides
        else ""
    )
    return [
        Stage(
            title="Research the topic",
            purpose="Know the brief and gather the content worth presenting.",
            share=0.25,
            keywords="research content source evidence knowledge accura understanding topic",
            acceptance=present_parts(
                "You know the time limit, audience and what is graded",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                read_step(facts, "time limit, slide count, audience, format and deadline"),
                rubric_step(facts),
                Step(
                    title="Gather content and evidence",
                    description=(
                        f"Collect facts, examples and visuals from {sources_phrase(facts)}, "
                        "noting where each came from."
                    ),
                    deliverable="Notes and visuals with their sources",
                    done_definition="Each point you want to make has evidence behind it",
                    minutes=90,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Storyboard",
            purpose="Decide the message and the order before opening the slide software.",
            share=0.45,
            keywords="organi structure flow logic message introduction conclusion coheren",
            acceptance=present_parts(
                "One key message the audience should remember",
                f"A storyboard of {slides.describe('slides')}"
                if slides
                else "A slide-by-slide storyboard",
            ),
            steps=(
                Step(
                    title="Write the key message",
                    description=(
                        "Write the one sentence your audience should remember, and the 3–4 points "
                        "that support it."
                    ),
                    deliverable="Key message and supporting points",
                    done_definition="Every planned slide serves the message",
                    minutes=20,
                ),
                Step(
                    title="Storyboard slide by slide",
                    description=(
                        "Sketch one idea per slide: title, visual, what you will say."
                        + (f" Aim for {slides.describe('slides')}." if slides else "")
                        + timing
                    ),
                    deliverable="A storyboard",
                    done_definition="The storyboard fits the time limit",
                    minutes=45,
                    scales=True,
                ),
            ),
        ),
        Stage(
            title="Build the slides",
            purpose="Turn the storyboard into clear, visual slides and speaker notes.",
            share=0.70,
            keywords="visual design slide creativ graphic citation cite reference",
            acceptance=present_parts(
                "Every slide has one idea, more visual than text",
                f"Sources cited on the slides in {style}"
                if style
                else "Sources credited on the slides",
            ),
            steps=(
                Step(
                    title="Build the deck",
                    description=(
                        "Build the slides from the storyboard: visuals over text, a few short "
                        "lines "
                        "per slide, fonts readable from the back of the room, sources credited"
                        + (f" in {style}" if style else "")
                        + "."
                    ),
                    deliverable="A complete slide deck",
                    done_definition="Every storyboard slide exists and is readable",
                    minutes=120,
                    scales=True,
                ),
                Step(
                    title="Write speaker notes",
                    description=(
                        "Write brief notes per slide: the point, the evidence, the transition to "
                        "the "
                        "next slide."
                    ),
                    deliverable="Speaker notes",
                    done_definition="You could present from the notes alone",
                    minutes=45,
                    scales=True,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Rehearse",
            purpose="Deliver it smoothly and on time.",
            share=0.90,
            keywords="deliver speak oral voice eye timing time engage audience confiden present",
            acceptance=present_parts(
                "At least two full timed run-throughs",
                f"Run time: {minutes.describe('minutes')}" if minutes else None,
            ),
            steps=(
                Step(
                    title="Rehearse with a timer",
                    description=(
                        "Run through the whole talk at least twice with a timer"
                        + (f" (time limit: {minutes.describe('minutes')})" if minutes else "")
                        + ". Cut content rather than speaking faster."
                    ),
                    deliverable="Timed run-throughs",
                    done_definition="The talk fits the time limit without rushing",
                    minutes=60,
                    scales=True,
                ),
                Step(
                    title="Get feedback and fix",
                    description=(
                        "Present to a friend or record yourself; fix the slides where you stumble "
                        "or lose them."
                    ),
                    deliverable="A revised deck and notes",
                    done_definition="You can deliver each slide without reading it",
                    minutes=45,
                ),
            ),
        ),
        Stage(
            title="Submit",
            purpose="Hand in the slides (and anything else required) on time.",
            share=1.0,
            keywords="submission format file",
            acceptance=(
                "Every item on the final checklist is ticked",
                "The submission is confirmed in Canvas",
            ),
            steps=(
                Step(
                    title="Export and check the file",
                    description=(
                        "Export the deck"
                        + (f" as {' or '.join(facts.formats)}" if facts.formats else "")
                        + ", open the exported file to check fonts, images and videos survived, "
                        "and "
                        "keep a backup copy for presenting."
                    ),
                    deliverable="The final exported file",
                    done_definition="The exported file opens and looks right",
                    minutes=15,
                ),
                submit_step(facts),
            ),
        ),
    ]


def _short_response_stages(facts: Facts) -> list[Stage]:
    length = facts.length
    return [
        Stage(
            title="Understand the prompt",
            purpose="Know exactly what the question asks before answering it.",
            share=0.25,
            keywords="prompt question task purpose understand",
            acceptance=present_parts(
                "You can restate the question in your own words",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(read_step(facts, "length, format and deadline"), rubric_step(facts)),
        ),
        Stage(
            title="Draft your response",
            purpose="Answer the question directly, with specific support.",
            share=0.70,
            keywords=(
                "content idea analy insight example evidence reflect argument connect depth "
                "understanding"
            ),
            acceptance=present_parts(
                "The first sentences answer the question directly",
                "Each point is backed by a specific example or reading",
                f"Length about right: {length}" if length else None,
            ),
            steps=(
                Step(
                    title="Plan your main point",
                    description=(
                        "Write a one-sentence answer to the prompt and the 2–3 points or examples "
                        "that support it."
                    ),
                    deliverable="A one-sentence answer and supporting points",
                    done_definition="You know what you will say and why",
                    minutes=15,
                ),
                Step(
                    title="Write the response",
                    description=(
                        "Write the response from your plan, leading with your answer"
                        + (f"; aim for {length}" if length else "")
                        + "."
                    ),
                    deliverable="A complete draft",
                    done_definition="The draft answers every part of the prompt",
                    minutes=40,
                    scales=True,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Revise & submit",
            purpose="Tighten it, check the rules, and submit on time.",
            share=1.0,
            keywords="clarity grammar mechanic writing convention spelling format submission",
            acceptance=present_parts(
                "Every part of the prompt is answered",
                f"Length within {length}" if length else None,
                "The submission is confirmed in Canvas",
            ),
            steps=(
                Step(
                    title="Revise and proofread",
                    description=(
                        "Check that every part of the prompt is answered, cut anything off-topic"
                        + (f", bring the length within {length}" if length else "")
                        + ", and read it aloud to catch errors."
                    ),
                    deliverable="The final text",
                    done_definition="You would be happy for the instructor to read it now",
                    minutes=20,
                    scales=True,
                ),
                submit_step(facts),
            ),
        ),
    ]


def _generic_stages(facts: Facts) -> list[Stage]:
    return [
        Stage(
            title="Understand the task",
            purpose="Know what is asked and how it is graded before starting.",
            share=0.15,
            keywords="understand task purpose question instruction",
            acceptance=present_parts(
                "You can say in one sentence what you must hand in",
                f"Requirements noted: {facts.requirement_line()}"
                if facts.requirement_line()
                else None,
            ),
            steps=(
                read_step(facts, "what to hand in, format and deadline"),
                rubric_step(facts),
                questions_step(),
            ),
        ),
        Stage(
            title="Plan the work",
            purpose="Break the work into parts you can schedule.",
            share=0.30,
            keywords="plan organi structure approach method",
            acceptance=("Every part of the work listed with a time estimate",),
            steps=(
                Step(
                    title="Break the work into parts",
                    description=(
                        "List every part, question or component the assignment asks for, estimate "
                        "each, and block the time in your calendar."
                    ),
                    deliverable="A list of parts with time estimates",
                    done_definition="Nothing the instructions ask for is missing from the list",
                    minutes=20,
                ),
            ),
        ),
        Stage(
            title="Do the work",
            purpose="Complete every part, highest value first.",
            share=0.75,
            keywords=(
                "content accura correct complete analy solution understanding quality knowledge"
            ),
            acceptance=("Every part from your list is done",),
            steps=(
                Step(
                    title="Work through each part",
                    description=(
                        "Start with the hardest or highest-value part. Note where you get stuck "
                        "and "
                        "ask early rather than late."
                    ),
                    deliverable="Every part completed",
                    done_definition="Each part meets the instructions",
                    minutes=120,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Review against the requirements",
            purpose="Catch what would cost marks while there is still time to fix it.",
            share=0.92,
            keywords="clarity presentation format mechanic convention organi",
            acceptance=("Every hard constraint and rubric criterion checked",),
            steps=(
                Step(
                    title="Check against the requirements",
                    description=(
                        "Go through every hard constraint and rubric criterion in this plan and "
                        "fix "
                        "whatever the work does not yet meet."
                    ),
                    deliverable="A checked, final version",
                    done_definition="Every constraint and criterion is met",
                    minutes=30,
                ),
            ),
        ),
        Stage(
            title="Submit",
            purpose="Hand it in on time.",
            share=1.0,
            keywords="submission format",
            acceptance=("The submission is confirmed",),
            steps=(submit_step(facts),),
        ),
    ]


STAGE_TEMPLATES: dict[AssignmentKind, Callable[[Facts], list[Stage]]] = {
    "essay": _essay_stages,
    "lab": _lab_stages,
    "presentation": _presentation_stages,
    "short_response": _short_response_stages,
    "generic": _generic_stages,
}
