"""The OpenAPI document: FastAPI's, plus what it cannot infer from the routes, the models
of the SSE messages (``text/event-stream`` bodies are not JSON responses).

``canvas-workspace export-openapi`` writes it to ``contract/openapi.json``, the contract
the extension's TypeScript types are generated from.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import Field, TypeAdapter

from server.events.types import HistoryGone, ProgressEvent, StreamEnded
from server.workspaces.service import WorkspaceSnapshot

COMPONENTS = "#/components/schemas/"
STREAM_MESSAGE = "WorkspaceStreamMessage"
STREAM_MEDIA_TYPE = "text/event-stream"

StreamMessage = Annotated[
    WorkspaceSnapshot | ProgressEvent | HistoryGone | StreamEnded,
    Field(
        description="The JSON in the data: field of one SSE message. The event: field names "
        "it: snapshot (WorkspaceSnapshot), history_gone (HistoryGone), stream_ended "
        "(StreamEnded, the last message), or the event_type of a ProgressEvent, whose id is "
        "also the message's id:."
    ),
]


def stream_message_response(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is a stream of :data:`StreamMessage`."""
    return {
        "description": description,
        "content": {STREAM_MEDIA_TYPE: {"schema": {"$ref": COMPONENTS + STREAM_MESSAGE}}},
    }


def _stream_message_schemas() -> dict[str, Any]:
    schema = TypeAdapter(StreamMessage).json_schema(
        ref_template=COMPONENTS + "{model}", mode="serialization"
    )
    return {**schema.pop("$defs"), STREAM_MESSAGE: schema}


def _only_streams(document: dict[str, Any]) -> None:
    """A response declared as an event stream is only that: drop the JSON content FastAPI
    adds for the route's default response class."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if STREAM_MEDIA_TYPE in content:
                    content.pop("application/json", None)


def install_openapi(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in _stream_message_schemas().items():
                schemas.setdefault(name, schema)
            _only_streams(document)
            return document  # build() keeps it as app.openapi_schema
        return app.openapi_schema

    # Replacing the method is FastAPI's documented hook for amending the schema; mypy
    # forbids assigning to a method.
    app.openapi = openapi  # type: ignore[method-assign]


def openapi_json(app: FastAPI) -> str:
    """The document as written to the contract file (stable: same app, same text)."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
