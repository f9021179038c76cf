"""Requirement patterns: the regular expressions and word lists that tell whether a sentence
of instructions sets a rule, and of what kind (``requirement_kind``). What a sentence
measures (lengths, styles, dates) is ``values.py``'s.
"""

from __future__ import annotations

import re
from importlib import resources

from pydantic import BaseModel, ConfigDict, TypeAdapter

from models.context import RequirementKind
from server.planning.offline.values import (
    CITATION_RE,
    EXTENSION_RE,
    LATE_POLICY_RE,
    NUMBER,
    PART_LENGTH_RE,
    SOURCES_RE,
    TYPE_VALUE_RE,
    TYPOGRAPHY_RE,
    citation_style_in,
    collapse_whitespace,
    length_limits,
    states_deadline,
)
from server.text.data_files import read_data_file
from server.text.verbs import is_base_verb


class RuleWordsError(RuntimeError):
    """The shipped word lists are unreadable or malformed."""


class RuleWords(BaseModel):
    """``rule_words/en.yaml``: the verbs and words the rules read instructions with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deliverable_verbs: frozenset[str]
    verbs_with_object: frozenset[str]
    process_verbs: frozenset[str]
    task_verbs: frozenset[str]
    reading_verbs: frozenset[str]
    subject_starts: frozenset[str]
    source_words: frozenset[str]


RULE_WORDS = read_data_file(
    resources.files("server.planning.offline") / "rule_words" / "en.yaml",
    TypeAdapter(RuleWords),
    RuleWordsError,
)
_INTEGRITY_RE = re.compile(
    r"\b(?:plagiari\w*|academic (?:integrity|honesty|misconduct)|wikipedia|chatgpt|"
    r"generative ai|ai[- ](?:tools?|generated))\b",
    re.I,
)
_EXCLUDED_SOURCES_RE = re.compile(
    r"\b(?:do not|don't|never|cannot|can't|may not|must not)\s+(?:use|cite)\s+"
    r"(?P<what>[^.;,]+?)(?P<as_source>\s+as\s+(?:an?\s+)?(?:sources?|references?|citations?))?"
    r"\s*(?:[.;,]|$)",
    re.I,
)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def excluded_sources_in(text: str) -> list[str]:
    """The sources a rule excludes ("Do not use Wikipedia", "don't cite blogs as sources"):
    what it forbids to use or cite, when that names a kind of source. "Do not use the second
    person" excludes none."""
    found = []
    for match in _EXCLUDED_SOURCES_RE.finditer(text):
        words = {_singular(word) for word in re.findall(r"[a-z]+", match["what"].lower())}
        if match["as_source"] or words & RULE_WORDS.source_words:
            # "the internet" is named "internet": the checklist says "No internet ..."
            found.append(re.sub(r"^(?:the|a|an)\s+", "", match["what"].strip(), flags=re.I))
    return found


