"""Customer URLs: the SSRF guard every outbound call to a customer-supplied address goes through."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from bzapper.domain.errors import validation_failed

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class UnsafeUrl(ValueError):
    """A URL the guard refuses. `code` is stable and names the catalog text `error.unsafe_url.<code>`, so a
    client reads the reason in its own language; the English message is for logs and delivery records."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Each refusal: its stable code and its English wording (the translations live in the catalog).
_PRIVATE = ("private", "private address")
_LINK_LOCAL = ("link_local", "link-local or metadata address")
_LOOPBACK = ("loopback", "loopback address")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), which is what it reaches."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> tuple[str, str] | None:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return _refusal(inner, allow_loopback)
        if address.is_site_local:
            return _PRIVATE
    if address in _METADATA or address.is_link_local or address.is_multicast or address.is_unspecified:
        return _LINK_LOCAL
    if address.is_loopback:
        return None if allow_loopback else _LOOPBACK
    if not address.is_global:
        return _PRIVATE
    return None


def check_url(url: str, *, allow_loopback: bool) -> str:
    """Refuses what could reach our own network: private, loopback (outside local mode), link-local and
    metadata addresses (also inside IPv6 forms), and anything but http(s). Resolves the host: every
    address must be public. Returns the first address, for the caller to connect to that one."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("scheme", "only http(s) URLs with a host")
    if parts.scheme == "http" and not allow_loopback:
        raise UnsafeUrl("https_required", "https is required")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials", "credentials in URLs are not allowed")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl("unresolvable", "the host does not resolve") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        refusal = _refusal(address, allow_loopback)
        if refusal:
            raise UnsafeUrl(*refusal)
    return str(addresses[0])


def require_safe_url(url: str, *, allow_loopback: bool, param: str = "url") -> None:
    try:
        check_url(url, allow_loopback=allow_loopback)
    except UnsafeUrl as error:
        raise validation_failed(param, f"error.unsafe_url.{error.code}") from error
