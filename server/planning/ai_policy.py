"""The plan's tasks respect the instructor's rule on generative AI (recognized by
``server/text/ai_policy.py``): a disclosure step when disclosure is required, an
acceptance criterion and a checklist line when AI is forbidden. The wording is the
language's phrase file's.
"""

from __future__ import annotations

import jinja2

from models.plan import AiPolicy, Plan, Task
from server.text.ai_policy import DEFAULT_LANGUAGE, PolicyTexts, phrases_for
from server.text.grounding import normalize

DISCLOSURE_TASK_ID = "ai-disclosure"
_ENV = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)  # noqa: S701


def _policy_constraints(plan: Plan, policy: AiPolicy) -> list[str]:
    """The ids of the plan's hard constraints that state the policy (same quote)."""
    if not policy.quote:
        return []
    wanted = normalize(policy.quote)
    summary = plan.assignment_summary
    pointers = {
        r.pointer for r in plan.source_references if normalize(r.quote) in wanted and r.quote
    }
    return [
        ref
        for index, ref in enumerate(summary.hard_constraint_ids)
        if f"/assignment_summary/hard_constraints/{index}" in pointers
    ]


def _disclosure_task(plan: Plan, policy: AiPolicy, texts: PolicyTexts) -> None:
    """A disclosure task before the plan's very last task (submitting), which waits for it."""
    last = plan.milestones[-1]
    values = {"quote": policy.quote or ""}
    template = texts.disclosure_task
    closing = last.tasks[-1] if last.tasks else None
    task = Task(
        id=DISCLOSURE_TASK_ID,
        title=_ENV.from_string(template.title).render(values),
        description=_ENV.from_string(template.description).render(values),
        deliverable=_ENV.from_string(template.deliverable).render(values),
        done_definition=_ENV.from_string(template.done_definition).render(values),
        estimated_effort="~15 min",
        estimated_minutes=15,
        depends_on=list(closing.depends_on) if closing else [],
        serves=_policy_constraints(plan, policy),
    )
    if closing:
        closing.depends_on = [task.id]
        last.tasks.insert(len(last.tasks) - 1, task)
    else:
        last.tasks.append(task)
    last.serves = list(dict.fromkeys([*last.serves, *task.serves]))
    plan.submission_strategy.final_checklist.append(texts.disclosure_check)


def apply_ai_policy(plan: Plan, policy: AiPolicy, language: str = DEFAULT_LANGUAGE) -> Plan:
    """The plan with its ``ai_policy`` and tasks that respect it: a disclosure step when
    disclosure is required, an acceptance criterion and a checklist line when AI is
    forbidden."""
    plan = plan.model_copy(deep=True)
    plan.ai_policy = policy
    texts = phrases_for(language).texts
    if policy.stance == "allowed_with_disclosure" and DISCLOSURE_TASK_ID not in {
        t.id for t in plan.tasks()
    }:
        _disclosure_task(plan, policy, texts)
    elif policy.stance == "forbidden":
        plan.milestones[-1].acceptance_criteria.append(texts.forbidden_acceptance)
        plan.submission_strategy.final_checklist.append(texts.forbidden_check)
    return Plan.model_validate(plan.model_dump())


__all__ = ["DISCLOSURE_TASK_ID", "apply_ai_policy"]