# The wording of a rule. "At least" is not one by itself: "at least one week before the due
# date" sets nothing on the work (counts on the work are _COUNT_RE's).
HARD_RE = re.compile(
    r"\b(?:must|required|requires?|mandatory|do not|don't|cannot|can't|no more than|"
    # "may not" forbids, but "You may not appreciate the circuit yet" doubts.
    r"may not(?!\s+(?:appreciate|understand|know|realize|see|notice|need|be|find|like|"
    r"remember|agree|seem|want))|"
    r"no fewer than|no less than|not (?:be )?(?:allowed|permitted|accepted|tolerated)|"
    r"prohibited|forbidden|illegal|never|(?:is|are) (?:a )?requirements?)\b|(?<!not )\bonly\b|"
    # What breaking it costs: "is considered plagiarism", "will receive a zero".
    r"\bnot to accept\b|\b(?:we|I) (?:also )?(?:ask|require|expect) you to\b|"
    r"\b(?:we|I) expect to receive\b|"
    r"\b(?:is|are|will (?:(?!not\b)\w+ )?be) (?:expected|required) to\b|"
    r"\bit is (?:essential|mandatory|imperative|necessary) (?:that|to)\b|\bnot acceptable\b|"
    r"\b(?:considered|constitutes?|counts? as)\s+(?:an?\s+)?(?:plagiarism|cheating|academic "
    r"(?:dishonesty|misconduct))\b|\bwill\s+(?:be\s+)?(?:penali[sz]ed|receive (?:a )?(?:zero|0)\b)",
    re.I,
)
# Rule words that lift a rule: "Completion of these problems is optional and not required".
_NOT_REQUIRED_RE = re.compile(
    r"\b(?:not|never|isn't|aren't|is no longer)\s+(?:be\s+)?(?:required|mandatory)\b|"
    r"\b(?:were|was)\s+required\b|"  # what students of an earlier term did
    r"\bno\s+(?:[\w-]+\s+){0,2}?(?:required|needed|necessary)\b|"
    # A condition or an access note, not a rule: "Circuit (if required)", "Oxford English
    # Dictionary [subscription required]".
    r"[(\[]\s*(?:if|when|where)\s+(?:required|needed|necessary|applicable)\s*[)\]]|"
    r"\b(?:subscription|login|log-in|registration|account|sign-?in)\s+required\b",
    re.I,
)
# Admission to a course, not a rule for the work: "Listeners are not accepted in 21G.225".
_ADMISSION_RE = re.compile(
    r"\bnot\s+(?:be\s+)?accepted\s+(?:in|into)\s+(?:the\s+)?(?:class|course|seminar|\d|"
    r"(?-i:[A-Z]))",
    re.I,
)
# Reassurance and rules of thumb use rule words without setting a rule: "Do not worry
# about obtaining original research results", "A good rule of thumb is no more than five".
_ADVICE_RE = re.compile(
    r"\b(?:do not|don't|no need to)\s+(?:worry|need to|have to|feel)\b|\brule of thumb\b|"
    r"\bneedn't\b|\ba good idea\b|\bif you(?:'re| are)? (?:having trouble|stuck|struggling)\b|"
    r"\bif you (?:get|have) (?:the|a) (?:chance|time|opportunity)\b|"
    r"\b(?:we|I) (?:do not|don't) expect\b|\b(?:keep|bear) in mind\b|"
    # An aside: "Note that this is different than the learning purpose".
    r"^(?:please\s+)?(?:note|notice)\s+that\b|\btake (?:full )?advantage of\b",
    re.I,
)
# A limit said not to exist: "There is no specified length, but we expect 10-15 pages"
# (a rule only if the rest sets one: "..., but it should be no more than 20 pages").
_NO_LIMIT_RE = re.compile(
    r"\bthere\s+is\s+no\s+(?:specified|set|fixed|strict|required|minimum|maximum|page|word)\s+"
    r"(?:length|limit|page limit|word limit|word count|number)\b",
    re.I,
)
_BINDING_RE = re.compile(r"\b(?:must|required|mandatory)\b", re.I)
_BINDING_VERB_RE = re.compile(r"\b(?:must|shall)\b", re.I)
# Examples, options and encouragement are not rules, even with a value in them: "For
# example, you may be the policy advisor to a mayor", "an optional memo ... for those
# wanting to improve their grade", "Every student is encouraged to join the competition".
_OFFER_OR_EXAMPLE_RE = re.compile(
    r"^(?:for example|for instance|e\.g\.|as an example|examples? (?:of|include|might))\b|"
    r"\b(?:optional(?:ly)?|extra credit|bonus|encourag\w*|if you (?:wish|like|want|prefer)|"
    r"(?:those|anyone|any of you)\s+(?:of you\s+)?(?:who are\s+)?interested in|"
    r"if (?:you(?:'re| are)|anyone is) interested|"
    r"past students|previous (?:years?|semesters?|students)|last year's)\b",
    re.I,
)
# A section of examples ("Student Examples: Final Project Presentations", "Sample Papers"):
# what is under it shows, it does not require.
_EXAMPLE_SECTION_RE = re.compile(
    r"\b(?:examples?|samples?|exemplars?|student work|past (?:projects?|papers?|work))\b", re.I
)
# Who does the work, and with whom: a rule whenever it is stated, unless it is offered
# ("we encourage you to work in groups", "collaboration is encouraged").
_COLLABORATION_RE = re.compile(
    r"\b(?:collaborat\w*|co-?authored|independently|"
    r"individual (?:assignments?|work|tasks?|projects?|papers?|efforts?)|"
    r"\b(?:by|(?:do|write|complete|solve|answer|work (?:on|through))(?:\s+(?:it|them|this|these|"
    r"each \w+|the \w+))?)\s+yourself\b|"
    r"(?:submitted|written|done|completed|prepared|presented)\s+(?:by|as)\s+(?:the|a|your|each)\s+"
    r"(?:group|team)\b|"
    r"(?:completed|done|written|prepared|submitted)\s+individually|"
    # "on your own" alone, not "on their own laptops"
    r"on (?:your|his or her|their) own(?=\s*(?:[.,;:!?)]|$|\s(?:and|or|but|without|with)\b))|"
    r"by you alone|your own (?:words|work)|"
    r"(?:in|of) (?:(?:their|your) )?(?:groups|teams|pairs)\b|"
    r"in an? (?:group|team|pair) of\b|lab partner|whom you consulted|list of collaborators)",
    re.I,
)
_AI_RE = re.compile(
    r"\b(?:AI|artificial intelligence|ChatGPT|Copilot|LLMs?|large language models?|"
    r"generative)\b"
)
_NEGATION_RE = re.compile(r"\b(?:not|never|no|without|prohibit\w*|forbid\w*|disclos\w*)\b", re.I)
# Who the work is for: the reader it is written to, the form it takes for them.
_AUDIENCE_RE = re.compile(
    r"\b(?:your audience|the audience|intended readers?|"
    r"in the form of an? (?:memo|letter|report|brief|e-?mail|op-ed|blog post|proposal)|"
    r"written (?:for|to) (?:an?|the|your) |"
    r"\b(?:memo|letter|brief|e-?mail|op-ed|proposal)\s+(?:addressed\s+)?to\s+(?:your|the|an?)\s+)",
    re.I,
)
# "The proposal should include: ...", "these memos should outline ...", "The memo should be
# emailed ...": what the work holds, or how it is handed in, stated with "should" or "will"
# of the work (not "you should ...", advice to the student, nor "you will ...", the
# student's part) is a requirement.
_STATED_CONTENT_RE = re.compile(
    r"(?:(?<!\byou )\bshould|(?<!\byou )\bwill|\bshall|\bis to|\bare to)\s+(?:also\s+)?"
    r"(?:include|contain|outline|address|cite|state|answer|respond|reply|participate|notify|"
    r"inform|cover|discuss|explain|describe|compare|summari[sz]e|analy[sz]e|focus)\b|"
    r"\b(?:students|you|each student) (?:are|is) expected to\b|"
    r"\b(?:we(?:'re|\u2019re| are)|I(?:'m|\u2019m| am)) looking for you to\b|"
    r"\b(?:should|is to|are to)\s+(?:also\s+)?be\s+(?:written|typed|formatted|submitted|"
    r"e-?mailed|turned in|handed in|posted|uploaded)\b|"
    # The tool or format the work is made in: "you'll use PowerPoint slides".
    r"(?:'ll|\bwill|\bshould)\s+use\s+(?:[\w-]+\s+)?(?:PDF|PowerPoint|Word|Excel|LaTeX|"
    r"Google (?:Slides|Docs))\b|"
    # "Your task is to ...", "should not be based on ...": the task and its prohibitions.
    r"\byour (?:task|job|assignment|goal|charge) is to\b|\bshould (?:not|never)\b",
    re.I,
)
_OFFERED_RE = re.compile(
    r"\b(?:encourag\w*|okay|ok|welcome|free to|may|can|allowed|permitted)\b", re.I
)
_RESTRICTED_RE = re.compile(
    r"\b(?:must|only|own|alone|not|never|without|independently|individually)\b", re.I
)
_SUBMISSION_VERB_RE = re.compile(
    r"\b(?:submit\w*|upload\w*|turn(?:ed|ing)?\s+in|hand(?:ed|ing)?\s+in|e-?mail(?:ed)?|"
    r"post(?:ed)?)\b",
    re.I,
)
# The parts the work has ("This essay has two parts", "The project will be divided into two
# parts:"), how it is written ("in prose, no bullets"), and what uncited material costs
# ("material used without citation receives 0").
_PARTS_RE = re.compile(
    rf"\b(?:has|have|consists? of|(?:is|are|will be) (?:divided|split|organi[sz]ed) into|"
    rf"in)\s+(?:{NUMBER}|several|the following)\s+(?:[\w-]+\s+)?(?:parts|sections|components)\b",
    re.I,
)
_DELIVERABLES = (
    r"papers?|essays?|memos?|reports?|homeworks?|assignments?|projects?|presentations?|"
    r"exercises?|problem sets?|responses?|reflections?|reviews?|proposals?|posts?|journals?"
)
# What the work itself should be or do ("The essay should use a mix of first and third
# person", "Should be an exploratory essay" in a list about the essay): a rule, where
# "you should ..." is advice to the student.
_WORK_SHOULD_RE = re.compile(
    rf"^(?:(?:the|your|each|every|all|this|these|both)\s+)?(?:[\w-]+\s+){{0,3}}?"
    rf"(?:{_DELIVERABLES}|write-?ups?|submissions?|drafts?|portfolios?|bibliograph(?:y|ies))\s+"
    rf"should\b|^should\s+be\b|"
    # Any thing of the work: "The heading should be ...", "Your story should be accessible".
    r"^it\s+should\b|"
    r"^(?:the|your|its|their|each|every|all)\s+(?:(?!(?:students?|members?|partners?|team|"
    r"group|instructors?|TAs?|readers?|audience|class)\b)[\w/-]+\s+){1,4}?should\b",
    re.I,
)
# The work stated as what it is or is made of: "Your final project will be a \"then and
# now\" comparison", "The project consists of an outline, a class presentation, and a final
# paper", "a group assignment that will take the form of a written document". Not what it
# offers the student ("This paper is a chance to ...").
_WORK_IS_RE = re.compile(
    rf"^(?:the|your|this|each)\s+(?:[\w-]+\s+){{0,2}}?(?:{_DELIVERABLES})\s+(?:will\s+be|is)\s+"
    r"an?\s+(?!(?:[\w-]+\s+)?(?:chance|opportunity|way|time|place|part|portion|share|"
    r"percentage|component)\b)|"
    rf"\b(?:{_DELIVERABLES})\s+consists?\s+(?:of|on)\b|\bwill\s+take\s+the\s+form\s+of\b",
    re.I,
)
# A list opened by what the work should be: "The project outline/proposal should be one
# page including:" (not "The following sections should be included ...:", whose items
# may be headings with notes nested under them).
_WORK_SHOULD_BE_LEAD_RE = re.compile(
    rf"^(?:the|your|each|this)\s+(?:[\w-]+[\s/]+){{0,3}}?(?:{_DELIVERABLES}|outlines?|"
    r"write-?ups?)\s+should\s+be\b.*:\s*$",
    re.I,
)
# What the work involves: "Each problem set will involve programming in Python."
_WORK_INVOLVES_RE = re.compile(
    rf"\b(?:{_DELIVERABLES})\s+(?:will\s+)?(?:involves?|requires?|entails?)\b", re.I
)
_COUNTED_WORK_RE = re.compile(
    rf"\b(?:consists? of|(?:will )?involves?|(?:students|you) (?:will )?(?:write|complete|submit|"
    rf"produce|hand in|turn in))\s+(?:{NUMBER}|an?)\s+(?:[\w-]+\s+){{0,2}}?(?:{_DELIVERABLES})\b",
    re.I,
)
# A list whose lead-in obliges: "Students complete the following assignments in this
# class:", "Your report must include the following:": each item is a rule.
# A heading that obliges the list under it: "A well-written paper should", "Pay attention
# to the following". (Not "Outline" or "Components": those list what the work may hold.)
# A section on earning a grade ("Suggestions for earning an A+") obliges as well.
_OBLIGING_HEADING_RE = re.compile(
    r"\b(?:should|must|needs? to|pay attention)\b|"
    r"\b(?:earn\w*|receiv\w*|get(?:ting)?)\s+(?:an?\s+)?(?:[\"“']?[A-F]\b|full (?:credit|marks))",
    re.I,
)
# A lead-in that announces penalties: "specific penalties will be imposed depending on the
# circumstances:", "The following penalties apply:".
_PENALTY_LEAD_RE = re.compile(
    r"\bpenalt(?:y|ies)\s+(?:will\s+be|are|is)\s+(?:imposed|applied|assessed|deducted)\b|"
    r"\bthe following penalt(?:y|ies)\b",
    re.I,
)
# A lead-in that offers options or examples: "Here are suggested topics:", "Possible
# projects include:", "Some ideas:".
_SUGGESTING_LEAD_RE = re.compile(
    r"\b(?:suggest\w*|possible|ideas?|options?|examples?|samples?|for instance|such as|"
    r"might|could)\b",
    re.I,
)
# A permission conceded before the rule: "You may choose the text, but essays are due ...".
_CONCESSION_RE = re.compile(r"^.*?\b(?:may|can)\b.*?,\s*but\s+", re.I)
_OBLIGING_LEAD_RE = re.compile(
    r"\b(?:complete|submit|include|hand in|turn in|produce|write|consists? of|must|required|"
    r"requires?)\b.*\bthe following\b",
    re.I,
)
# What the instructor does ("Graded homework will be returned ... after the due date",
# "We will release guidelines ... as the due date gets nearer") and where the dates are
# ("The due dates appear in the calendar"): no rule for the student.
_INSTRUCTOR_STEP_RE = re.compile(
    r"\b(?:will be|is|are|get|gets)\s+returned\b|"
    r"\bwill be (?:\w+ and )?(?:read|evaluated|graded|reviewed|marked) by (?:the|your) \w+|"
    r"\bwill be (?:distributed|handed out|announced|released|made available)\b|"
    r"^(?:we|I)\s+will\s+(?:release|post|provide|give|send|announce|publish|share|return)\b|"
    # When grades come back: "Those who submit by this deadline will get their grades at
    # the end of January".
    r"\b(?:get|receive)\s+(?:their|your)\s+(?:grades?|marks|feedback)\s+"
    r"(?:at|by|in|within|before|after|on)\b|"
    r"\b(?:due\s+)?dates?\s+(?:are\s+|is\s+|will\s+be\s+)?(?:given|listed|posted|shown|"
    r"found|appear\w*)\s+(?:in|on)\b",
    re.I,
)
# Taking part in the course rather than doing the work: what missing a class costs ("Students
# who miss more than one meeting will be required to ...", "any missed quizzes will receive a
# zero"), the reading before class ("You must do the reading before each class") and groups
# for an activity in class.
_PARTICIPATION_RE = re.compile(
    r"\bmiss(?:ed|es)?\s+(?:more than\s+\w+\s+)?(?:\w+\s+)?(?:class(?:es)?|meetings?|"
    r"field trips?|lectures?|sessions?|quiz(?:zes)?|exams?)\b|"
    r"\b(?:do|complete|finish|done|completed)\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:\w+\s+)?"
    r"readings?\b|\breadings?\s+(?:are|is)\s+to\s+be\s+(?:done|completed|read)\b|"
    # groups for an activity in class: "Please sit in groups in the session", "For in-class
    # problem solving you will work in groups of 3"
    r"\b(?:groups|teams|pairs)\b.*\b(?:in|during)\s+(?:the\s+)?(?:session|class|lecture|"
    r"recitation)\b|\bin-class\b.*\b(?:groups|teams|pairs)\b",
    re.I,
)
# Why the work is set: "The goal of this project is to give you the opportunity to ...",
# "the purpose of this one-page paper is to help me understand ..." (not "The purpose: what
# was the scientific purpose of your investigations?", a part the work must have).
_PURPOSE_RE = re.compile(
    r"\b(?:the\s+)?(?:main\s+|primary\s+|overall\s+)?(?:purpose|goal|aim|point|intent|"
    r"objective)s?\s+of\s+(?:this|the|these|your|each)\s+(?:[\w-]+\s+){0,3}?(?:is|are|was)\s+"
    r"(?:to|for)\b",
    re.I,
)
# The class's meetings as the subject: "Lectures: 2 sessions / week, 80 minutes / session",
# "Friday (50 minutes) will be a studio day".
_MEETINGS_RE = re.compile(
    r"^(?:lectures?|studios?|recitations?|sessions?|class(?:es| meetings?)|seminars?|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?(?:\s*(?:/|and|&)\s*\w+days?)?)\b"
    r"(?!\s+(?:presentations?|papers?|reports?|projects?|assignments?))",
    re.I,
)
# What the instructor does, said in the first person: "We will teach you everything you
# need to know to use R", "We provide design teams with template working agreements".
_INSTRUCTOR_DOES_RE = re.compile(
    r"^(?:we|I)(?:'ll|\u2019ll|\s+will)?\s+(?:also\s+)?(?:release|post|provide|give|send|"
    r"announce|publish|share|return|teach|offer|arrange|hold|help|strive)\b",
    re.I,
)
_PROSE_RE = re.compile(
    r"\b(?:in (?:full )?prose|no bullet(?:s| points)?|full sentences|"
    r"not in (?:bullet|point) form|"
    r"in (?:memo|letter|essay|report|outline|table|list|narrative) form(?:at)?)\b",
    re.I,
)
_UNCITED_RE = re.compile(
    r"\bwithout (?:a )?(?:citation|attribution|acknowledg\w+|reference)\b[^.]*?"
    r"\b(?:receives?|gets?|earns?|results? in|is graded|will be given)\b",
    re.I,
)
# How the work is handed in: a channel makes a sentence about submitting a rule.
_CHANNEL_RE = re.compile(
    r"\b(?:via|through)\s+(?:(?-i:[A-Z])[\w.-]*|[a-z]+\d+\b|e-?mail|"
    r"the (?:course|class) (?:website|site|page|portal|dropbox))|"
    r"\be-?mail\w*\s+(?:to|it)\b|\bas an attachment\b|"
    r"\b(?:gradescope|canvas|turnitin|moodle|blackboard|github)\b|\b(?:paper|hard) copy\b|"
    r"\bas an? (?:comment|reply)\b",
    re.I,
)
# "May" and "can" grant a permission ("You may use it to find background reading"): not a rule.
_PERMISSION_RE = re.compile(
    r"(?<!\bthat )(?<!\bwhich )(?<!\bwho )\b(?:may|can|could)\b(?!\s+not\b)(?!\s*\d)|"
    r"\b(?i:feel free|you get to)\b|"
    r"\b(?i:are|is)\s+(?i:welcome|free|allowed|permitted)\s+to\b|\b(?i:optional)\b"
)
# What breaking an integrity rule costs: "Plagiarism results in a zero".
_CONSEQUENCE_RE = re.compile(
    r"\b(?:result(?:s|ing)?\s+in|leads?\s+to|penali[sz]\w*|penalt\w*|zero|fail\w*|"
    r"reported|disciplin\w*|consequences?)\b",
    re.I,
)
# Things the work is made of: the objects of an imperative that sets a rule for it.
_DELIVERABLE_NOUN_RE = re.compile(
    r"\b(?:essays?|papers?|reports?|responses?|reflections?|drafts?|submissions?|documents?|"
    r"files?|pages?|paragraphs?|sections?|titles?|headings?|introduction|conclusion|thesis|"
    r"abstract|(?:counter)?arguments?|claims?|evidence|references?|citations?|bibliography|"
    r"works cited|sources?|quot(?:e|es|ation|ations)|figures?|tables?|graphs?|plots?|charts?|"
    r"captions?|ax[ie]s|units?|slides?|deck|presentation|speech|pitch|script|outline|appendix|"
    r"appendices|margins?|font|spacing|name|header|footer|structure|template|words|length|"
    r"calculations?|data|results|methods|discussion|measurements?|code|timeline|objectives|"
    r"deliverables|roles|examples?|reasons?|explanations?|definitions?|summary|overview|"
    r"description|documentation|analys[ie]s|critique|assessment|account|rationale|"
    r"justification)\b",
    re.I,
)
# "At least two figures", "no more than three quotations": a count the work must meet.
_COUNT_RE = re.compile(
    rf"\b(?:at least|no fewer than|no less than|not less than|(?:a )?minimum(?: of)?|"
    rf"no more than|not more than|at most|(?:a )?maximum(?: of)?|up to|exactly)\s+"
    rf"(?:{NUMBER}|a single)\s+(?:[\w'-]+\s+){{0,2}}?"
    r"(?:figures?|tables?|graphs?|plots?|charts?|images?|visuals?|examples?|quot(?:es?|ations?)|"
    r"(?:counter)?arguments?|paragraphs?|sections?|questions?|pieces?|items?|references?|"
    r"citations?|sources?|slides?|pages?|words?|case studies|responses?|replies|posts?|"
    r"peers?|classmates'?|comments?|problems?|exercises?)\b",
    re.I,
)
_IMPERATIVE_RE = re.compile(
    r"^(?:[-–—•*·]+\s*)?(?:(?:please|first|then|next|finally|also|now|always|(?!only\b)\w{3,}ly)\b,?\s+)?"
    r"(?P<ensure>(?:remember|be sure|make sure|don't forget) to\s+|"
    r"(?:make sure|be sure|ensure)(?:\s+that)?\s+)?"
    r"(?P<verb>[a-z]+(?:-[a-z]+)?)\b",
    re.I,
)
_ALSO_TASK_RE = re.compile(
    r"^(?:[-–—•*·]+\s*)?(?:also|additionally|in addition),?\s+(?:"
    + "|".join(
        sorted(
            "write analyze analyse discuss compare evaluate argue explain describe "
            "reflect present summarize summarise identify".split()
        )
    )
    + r")\b",
    re.I,
)
# A leading phrase before the verb: "At the top of each paper, please include ...".
_LEADING_PHRASE_RE = re.compile(
    # "Based on our conversations, define character ...": what the task rests on.
    r"^(?:(?:at|in|on|for|after|before|when|once|within|throughout|with|if|based on)\b"
    r"[^,.;:]{1,60}[,:]|"
    r"\w+ly,|(?:instead|rather|however|otherwise|also|then|next|finally),|(?:note|important|reminder|n\.?b\.?)\s*:|"
    # A label before the sentence: "PS2: Address the questions", "Q3: ...".
    r"(?-i:[A-Z]{1,4}\s?\d{1,2}[a-z]?)\s*:)\s+",
    re.I,
)
# The word lists are data (rule_words/en.yaml, which says what each is for).
DELIVERABLE_VERBS = RULE_WORDS.deliverable_verbs
_RULE_VERBS_WITH_OBJECT = RULE_WORDS.verbs_with_object
PROCESS_VERBS = RULE_WORDS.process_verbs
TASK_VERBS = RULE_WORDS.task_verbs
_READING_VERBS = RULE_WORDS.reading_verbs
_SUBJECT_STARTS = RULE_WORDS.subject_starts
_OBJECT_WORDS = 5  # how far after the verb its object is looked for
# A section of how-to steps, tips or a timeline: its imperatives are steps, not rules.
_STEP_SECTION_RE = re.compile(
    r"\b(?:steps?|process|procedures?|how to|getting started|timeline|workflow|stages|tips|"
    r"suggestions|suggested|milestones|schedule|checkpoints)\b",
    re.I,
)
# "The essay style guide explains the formatting and citation rules": a document about
# documents, which describes rather than requires.
_DESCRIPTIVE_RE = re.compile(
    r"^(?:the|this|these|our|that)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:guides?|handouts?|documents?|rubrics?|prompts?|sheets?|syllabus|templates?|videos?|"
    r"websites?|pages?|sections?|chapters?|readings?|library|cent(?:er|re)|slides|files?|"
    r"resources?|materials?|"
    # the course itself: "This workshop provides the opportunity to analyze ..."
    r"course|class|workshop|seminar|subject)\s+"
    r"(?:explains?|describes?|walks?|covers?|shows?|lists?|contains?|provides?|outlines?|"
    r"gives?|introduces?|summari[sz]es?|helps?|offers?|presents?|discusses?|explores?|"
    r"examines?|surveys?|satisf(?:y|ies)|meets?)\b",
    re.I,
)
_TASK_STATEMENT_RE = re.compile(
    r"\b(?:you will|your task|you are (?:asked|expected) to|in this (?:assignment|essay|paper|"
    r"lab|project|presentation))\b",
    re.I,
)
# The work stated as what the student will do: "For this assignment, you will create an
# annotated bibliography". Not what they will gain or be given ("You will learn ...", "you
# will receive feedback"). With "should" in it, it is the task (the plan's objective).
_WILL_DO_RE = re.compile(
    r"\b(?:you|students|(?:each|a|every) student|\(s\)he|he or she|(?:your|each) (?:team|group))\s+"
    r"will\s+(?:\w+ly\s+)?"
    r"(?!(?:learn|receive|get|gain|be|have|need|see|hear|know|understand|find|become|"
    r"develop|want|wish|like|prefer|enjoy|feel|regret)\b)(?P<verb>[a-z]+)\b",
    re.I,
)
_SOFT_RE = re.compile(
    r"\b(?:should|recommend\w*|encourag\w*|suggest\w*|ideally|consider|may want)\b", re.I
)
# Not "submitting": "... from choosing a topic to submitting the final draft" describes.
_SUBMISSION_RE = re.compile(
    r"\b(?:submit(?:s|ted)?|upload(?:s|ed)?|turn in|hand in|turnitin)\b", re.I
)
# What share of the grade a piece of work carries ("The problem sets count for 80% of the
# course grade", "this will count for half your grade"): grading, not a rule for the work.
_GRADE_SHARE_RE = re.compile(
    rf"\b(?:{NUMBER}\s*(?:%|percent)|half|an? (?:third|quarter|fifth)|"
    r"(?:a|the)\s+(?:large|substantial|significant|small|major|big)\s+(?:portion|part|share))"
    r"(?:\s*\([^)]{1,20}\))?\s+(?:of\s+)?(?:the|your|a|their|each|his/her)?\s*(?:[\w'.-]+\s+){0,3}?"
    r"grades?\b",
    re.I,
)
# A line of a grade breakdown: "Introduction: 6 pts"; "Final Exam: 40%" or "Three quizzes:
# 90" under a heading about the grade (a list of penalties gives percentages too).
_GRADE_LINE_RE = re.compile(
    r"^[^:]{1,80}:\s*\d+(?:\.\d+)?\s*(?:%|percent|(?P<points>pts?|points|marks))?\.?$", re.I
)
# A section or lead-in about the grade ("Grading", "Grades will be computed as follows:").
_GRADE_SECTION_RE = re.compile(r"\b(?:grad(?:es?|ing)|assessment|evaluation|weights?)\b", re.I)
# What the grade rests on ("you will be graded on how you arrive at and present your
# answer", "Problem Set grades are based on correct answers as well as presentation",
# "Your grade will reflect the quality of your work", "will be a big factor in your
# grade"): a rule for the work. Not a scale, a total or a share ("graded on a 10-point
# scale", "based on 40% exams"), which ``_GRADE_SHARE_RE`` and the numbers exclude.
_GRADE_BASIS_RE = re.compile(
    r"\b(?:(?:be|are|is)\s+graded|grades?\s+(?:are|is|will\s+be))\s+(?:(?:primarily|mainly|"
    r"largely|partly)\s+)?(?:on|based\s+on)\s+(?!(?:an?|the)\s+(?:[\w-]+\s+)?(?:scale|curve)\b)|"
    r"\b(?:grade|mark)s?\s+will\s+reflect\b|"
    r"\bgrade\s+you\s+on\b|\bfactor\s+in\s+(?:your|the)\s+grade\b",
    re.I,
)
# Not how the course grade is made up ("The course grade will be based on three quizzes
# and five problem sets", "Grades will be based on a combination of completed Lab
# Exercises and the final Problem Set"), nor a scale or share.
_GRADE_MIX_RE = re.compile(
    rf"\b{NUMBER}\s*(?:%|percent|points?|pts)|\bscale\b|\bcurve\b|\b(?:course|final)\s+grade|"
    rf"\bcombination\s+of\b|\b{NUMBER}\s+(?:[\w-]+\s+)?(?:{_DELIVERABLES}|quizz(?:es)?|exams?|labs?)\b",
    re.I,
)
_GRADING_RE = re.compile(
    r"\bworth\b|\b\d+\s*(?:%|percent)\s+of\s+(?:the|your)\b|\b\d+\s*(?:points|pts|marks)\b|"
    r"\bgraded\b",
    re.I,
)


