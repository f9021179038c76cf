"""The Canvas client over real HTTP against the simulator (and a few mock transports for
hosts the simulator cannot be: public names, metadata addresses)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from devkit.canvas_simulator import RATE_LIMIT_BODY, RunningSimulator, running_simulator
from server.canvas.client import CanvasClient, CanvasError, backoff_delay, shared_tls_context
from server.canvas.description import read_description
from server.kernel.errors import ValidationFailed

TOKEN = "sim-secret-token-7f3a9c21e8b54d06"
UNKNOWN_TOKEN = "unknown-secret-token-0c9d8e7f"
FILES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "files"


@pytest_asyncio.fixture(scope="module")
async def running() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as sim:
        sim.state.add_user(TOKEN, "Tess Tester")
        yield sim


@pytest.fixture
def sim(running: RunningSimulator) -> RunningSimulator:
    """The shared simulator with no leftover faults or recorded requests."""
    running.state.faults.clear()
    running.state.requests.clear()
    running.state.chunked_downloads = False
    running.state.file_bytes.clear()
    return running


def client_for(sim: RunningSimulator, token: str = TOKEN, **overrides: Any) -> CanvasClient:
    options: dict[str, Any] = {
        "timeout": 2.0,
        "max_retries": 2,
        "backoff_seconds": 0.01,
        "backoff_max_seconds": 0.05,
        "per_page": 2,
        "allow_local": True,
    }
    options.update(overrides)
    return CanvasClient(sim.base_url, token, **options)


async def canvas_error(call: Callable[[CanvasClient], Any], client: CanvasClient) -> CanvasError:
    async with client:
        with pytest.raises(CanvasError) as caught:
            await call(client)
    assert_no_secret(caught.value)
    return caught.value


def assert_no_secret(error: BaseException) -> None:
    for text in (str(error), repr(error), str(getattr(error, "details", "")), str(error.args)):
        assert TOKEN not in text
        assert UNKNOWN_TOKEN not in text


# ----- plain calls --------------------------------------------------------------------


async def test_get_self_returns_the_user(sim: RunningSimulator) -> None:
    async with client_for(sim) as canvas:
        me = await canvas.get_self()
    assert me["name"] == "Tess Tester"
    assert isinstance(me["id"], int)
    [request] = sim.state.requests_to("canvas", "/api/v1/users/self")
    assert request.authorization == f"Bearer {TOKEN}"


async def test_assignment_has_rubric_future_due_date_and_file_links(sim: RunningSimulator) -> None:
    async with client_for(sim) as canvas:
        assignment = await canvas.get_assignment("101", "1001")
        course = await canvas.get_course("101")
    assert course["name"] == "ENG 101: Academic Writing"
    assert [c["points"] for c in assignment["rubric"]] == [30, 30, 20, 20]
    assert assignment["rubric_settings"]["points_possible"] == 100
    assert assignment["due_at"] > time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert assignment["html_url"] == f"{sim.base_url}/courses/101/assignments/1001"
    assert read_description(assignment["description"], sim.base_url, "101").file_ids == [
        "501",
        "502",
    ]
    assert "$CANVAS_BASE" not in assignment["description"]


async def test_unknown_token_is_canvas_unauthorized(sim: RunningSimulator) -> None:
    error = await canvas_error(lambda c: c.get_self(), client_for(sim, UNKNOWN_TOKEN))
    assert error.code == "canvas_unauthorized"
    assert error.status_code == 502
    assert "invalid or expired" in error.message


async def test_401_without_www_authenticate_is_canvas_forbidden(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/courses/101", 401, www_authenticate=False)
    error = await canvas_error(lambda c: c.get_course("101"), client_for(sim))
    assert error.code == "canvas_forbidden"


async def test_missing_course_and_assignment_are_canvas_not_found(sim: RunningSimulator) -> None:
    error = await canvas_error(lambda c: c.get_course("999"), client_for(sim))
    assert error.code == "canvas_not_found"
    assert "course" in error.message
    # Assignment 2001 belongs to course 202, not 101.
    error = await canvas_error(lambda c: c.get_assignment("101", "2001"), client_for(sim))
    assert error.code == "canvas_not_found"


async def test_plain_403_is_canvas_forbidden_without_retry(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/courses/101", 403, body='{"errors":[{"message":"forbidden"}]}')
    error = await canvas_error(lambda c: c.get_course("101"), client_for(sim))
    assert error.code == "canvas_forbidden"
    assert len(sim.state.requests_to("canvas")) == 1


async def test_ids_that_could_change_the_path_are_refused(sim: RunningSimulator) -> None:
    async with client_for(sim) as canvas:
        for bad in ["../users/self", "1/../2", "1?x=1", "%2e%2e", ""]:
            with pytest.raises(ValidationFailed):
                await canvas.get_course(bad)
    assert sim.state.requests == []


# ----- pagination ---------------------------------------------------------------------


async def test_pagination_follows_link_headers_to_the_end(sim: RunningSimulator) -> None:
    async with client_for(sim, per_page=2) as canvas:
        groups = await canvas.list_assignment_groups("101")
    assert [g["id"] for g in groups] == [11, 12, 13, 14, 15, 16, 17]
    pages = sim.state.requests_to("canvas", "/api/v1/courses/101/assignment_groups")
    assert len(pages) == 4
    assert all(page.has_authorization for page in pages)
    assert "page=4" in pages[-1].query


async def test_pagination_refuses_a_next_link_to_another_origin() -> None:
    seen_hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_hosts.append(request.url.host)
        link = '<https://evil.example/api/v1/courses/1/assignment_groups?page=2>; rel="next"'
        return httpx.Response(200, json=[{"id": 1}], headers={"Link": link})

    client = mock_client(handler)
    error = await canvas_error(lambda c: c.list_assignment_groups("1"), client)
    assert error.code == "canvas_bad_response"
    assert seen_hosts == ["canvas.example"]


async def test_pagination_is_bounded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        link = f"<https://canvas.example/api/v1/courses/1/assignment_groups?page={page + 1}>"
        return httpx.Response(200, json=[{"id": page}], headers={"Link": f'{link}; rel="next"'})

    error = await canvas_error(lambda c: c.list_assignment_groups("1"), mock_client(handler))
    assert error.code == "canvas_bad_response"
    assert "pages" in error.message


# ----- throttling, 5xx, timeouts, bad JSON --------------------------------------------


async def test_429_with_retry_after_is_retried(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/users/self", 429, retry_after=0.2)
    started = time.monotonic()
    async with client_for(sim, backoff_max_seconds=1.0) as canvas:
        me = await canvas.get_self()
    assert me["name"] == "Tess Tester"
    assert time.monotonic() - started >= 0.2  # Retry-After was honoured
    assert len(sim.state.requests_to("canvas")) == 2


async def test_retry_after_is_capped_by_backoff_max(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/users/self", 429, retry_after=30)
    started = time.monotonic()
    async with client_for(sim, backoff_max_seconds=0.05) as canvas:
        await canvas.get_self()
    assert time.monotonic() - started < 1.0


async def test_403_rate_limit_exceeded_is_retried(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/courses/202", 403, body=RATE_LIMIT_BODY)
    async with client_for(sim) as canvas:
        course = await canvas.get_course("202")
    assert course["name"] == "BIO 110: Cell Biology"
    assert len(sim.state.requests_to("canvas")) == 2
    assert canvas.rate_limit_remaining is not None and canvas.rate_limit_remaining > 0


async def test_throttled_beyond_max_retries_is_canvas_throttled(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/users/self", 429, times=10)
    error = await canvas_error(lambda c: c.get_self(), client_for(sim, max_retries=2))
    assert error.code == "canvas_throttled"
    assert len(sim.state.requests_to("canvas")) == 3  # one try and two retries


async def test_5xx_twice_then_success(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/courses/101/assignments/1003", 500, times=2)
    async with client_for(sim, max_retries=2) as canvas:
        assignment = await canvas.get_assignment("101", "1003")
    assert assignment["name"] == "Reading Response"
    assert "rubric" not in assignment
    assert len(sim.state.requests_to("canvas")) == 3


async def test_persistent_503_is_canvas_unavailable(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/", 503, times=100)
    error = await canvas_error(lambda c: c.get_course("101"), client_for(sim, max_retries=3))
    assert error.code == "canvas_unavailable"
    assert error.canvas_status == 503
    assert len(sim.state.requests_to("canvas")) == 4


async def test_slow_canvas_is_canvas_unavailable(sim: RunningSimulator) -> None:
    sim.state.slow("/api/v1/users/self", delay=2.0)
    started = time.monotonic()
    error = await canvas_error(lambda c: c.get_self(), client_for(sim, timeout=0.2))
    assert error.code == "canvas_unavailable"
    assert "did not answer within 0.2 s" in error.message
    assert time.monotonic() - started < 1.0


async def test_bad_json_is_canvas_bad_response(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/users/self", 200, body="<html>Canvas is down for maintenance")
    error = await canvas_error(lambda c: c.get_self(), client_for(sim))
    assert error.code == "canvas_bad_response"


async def test_a_json_list_where_an_object_belongs_is_a_bad_response(sim: RunningSimulator) -> None:
    sim.state.fail("/api/v1/users/self", 200, body="[1, 2]")
    error = await canvas_error(lambda c: c.get_self(), client_for(sim))
    assert error.code == "canvas_bad_response"


async def test_unreachable_canvas_is_canvas_unavailable() -> None:
    client = CanvasClient(
        "http://127.0.0.1:9",  # discard port: nothing listens
        TOKEN,
        timeout=1.0,
        max_retries=1,
        backoff_seconds=0.01,
        backoff_max_seconds=0.02,
        per_page=10,
        allow_local=True,
    )
    error = await canvas_error(lambda c: c.get_self(), client)
    assert error.code == "canvas_unavailable"


# ----- files and downloads ------------------------------------------------------------


def fixture_bytes(name: str) -> bytes | None:
    path = FILES_DIR / name
    return path.read_bytes() if path.is_file() else None


async def test_download_follows_the_redirect_without_the_token(sim: RunningSimulator) -> None:
    expected = fixture_bytes("essay_prompt.pdf")
    if expected is None:  # the fixture file is generated elsewhere; do not depend on it
        expected = b"%PDF-1.4 stand-in bytes\n" * 50
        sim.state.file_bytes[501] = expected
    async with client_for(sim) as canvas:
        meta = await canvas.get_file("501", course_id="101")
        data = await canvas.download(meta["url"], max_bytes=10 * 1024 * 1024)
    assert data == expected
    assert meta["size"] == len(expected)
    assert meta["display_name"] == "essay_prompt.pdf"
    [canvas_hop] = sim.state.requests_to("canvas", "/files/501/download")
    [file_hop] = sim.state.requests_to("files", "/blobs/501")
    assert canvas_hop.has_authorization
    assert not file_hop.has_authorization
    assert file_hop.authorization is None
    assert file_hop.host.startswith("localhost:")
    assert all(TOKEN not in (r.authorization or "") for r in sim.state.requests_to("files"))


async def test_download_over_max_bytes_is_refused_by_content_length(sim: RunningSimulator) -> None:
    sim.state.file_bytes[502] = b"x" * 50_000
    async with client_for(sim) as canvas:
        meta = await canvas.get_file("502")
        with pytest.raises(CanvasError) as caught:
            await canvas.download(meta["url"], max_bytes=1000)
    assert caught.value.code == "canvas_file_too_large"
    assert "1000 bytes" in caught.value.message


async def test_download_over_max_bytes_stops_while_streaming(sim: RunningSimulator) -> None:
    sim.state.file_bytes[503] = b"y" * 200_000
    sim.state.chunked_downloads = True  # no Content-Length: the limit must hit mid-stream
    async with client_for(sim) as canvas:
        meta = await canvas.get_file("503")
        with pytest.raises(CanvasError) as caught:
            await canvas.download(meta["url"], max_bytes=20_000)
        assert caught.value.code == "canvas_file_too_large"
        # Exactly at the limit is fine.
        sim.state.file_bytes[503] = b"z" * 20_000
        assert len(await canvas.download(meta["url"], max_bytes=20_000)) == 20_000


async def test_download_of_a_missing_file_is_canvas_not_found(sim: RunningSimulator) -> None:
    async with client_for(sim) as canvas:
        with pytest.raises(CanvasError) as caught:
            await canvas.download(f"{sim.base_url}/files/999/download", max_bytes=1000)
        assert caught.value.code == "canvas_not_found"
        with pytest.raises(CanvasError) as caught:
            await canvas.download("", max_bytes=1000)
        assert caught.value.code == "canvas_bad_response"


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response],
    base_url: str = "https://canvas.example",
    **overrides: Any,
) -> CanvasClient:
    options: dict[str, Any] = {
        "timeout": 1.0,
        "max_retries": 1,
        "backoff_seconds": 0.01,
        "backoff_max_seconds": 0.02,
        "per_page": 10,
        "allow_local": False,
    }
    options.update(overrides)
    transport = httpx.MockTransport(handler)
    return CanvasClient(base_url, TOKEN, transport=transport, **options)


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data", "https://10.0.0.8/blob", "http://8.8.8.8/x"],
)
async def test_download_refuses_redirects_to_forbidden_addresses(target: str) -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(302, headers={"Location": target})

    error = await canvas_error(
        lambda c: c.download("/files/1/download", max_bytes=100), mock_client(handler)
    )
    assert error.code == "canvas_bad_response"
    assert requested == ["https://canvas.example/files/1/download"]


async def test_download_redirects_are_bounded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        hop = int(request.url.params.get("hop", "0"))
        return httpx.Response(302, headers={"Location": f"/files/1/download?hop={hop + 1}"})

    error = await canvas_error(
        lambda c: c.download("/files/1/download", max_bytes=100), mock_client(handler)
    )
    assert error.code == "canvas_bad_response"
    assert "redirected more than 5 times" in error.message


async def test_token_goes_only_to_the_canvas_origin() -> None:
    auth_by_url: dict[str, str | None] = {}
    canvas_ip = "93.184.216.34"  # public IP literals: no DNS needed

    def handler(request: httpx.Request) -> httpx.Response:
        auth_by_url[str(request.url)] = request.headers.get("Authorization")
        if request.url.path == "/files/9":
            return httpx.Response(302, headers={"Location": f"https://{canvas_ip}:8443/f"})
        if request.url.port == 8443:  # same host, other port: another origin
            return httpx.Response(302, headers={"Location": f"https://{canvas_ip}/back"})
        if request.url.path == "/back":  # back on the Canvas origin
            return httpx.Response(302, headers={"Location": "https://8.8.4.4/blob"})
        return httpx.Response(200, content=b"data")

    async with mock_client(handler, base_url=f"https://{canvas_ip}") as canvas:
        assert await canvas.download("/files/9", max_bytes=10) == b"data"
    assert auth_by_url == {
        f"https://{canvas_ip}/files/9": f"Bearer {TOKEN}",
        f"https://{canvas_ip}:8443/f": None,
        f"https://{canvas_ip}/back": f"Bearer {TOKEN}",
        "https://8.8.4.4/blob": None,
    }


# ----- secrets --------------------------------------------------------------------------


async def test_the_token_never_appears_in_errors_reprs_or_logs(
    sim: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.state.fail("/api/v1/users/self", 429, times=10)
    sim.state.fail("/api/v1/courses/101", 401, www_authenticate=True)
    sim.state.fail("/api/v1/courses/202", 500, times=10)
    errors = []
    async with client_for(sim) as canvas:
        assert TOKEN not in repr(canvas)
        assert TOKEN not in repr(vars(canvas))
        for call in (
            canvas.get_self(),
            canvas.get_course("101"),
            canvas.get_course("202"),
            canvas.get_course("404"),
        ):
            with pytest.raises(CanvasError) as caught:
                await call
            errors.append(caught.value)
    assert [e.code for e in errors] == [
        "canvas_throttled",
        "canvas_unauthorized",
        "canvas_unavailable",
        "canvas_not_found",
    ]
    for error in errors:
        assert_no_secret(error)
        assert_no_secret(error.__cause__ or error)
    assert TOKEN not in caplog.text
    assert any("retry" in record.getMessage() for record in caplog.records)


def test_a_token_that_cannot_be_a_header_is_refused_without_echo() -> None:
    for bad in ["", "has space", "line\nbreak", "naïve-token"]:
        with pytest.raises(ValidationFailed) as caught:
            CanvasClient.from_settings("https://canvas.example", bad, _settings())
        assert caught.value.code == "invalid_canvas_token"
        if bad:
            assert bad not in caught.value.message


def _settings() -> Any:
    from server.kernel.settings import Settings

    return Settings(canvas_allow_local=True)


async def test_from_settings_validates_the_base_url_on_open(sim: RunningSimulator) -> None:
    async with CanvasClient.from_settings(sim.base_url + "/courses/1", TOKEN, _settings()) as c:
        assert c.base_url == sim.base_url
        assert (await c.get_self())["name"] == "Tess Tester"
    strict = _settings().model_copy(update={"canvas_allow_local": False})
    with pytest.raises(ValidationFailed):
        async with CanvasClient.from_settings(sim.base_url, TOKEN, strict):
            pass


# ----- file links in descriptions (more in test_description_links.py) ------------------


async def test_portfolio_links_one_good_file_among_bad_ones(sim: RunningSimulator) -> None:
    async with client_for(sim) as canvas:
        portfolio = await canvas.get_assignment("101", "1004")
        lab = await canvas.get_assignment("202", "2001")
    # 505 is an image the editor inserted: content, not an attachment.
    links = read_description(portfolio["description"], sim.base_url, "101")
    assert links.file_ids == ["504", "506", "507", "502"]
    assert read_description(lab["description"], sim.base_url, "202").file_ids == ["503"]
    assert "Figures and captions" in [c["description"] for c in lab["rubric"]]


def test_one_tls_context_per_process_and_a_fresh_jitter_per_retry() -> None:
    # Building a TLS context reads the CA bundle (~30 ms on the event loop): once.
    assert shared_tls_context() is shared_tls_context()
    # Jobs throttled on one token must not retry in lockstep: each delay is drawn anew.
    delays = {backoff_delay(3, 1.0, 30.0) for _ in range(20)}
    assert len(delays) > 1 and all(4.0 <= delay <= 8.0 for delay in delays)
    assert backoff_delay(3, 1.0, 30.0, retry_after=2.5) == 2.5
