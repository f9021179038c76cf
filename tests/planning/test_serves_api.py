"""Why each task is there, as the extension reads it: REST and GraphQL serve the same
``serves`` ids, and every one of them is a hard constraint or rubric criterion of the plan."""

from __future__ import annotations

from typing import Any

from tests.conftest import wait_for_status
from tests.support.graphql import data_of, graphql

ESSAY = "/assignments/101/1001"
QUERY = """
{ plan(courseId: "101", assignmentId: "1001") {
    assignmentSummary { hardConstraints hardConstraintIds }
    rubricCriteria { id description points }
    milestones { id serves coversCriteria tasks { id serves } }
} }
"""


def links(plan: dict[str, Any], *, camel: bool) -> dict[str, str]:
    """What the extension draws: id -> the text it points at."""
    summary = plan["assignmentSummary" if camel else "assignment_summary"]
    ids = summary["hardConstraintIds" if camel else "hard_constraint_ids"]
    texts = summary["hardConstraints" if camel else "hard_constraints"]
    named = dict(zip(ids, texts, strict=True))
    named.update(
        {c["id"]: c["description"] for c in plan["rubricCriteria" if camel else "rubric_criteria"]}
    )
    return named


async def test_rest_and_graphql_name_what_each_task_serves(client, student):
    await client.post(f"{ESSAY}/start", headers=student.headers)
    done = await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    assert done["status"] == "ready"

    rest = (await client.get(f"{ESSAY}/plan", headers=student.headers)).json()
    named = links(rest, camel=False)
    assert any(ref.startswith("hc") for ref in named) and "_1001_thesis" in named
    served = {ref for m in rest["milestones"] for t in m["tasks"] for ref in t["serves"]}
    assert served == set(named)  # everything served, nothing unknown
    for milestone in rest["milestones"]:
        assert set(milestone["serves"]) >= {r for t in milestone["tasks"] for r in t["serves"]}

    answer = data_of(await graphql(client, QUERY, headers=student.headers))["plan"]
    assert links(answer, camel=True) == named
    assert [[t["serves"] for t in m["tasks"]] for m in answer["milestones"]] == [
        [t["serves"] for t in m["tasks"]] for m in rest["milestones"]
    ]
    assert [m["serves"] for m in answer["milestones"]] == [m["serves"] for m in rest["milestones"]]