def imperative_verb(sentence: str) -> str | None:
    """The verb an imperative starts with ("Include ..." -> "include"), lower-cased; for a
    sentence with a subject, its first word."""
    match = _IMPERATIVE_RE.match(sentence.strip())
    if match is None:
        return None
    verb = match["verb"].lower()
    # "Be sure to address ...": the verb after it; "Make sure that your ...": "ensure".
    return verb if not match["ensure"] or is_base_verb(verb) else "ensure"


def _sets_rule_for_work(sentence: str, verb: str | None) -> bool:
    """An imperative aimed at the work handed in ("Include a references page", "Put your
    name ... on the first page"), not at the student's process ("Use the materials below",
    "Use the library's databases to find sources")."""
    if verb in DELIVERABLE_VERBS:
        return True
    if verb not in _RULE_VERBS_WITH_OBJECT:
        return False
    match = _IMPERATIVE_RE.match(sentence.strip())
    rest = sentence.strip()[match.end() :] if match else ""
    return bool(_DELIVERABLE_NOUN_RE.search(" ".join(rest.split()[:_OBJECT_WORDS])))


# A finite verb right after the first word makes that word the subject: "Sound recordings
# have been put on reserve", "Memo writing is something ...".
# A number after it makes it a label: "Part 1 of the case", "Step 3"; "of" a noun: "Part
# of the design project is to learn ...".
_FINITE_VERB_RE = re.compile(
    r"^\S+\s+(?:(?:\S+\s+){0,2}?(?:is|are|was|were|has|have|had|will|would|should|can|could|"
    r"may|might|must|does|did)\b|#?\d|of\b)",
    re.I,
)
# A longer subject before a passive or perfect predicate: "Video presentations by students
# in the class have been archived", "Study group email lists will be created" (not in a
# clause of the command's object: "Submit the data that have been collected").
_SUBJECT_PREDICATE_RE = re.compile(
    r"^\S+\s+(?:(?!(?:that|which|who|whom|whose|where|when|how|what|why|whether|if|to|you|"
    r"we|they|it|he|she)\b)[\w'-]+\s+){1,8}?(?:will be|(?:have|has) been|(?:is|are) being)\b",
    re.I,
)
# A short line without punctuation is a title ("Essay style guide"), not a command.
_COMMAND_WORDS = 4
# Goals state what the work is for ("Allow you to dabble in cryptography"), not rules.
_PURPOSE_SECTION_RE = re.compile(r"\b(?:goals?|objectives?|purposes?|outcomes?|aims?)\b", re.I)


