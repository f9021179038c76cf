"""GraphQL over HTTP: the same answers and errors as REST, auth, limits, no N+1."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from tests.conftest import onboard_student, wait_for_status
from tests.graphql.documents import START
from tests.support.gate import gated_engine
from tests.support.graphql import (
    data_of,
    error_of,
    graphql,
    same,
    selection,
)

ESSAY = "/assignments/101/1001"

WORKSPACE = selection("Workspace", skip=frozenset({"Workspace.plan"}))


async def planned(client, student) -> dict[str, Any]:
    started = data_of(await graphql(client, START, headers=student.headers))["startPlanning"]
    assert started["started"] is True
    assert started["workspace"]["status"] in {"queued", "running"}
    return await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})


async def test_rest_and_graphql_give_the_same_answers_for_the_same_state(client, student):
    done = await planned(client, student)
    assert done["status"] == "ready"
    query = f"""
    query {{
      me {selection("User")}
      workspace(courseId: "101", assignmentId: "1001") {WORKSPACE}
      workspaces(limit: 5) {{ items {WORKSPACE} nextCursor }}
      plan(courseId: "101", assignmentId: "1001") {selection("PlanView")}
    }}
    """
    answer = data_of(await graphql(client, query, headers=student.headers))

    rest = {
        "me": (await client.get("/me", headers=student.headers)).json(),
        "workspace": (await client.get(ESSAY, headers=student.headers)).json(),
        "workspaces": (await client.get("/assignments?limit=5", headers=student.headers)).json(),
        "plan": (await client.get(f"{ESSAY}/plan", headers=student.headers)).json(),
    }
    # GraphQL spells enum values in capitals (MilestoneStatus.NOT_STARTED).
    for milestone in rest["plan"]["progress"]["milestones"]:
        milestone["status"] = milestone["status"].upper()
    for name, rest_value in rest.items():
        same(answer[name], rest_value)
    assert answer["plan"]["milestones"][0]["tasks"], "the plan is complete, not just present"
    assert answer["workspace"]["latestPlanJob"]["status"] == "succeeded"


async def test_start_planning_resumes_and_reprocesses_like_the_rest_route(client, student):
    first = await planned(client, student)
    again = data_of(await graphql(client, START, headers=student.headers))["startPlanning"]
    assert again["started"] is False
    assert again["workspace"]["workspaceId"] == first["workspace_id"]
    assert again["workspace"]["latestPlanJob"]["id"] == first["latest_plan_job"]["id"]

    reprocess = await graphql(client, START, {"reprocess": True}, headers=student.headers)
    replanned = data_of(reprocess)["startPlanning"]
    assert replanned["started"] is True
    assert replanned["workspace"]["latestPlanJob"]["reprocess"] is True
    done = await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    assert done["plan_version"] == 2


async def test_a_workspace_plan_field_is_null_until_the_first_plan(client, api, student):
    query = '{ workspace(courseId: "101", assignmentId: "1001") { status plan { schemaVersion } } }'
    plan_query = '{ plan(courseId: "101", assignmentId: "1001") { schemaVersion } }'
    with gated_engine(api.runtime) as gate:
        await graphql(client, START, headers=student.headers)
        await asyncio.wait_for(gate.arrived.wait(), 10)
        running = data_of(await graphql(client, query, headers=student.headers))["workspace"]
        assert running == {"status": "running", "plan": None}
        not_ready = error_of(await graphql(client, plan_query, headers=student.headers))
        assert (not_ready["extensions"]["code"], not_ready["extensions"]["status"]) == (
            "plan_not_ready",
            400,
        )
        gate.release.set()
        await wait_for_status(client, ESSAY, student.headers, {"ready", "failed"})
    ready = data_of(await graphql(client, query, headers=student.headers))["workspace"]
    assert ready == {"status": "ready", "plan": {"schemaVersion": 1}}


def code_of(body: dict[str, Any]) -> str:
    return error_of(body)["extensions"]["code"]


async def test_errors_carry_the_rest_codes(client, simulator, student):
    me = "{ me { id } }"
    missing = error_of(await graphql(client, me))
    assert missing["extensions"] == {"code": "missing_token", "status": 401, "details": {}}
    assert code_of(await graphql(client, me, headers={"Authorization": "Bearer x"})) == (
        "invalid_token"
    )

    other = await onboard_student(client, simulator, name="Someone Else")
    await graphql(client, START, headers=other.headers)
    workspace = '{ workspace(courseId: "101", assignmentId: "1001") { workspaceId } }'
    not_found = error_of(await graphql(client, workspace, headers=student.headers))
    rest = await client.get(ESSAY, headers=student.headers)
    assert not_found["extensions"]["status"] == rest.status_code == 404
    assert not_found["extensions"]["code"] == rest.json()["code"] == "workspace_not_found"
    assert not_found["message"] == rest.json()["message"]
    assert not_found["path"] == ["workspace"]

    bad_id = '{ workspace(courseId: "no spaces", assignmentId: "1") { workspaceId } }'
    assert code_of(await graphql(client, bad_id, headers=student.headers)) == "validation_error"
    for page, field in (("limit: 0", "limit"), ('cursor: "x"', "cursor")):
        query = f"{{ workspaces({page}) {{ nextCursor }} }}"
        invalid = error_of(await graphql(client, query, headers=student.headers))
        assert invalid["extensions"]["status"] == 422
        assert invalid["extensions"]["details"] == {"field": field}

    unknown_field = await graphql(client, "{ me { password } }", headers=student.headers)
    assert code_of(unknown_field) == "validation_error"
    await wait_for_status(client, ESSAY, other.headers, {"ready", "failed"})


async def test_the_workspace_list_pages_with_a_cursor_on_both_apis(client, student):
    for assignment in ("1001", "1003", "1005"):
        await client.post(f"/assignments/101/{assignment}/start", headers=student.headers)
    first = (await client.get("/assignments?limit=2", headers=student.headers)).json()
    cursor = first["next_cursor"]
    second = (
        await client.get(
            "/assignments", params={"limit": 2, "cursor": cursor}, headers=student.headers
        )
    ).json()
    assert second["next_cursor"] is None
    ids = [item["assignment_id"] for item in first["items"] + second["items"]]
    assert ids == ["1005", "1003", "1001"], "newest first, each once"

    query = """
    query ($cursor: String) {
      workspaces(limit: 2, cursor: $cursor) { items { assignmentId } nextCursor }
    }
    """
    page = data_of(await graphql(client, query, {"cursor": cursor}, headers=student.headers))
    assert page["workspaces"] == {"items": [{"assignmentId": "1001"}], "nextCursor": None}
    for assignment in ("1001", "1003", "1005"):
        path = f"/assignments/101/{assignment}"
        await wait_for_status(client, path, student.headers, {"ready", "failed"})


async def test_canvas_credentials_are_managed_by_mutations(client, simulator):
    token = "canvas-graphql-onboarding-token"
    simulator.state.add_user(token, name="GraphQL Student")
    login = {"canvasBaseUrl": simulator.base_url, "canvasToken": token}
    connect = """
    mutation Connect($login: CanvasLoginInput!) {
      connectCanvas(login: $login) { accessToken tokenType user { name hasCanvasCredentials } }
    }
    """
    body = await graphql(client, connect, {"login": login})
    issued = data_of(body)["connectCanvas"]
    assert issued["tokenType"] == "bearer"
    assert issued["user"] == {"name": "GraphQL Student", "hasCanvasCredentials": True}
    assert token not in str(body)
    headers = {"Authorization": f"Bearer {issued['accessToken']}"}

    replace = """
    mutation Replace($login: CanvasLoginInput!) {
      replaceCanvasCredentials(login: $login) { hasCanvasCredentials }
    }
    """
    replaced = data_of(await graphql(client, replace, {"login": login}, headers=headers))
    assert replaced["replaceCanvasCredentials"]["hasCanvasCredentials"] is True

    delete = "mutation { deleteCanvasCredentials }"
    assert data_of(await graphql(client, delete, headers=headers)) == {
        "deleteCanvasCredentials": True
    }
    gone = error_of(await graphql(client, delete, headers=headers))
    assert gone["extensions"]["code"] == "canvas_credentials_missing"
    rest = (await client.get("/me", headers=headers)).json()
    assert rest["has_canvas_credentials"] is False

    refused = await graphql(
        client, connect, {"login": {**login, "canvasToken": "canvas-unknown-token"}}
    )
    assert error_of(refused)["extensions"]["code"] == "canvas_unauthorized"


async def test_an_invalid_variable_is_refused_without_echoing_its_value(client, caplog):
    secret = "canvas-secret-that-must-not-leak"
    connect = "mutation ($login: CanvasLoginInput!) { connectCanvas(login: $login) { tokenType } }"
    invalid_logins = [
        {"canvasToken": secret, "extra": 1},  # a field missing, one unknown
        {"canvasBaseUrl": "https://canvas.example.edu", "canvasToken": [secret]},  # not a string
    ]
    for login in invalid_logins:
        with caplog.at_level(logging.DEBUG):
            body = await graphql(client, connect, {"login": login})
        assert body["data"] is None
        for error in body["errors"]:
            assert error["extensions"]["code"] == "validation_error"
            assert error["message"].startswith("Variable '$login' has invalid value")
        assert secret not in str(body)
        assert secret not in caplog.text
    reasons = str(body["errors"])
    assert "String cannot represent a non string value" in reasons


async def test_limits_refuse_expensive_and_alias_heavy_operations(client, api, student):
    full_plans = (
        "query ($limit: Int!) { workspaces(limit: $limit) { items { plan "
        + selection("Plan")
        + " } } }"
    )
    affordable = await graphql(client, full_plans, {"limit": 20}, headers=student.headers)
    assert "errors" not in affordable, affordable
    expensive = error_of(await graphql(client, full_plans, {"limit": 100}, headers=student.headers))
    assert expensive["extensions"]["code"] == "query_too_expensive"
    assert expensive["extensions"]["cost"] > api.settings.graphql_max_cost

    aliases = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    assert "aliases" in error_of(await graphql(client, aliases, headers=student.headers))["message"]


class _QueryLog(logging.Handler):
    """SQL statements Tortoise logs, except the job reaper's periodic ones."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is None or task.get_name() != "job-reaper":
            self.statements.append(record.getMessage())


