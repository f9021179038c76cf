"""Helpers for the GraphQL tests: a POST to /graphql, REST JSON in GraphQL's camelCase,
selections of every field of a type (so "the same answers" compares whole objects), and
``same``, which compares a GraphQL answer with REST's, timestamps as instants."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
from graphql import GraphQLObjectType, get_named_type

from graphql_api.schema import build_schema

SCHEMA = build_schema()._schema
# JSON scalars: GraphQL passes their contents through, keys and all.
JSON_FIELDS = frozenset({"warnings", "milestone_preview", "feedback_preview", "warning"})
ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def data_of(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"]


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The only error of a response, which must carry a code."""
    assert len(body.get("errors") or []) == 1, body
    error = body["errors"][0]
    assert error["message"] and error["extensions"]["code"], error
    return error


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def camelized(value: Any) -> Any:
    if isinstance(value, list):
        return [camelized(item) for item in value]
    if isinstance(value, dict):
        return {
            camel(key): item if key in JSON_FIELDS else camelized(item)
            for key, item in value.items()
        }
    return value


def selection(type_name: str, skip: frozenset[str] = frozenset()) -> str:
    """``{ every field { and its fields } }`` of an object type, minus ``Type.field``s."""
    graphql_type = SCHEMA.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = []
    for name, field in graphql_type.fields.items():
        if f"{type_name}.{name}" in skip:
            continue
        inner = get_named_type(field.type)
        parts.append(
            f"{name} {selection(inner.name, skip)}"
            if isinstance(inner, GraphQLObjectType)
            else name
        )
    return "{ " + " ".join(parts) + " }"


def normalized(value: Any) -> Any:
    """Timestamps as instants: REST writes ``...Z``, GraphQL ``...+00:00``."""
    if isinstance(value, list):
        return [normalized(item) for item in value]
    if isinstance(value, dict):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, str) and ISO_DATETIME.match(value):
        return datetime.fromisoformat(value)
    return value


def same(graphql_value: Any, rest_value: Any) -> None:
    assert normalized(graphql_value) == normalized(camelized(rest_value))
