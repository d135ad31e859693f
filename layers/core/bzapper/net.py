"""Customer URLs: the SSRF guard every outbound call to a customer-supplied address goes through.

The rule is written out here rather than borrowed from `ipaddress.is_global` and friends: those tables change
between Python releases, do not look inside every IPv6 form that carries an IPv4 address, and call some
addresses global that no customer endpoint can live at. docs/ssrf.md explains the rule, the table and why.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from encodings import idna
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import urlsplit

from bzapper.domain.errors import validation_failed

Address = IPv4Address | IPv6Address


class UnsafeUrl(ValueError):
    """A URL the guard refuses. `code` is stable and names the catalog text `error.unsafe_url.<code>`, so a
    client reads the reason in its own language; the English message is for logs and delivery records."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Each refusal: its stable code and its English wording (the translations live in the catalog).
_SCHEME = ("scheme", "only http(s) URLs with a host")
_HTTPS_REQUIRED = ("https_required", "https is required")
_CREDENTIALS = ("credentials", "credentials in URLs are not allowed")
_MALFORMED = ("malformed", "not a well-formed URL: the host must be a domain name, a dotted IPv4 or a bracketed IPv6")
_PORT = ("port", "the port must be a number from 1 to 65535")
_UNRESOLVABLE = ("unresolvable", "the host does not resolve")
_PRIVATE = ("private", "private address")
_LINK_LOCAL = ("link_local", "link-local or metadata address")
_LOOPBACK = ("loopback", "loopback address")
_RESERVED = ("reserved", "address reserved for special use")


# --- The addresses ------------------------------------------------------------------------------------------
#
# IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890, as updated to 2025), plus the few
# blocks the Address Space registries set apart (multicast, site-local) and the cloud metadata address.
# The most specific block holding an address decides. Outside every block an IPv4 address is allowed (all
# of 1.0.0.0-223.255.255.255 outside this table is allocated unicast) and an IPv6 address only inside
# 2000::/3, the one block IANA allocates as global unicast: everything else is reserved by the IETF.

LOCAL_ONLY = "local_only"
"""Loopback: allowed in local mode (the developer's own machine), refused everywhere else."""

_LOW32 = 0xFFFFFFFF


def _last_32_bits(value: int) -> tuple[int, ...]:
    return (value & _LOW32,)


def _6to4(value: int) -> tuple[int, ...]:
    return ((value >> 80) & _LOW32,)  # 2002:AABB:CCDD::/48


def _teredo(value: int) -> tuple[int, ...]:
    # 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC: the server, then the client with every bit inverted (RFC 4380 §4).
    return ((value >> 64) & _LOW32, (value & _LOW32) ^ _LOW32)


@dataclass(frozen=True, slots=True)
class Carries:
    """The block's addresses carry IPv4 addresses, and are judged by them: what a packet to one reaches."""

    where: Callable[[int], tuple[int, ...]]
    own: bool = False
    """The IPv6 address *is* the IPv4 one on this host (IPv4-mapped), so loopback inside is allowed in local
    mode; behind a relay or a translator, loopback is someone else's and always refused."""
    deprecated: bool = False
    """Always refused; the carried address names the reason when it has one."""


Verdict = tuple[str, str] | str | Carries
"""A refusal (code, English), LOCAL_ONLY, or Carries."""


@dataclass(frozen=True, slots=True)
class Block:
    network: IPv4Network | IPv6Network
    name: str
    """IANA's name for the block (or the registry that sets it apart)."""
    rfc: str
    iana_global: bool | None
    """IANA's "Globally Reachable" column; None where it says N/A or the block is not in that registry."""
    verdict: Verdict


def _v4(network: str, name: str, rfc: str, iana_global: bool | None, verdict: Verdict) -> Block:
    return Block(IPv4Network(network), name, rfc, iana_global, verdict)


def _v6(network: str, name: str, rfc: str, iana_global: bool | None, verdict: Verdict) -> Block:
    return Block(IPv6Network(network), name, rfc, iana_global, verdict)


