"""Which of several texts is most about a given one: shared content-word stems.

Used to place what no rule placed (a rubric criterion no milestone covers, a hard
constraint no task serves) where it is most relevant, the same way in every engine.
"""

from __future__ import annotations

from server.text.submission import key_terms

# Words every rule and every task uses: sharing them says nothing about the topic.
_RULE_WORDS = frozenset(
    "must should shall will may need needs required require requires your you yours "
    "all any only than also more less least most before after".split()
)


def stems(text: str) -> set[str]:
    return {stem for stem, word in key_terms(text).items() if word not in _RULE_WORDS}


def scores(wanted: str, candidates: list[str]) -> list[int]:
    """How many content stems each candidate shares with ``wanted``."""
    target = stems(wanted)
    return [len(target & stems(text)) for text in candidates]


def most_relevant(wanted: str, candidates: list[str]) -> int:
    """The index of the candidate sharing most stems with ``wanted``; on a tie (or none
    shared), the later one. ``candidates`` must not be empty."""
    shared = scores(wanted, candidates)
    return max(range(len(candidates)), key=lambda i: (shared[i], i))


__all__ = ["most_relevant", "scores", "stems"]
