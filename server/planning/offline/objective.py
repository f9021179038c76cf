"""The plan's objective: the instructions' own statement of the task.

Every sentence of the instructions is weighed, the description's before an attachment's:
a sentence that says what this work is ("In this paper you will ...", "Your task is to
...", "Students will write ...") or commands it ("Write a 1,000-word analysis of ...")
counts for; one that permits, encourages, grades or asks ("You are welcome to discuss
...", "worth 25%", "How would that compare?") counts against, and one about another piece
of work on the page is left out. The best one wins, the earlier on a tie; none that says
anything of the task leaves the objective to the title.
"""

from __future__ import annotations

import re

from models.context import DESCRIPTION_SOURCE_ID, SourceContext
from server.planning.offline.deliverables import about_another_deliverable
from server.planning.offline.patterns import TASK_VERBS, imperative_verb
from server.planning.offline.values import TASK_RE, collapse_whitespace
from server.text.sentences import sentence_spans

_MIN_WORDS = 6
_MAX_WORDS = 70
# A task is stated near the top of a text; a 40-page handbook is not read to the end for it.
_MAX_SENTENCES = 150
_STATES_THE_TASK_RE = re.compile(
    r"\b(?:in this (?:assignment|essay|paper|lab|project|presentation|exercise|report|post)|"
    r"your (?:task|assignment|job|goal) (?:is|will be)|"
    r"you (?:are|will be) (?:asked|expected|required) to|"
    r"(?:you|students|each student|each team|your team) (?:will|must|should|are to) "
    r"(?:write|analy[sz]e|create|design|prepare|develop|produce|build|implement|investigate|"
    r"present|propose|compare|discuss|explain|reflect|research|conduct|complete|choose|"
    r"select|pick|make|give))\b",
    re.I,
)
# Words of what surrounds the task: permission, encouragement, grading, the course's
# policies (collaboration, integrity, absences), the instructor's own doing.
_ABOUT_THE_TASK_RE = re.compile(
    r"\b(?:welcome|encourag\w*|may|okay|fine|happy to|from time to time|grade[ds]?|grading|"
    r"percent|points?|late|lose|penalt\w*|plagiari\w*|collaborat\w*|with whom|integrity|"
    r"honesty|absences?|we will|I will)\b|%|\?",
    re.I,
)
# Imperatives that hand work in rather than state it.
_PROCEDURE_VERBS = frozenset({"submit", "upload", "post"})


def _weight(sentence: str) -> int:
    verb = imperative_verb(sentence)
    commands = verb in TASK_VERBS and verb not in _PROCEDURE_VERBS
    return (
        3 * bool(_STATES_THE_TASK_RE.search(sentence))
        + 2 * commands
        + bool(TASK_RE.search(sentence))
        - 3 * bool(_ABOUT_THE_TASK_RE.search(sentence))
    )


def task_statement(context: SourceContext) -> str | None:
    """The sentence of the instructions that best states this work's task, or None. The
    description, the most authoritative text, is read first: an attachment's sentence is
    taken only when the description states no task."""
    documents = sorted(
        context.documents, key=lambda document: document.source_id != DESCRIPTION_SOURCE_ID
    )
    for document in documents:
        best: tuple[int, str] | None = None
        for start, end in sentence_spans(document.text)[:_MAX_SENTENCES]:
            sentence = collapse_whitespace(document.text[start:end])
            if not _MIN_WORDS <= len(sentence.split()) <= _MAX_WORDS:
                continue
            if about_another_deliverable(sentence, context.assignment.title):
                continue
            weight = _weight(sentence)
            if weight > 0 and (best is None or weight > best[0]):
                best = (weight, sentence)
        if best is not None:
            return best[1]
    return None


__all__ = ["task_statement"]