# Globally reachable in IANA's table yet refused here: the protocol anycast addresses (PCP, TURN, DNS-SD SRP,
# AMT relays, AS112) reach the *nearest* instance of a network service, which is by design run by the network
# we send from (our cloud provider's), and none serves a customer's HTTP; ORCHIDv2 and drone entity tags are
# identifiers, not locators. 64:ff9b::/96 is the one globally reachable block allowed, by what it carries.
IPV4_BLOCKS: tuple[Block, ...] = (
    _v4("0.0.0.0/8", '"This network"', "RFC 791", False, _RESERVED),
    _v4("0.0.0.0/32", '"This host on this network"', "RFC 1122", False, _RESERVED),
    _v4("10.0.0.0/8", "Private-Use", "RFC 1918", False, _PRIVATE),
    _v4("100.64.0.0/10", "Shared Address Space (carrier-grade NAT)", "RFC 6598", False, _PRIVATE),
    _v4("127.0.0.0/8", "Loopback", "RFC 1122", False, LOCAL_ONLY),
    _v4(
        "169.254.0.0/16",
        "Link Local (and the instance metadata service, 169.254.169.254)",
        "RFC 3927",
        False,
        _LINK_LOCAL,
    ),
    _v4("172.16.0.0/12", "Private-Use", "RFC 1918", False, _PRIVATE),
    _v4("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", False, _RESERVED),
    _v4("192.0.0.0/29", "IPv4 Service Continuity Prefix (DS-Lite)", "RFC 7335", False, _RESERVED),
    _v4("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", False, _RESERVED),
    _v4("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", True, _RESERVED),
    _v4("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, _RESERVED),
    _v4("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880", False, _RESERVED),
    _v4("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880", False, _RESERVED),
    _v4("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", False, _RESERVED),
    _v4("192.31.196.0/24", "AS112-v4", "RFC 7535", True, _RESERVED),
    _v4("192.52.193.0/24", "AMT", "RFC 7450", True, _RESERVED),
    _v4("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", None, _RESERVED),
    _v4("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", False, _RESERVED),
    _v4("192.168.0.0/16", "Private-Use", "RFC 1918", False, _PRIVATE),
    _v4("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", True, _RESERVED),
    _v4("198.18.0.0/15", "Benchmarking", "RFC 2544", False, _RESERVED),
    _v4("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", False, _RESERVED),
    _v4("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", False, _RESERVED),
    _v4("224.0.0.0/4", "Multicast (IPv4 Address Space registry)", "RFC 5771", None, _RESERVED),
    _v4("240.0.0.0/4", "Reserved", "RFC 1112", False, _RESERVED),
    _v4("255.255.255.255/32", "Limited Broadcast", "RFC 919", False, _RESERVED),
)

IPV6_BLOCKS: tuple[Block, ...] = (
    _v6("::1/128", "Loopback Address", "RFC 4291", False, LOCAL_ONLY),
    _v6("::/128", "Unspecified Address", "RFC 4291", False, _RESERVED),
    _v6(
        "::/96",
        "IPv4-compatible address (deprecated, not in the registry)",
        "RFC 4291 §2.5.5.1",
        None,
        Carries(_last_32_bits, deprecated=True),
    ),
    _v6("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", False, Carries(_last_32_bits, own=True)),
    _v6("64:ff9b::/96", "IPv4-IPv6 Translation (NAT64 well-known prefix)", "RFC 6052", True, Carries(_last_32_bits)),
    _v6("64:ff9b:1::/48", "IPv4-IPv6 Translation (local-use NAT64)", "RFC 8215", False, _PRIVATE),
    _v6("100::/64", "Discard-Only Address Block", "RFC 6666", False, _RESERVED),
    _v6("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", False, _RESERVED),
    _v6("2001::/23", "IETF Protocol Assignments", "RFC 2928", False, _RESERVED),
    _v6("2001::/32", "TEREDO", "RFC 4380", None, Carries(_teredo)),
    _v6("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", True, _RESERVED),
    _v6("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, _RESERVED),
    _v6("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", True, _RESERVED),
    _v6("2001:2::/48", "Benchmarking", "RFC 5180", False, _RESERVED),
    _v6("2001:3::/32", "AMT", "RFC 7450", True, _RESERVED),
    _v6("2001:4:112::/48", "AS112-v6", "RFC 7535", True, _RESERVED),
    _v6("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", None, _RESERVED),
    _v6("2001:20::/28", "ORCHIDv2", "RFC 7343", True, _RESERVED),
    _v6("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", True, _RESERVED),
    _v6("2001:db8::/32", "Documentation", "RFC 3849", False, _RESERVED),
    _v6("2002::/16", "6to4", "RFC 3056", None, Carries(_6to4)),
    _v6("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", True, _RESERVED),
    _v6("3fff::/20", "Documentation", "RFC 9637", False, _RESERVED),
    _v6("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", False, _RESERVED),
    _v6("fc00::/7", "Unique-Local", "RFC 4193", False, _PRIVATE),
    _v6("fd00:ec2::254/128", "AWS instance metadata service (IPv6; not IANA's)", "AWS EC2", None, _LINK_LOCAL),
    _v6("fe80::/10", "Link-Local Unicast", "RFC 4291", False, _LINK_LOCAL),
    _v6("fec0::/10", "Site-Local (deprecated; IPv6 Address Space registry)", "RFC 3879", None, _PRIVATE),
    _v6("ff00::/8", "Multicast (IPv6 Address Space registry)", "RFC 4291", None, _RESERVED),
)

GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_OUTSIDE_GLOBAL_UNICAST_V6 = ("reserved", "address outside IPv6 global unicast space")

# Most specific first, so a /32 inside a /24 decides for its own addresses.
_V4_ORDER = sorted(IPV4_BLOCKS, key=lambda block: -block.network.prefixlen)
_V6_ORDER = sorted(IPV6_BLOCKS, key=lambda block: -block.network.prefixlen)


def embedded_ipv4(address: IPv6Address) -> tuple[IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries, by its form (none when it carries none): IPv4-mapped
    ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d and NAT64 64:ff9b::a.b.c.d in their last 32 bits; 6to4 in bits
    16-47; Teredo its server in bits 32-63 and its client, obfuscated, in the last 32."""
    block = _block_of(address)
    if block is None or not isinstance(block.verdict, Carries):
        return ()
    return tuple(IPv4Address(value) for value in block.verdict.where(int(address)))


def _block_of(address: Address) -> Block | None:
    for block in _V4_ORDER if isinstance(address, IPv4Address) else _V6_ORDER:
        if address in block.network:
            return block
    return None


def refusal(address: Address, *, allow_loopback: bool) -> tuple[str, str] | None:
    """Why a connection to `address` is refused (code, English), or None when it is allowed."""
    block = _block_of(address)
    if block is None:
        if isinstance(address, IPv6Address) and address not in GLOBAL_UNICAST_V6:
            return _OUTSIDE_GLOBAL_UNICAST_V6
        return None
    if block.verdict == LOCAL_ONLY:
        return None if allow_loopback else _LOOPBACK
    if isinstance(block.verdict, Carries):
        assert isinstance(address, IPv6Address)  # only IPv6 blocks carry
        carried = embedded_ipv4(address)
        refusals = [refusal(inner, allow_loopback=allow_loopback and block.verdict.own) for inner in carried]
        first = next((refused for refused in refusals if refused), None)
        if block.verdict.deprecated:
            return first or _RESERVED
        return first
    assert isinstance(block.verdict, tuple)
    return block.verdict


# --- The URL ------------------------------------------------------------------------------------------------

_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NUMBER_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_IDNA_DOTS = "\u3002\uff0e\uff61"
"""What IDNA reads as a dot besides `.`: a host holding one means two different names to two parsers."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL's destination, as the guard read it."""

    scheme: str
    host: str
    """ASCII: a name in A-labels (lower case), a dotted-decimal IPv4 address or an IPv6 address (no brackets)."""
    port: int | None
    """As written; None for the scheme's default."""
    literal: Address | None
    """The address when the host is one."""

    @property
    def netloc(self) -> str:
        """Host and port, as a Host header carries them."""
        host = f"[{self.host}]" if isinstance(self.literal, IPv6Address) else self.host
        return f"{host}:{self.port}" if self.port is not None else host


def read_url(url: str, *, allow_http: bool) -> Target:
    """Reads a customer URL, refusing (UnsafeUrl) anything but http(s) with a well-formed host and port and no
    credentials; https only unless `allow_http`. Resolves nothing."""
    if not isinstance(url, str):
        raise UnsafeUrl(*_MALFORMED)
    try:
        parts = urlsplit(url)
    except ValueError as error:  # unbalanced or invalid brackets
        raise UnsafeUrl(*_MALFORMED) from error
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise UnsafeUrl(*_SCHEME)
    if parts.scheme == "http" and not allow_http:
        raise UnsafeUrl(*_HTTPS_REQUIRED)
    if "@" in parts.netloc:
        raise UnsafeUrl(*_CREDENTIALS)
    # urlsplit drops tabs and newlines and trims spaces and control characters where a browser would; what we
    # store and send is the string itself, so it must have none of them anywhere.
    if any(char.isspace() or ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in url):
        raise UnsafeUrl(*_MALFORMED)
    host, port = _split_netloc(parts.netloc)
    literal, ascii_host = _read_host(host)
    return Target(parts.scheme, ascii_host, port, literal)


def _split_netloc(netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        end = netloc.find("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            raise UnsafeUrl(*_MALFORMED)
    else:
        host, colon, port_text = netloc.partition(":")
        rest = colon + port_text
    if not rest:
        return host, None
    port_text = rest[1:]
    if ":" in port_text:  # an unbracketed IPv6 address, or two ports
        raise UnsafeUrl(*_MALFORMED)
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise UnsafeUrl(*_PORT)
    return host, int(port_text)


def _read_host(host: str) -> tuple[Address | None, str]:
    """(the address when the host is one, the host in ASCII). A name is a valid IDNA name; an IPv4 address is
    four decimal numbers (the shorthands 127.1, 2130706433, 0x7f.1, 0177.0.0.1 mean different addresses to
    different parsers, so they are refused rather than guessed); an IPv6 address is bracketed, without a zone."""
    if host.startswith("["):
        inner = host[1:-1]
        if "%" in inner or not inner.isascii():
            raise UnsafeUrl(*_MALFORMED)
        try:
            address = IPv6Address(inner)
        except ValueError as error:
            raise UnsafeUrl(*_MALFORMED) from error
        return address, str(address)
    if not host or "%" in host:  # a percent-encoded host is read one way here and another way there
        raise UnsafeUrl(*_MALFORMED)
    if host.isascii():
        try:
            address4 = IPv4Address(host)
        except ValueError:
            pass
        else:
            return address4, str(address4)
    labels = host.split(".")  # a trailing dot leaves an empty label: refused, see docs/ssrf.md
    ascii_labels = [_a_label(label) for label in labels]
    name = ".".join(ascii_labels)
    if len(name) > 253 or _NUMBER_LABEL.fullmatch(ascii_labels[-1]):  # ends in a number: an IPv4 shorthand
        raise UnsafeUrl(*_MALFORMED)
    return None, name


def _a_label(label: str) -> str:
    """The label as IDNA's ToASCII writes it, refusing what is not already in its canonical form (what ToASCII
    would remap, as ß -> ss or fullwidth letters, names something else to other IDNA implementations)."""
    if label.isascii():
        lowered = label.lower()
        if not _LDH_LABEL.fullmatch(lowered):
            raise UnsafeUrl(*_MALFORMED)
        if lowered.startswith("xn--"):  # punycode must decode, to a name that encodes back to it
            try:
                decoded = idna.ToUnicode(lowered.encode("ascii"))
                if decoded.isascii() or idna.ToASCII(decoded).decode("ascii") != lowered:
                    raise UnsafeUrl(*_MALFORMED)
            except UnicodeError as error:
                raise UnsafeUrl(*_MALFORMED) from error
        return lowered
    if any(dot in label for dot in _IDNA_DOTS):
        raise UnsafeUrl(*_MALFORMED)
    try:
        encoded = idna.ToASCII(label).decode("ascii")
        canonical = idna.ToUnicode(encoded.encode("ascii")) == label.lower()
    except UnicodeError as error:
        raise UnsafeUrl(*_MALFORMED) from error
    if not canonical or not _LDH_LABEL.fullmatch(encoded):
        raise UnsafeUrl(*_MALFORMED)
    return encoded


def check_url(url: str, *, allow_loopback: bool) -> str:
    """Refuses what could reach our own network or is not a plain URL (see read_url, refusal and
    docs/ssrf.md); http only with loopback allowed, i.e. in local mode. Resolves the host: every address must
    be allowed. Returns the first address, for the caller to connect to that one (no DNS rebinding)."""
    target = read_url(url, allow_http=allow_loopback)
    addresses = [target.literal] if target.literal is not None else _resolve(target)
    for address in addresses:
        refused = refusal(address, allow_loopback=allow_loopback)
        if refused:
            raise UnsafeUrl(*refused)
    return str(addresses[0])


def _resolve(target: Target) -> list[Address]:
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(target.host, port, type=socket.SOCK_STREAM)
        addresses = [_address(str(info[4][0])) for info in infos]
    except (OSError, UnicodeError, ValueError) as error:
        raise UnsafeUrl(*_UNRESOLVABLE) from error
    if not addresses:
        raise UnsafeUrl(*_UNRESOLVABLE)
    return addresses


def _address(text: str) -> Address:
    text = text.split("%")[0]  # a resolved link-local IPv6 address may carry its zone
    return IPv6Address(text) if ":" in text else IPv4Address(text)


def require_safe_url(url: str, *, allow_loopback: bool, param: str = "url") -> None:
    try:
        check_url(url, allow_loopback=allow_loopback)
    except UnsafeUrl as error:
        raise validation_failed(param, f"error.unsafe_url.{error.code}") from error


def check_proxy(host: str, port: int, *, allow_loopback: bool) -> None:
    """A customer's proxy (settings.proxy_url): a server on the public internet like any customer endpoint, so
    the same host rules and the same address table apply (no private, loopback outside local mode, link-local
    or metadata address); only the scheme (http, https, socks5) and the credentials differ from check_url,
    and those the caller has read already. Resolves the host now; the engine dials the name later, so a name
    that changes its address afterwards is not caught here (docs/settings.md: the residual risk)."""
    literal, ascii_host = _read_host(host)
    addresses = [literal] if literal is not None else _resolve(Target("http", ascii_host, port, None))
    for address in addresses:
        refused = refusal(address, allow_loopback=allow_loopback)
        if refused:
            raise UnsafeUrl(*refused)


def require_safe_proxy(host: str, port: int, *, allow_loopback: bool, param: str = "settings.proxy_url") -> None:
    try:
        check_proxy(host, port, allow_loopback=allow_loopback)
    except UnsafeUrl as error:
        raise validation_failed(param, f"error.unsafe_url.{error.code}") from error
