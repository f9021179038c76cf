"""The stage templates of the kinds Canvas itself names, whatever the text says: a quiz
(Classic Quizzes or New Quizzes: ``is_quiz_assignment``, ``is_quiz_lti_assignment``,
``online_quiz``), work in an external tool (``external_tool``), and work done in person
(``on_paper``, ``none``). Short plans: a quiz is prepared for, not written.
"""

from __future__ import annotations

from server.planning.offline.facts import Facts
from server.planning.offline.stages import Stage, Step, read_step, submit_step


def quiz_stages(facts: Facts) -> list[Stage]:
    """A quiz is prepared for, not written: a short plan (Classic Quizzes and New Quizzes)."""
    where = "New Quizzes opens inside the Canvas assignment" if facts.new_quiz else "Canvas"
    return [
        Stage(
            title="Know what the quiz covers",
            purpose="Know the topics, the time limit and the attempts before you revise.",
            share=0.30,
            keywords="understand topic chapter content coverage",
            acceptance=("You have a list of the topics the quiz covers",),
            steps=(
                read_step(facts, "topics, time limit and attempts"),
                Step(
                    title="List the topics to revise",
                    description=(
                        "From the instructions, your notes and the readings, list the topics "
                        "the quiz covers and mark the ones you are least sure of."
                    ),
                    deliverable="A topic list with your weak spots marked",
                    done_definition="Every topic the instructions name is on the list",
                    minutes=15,
                ),
            ),
        ),
        Stage(
            title="Review and practise",
            purpose="Close the gaps on your weak topics.",
            share=0.85,
            keywords="knowledge understanding accura correct concept",
            acceptance=("You can answer a practice question on every topic",),
            steps=(
                Step(
                    title="Review your weak topics",
                    description=(
                        "Go over your notes and the readings for the topics you marked, and "
                        "write one summary line per topic."
                    ),
                    deliverable="One summary line per topic",
                    done_definition="You can explain each topic without your notes",
                    minutes=45,
                ),
                Step(
                    title="Practise with questions",
                    description=(
                        "Answer practice questions (from the textbook, past quizzes or your "
                        "own) under the quiz's time limit."
                    ),
                    deliverable="Practice answers, checked",
                    done_definition="You finish a practice set within the time limit",
                    minutes=30,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Take the quiz",
            purpose="Take it in one sitting, on time.",
            share=1.0,
            keywords="submission",
            acceptance=("The quiz is submitted in Canvas",),
            steps=(
                Step(
                    title="Prepare to take it",
                    description=(
                        f"Take it in {where}: pick a quiet time with a stable connection, "
                        "and check the time limit and number of attempts before you start."
                    ),
                    deliverable="A time set aside for the quiz",
                    done_definition="You know when you will take it and how long you have",
                    minutes=5,
                ),
                submit_step(facts),
            ),
        ),
    ]


def tool_stages(facts: Facts) -> list[Stage]:
    """Work done in an external tool (LTI) linked from the Canvas assignment."""
    return [
        Stage(
            title="Open the tool early",
            purpose="Make sure the tool works for you and see how much it asks.",
            share=0.20,
            keywords="understand task instruction",
            acceptance=("You have opened the tool from Canvas and know what it asks",),
            steps=(
                read_step(facts, "what to do in the tool and by when"),
                Step(
                    title="Open the tool from the Canvas assignment",
                    description=(
                        "Launch it from the assignment in Canvas (not a bookmark), check that "
                        "you can sign in, and note how many items or sections it has."
                    ),
                    deliverable="A note of what the tool asks and how long it looks",
                    done_definition="The tool opens for you and you know its size",
                    minutes=15,
                ),
            ),
        ),
        Stage(
            title="Do the work in the tool",
            purpose="Complete every part the tool asks for.",
            share=0.85,
            keywords="content accura correct complete quality",
            acceptance=("Every part in the tool is done",),
            steps=(
                Step(
                    title="Work through the tool",
                    description=(
                        "Do the work in sessions, and check that the tool saves your progress."
                    ),
                    deliverable="Every part completed in the tool",
                    done_definition="The tool shows every part as done",
                    minutes=60,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Submit",
            purpose="Hand it in through the tool, on time.",
            share=1.0,
            keywords="submission",
            acceptance=("The submission is confirmed in Canvas",),
            steps=(submit_step(facts),),
        ),
    ]


def in_class_stages(facts: Facts) -> list[Stage]:
    """Work done in person: on paper, or nothing to submit in Canvas (attendance)."""
    return [
        Stage(
            title="Prepare",
            purpose="Arrive knowing what is asked and with what you need.",
            share=0.60,
            keywords="understand prepar task instruction",
            acceptance=("You know when and where, and what to bring",),
            steps=(
                read_step(facts, "when, where and what to bring"),
                Step(
                    title="Get ready for the session",
                    description=(
                        "Note the time and place, and prepare what the instructions ask you to "
                        "bring or to have done beforehand."
                    ),
                    deliverable="What you need, ready",
                    done_definition="Nothing the instructions ask you to bring is missing",
                    minutes=20,
                ),
            ),
            main=True,
        ),
        Stage(
            title="Take part",
            purpose="Be there and do it on the day.",
            share=1.0,
            keywords="participation attendance submission",
            acceptance=("Done in person as the instructions ask",),
            steps=(submit_step(facts),),
        ),
    ]


__all__ = ["in_class_stages", "quiz_stages", "tool_stages"]
