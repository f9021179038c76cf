"""The instructor's rule on generative AI, recognized in the sources: which sentence
states it and what it says (forbidden, allowed with disclosure, allowed, or unstated).

Deterministic and the same for every engine: a sentence of the sources that is about AI,
and the first stance its words take. ``ai_policy_phrases/<language>.yaml`` holds the
patterns and the wording plans and feedback use for it, so a language is a file. The
quote is the sentence itself with its offsets, so it is grounded like any hard constraint.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from pydantic import BaseModel, ConfigDict, TypeAdapter

from models.context import DESCRIPTION_SOURCE_ID, SourceContext
from models.plan import AiPolicy, AiPolicyStance
from server.text.data_files import languages_in, read_data_file
from server.text.sentences import sentence_spans

DEFAULT_LANGUAGE = "en"
# Checked in this order: "allowed if you disclose it" is a disclosure rule.
_STANCES: tuple[tuple[str, AiPolicyStance], ...] = (
    ("disclosure", "allowed_with_disclosure"),
    ("forbidden", "forbidden"),
    ("allowed", "allowed"),
)


class DisclosureTask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    description: str
    deliverable: str
    done_definition: str


class PolicyTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    disclosure_task: DisclosureTask
    disclosure_check: str
    forbidden_acceptance: str
    forbidden_check: str
    forbidden_feedback_notice: str
    forbidden_feedback_dropped: str


class PolicyPhrases(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mentions: list[str]
    disclosure: list[str]
    forbidden: list[str]
    allowed: list[str]
    wording_cues: list[str]  # what suggests wording for the student (feedback drops it)
    texts: PolicyTexts

    def pattern(self, name: str) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in getattr(self, name)), re.I)


class PolicyPhrasesError(RuntimeError):
    """A phrase file that cannot be used: a defect in the data, like a bug in code."""


@cache
def load_phrases(language: str = DEFAULT_LANGUAGE) -> PolicyPhrases:
    path = _phrases_folder() / f"{language}.yaml"
    phrases = read_data_file(path, TypeAdapter(PolicyPhrases), PolicyPhrasesError)
    try:
        for name in ("mentions", "wording_cues", *(name for name, _ in _STANCES)):
            phrases.pattern(name)
    except re.error as exc:
        raise PolicyPhrasesError(f"{path}: {exc}") from exc
    return phrases


def _phrases_folder() -> Traversable:
    return resources.files("server.text") / "ai_policy_phrases"


def phrases_for(language: str | None) -> PolicyPhrases:
    """The phrases of ``language``, English when there is no file for it."""
    return load_phrases(language if language in phrase_languages() else DEFAULT_LANGUAGE)


@cache
def phrase_languages() -> tuple[str, ...]:
    """Every language with a phrase file, English first."""
    found = sorted(languages_in(_phrases_folder()))
    return tuple(sorted(found, key=lambda code: code != DEFAULT_LANGUAGE))


def _stance(sentence: str) -> AiPolicyStance | None:
    """The stance of a sentence about AI in any language with phrases, if it takes one."""
    for language in phrase_languages():
        phrases = load_phrases(language)
        if not phrases.pattern("mentions").search(sentence):
            continue
        for name, stance in _STANCES:
            if phrases.pattern(name).search(sentence):
                return stance
    return None


def recognize_ai_policy(context: SourceContext) -> AiPolicy:
    """The first sentence of the sources (description first) that is about AI and takes a
    stance, read with every language's phrases (the sources' language need not be the
    student's); ``unstated`` when none does."""
    documents = sorted(context.documents, key=lambda d: d.source_id != DESCRIPTION_SOURCE_ID)
    for document in documents:
        for start, end in sentence_spans(document.text):
            sentence = document.text[start:end]
            stance = _stance(sentence)
            if stance:
                return AiPolicy(
                    stance=stance,
                    quote=sentence.strip(),
                    source_id=document.source_id,
                    start=start + len(sentence) - len(sentence.lstrip()),
                    end=end - (len(sentence) - len(sentence.rstrip())),
                )
    return AiPolicy(stance="unstated")


__all__ = [
    "DEFAULT_LANGUAGE",
    "PolicyPhrases",
    "PolicyPhrasesError",
    "PolicyTexts",
    "load_phrases",
    "phrase_languages",
    "phrases_for",
    "recognize_ai_policy",
]
