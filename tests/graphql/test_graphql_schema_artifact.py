"""The SDL checked in at graphql_api/schema.graphql is the schema the service serves, so
dashboard developers can generate types from it."""

from __future__ import annotations

from graphql import build_schema

from graphql_api.schema import schema_sdl
from server.cli import SDL_PATH, main


def test_the_checked_in_schema_is_the_served_schema():
    assert SDL_PATH.read_text(encoding="utf-8") == schema_sdl(), (
        "The GraphQL schema changed: run `canvas-workspace export-schema` and commit "
        "graphql_api/schema.graphql"
    )


def test_export_schema_writes_a_valid_sdl(tmp_path, capsys):
    output = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(output)]) == 0
    sdl = output.read_text(encoding="utf-8")
    assert sdl == schema_sdl()
    schema = build_schema(sdl)
    assert {"Query", "Mutation", "Subscription", "Plan", "ProgressEvent"} <= set(schema.type_map)
    assert str(output) in capsys.readouterr().err
