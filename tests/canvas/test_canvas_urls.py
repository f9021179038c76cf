"""Canvas base-URL and redirect-target validation (decisions §3: SSRF rules)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from server.canvas.urls import check_redirect_target, validate_canvas_base_url
from server.kernel.errors import ValidationFailed


def fake_dns(table: dict[str, list[str]]) -> Callable[..., Any]:
    """A getaddrinfo that answers from ``table`` (no real DNS in tests)."""

    async def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos = []
        for address in table[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            infos.append((family, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos

    return getaddrinfo


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], None]:
    def install(table: dict[str, list[str]]) -> None:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "getaddrinfo", fake_dns(table))

    return install


async def rejected(url: str, *, allow_local: bool = False) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        await validate_canvas_base_url(url, allow_local=allow_local)
    assert caught.value.code == "invalid_canvas_url"
    return caught.value


async def test_public_ip_literal_is_normalized_to_its_origin() -> None:
    assert (
        await validate_canvas_base_url("https://8.8.8.8:8443/courses/1?x=1#y", allow_local=False)
        == "https://8.8.8.8:8443"
    )
    assert await validate_canvas_base_url("https://8.8.8.8:443/", allow_local=False) == (
        "https://8.8.8.8"
    )


async def test_host_is_lowercased_and_path_dropped(dns) -> None:
    dns({"canvas.example.edu": ["93.184.216.34"]})
    url = "  HTTPS://Canvas.Example.EDU/courses/12/assignments/3/  "
    assert await validate_canvas_base_url(url, allow_local=False) == "https://canvas.example.edu"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.0.10",
        "169.254.10.10",  # link-local
        "100.64.0.1",  # shared address space (CGNAT)
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "[::1]",
        "[fe80::1]",
        "[fc00::5]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
        "[::]",
    ],
)
async def test_non_public_ip_literals_are_refused(host: str) -> None:
    error = await rejected(f"https://{host}/")
    assert "local or private" in error.message


async def test_http_is_refused_unless_local_is_allowed() -> None:
    error = await rejected("http://8.8.8.8")
    assert "https://" in error.message
    assert await validate_canvas_base_url("http://8.8.8.8", allow_local=True) == "http://8.8.8.8"


@pytest.mark.parametrize("scheme", ["ftp", "file", "javascript", "gopher"])
async def test_other_schemes_are_refused(scheme: str) -> None:
    await rejected(f"{scheme}://8.8.8.8/", allow_local=True)


@pytest.mark.parametrize("allow_local", [False, True])
@pytest.mark.parametrize("host", ["169.254.169.254", "[fd00:ec2::254]"])
async def test_metadata_addresses_are_always_refused(host: str, allow_local: bool) -> None:
    error = await rejected(f"https://{host}/latest/meta-data", allow_local=allow_local)
    assert "metadata" in error.message


async def test_metadata_address_behind_a_name_is_refused(dns) -> None:
    dns({"metadata.internal": ["169.254.169.254"]})
    await rejected("https://metadata.internal", allow_local=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@8.8.8.8/",
        "https://user@8.8.8.8/",
        "https://:secret@8.8.8.8/",
    ],
)
async def test_credentials_in_the_url_are_refused(url: str) -> None:
    error = await rejected(url, allow_local=True)
    assert "secret" not in error.message
    assert "user name or password" in error.message


async def test_local_addresses_pass_when_allowed() -> None:
    assert (
        await validate_canvas_base_url("http://127.0.0.1:8080/x", allow_local=True)
        == "http://127.0.0.1:8080"
    )
    assert await validate_canvas_base_url("http://[::1]:81", allow_local=True) == "http://[::1]:81"
    assert await validate_canvas_base_url("https://10.0.0.2", allow_local=True) == (
        "https://10.0.0.2"
    )


async def test_names_are_judged_by_every_address_they_resolve_to(dns) -> None:
    dns({"mixed.example": ["93.184.216.34", "10.0.0.7"], "localhost": ["127.0.0.1"]})
    await rejected("https://mixed.example")
    await rejected("https://localhost:8443")
    assert await validate_canvas_base_url("http://localhost:8443", allow_local=True) == (
        "http://localhost:8443"
    )


async def test_dns_failure_is_a_validation_error(dns) -> None:
    dns({})
    error = await rejected("https://no-such-canvas.invalid")
    assert "could not be found" in error.message


@pytest.mark.parametrize("url", ["", "   ", "https://", "https:///path", "https://8.8.8.8:99999"])
async def test_malformed_urls_are_refused(url: str) -> None:
    await rejected(url, allow_local=True)


async def test_redirect_targets_follow_the_same_host_rules(dns) -> None:
    dns({"files.example-cdn.com": ["93.184.216.35"]})
    await check_redirect_target("https://files.example-cdn.com/blob/1?sig=x", allow_local=False)
    for url in [
        "https://10.0.0.1/x",
        "http://files.example-cdn.com/blob/1",
        "https://169.254.169.254/latest",
        "https://u:p@files.example-cdn.com/",
    ]:
        with pytest.raises(ValidationFailed):
            await check_redirect_target(url, allow_local=False)
    await check_redirect_target("http://127.0.0.1:9/x", allow_local=True)
    with pytest.raises(ValidationFailed):
        await check_redirect_target("http://169.254.169.254/", allow_local=True)