def _commands(text: str, verb: str | None, section: str) -> bool:
    """An imperative that is not a step of the process: "Frame and defend a hypothesis",
    "Hand in one copy for each group" (steps were set aside before)."""
    return (
        verb is not None
        and verb not in PROCESS_VERBS
        and verb not in _SUBJECT_STARTS
        and verb not in _RULE_VERBS_WITH_OBJECT  # their object decides (_sets_rule_for_work)
        and (text.endswith((".", "!", ";", ",", ":")) or len(text.split()) >= _COMMAND_WORDS)
        and is_base_verb(verb)
        and not _FINITE_VERB_RE.match(text)
        and not _SUBJECT_PREDICATE_RE.match(text)
        and not _PURPOSE_SECTION_RE.search(section)
    )


# A step joined to the work itself: "Pick two objects and briefly compare them".
_AND_TASK_RE = re.compile(
    r"\band\s+(?:\w+ly\s+)?(?:compare|contrast|discuss|explain|describe|analy[sz]e|evaluate|"
    r"argue|summari[sz]e|reflect|answer)\b",
    re.I,
)


def _is_step(sentence: str, verb: str | None, section: str, listed: bool) -> bool:
    """A step of doing the work ("Find at least five sources through the library"), or an
    item of a how-to, tips or timeline section: tasks for the plan, not rules."""
    # "Include an abstract" sets a rule even among steps; "make sure" there is a step's care.
    work_verb = verb in DELIVERABLE_VERBS and verb != "ensure"
    if states_deadline(sentence) or work_verb or _AND_TASK_RE.search(sentence):
        return False
    if verb in PROCESS_VERBS:
        return True
    if not (section and _STEP_SECTION_RE.search(section)) or _OBLIGING_HEADING_RE.search(section):
        return False
    return listed or (verb is not None and verb not in _SUBJECT_STARTS)