async def _statements_for(client, query: str, headers: dict[str, str]) -> list[str]:
    db_log = logging.getLogger("tortoise.db_client")
    handler = _QueryLog()
    level = db_log.level
    db_log.addHandler(handler)
    db_log.setLevel(logging.DEBUG)
    try:
        data_of(await graphql(client, query, headers=headers))
    finally:
        db_log.removeHandler(handler)
        db_log.setLevel(level)
    return [s for s in handler.statements if s.lstrip().upper().startswith("SELECT")]


async def test_lists_are_batched_not_one_query_per_item(client, student):
    query = """
    { workspaces(limit: 10) { items {
        workspaceId latestPlanJob { id status }
        plan { assignmentSummary { title } milestones { id } }
    } } }
    """
    statements_by_size = {}
    for assignment in ("1001", "1003", "1005"):
        path = f"/assignments/101/{assignment}"
        await client.post(f"{path}/start", headers=student.headers)
        assert (await wait_for_status(client, path, student.headers, {"ready", "failed"}))[
            "status"
        ] == "ready"
        statements = await _statements_for(client, query, student.headers)
        page = data_of(await graphql(client, query, headers=student.headers))["workspaces"]
        assert all(item["plan"]["milestones"] for item in page["items"])
        statements_by_size[len(page["items"])] = statements
    assert set(statements_by_size) == {1, 2, 3}
    # The caller, the page, the page's planning jobs, the page's plans.
    assert {len(statements) for statements in statements_by_size.values()} == {4}, (
        statements_by_size
    )


async def test_requests_that_are_not_graphql_get_a_graphql_error_with_a_code(client, student):
    subscription = (
        'subscription { workspaceEvents(courseId: "1", assignmentId: "2") { __typename } }'
    )
    # A subscription needs a websocket; the others are not JSON, or have no query.
    for body in (json.dumps({"query": subscription}), "{", '{"variables": {}}'):
        response = await client.post(
            "/graphql",
            content=body,
            headers={**student.headers, "content-type": "application/json"},
        )
        assert response.status_code == 400, response.text
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "invalid_request", "status": 400}
        assert error["message"]


async def test_the_graphiql_page_loads_nothing_from_elsewhere(client):
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 4, assets
    for asset in assets:
        assert asset.startswith("/graphql/static/"), asset
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
