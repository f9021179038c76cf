"""The limits' arithmetic, on the schema itself: they are checked before any resolver runs,
so no server or caller is needed to see what they refuse."""

from __future__ import annotations

import pytest

from graphql_api.limits import UNBOUNDED_LIST_LENGTH
from graphql_api.schema import build_schema
from tests.conftest import make_settings


def limited_schema(tmp_path, **limits):
    return build_schema(make_settings(tmp_path, None, **limits))


async def cost_error(schema, query: str, variables=None) -> dict | None:
    result = await schema.execute(query, variable_values=variables)
    codes = [error.extensions for error in result.errors or ()]
    return next((c for c in codes if c and c.get("code") == "query_too_expensive"), None)


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ me { id name } }", None, 3),
        # A page's items are counted `limit` times: 1 + (1 + 5 * 1).
        ("{ workspaces(limit: 5) { items { workspaceId } } }", None, 7),
        ("query ($n: Int!) { workspaces(limit: $n) { items { workspaceId } } }", {"n": 7}, 9),
        # Without a limit, the argument's default (20).
        ("{ workspaces { items { workspaceId } nextCursor } }", None, 23),
        # Lists without a limit of their own count as UNBOUNDED_LIST_LENGTH items.
        (
            '{ plan(courseId: "1", assignmentId: "2") { milestones { id tasks { id } } } }',
            None,
            1 + 1 + UNBOUNDED_LIST_LENGTH * (1 + 1 + UNBOUNDED_LIST_LENGTH),
        ),
        # Fragments count where they are spread; introspection and __typename are free.
        (
            "fragment W on Workspace { workspaceId status } "
            "{ __typename __schema { types { name } } workspaces(limit: 2) { items { ...W } } }",
            None,
            1 + (1 + 2 * 2),
        ),
    ],
)
async def test_the_cost_of_an_operation(tmp_path, query, variables, cost):
    just_enough = limited_schema(tmp_path, graphql_max_cost=cost)
    assert await cost_error(just_enough, query, variables) is None
    too_little = limited_schema(tmp_path, graphql_max_cost=cost - 1)
    error = await cost_error(too_little, query, variables)
    assert error == {"code": "query_too_expensive", "cost": cost, "max": cost - 1, "status": 422}


async def test_depth_is_limited(tmp_path):
    schema = limited_schema(tmp_path, graphql_max_depth=2)
    deep = '{ plan(courseId: "1", assignmentId: "2") { milestones { tasks { id } } } }'
    result = await schema.execute(deep)
    assert result.errors and "exceeds maximum operation depth of 2" in result.errors[0].message
    assert result.errors[0].extensions["code"] == "validation_error"
