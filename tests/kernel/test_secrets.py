"""The Canvas token appears in no response, event, log line or error of a full run."""

from __future__ import annotations

import logging

from tests.conftest import onboard_student, read_stream
from tests.support.errors import assert_error


async def test_the_canvas_token_never_leaves_the_server(client, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    student = await onboard_student(client, simulator)
    token = student.canvas_token
    seen: list[str] = []

    async def call(method: str, path: str, **kwargs) -> None:
        response = await client.request(method, path, headers=student.headers, **kwargs)
        seen.append(response.text)
        seen.append(str(response.headers))

    await call("GET", "/me")
    await call("POST", "/assignments/101/1001/start")
    events = await read_stream(client, "/assignments/101/1001/events", headers=student.headers)
    assert events[-1].event == "plan_ready"
    seen.extend(message.data for message in events)
    await call("GET", "/assignments/101/1001")
    await call("GET", "/assignments/101/1001/plan")
    await call("POST", "/assignments/101/1004/start")  # bad attachments: warnings
    seen.extend(
        m.data
        for m in await read_stream(client, "/assignments/101/1004/events", headers=student.headers)
    )
    await call("POST", "/assignments/101/424242/start")  # Canvas 404: an error
    seen.extend(
        m.data
        for m in await read_stream(
            client, "/assignments/101/424242/events", headers=student.headers
        )
    )
    await call("GET", "/assignments/101/424242")

    # A token Canvas refuses, in errors and validation failures.
    simulator.state.fail("/api/v1/users/self", 500, times=10)
    failing = await client.post(
        "/auth/canvas", json={"canvas_base_url": simulator.base_url, "canvas_token": token}
    )
    assert_error(failing, 502, "canvas_unavailable")
    seen.append(failing.text)
    invalid = await client.post("/auth/canvas", json={"canvas_token": token})
    seen.append(invalid.text)
    simulator.state.faults.clear()

    # The simulator saw it: the test is looking for a string that was really sent.
    assert any(token in (r.authorization or "") for r in simulator.state.requests)
    logged = [record.getMessage() for record in caplog.records]
    logged += [str(record.args) for record in caplog.records]
    assert logged, "debug logging captured nothing"
    for text in seen + logged:
        assert token not in text
