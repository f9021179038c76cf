"""GraphiQL works offline: headless Chromium loads /graphql, every asset comes from this
service (none from a CDN), and what a dashboard developer does there works: a query, a
mutation that starts planning, and a subscription (over a websocket) that watches it finish."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.support.browser import Page, chromium_page, find_chromium

ME = "query Me { me { name hasCanvasCredentials } }"
START = 'mutation Start { startPlanning(courseId: "101", assignmentId: "1001") { started } }'
WATCH = """subscription Watch {
  workspaceEvents(courseId: "101", assignmentId: "1001", lastEventId: 0) {
    ... on ProgressEvent { eventType progress }
  }
}"""
HEADERS_LOADED = """Array.from(document.querySelectorAll('.graphiql-editor .CodeMirror'))
  .some(editor => editor.CodeMirror.getValue().includes('Authorization'))"""
RESULT_TEXT = """(() => {
  const editor = document.querySelector('.result-window .CodeMirror');
  return editor ? editor.CodeMirror.getValue() : '';
})()"""


@pytest.fixture
def chromium() -> str:
    executable = find_chromium()
    if executable is None:
        reason = "Chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the GraphiQL browser test")
        pytest.skip(reason)
    return executable


async def run_in_graphiql(page: Page, query: str, shows: str) -> dict[str, Any]:
    """Type ``query`` into GraphiQL's editor, press run, wait until the result shows ``shows``."""
    editor = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
    await page.evaluate(f"{editor}.setValue({json.dumps(query)})")
    # GraphiQL parses the editor's text a moment after it changes: run the new operation.
    operation_name = query.split("{", 1)[0].split()[-1]
    await page.wait_for(f"{editor}.operationName === {json.dumps(operation_name)}")
    await page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    shown = await page.wait_for(
        f"(text => text.includes({json.dumps(shows)}) && text)({RESULT_TEXT})"
    )
    return json.loads(shown)


async def test_graphiql_runs_offline_with_assets_served_by_the_service(
    api, client, student, chromium
):
    async with chromium_page(chromium) as page:
        await page.send("Network.enable")
        # GraphiQL keeps its header editor in localStorage: the token goes there, as for a
        # person who pasted {"Authorization": "Bearer ..."} into "Headers" once.
        await page.goto(f"{api.url}/healthz")
        headers = json.dumps({"Authorization": student.headers["Authorization"]})
        await page.evaluate(f"localStorage.setItem('graphiql:headers', {json.dumps(headers)})")

        await page.goto(f"{api.url}/graphql")
        await page.wait_for(HEADERS_LOADED)
        me = await run_in_graphiql(page, ME, "hasCanvasCredentials")
        started = await run_in_graphiql(page, START, "startPlanning")
        finished = await run_in_graphiql(page, WATCH, "plan_ready")

    rest = (await client.get("/me", headers=student.headers)).json()
    assert me == {"data": {"me": {"name": rest["name"], "hasCanvasCredentials": True}}}
    assert started == {"data": {"startPlanning": {"started": True}}}
    # GraphiQL shows a subscription's latest message.
    assert finished == {"data": {"workspaceEvents": {"eventType": "plan_ready", "progress": 100}}}

    requested = [
        event["params"]["request"]["url"]
        for event in page.events
        if event["method"] == "Network.requestWillBeSent"
    ]
    assert f"{api.url}/graphql/static/graphiql/graphiql.min.js" in requested
    assert all(url.startswith((api.url, "data:")) for url in requested), requested
    failed = [e["params"] for e in page.events if e["method"] == "Network.loadingFailed"]
    assert not failed, failed
    sockets = [e["params"]["url"] for e in page.events if e["method"] == "Network.webSocketCreated"]
    assert sockets == [f"{api.url.replace('http', 'ws', 1)}/graphql"]
