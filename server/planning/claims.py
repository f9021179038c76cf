"""Claims that verification could not back, and a model's repairs of them: what passes
between the repair step of ``verify_against_source`` and an engine that can repair."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnbackedClaim:
    """A hard constraint or grading signal whose quote was not found in the sources."""

    pointer: str  # "/assignment_summary/hard_constraints/2"
    text: str
    quotes: list[str]
    reason: str


@dataclass(frozen=True)
class ClaimRepair:
    """A new quote for a claim, and its wording if it had to change to match the quote."""

    pointer: str
    quote: str
    source_id: str
    corrected_text: str | None = None


__all__ = ["ClaimRepair", "UnbackedClaim"]
