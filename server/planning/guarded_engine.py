"""The model engine, kept from ever doing worse than the offline one.

- The offline engine's requirements (each quoted from the sources by its rules) go to the
  model as candidates to confirm, drop or add to.
- The instructor's dated checkpoints the offline rules find become milestones anchored to
  their dates in the model's plan too (``server/planning/offline/checkpoints.py``).
- A hard constraint the offline rules found and grounded that the model's plan left out is
  added back after the model's own, and ``generated_by.restored`` quotes it (quotes, not
  pointers: verification renumbers the constraints it drops).
- When the model's answer stays unusable after the client's retries (invalid output, a
  refusal, a cut-off or filtered answer, a timeout, an unreachable or failing or rate
  limiting endpoint), the student gets the offline engine's plan: ``generated_by`` says
  ``offline`` and why (``fallback``), the plan's risks say so, and the job gets a warning.
  ``LLM_FALLBACK=none`` fails the job instead. A configuration error (a rejected API key,
  an unknown model, a request the endpoint refuses, the job's token budget) fails the job
  either way: falling back would hide it from the operator.
"""

from __future__ import annotations

from pydantic import Field

from models.context import Requirement, Requirements, SourceContext
from models.plan import Plan, Risk, SourceReference
from server.llm.client import LlmError
from server.llm.fallback import FALLBACK_WARNING, FallbackMode, fallback_reason
from server.llm.session import EngineSession
from server.planning.claims import ClaimRepair, UnbackedClaim
from server.planning.offline import HARD_KINDS, OfflineEngine, derive_facts
from server.planning.offline.checkpoints import with_checkpoints
from server.planning.offline.templating import templates_for
from server.planning.openai_engine import OpenAIPlanningEngine
from server.planning.verification import more_constraint_ids
from server.text.grounding import find_quote, grounding_corpus, spans_overlap


class GuardedRequirements(Requirements):
    """What the model found (or, after a fallback, the offline rules), with the offline
    rules' candidates kept for the draft."""

    candidates: Requirements
    found: Requirements | None = None  # the model's; None once fallen back
    fallback: str | None = Field(default=None, description="why the model was not used")


def _hard_spans(plan: Plan, corpus: dict[str, str]) -> list[tuple[str, tuple[int, int]]]:
    spans = []
    for reference in plan.source_references:
        if reference.pointer.startswith("/assignment_summary/hard_constraints/"):
            text = corpus.get(reference.source_id)
            span = find_quote(reference.quote, text) if text is not None else None
            if span is not None:
                spans.append((reference.source_id, span))
    return spans


def restore_dropped(plan: Plan, candidates: Requirements, context: SourceContext) -> Plan:
    """``plan`` with every grounded hard candidate it does not state added back, after its
    own constraints (so their pointers stay), each quoted in ``generated_by.restored``."""
    corpus = grounding_corpus(context)
    stated = _hard_spans(plan, corpus)
    restored: list[Requirement] = []
    for candidate in candidates.items:
        text = corpus.get(candidate.source_id)
        span = find_quote(candidate.quote, text) if candidate.kind in HARD_KINDS and text else None
        if span is None:
            continue
        if not any(
            source == candidate.source_id and spans_overlap(span, s) for source, s in stated
        ):
            restored.append(candidate)
            stated.append((candidate.source_id, span))
    if not restored:
        return plan
    summary = plan.assignment_summary
    first = len(summary.hard_constraints)
    pointers = [f"/assignment_summary/hard_constraints/{first + i}" for i in range(len(restored))]
    return plan.model_copy(
        update={
            "assignment_summary": summary.model_copy(
                update={
                    "hard_constraints": [*summary.hard_constraints, *(r.text for r in restored)],
                    "hard_constraint_ids": [
                        *summary.hard_constraint_ids,
                        *more_constraint_ids(
                            summary.hard_constraint_ids,
                            len(restored),
                            # never an id the model's tasks already name for something else
                            frozenset(ref for task in plan.tasks() for ref in task.serves),
                        ),
                    ]
                    if summary.hard_constraint_ids
                    else [],
                }
            ),
            "source_references": [
                *plan.source_references,
                *(
                    SourceReference(pointer=pointer, quote=r.quote, source_id=r.source_id)
                    for pointer, r in zip(pointers, restored, strict=True)
                ),
            ],
            "generated_by": plan.generated_by.model_copy(
                update={"restored": [*plan.generated_by.restored, *(r.quote for r in restored)]}
            ),
        }
    )