# "Needs to" and "has to" oblige, but not when negated ("No additional materials need to
# be prepared"), predicted ("something you are going to have to do") or about skills
# ("you have to be able to read it carefully").
_OBLIGATION_RE = re.compile(
    r"(?<!\bgoing to )\b(?:needs? to|ha(?:s|ve) to)\b(?!\s+be\s+able\b)", re.I
)
_NEGATED_RE = re.compile(r"\b(?:no|not|never|don't|doesn't|needn't)\b", re.I)


# A question, before closing quotes or brackets: 'Should it be? Explain why or why not."'
# ends on a command; "Will you propose a new way? etc...)" on a question.
_QUESTION_END_RE = re.compile(r"\?(?:\s*etc\.*)?[\s\"”’')\]]*$", re.I)
# A line that is only a quotation ("“You Can't Make It on YouTube Anymore.”"): a title.
_QUOTED_TITLE_RE = re.compile(r"^[\"“'‘][^\"“”]{1,120}[\"”'’]$")
# A title that says what the part below it explains: "How to submit".
_HOW_TO_TITLE_RE = re.compile(r"^how\s+to(?:\s+[\w/-]+){1,4}$", re.I)


def _main_clause(text: str) -> str:
    """What a permission is read in: after a conceded one ("You may choose the text, but
    ..."), before a semicolon ("The draft is due Monday; it may be incomplete")."""
    return _CONCESSION_RE.sub("", text).split(";")[0]


