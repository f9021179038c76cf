"""Validation of Canvas base URLs and redirect targets (decisions §3).

A Canvas base URL is user input that makes the server send requests, so it is held to
https and to public addresses: no loopback, private, link-local, reserved, multicast,
unspecified or cloud-metadata hosts, unless ``allow_local`` is set (local tests and the
demo). Cloud-metadata addresses are refused even then: no test needs them and reaching
them is the classic SSRF prize.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from server.kernel.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

INVALID_CANVAS_URL = "invalid_canvas_url"
DNS_TIMEOUT_SECONDS = 10.0
DEFAULT_PORTS = {"http": 80, "https": 443}

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, ...
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code=INVALID_CANVAS_URL)


def _allowed_schemes(allow_local: bool) -> tuple[str, ...]:
    return ("https", "http") if allow_local else ("https",)


def _split(url: str, *, allow_local: bool, what: str) -> tuple[SplitResult, str, int]:
    """Parse ``url`` and check scheme, credentials and host; return (parts, host, port)."""
    if not isinstance(url, str) or not url.strip():
        raise _invalid("Enter the address of your Canvas site, e.g. https://school.instructure.com")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _allowed_schemes(allow_local):
        allowed = " or ".join(f"{name}://" for name in _allowed_schemes(allow_local))
        raise _invalid(f"{what} must start with {allowed}")
    # Credentials in a URL would be sent along (and logged by proxies): refuse them.
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _invalid(f"{what} must not contain a user name or password")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _invalid(f"{what} has no host name")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise _invalid(f"{what} has an invalid port") from exc
    return parts, _ascii_host(host), port


def _ascii_host(host: str) -> str:
    """Punycode an internationalized host name so DNS and httpx agree on it."""
    if _literal_ip(host) is not None:
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _invalid("The Canvas address has an invalid host name") from exc
    if any(c in ascii_host for c in "/\\%[] "):
        raise _invalid("The Canvas address has an invalid host name")
    return ascii_host


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_metadata_address(address: IPAddress) -> bool:
    return _unmapped(address) in METADATA_ADDRESSES


def _unmapped(address: IPAddress) -> IPAddress:
    """``::ffff:127.0.0.1`` is 127.0.0.1 in disguise: judge the IPv4 address inside."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public_address(address: IPAddress) -> bool:
    address = _unmapped(address)
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or is_metadata_address(address)
        # is_global also excludes shared (CGNAT) and documentation ranges.
        or not address.is_global
    )


async def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(DNS_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise _invalid(f"The Canvas host {host} could not be found") from exc
    # An AF_INET or AF_INET6 address is a string; an IPv6 one may end in a %zone.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise _invalid(f"The Canvas host {host} could not be found")
    return addresses


async def _check_host(host: str, port: int, *, allow_local: bool, what: str) -> None:
    """Refuse a host when any of its addresses is not public (or is a metadata address)."""
    for address in await _resolve(host, port):
        if is_metadata_address(address):
            raise _invalid(f"{what} points to a cloud metadata address, which is not allowed")
        if not allow_local and not is_public_address(address):
            raise _invalid(
                f"{what} points to a local or private network address, which is not allowed"
            )


def _format_origin(scheme: str, host: str, port: int) -> str:
    shown_host = f"[{host}]" if ":" in host else host
    if port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown_host}"
    return f"{scheme}://{shown_host}:{port}"


async def validate_canvas_base_url(url: str, *, allow_local: bool) -> str:
    """Return the normalized origin of a Canvas site, or raise ValidationFailed.

    The path, query and fragment are dropped (users paste course pages), the host is
    lowercased, and a default port is left out: ``https://School.edu/courses/1`` gives
    ``https://school.edu``.
    """
    what = "The Canvas address"
    parts, host, port = _split(url, allow_local=allow_local, what=what)
    await _check_host(host, port, allow_local=allow_local, what=what)
    return _format_origin(parts.scheme.lower(), host, port)


async def check_redirect_target(url: str, *, allow_local: bool) -> None:
    """Apply the base-URL host rules to where Canvas redirects us (any public host)."""
    what = "A Canvas redirect"
    _, host, port = _split(url, allow_local=allow_local, what=what)
    await _check_host(host, port, allow_local=allow_local, what=what)


__all__ = [
    "INVALID_CANVAS_URL",
    "check_redirect_target",
    "is_metadata_address",
    "is_public_address",
    "validate_canvas_base_url",
]