def _with_checkpoints(plan: Plan, candidates: Requirements, context: SourceContext) -> Plan:
    """The model's plan with the instructor's dated checkpoints as anchored milestones, unless
    the model already used their ids."""
    facts = derive_facts(context, candidates)
    say = templates_for(context.language).say
    milestones = with_checkpoints(plan.milestones, candidates, facts, say)
    ids = [milestone.id for milestone in milestones]
    if len(ids) != len(set(ids)):
        return plan
    return plan.model_copy(update={"milestones": milestones})


class GuardedPlanningEngine:
    """The openai engine with the offline engine beside it (see the module docstring)."""

    name = "openai"

    def __init__(
        self, model: OpenAIPlanningEngine, rules: OfflineEngine, fallback: FallbackMode
    ) -> None:
        self.model = model
        self.rules = rules
        self.fallback = fallback

    async def distill(
        self, context: SourceContext, session: EngineSession | None = None
    ) -> GuardedRequirements:
        session = session or EngineSession()
        candidates = await self.rules.distill(context)
        try:
            found = await self.model.distill(context, session, candidates)
        except LlmError as error:
            reason = fallback_reason(error, self.fallback)
            return GuardedRequirements(
                items=candidates.items,
                notes=candidates.notes,
                candidates=candidates,
                fallback=reason,
            )
        return GuardedRequirements(
            items=found.items, notes=found.notes, candidates=candidates, found=found
        )

    async def draft_plan(
        self,
        context: SourceContext,
        requirements: Requirements,
        session: EngineSession | None = None,
    ) -> Plan:
        session = session or EngineSession()
        if not isinstance(requirements, GuardedRequirements):
            candidates = await self.rules.distill(context)
            requirements = GuardedRequirements(
                items=requirements.items, candidates=candidates, found=requirements
            )
        if requirements.found is None or requirements.fallback is not None:
            return await self._offline_plan(context, requirements, session)
        try:
            plan = await self.model.draft_plan(context, requirements.found, session)
        except LlmError as error:
            requirements.fallback = fallback_reason(error, self.fallback)
            return await self._offline_plan(context, requirements, session)
        return _with_checkpoints(
            restore_dropped(plan, requirements.candidates, context),
            requirements.candidates,
            context,
        )

    async def _offline_plan(
        self, context: SourceContext, requirements: GuardedRequirements, session: EngineSession
    ) -> Plan:
        reason = requirements.fallback or "the model's requirements were not available"
        plan = await self.rules.draft_plan(context, requirements.candidates)
        message = (
            "The language model's answer could not be used, so this plan was made by the "
            f"offline rules instead ({reason})"
        )
        await session.warn(FALLBACK_WARNING, message)
        risk = Risk(
            risk=message,
            impact="The plan follows rules of thumb rather than a reading of the assignment",
            mitigation="Read the assignment yourself for anything the plan misses, or make "
            "the plan again later",
        )
        return plan.model_copy(
            update={
                "risks": [risk, *plan.risks],
                "generated_by": plan.generated_by.model_copy(
                    update={"model": self.model.llm.model("draft"), "fallback": reason}
                ),
            }
        )

    async def repair_claims(
        self, context: SourceContext, claims: list[UnbackedClaim], session: EngineSession
    ) -> list[ClaimRepair]:
        return await self.model.repair_claims(context, claims, session)

    async def aclose(self) -> None:
        await self.model.aclose()


__all__ = [
    "GuardedPlanningEngine",
    "GuardedRequirements",
    "restore_dropped",
]