def _binds(text: str) -> bool:
    """Rule wording, once lifted rules ("not required") and admissions are set aside."""
    if HARD_RE.search(_ADMISSION_RE.sub(" ", _NOT_REQUIRED_RE.sub(" ", text))):
        return True
    return bool(_OBLIGATION_RE.search(text)) and not _NEGATED_RE.search(text)


def requirement_kind(
    sentence: str, section: str = "", *, listed: bool = False, lead_in: str = ""
) -> RequirementKind | None:
    """What a sentence under ``section`` requires, if anything; a list item also reads the
    paragraph that introduces its list (``lead_in``).

    A rule needs rule wording (must, do not, only, ...), an imperative aimed at the work,
    or a measurable value (length, source count, style, file format, deadline). Advice
    ("should"), permissions ("may"), steps of the process and descriptions are not rules.
    The items of a list take their lead-in's force: under "you may not" each is a rule,
    under "you may" none is unless it says so itself.
    """
    text = collapse_whitespace(sentence)
    if _QUOTED_TITLE_RE.match(text) or _HOW_TO_TITLE_RE.match(text):
        return None
    # A question in the prose is one to think about ("Are there things to do... and never
    # do when teaching?"); the work answers a question only when it is an item of a list
    # the assignment sets ("write a one-page paper to respond to the following:").
    question = bool(_QUESTION_END_RE.search(text))
    if question and not listed:
        return None
    policy = _states_policy(text)
    if _ADVICE_RE.search(text) and not (_BINDING_RE.search(text) or policy):
        return None
    if _NO_LIMIT_RE.search(text) and not HARD_RE.search(text):
        return None
    if _INSTRUCTOR_DOES_RE.match(text) and not _BINDING_RE.search(text):
        return None
    if _PARTICIPATION_RE.search(text):
        return None
    hard = _binds(text)
    if listed:
        opening = re.split(r"(?<=[.!?])\s+", lead_in)[-1]  # the sentence that opens the list
        obliged = bool(
            _OBLIGING_LEAD_RE.search(section)
            or _OBLIGING_HEADING_RE.search(section)
            or _OBLIGING_LEAD_RE.search(lead_in)
            or _states_the_work(lead_in)  # "Students will write a paper, which includes:"
            or bool(_PENALTY_LEAD_RE.search(lead_in))  # each item is what a breach costs
            or _commands_the_work(lead_in, section)  # "Complete your notebook, including:"
            # "The project outline/proposal should be one page including:"
            or bool(_WORK_SHOULD_BE_LEAD_RE.match(opening))
        )
        offered = _PERMISSION_RE.search(text) or (
            _PERMISSION_RE.search(lead_in) and not _binds(lead_in)
        )
        if not (hard or obliged) and (offered or question):
            return None
        # "Here are suggested topics, but feel free to create your own:": each item is an
        # option, whatever its own wording ("A rhetor must be morally good.").
        if _SUGGESTING_LEAD_RE.search(opening) and not _binds(opening):
            return None
        hard = hard or ((obliged or _binds(lead_in)) and not _PERMISSION_RE.search(text))
    verb = imperative_verb(_LEADING_PHRASE_RE.sub("", text))
    lengths = length_limits(text)
    late = bool(LATE_POLICY_RE.search(text))
    if _PURPOSE_RE.search(text) and not (_BINDING_RE.search(text) or lengths or late):
        return None
    if _MEETINGS_RE.match(text) and not (_BINDING_RE.search(text) or states_deadline(text)):
        return None  # the class's timetable: "Lectures: 2 sessions / week, 80 minutes"
    if _weighs_in_the_grade(text, section, lead_in) and not (
        lengths or late or states_deadline(text)
    ):
        return "grading"
    if _DESCRIPTIVE_RE.match(text) and not _BINDING_VERB_RE.search(text):
        return None
    if (_OFFER_OR_EXAMPLE_RE.search(text) or _EXAMPLE_SECTION_RE.search(section)) and not (
        HARD_RE.search(_NOT_REQUIRED_RE.sub(" ", text))
    ):
        return None
    # A named citation style is a rule even in a step: "Begin each entry with a citation
    # in ASA style".
    styled = citation_style_in(text) is not None
    if not (hard or policy or styled or (lengths and verb not in _READING_VERBS)) and (
        _is_step(text, verb, section, listed)
        or _DESCRIPTIVE_RE.match(text)
        or _INSTRUCTOR_STEP_RE.search(text)
        or (_PERMISSION_RE.search(_main_clause(text)) and not (lengths or late))
    ):
        return None
    # "Also explain ...": a further part the work must have, beyond the task itself.
    also_task = bool(_ALSO_TASK_RE.match(text))
    directive = hard or policy or also_task or _sets_rule_for_work(text, verb)
    directive = directive or _commands(_LEADING_PHRASE_RE.sub("", text), verb, section)
    directive = directive or _states_the_work(text)
    # "Pick two objects and briefly compare them": the step leads to the work itself.
    directive = directive or (verb in PROCESS_VERBS and bool(_AND_TASK_RE.search(text)))

    measurable = bool(
        lengths or PART_LENGTH_RE.search(text) or SOURCES_RE.search(text) or citation_style_in(text)
    )
    # Typography is a rule however it is phrased ("should be single spaced, 12-point font").
    layout = bool(TYPE_VALUE_RE.search(text))
    kinds: tuple[tuple[RequirementKind, bool], ...] = (
        ("length", bool(lengths or PART_LENGTH_RE.search(text))),
        ("citation", measurable or (directive and bool(CITATION_RE.search(text)))),
        ("format", bool(EXTENSION_RE.search(text) or TYPOGRAPHY_RE.search(text))),
        ("deadline", states_deadline(text)),
        (
            "hard_constraint",
            directive
            or late
            or bool(_COUNT_RE.search(text))
            or bool(_INTEGRITY_RE.search(text) and _CONSEQUENCE_RE.search(text)),
        ),
        ("grading", bool(_GRADING_RE.search(text))),
        ("soft_constraint", bool(_SOFT_RE.search(text))),
        ("submission", bool(_SUBMISSION_RE.search(text))),
    )
    kind = next((kind for kind, matches in kinds if matches), None)
    # A length, source count or citation style is a rule however it is phrased; otherwise
    # "should" without a "must" is advice, and "you will ..." states the task (the objective).
    # A date stated in the main clause stands, whatever "should" follows it.
    dated = kind == "deadline" and not _SOFT_RE.search(_main_clause(text))
    if kind is None or dated or measurable or hard or policy or layout or also_task:
        return kind
    if _SOFT_RE.search(text):
        return None if _TASK_STATEMENT_RE.search(text) else "soft_constraint"
    return kind


