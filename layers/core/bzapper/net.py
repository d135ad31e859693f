"""Customer URLs: the SSRF guard every outbound call to a customer-supplied address goes through."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from bzapper.domain.errors import validation_failed

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeUrl(ValueError):
    pass


def check_url(url: str, *, allow_loopback: bool) -> None:
    """Refuses what could reach our own network: private, loopback (outside local mode), link-local and
    metadata addresses, and anything but http(s). Resolves the host: every address must be public."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("only http(s) URLs with a host")
    if parts.scheme == "http" and not allow_loopback:
        raise UnsafeUrl("https is required")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in URLs are not allowed")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl("the host does not resolve") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address in _METADATA or address.is_link_local or address.is_multicast or address.is_unspecified:
            raise UnsafeUrl("link-local or metadata address")
        if address.is_loopback:
            if not allow_loopback:
                raise UnsafeUrl("loopback address")
            continue
        if not address.is_global:
            raise UnsafeUrl("private address")


def require_safe_url(url: str, *, allow_loopback: bool, param: str = "url") -> None:
    try:
        check_url(url, allow_loopback=allow_loopback)
    except UnsafeUrl as error:
        raise validation_failed(param, "error.unsafe_url", reason=str(error)) from error
