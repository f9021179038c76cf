"""The optional repair step of ``verify_against_source``: one targeted model call.

Hard constraints and grading signals whose quotes are not in the sources (a misquote, a
changed number, an invented rule) would be dropped by verification. An engine that can
(a :class:`ClaimRepairer`) gets one call for all of them together: it may come back with
a quote that does back a claim, or reword a claim to match its quote. Everything is then
verified as usual, so a repair is trusted no more than the draft was: a new quote that
is not in the sources is dropped the same way. The offline engine cannot repair, and its
plans go straight to the deterministic check.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from models.context import SourceContext
from models.plan import Plan, SourceReference
from server.kernel.errors import AppError
from server.llm.session import EngineSession
from server.planning.claims import ClaimRepair, UnbackedClaim
from server.planning.verification import verify_against_source
from server.runtime import PlanningEngine

logger = logging.getLogger(__name__)


@runtime_checkable
class ClaimRepairer(Protocol):
    """An engine that can look again for quotes backing claims verification could not
    find (one call for all of them)."""

    async def repair_claims(
        self, context: SourceContext, claims: list[UnbackedClaim], session: EngineSession
    ) -> list[ClaimRepair]: ...


def _unbacked(draft: Plan, checked: Plan) -> list[UnbackedClaim]:
    """The grounded items verification dropped from ``draft``, with their quotes and why."""
    report = checked.verification
    return [
        UnbackedClaim(
            pointer=item.pointer,
            text=item.text,
            quotes=[r.quote for r in draft.source_references if r.pointer == item.pointer],
            reason=item.reason,
        )
        for item in (report.dropped if report else [])
    ]


def _apply(plan: Plan, repairs: list[ClaimRepair]) -> Plan:
    repaired = plan.model_copy(deep=True)
    summary = repaired.assignment_summary
    by_pointer = {repair.pointer: repair for repair in repairs}
    for pointer, repair in by_pointer.items():
        _, _, section, index = pointer.split("/")
        if repair.corrected_text and repair.corrected_text.strip():
            getattr(summary, section)[int(index)] = repair.corrected_text.strip()
    repaired.source_references = [
        *(r for r in repaired.source_references if r.pointer not in by_pointer),
        *(
            SourceReference(pointer=r.pointer, quote=r.quote, source_id=r.source_id)
            for r in by_pointer.values()
        ),
    ]
    return repaired


async def verify_with_repair(
    engine: PlanningEngine, draft: Plan, context: SourceContext, session: EngineSession
) -> Plan:
    """``verify_against_source``, after one repair call for unbacked claims when the engine
    can make one; the plan's report says what the repair did."""
    checked = verify_against_source(draft, context)
    claims = _unbacked(draft, checked)
    if not claims or not isinstance(engine, ClaimRepairer):
        return checked
    asked = {claim.pointer for claim in claims}
    unbacked = (
        f"{len(claims)} hard constraint(s) or grading signal(s) had no quote found in the sources; "
    )
    try:
        answered = await engine.repair_claims(context, claims, session)
    except AppError as error:
        # The repair is an extra; without it the plan is still verified, only smaller.
        logger.warning("claim repair failed (%s); unbacked items are dropped", error.code)
        return _noted(checked, f"{unbacked}the model call to back them failed ({error.code})")
    repairs = [repair for repair in answered if repair.pointer in asked]
    return _noted(
        verify_against_source(_apply(draft, repairs), context),
        f"{unbacked}one model call was asked to back them: {len(repairs)} came back with a "
        f"new quote (checked like the rest), {len(claims) - len(repairs)} could not be backed",
    )


def _noted(plan: Plan, note: str) -> Plan:
    if plan.verification is not None:  # always set by verify_against_source
        plan.verification.corrected.append(note)
    return plan


__all__ = ["verify_with_repair"]