def _weighs_in_the_grade(text: str, section: str, lead_in: str) -> bool:
    """A line of a grade breakdown ("Final Exam: 40%" under "Grading"), or a sentence that
    gives a piece of work's share of the grade and sets nothing else ("You will write two
    papers, and this will count for half your grade"; not "30% of the grade will be based on
    four assignments that you will be expected to hand in to the TA")."""
    line = _GRADE_LINE_RE.match(text)
    if line and (line["points"] or _GRADE_SECTION_RE.search(f"{section} {lead_in}")):
        return True
    return bool(_GRADE_SHARE_RE.search(text)) and not (
        _binds(text) or _STATED_CONTENT_RE.search(text) or SOURCES_RE.search(text)
    )


def _states_policy(text: str) -> bool:
    """A rule however it is worded: who may work with whom, the use of AI tools, the
    audience, what the work holds or how it is handed in stated with "should" or "will"."""
    # Not a name: "the People's Collaborative Governance Network".
    named = (m for m in _COLLABORATION_RE.finditer(text) if not (m.start() and m[0][0].isupper()))
    collaboration = any(named) and (
        not _OFFERED_RE.search(text) or bool(_RESTRICTED_RE.search(text))
    )
    return bool(
        collaboration
        or (_AI_RE.search(text) and _NEGATION_RE.search(text))
        or _AUDIENCE_RE.search(text)
        or _STATED_CONTENT_RE.search(text)
        or (_SUBMISSION_VERB_RE.search(text) and _CHANNEL_RE.search(text))
        or _PARTS_RE.search(text)
        or _COUNTED_WORK_RE.search(text)
        or _PROSE_RE.search(text)
        or _UNCITED_RE.search(text)
        or _WORK_SHOULD_RE.search(_LEADING_PHRASE_RE.sub("", text))
        or _WORK_INVOLVES_RE.search(text)
        or _you_should_shape_the_work(text)
        or _WORK_IS_RE.search(_LEADING_PHRASE_RE.sub("", text))
        or (_GRADE_BASIS_RE.search(text) and not _GRADE_MIX_RE.search(text))
    )


