"""The typed contract for the extension: the OpenAPI document describes every route with
its request, response and error models and the SSE messages; the checked-in copy matches
the code; and TypeScript generated from it type-checks an example client."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from server.cli import OPENAPI_PATH, main
from tests.conftest import read_stream

CONTRACT_DIR = OPENAPI_PATH.parent
ESSAY = "/assignments/101/1001"
ESSAY_TEMPLATE = "/assignments/{course_id}/{assignment_id}"
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
# GraphQL's contract is its SDL (graphql_api/schema.graphql, `canvas-workspace export-schema`).
GRAPHQL = "/graphql"
# Routes that touch neither the database nor Redis, so cannot answer 503.
NO_BACKING_SERVICE = {"/healthz", "/metrics", "/schemas/plan.json", "/schemas/feedback.json"}
STREAM_MODELS = {"snapshot": "WorkspaceSnapshot", "history_gone": "HistoryGone"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path != GRAPHQL
        for method, operation in item.items()
    ]


def test_the_checked_in_contract_matches_the_code(tmp_path):
    exported = tmp_path / "openapi.json"
    assert main(["export-openapi", "--output", str(exported)]) == 0
    assert exported.read_text(encoding="utf-8") == OPENAPI_PATH.read_text(encoding="utf-8"), (
        "contract/openapi.json is stale: run `canvas-workspace export-openapi` and commit it"
    )


def test_every_route_declares_its_request_response_and_error_models(document):
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        successes = [status for status in responses if status.startswith("2")]
        redirects = [status for status in responses if status.startswith("3")]
        assert successes or redirects, where
        for status in successes:
            if status != "204":
                content = responses[status]["content"]
                assert content and all(media["schema"] for media in content.values()), where
        errors = {status: body for status, body in responses.items() if status[0] in "45"}
        for status, body in errors.items():
            assert body["content"] == {"application/json": {"schema": ERROR_BODY}}, where
            if status in ("429", "503"):
                assert "Retry-After" in body["headers"], where
        if operation.get("security"):
            assert "401" in errors, f"{where} needs a token but declares no 401"
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in errors, f"{where} takes input but declares no 422"
        if path not in NO_BACKING_SERVICE:
            assert "503" in errors, f"{where} uses the database but declares no 503"
        if "requestBody" in operation:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert schema["$ref"].startswith("#/components/schemas/"), where
    assert "HTTPValidationError" not in json.dumps(document), "422 is the one error shape"


def test_every_reference_resolves(document):
    schemas = document["components"]["schemas"]
    text = json.dumps(document)
    referenced = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert referenced <= set(schemas), referenced - set(schemas)


def test_the_event_stream_is_described_with_its_message_models(document):
    ok = document["paths"][f"{ESSAY_TEMPLATE}/events"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["text/event-stream"]
    assert ok["content"]["text/event-stream"]["schema"] == {
        "$ref": "#/components/schemas/WorkspaceStreamMessage"
    }
    union = document["components"]["schemas"]["WorkspaceStreamMessage"]["anyOf"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in union} == {
        "WorkspaceSnapshot",
        "ProgressEvent",
        "HistoryGone",
        "StreamEnded",
    }


def _assert_matches_schema(data: dict[str, Any], schema: dict[str, Any], what: str) -> None:
    undeclared = set(data) - set(schema["properties"])
    assert not undeclared, f"{what} sends {undeclared}, which the contract does not declare"
    assert set(schema.get("required", [])) <= set(data), what


async def test_the_stream_sends_only_what_the_contract_declares(client, student, document):
    schemas = document["components"]["schemas"]
    await client.post(f"{ESSAY}/start", headers=student.headers)
    messages = await read_stream(client, f"{ESSAY}/events", headers=student.headers)
    gone = await read_stream(
        client,
        f"{ESSAY}/events",
        headers={**student.headers, "Last-Event-ID": "999999"},
        until={"snapshot"},
        from_start=False,
    )
    assert [message.event for message in gone] == ["history_gone", "snapshot"]
    for message in [*messages, *gone]:
        model = STREAM_MODELS.get(message.event, "ProgressEvent")
        _assert_matches_schema(message.json(), schemas[model], f"{message.event} message")
    assert messages[-1].event == "plan_ready"


# Real error answers, each checked against what the contract declares for its route.
async def test_error_answers_are_declared_for_their_routes(client, student, document):
    auth, missing = student.headers, "/assignments/101/9999"
    calls = [  # method, route template, path, headers, body, status
        ("get", "/me", "/me", {}, None, 401),
        ("post", "/auth/canvas", "/auth/canvas", {}, {"canvas_base_url": 3}, 422),
        ("get", "/assignments", "/assignments?limit=0", auth, None, 422),
        ("get", ESSAY_TEMPLATE, missing, auth, None, 404),
        ("get", f"{ESSAY_TEMPLATE}/plan", f"{missing}/plan", auth, None, 404),
        ("post", f"{ESSAY_TEMPLATE}/events/token", f"{missing}/events/token", auth, None, 404),
        ("get", f"{ESSAY_TEMPLATE}/events", f"{ESSAY}/events", {}, None, 401),
        ("get", f"{ESSAY_TEMPLATE}/feedback", f"{missing}/feedback", auth, None, 404),
        ("delete", "/me/canvas-credentials", "/me/canvas-credentials", auth, None, 204),
        ("delete", "/me/canvas-credentials", "/me/canvas-credentials", auth, None, 404),
    ]
    for method, template, path, headers, body, status in calls:
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == status, (path, response.text)
        assert str(status) in document["paths"][template][method]["responses"], (path, status)
        if status >= 400:
            assert set(response.json()) == {"code", "message", "details"}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI needs it: .ci/run runs `npm ci --prefix contract`)")
    pytest.skip(reason)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """contract/node_modules/.bin with openapi-typescript and tsc (installed by `npm ci`
    from the checked-in lock file when missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are not installed")
    bin_dir = CONTRACT_DIR / "node_modules" / ".bin"
    if not (bin_dir / "openapi-typescript").exists() or not (bin_dir / "tsc").exists():
        installed = _run(["npm", "ci", "--no-audit", "--no-fund"], CONTRACT_DIR)
        if installed.returncode != 0:
            _unavailable(f"npm ci in contract/ failed:\n{installed.stderr[-2000:]}")
    return bin_dir


def test_typescript_generated_from_the_contract_type_checks_the_example_client(
    node_tools, tmp_path
):
    for name in ("example-client.ts", "tsconfig.json"):
        shutil.copy(CONTRACT_DIR / name, tmp_path / name)
    exported = tmp_path / "openapi.json"
    assert main(["export-openapi", "--output", str(exported)]) == 0
    generated = _run(
        [str(node_tools / "openapi-typescript"), str(exported), "--output", "openapi.d.ts"],
        tmp_path,
    )
    assert generated.returncode == 0, generated.stderr
    assert "WorkspaceStreamMessage" in (tmp_path / "openapi.d.ts").read_text()
    # One tsc run: the example client must compile, and a probe that uses a field the
    # contract lacks must not (which shows that tsc really checks against the contract).
    (tmp_path / "probe.ts").write_text(
        'import type { components } from "./openapi";\n'
        'export const wrong = (w: components["schemas"]["WorkspaceView"]) => w.no_such_field;\n'
    )
    (tmp_path / "tsconfig.probe.json").write_text(
        json.dumps({"extends": "./tsconfig.json", "files": ["example-client.ts", "probe.ts"]})
    )
    checked = _run([str(node_tools / "tsc"), "--project", "tsconfig.probe.json"], tmp_path)
    errors = [line for line in checked.stdout.splitlines() if "error TS" in line]
    assert len(errors) == 1 and errors[0].startswith("probe.ts"), checked.stdout
    assert "no_such_field" in errors[0]