# "you should" with a verb that shapes the work ("you should include your intermediate
# steps", "You should add necessary details to the README.md file"): a rule, where "you
# should" with any other verb is advice to the student ("you should start early").
_YOU_SHOULD_RE = re.compile(r"\byou\s+should\s+(?:also\s+)?(?P<verb>[a-z]+)\b", re.I)


def _you_should_shape_the_work(text: str) -> bool:
    match = _YOU_SHOULD_RE.search(text)
    return (
        match is not None
        and match["verb"].lower() in DELIVERABLE_VERBS
        and not text.rstrip().endswith(":")  # a lead-in: its items are the rules
    )


def _commands_the_work(text: str, section: str) -> bool:
    stripped = _LEADING_PHRASE_RE.sub("", text)
    verb = imperative_verb(stripped)
    return bool(text) and (
        _sets_rule_for_work(stripped, verb) or _commands(stripped, verb, section)
    )


# The verb a step is joined to: "you will choose a pop song ... and trace its influences".
_AND_VERB_RE = re.compile(r"\band\s+(?P<verb>[a-z]+)\b")


def _states_the_work(text: str) -> bool:
    """The work stated as what the student will do: "you will create an annotated
    bibliography", or a step joined to the work ("you will choose a pop song ... and trace
    4-5 musical influences"); not a step alone ("you will choose a topic")."""
    will_do = _WILL_DO_RE.search(text)
    if will_do is None:
        return False
    verbs = [will_do["verb"].lower()]
    verbs += [m["verb"] for m in _AND_VERB_RE.finditer(text, will_do.end())]
    return any(verb not in PROCESS_VERBS and is_base_verb(verb) for verb in verbs)
