"""The SSRF guard (bzapper/net.py, docs/ssrf.md), probe class by probe class: malformed URLs, ports, host
spellings, IPv4 shorthands, IDNA, every special-purpose block, every IPv6 form carrying an IPv4 address, and
resolution. Names resolve through a fake resolver (sockets are off in unit tests)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import pytest

from bzapper.i18n import MESSAGES
from bzapper.net import IPV4_BLOCKS, IPV6_BLOCKS, UnsafeUrl, check_url, read_url, refusal

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ssrf.md"
LANGUAGES = {"en", "pt-BR", "es"}

NAMES: dict[str, list[str]] = {
    "public.test": ["93.184.215.14"],
    "xn--bcher-kva.test": ["93.184.215.15"],  # bücher.test, asked for by its A-label only
    "dual.test": ["2606:2800:220:1:248:1893:25c8:1946", "93.184.215.14"],
    "mixed.test": ["93.184.215.14", "10.0.0.7"],  # one private address among public ones
    "mapped.test": ["::ffff:169.254.169.254"],
    "zoned.test": ["fe80::1%eth0"],
    "localhost": ["127.0.0.1", "::1"],
    "empty.test": [],
}


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """NAMES resolve; any other name is unknown. Returns the hosts asked for, in order."""
    asked: list[str] = []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        if host not in NAMES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in NAMES[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def refused(url: str, *, allow_loopback: bool = False) -> str:
    with pytest.raises(UnsafeUrl) as error:
        check_url(url, allow_loopback=allow_loopback)
    return error.value.code


# --- Malformed URLs: a refusal with a code, never a crash ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        # The cases that answered 500 (an uncaught ValueError from urlsplit or its .port/.hostname).
        ("http://127.0.0.1:99999/hook", "port"),
        ("http://127.0.0.1:abc/hook", "port"),
        ("http://[::1/hook", "malformed"),
        ("http://[abc]/", "malformed"),
        ("http://[::1]]/", "malformed"),
        ("http://[::1]x/", "malformed"),
        ("http://[v1.fe80::1]/", "malformed"),
    ],
)
@pytest.mark.parametrize("allow_loopback", [True, False])
def test_a_malformed_url_is_a_refusal_with_a_code_in_either_mode(url: str, code: str, allow_loopback: bool):
    https_url = url.replace("http://", "https://", 1)
    assert refused(https_url, allow_loopback=allow_loopback) == code
    if allow_loopback:  # outside local mode http is refused first, as before
        assert refused(url, allow_loopback=True) == code


@pytest.mark.parametrize(
    "port",
    ["0", "00", "65536", "99999", "abc", "", "+80", "-1", " 80", "8_0", "٨٠", "80:90"],
)
def test_a_port_is_a_number_from_1_to_65535(port: str):
    code = refused(f"https://public.test:{port}/x")
    assert code == ("malformed" if ":" in port or " " in port else "port")


@pytest.mark.parametrize("port", ["1", "443", "65535", "0443"])
def test_ports_from_1_to_65535_pass(port: str):
    assert check_url(f"https://public.test:{port}/x", allow_loopback=False) == "93.184.215.14"
    assert read_url(f"https://public.test:{port}/x", allow_http=False).port == int(port)


@pytest.mark.parametrize(
    "url",
    [
        "https://pub\x00lic.test/",  # NUL in the host: was stored as given
        "https://public.test\x00/",
        "https://public.test/\x00",
        "https://public.test/a b",
        "https://pub lic.test/",
        "https://public.test/\tx",
        "https://exa\tmple.test/",  # urlsplit drops the tab and reads example.test
        "https://public.test/\n",
        " https://public.test/",
        "https://public.test/ ",
        "https://public.test/\x7f",
        "https://public.test/\x85",
        "https://public.test/\u00a0",
        "https://public.test/\u2028",
    ],
)
def test_whitespace_and_control_characters_are_refused_anywhere(url: str):
    assert refused(url) == "malformed"


@pytest.mark.parametrize(
    "host",
    [
        "pub%6cic.test",  # percent-encoded host
        "%31%32%37.0.0.1",
        "public.test.",  # trailing dot
        "127.0.0.1.",
        "public..test",  # empty label
        ".public.test",
        "pub_lic.test",  # underscore
        "public.test\\.evil.test",  # backslash: a path separator to browsers
        "-public.test",
        "public-.test",
        "a" * 64 + ".test",  # a label past 63
        ".".join(["a" * 63] * 4) + ".test",  # a name past 253
        "pub!ic.test",
        "::1",  # IPv6 unbracketed
        "[fe80::1%25eth0]",  # zone id
        "[fe80::1%eth0]",
        "[::ffff:127.0.0.1%1]",
        "[ｆｅ80::1]",
    ],
)
def test_a_host_that_is_neither_a_dns_name_nor_an_address_is_refused(host: str):
    assert refused(f"https://{host}/x") == "malformed"


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f000001",
        "0x7f.1",
        "127.1",
        "127.0.1",
        "0177.0.0.1",  # octal to inet_aton, decimal to others
        "0x7f.0.0.1",
        "127.000.000.001",
        "1.2.3.4.5",
        "public.123",  # any name ending in a number is read as IPv4 by browsers
        "public.0x1f",
        "public.0x",
        "１２７.0.0.1",  # fullwidth digits: 127.0.0.1 once IDNA maps them
    ],
)
def test_ipv4_shorthands_are_refused_not_guessed(host: str, resolver: list[str]):
    assert refused(f"https://{host}/x", allow_loopback=True) == "malformed"
    assert resolver == []  # never handed to the resolver, which would read them its own way


@pytest.mark.parametrize(
    "host",
    [
        "faß.test",  # IDNA 2003 reads fass.test, IDNA 2008 xn--fa-hia.test
        "ｐｕｂｌｉｃ.test",  # fullwidth letters
        "pub\u200dlic.test",  # an invisible joiner
        "pub\u00adlic.test",  # a soft hyphen
        "bücher。test",  # an ideographic full stop: a dot to IDNA, not to urlsplit
        "bücher．test",
        "bücher｡test",
        "xn--zz.test",  # punycode that does not decode
        "xn--.test",
        "xn--abc-.test",  # decodes to plain ASCII
        "\u202epublic.test",  # a bidi override
    ],
)
def test_idn_hosts_must_be_canonical_idna(host: str):
    assert refused(f"https://{host}/x") == "malformed"


def test_a_canonical_idn_is_resolved_and_sent_by_its_a_label(resolver: list[str]):
    assert check_url("https://bücher.test/x", allow_loopback=False) == "93.184.215.15"
    assert check_url("https://BÜCHER.test/x", allow_loopback=False) == "93.184.215.15"
    assert check_url("https://XN--BCHER-KVA.test/x", allow_loopback=False) == "93.184.215.15"
    assert resolver == ["xn--bcher-kva.test"] * 3
    target = read_url("https://bücher.test:8443/x", allow_http=False)
    assert (target.host, target.netloc, target.literal) == ("xn--bcher-kva.test", "xn--bcher-kva.test:8443", None)


def test_the_http_client_connects_to_the_checked_address_and_names_the_host_in_ascii():
    from bzapper.adapters.http import pin

    target = pin("https://bücher.test:8443/a/b?q=1")
    assert target.url == "https://93.184.215.15:8443/a/b?q=1"
    assert (target.host, target.sni_hostname) == ("xn--bcher-kva.test:8443", "xn--bcher-kva.test")
    ipv6 = pin("https://[2606:2800:220:1::1]/x")
    assert (ipv6.url, ipv6.host) == ("https://[2606:2800:220:1::1]/x", "[2606:2800:220:1::1]")
    with pytest.raises(UnsafeUrl):  # not a ValueError from urlsplit
        pin("https://public.test:99999/x")


def test_upper_case_names_and_addresses_read_as_lower_case():
    assert read_url("HTTPS://Public.TEST/X", allow_http=False).host == "public.test"
    assert read_url("https://[2606:2800:220:1::ABCD]/", allow_http=False).netloc == "[2606:2800:220:1::abcd]"


def test_a_value_that_is_not_a_string_is_malformed():
    with pytest.raises(UnsafeUrl) as error:
        check_url(None, allow_loopback=False)  # type: ignore[arg-type]
    assert error.value.code == "malformed"


# --- The existing rules: scheme, https, credentials ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_loopback", "code"),
    [
        ("ftp://public.test/x", False, "scheme"),
        ("file:///etc/passwd", True, "scheme"),
        ("gopher://public.test/", True, "scheme"),
        ("https:///x", False, "scheme"),
        ("https:public.test", False, "scheme"),
        ("http://public.test/x", False, "https_required"),
        ("https://u:p@public.test/x", False, "credentials"),
        ("https://u@public.test/x", False, "credentials"),
        ("https://@public.test/x", False, "credentials"),
        ("http://u:p@127.0.0.1:8080/x", True, "credentials"),
    ],
)
def test_scheme_https_and_credentials(url: str, allow_loopback: bool, code: str):
    assert refused(url, allow_loopback=allow_loopback) == code


def test_http_and_loopback_are_for_local_mode_only():
    assert check_url("http://127.0.0.1:8080/hook", allow_loopback=True) == "127.0.0.1"
    assert check_url("http://[::1]:8080/hook", allow_loopback=True) == "::1"
    assert check_url("http://localhost:8080/hook", allow_loopback=True) == "127.0.0.1"
    assert refused("https://127.0.0.1/hook") == "loopback"
    assert refused("https://localhost/hook") == "loopback"


# --- The addresses: every special-purpose block, by a probe inside it ---------------------------------------

# (address, code outside local mode); None = allowed. Written by hand from IANA's registries, not from net.py.
ADDRESS_PROBES: list[tuple[str, str | None]] = [
    ("0.0.0.0", "reserved"),
    ("0.1.2.3", "reserved"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("100.64.0.1", "private"),
    ("100.127.255.255", "private"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link_local"),
    ("169.254.0.1", "link_local"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.0.0.1", "reserved"),  # DS-Lite
    ("192.0.0.8", "reserved"),  # IPv4 dummy address: accepted before
    ("192.0.0.9", "reserved"),  # PCP anycast: globally reachable to IANA, the provider's own here
    ("192.0.0.10", "reserved"),  # TURN anycast: likewise
    ("192.0.0.170", "reserved"),
    ("192.0.0.171", "reserved"),
    ("192.0.0.255", "reserved"),
    ("192.0.2.45", "reserved"),
    ("192.31.196.1", "reserved"),
    ("192.52.193.1", "reserved"),
    ("192.88.99.1", "reserved"),
    ("192.88.99.2", "reserved"),
    ("192.168.1.1", "private"),
    ("192.175.48.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.19.255.255", "reserved"),
    ("198.51.100.7", "reserved"),
    ("203.0.113.7", "reserved"),
    ("224.0.0.1", "reserved"),
    ("239.255.255.250", "reserved"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # The neighbours of those blocks are public.
    ("1.1.1.1", None),
    ("9.255.255.255", None),
    ("11.0.0.0", None),
    ("100.63.255.255", None),
    ("100.128.0.0", None),
    ("126.255.255.255", None),
    ("128.0.0.0", None),
    ("169.253.255.255", None),
    ("172.15.255.255", None),
    ("172.32.0.0", None),
    ("192.0.1.0", None),
    ("192.88.98.255", None),
    ("192.167.255.255", None),
    ("192.169.0.0", None),
    ("198.17.255.255", None),
    ("198.20.0.0", None),
    ("223.255.255.255", None),
    # IPv6
    ("::1", "loopback"),
    ("::", "reserved"),
    ("64:ff9b:1::5db8:d70e", "private"),  # local-use NAT64
    ("100::1", "reserved"),
    ("100:0:0:1::1", "reserved"),
    ("2001:1::1", "reserved"),
    ("2001:1::2", "reserved"),
    ("2001:1::3", "reserved"),
    ("2001:2::1", "reserved"),
    ("2001:3::1", "reserved"),
    ("2001:4:112::1", "reserved"),
    ("2001:10::1", "reserved"),
    ("2001:20::1", "reserved"),
    ("2001:30::1", "reserved"),
    ("2001:1ff:ffff::1", "reserved"),  # the end of 2001::/23
    ("2001:db8::1", "reserved"),
    ("2620:4f:8000::1", "reserved"),
    ("3fff::1", "reserved"),
    ("3fff:fff:ffff::1", "reserved"),
    ("5f00::1", "reserved"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fd00:ec2::254", "link_local"),  # AWS metadata over IPv6
    ("fe80::1", "link_local"),
    ("febf::1", "link_local"),
    ("fec0::1", "private"),
    ("ff02::1", "reserved"),
    ("4000::1", "reserved"),  # outside 2000::/3: reserved by the IETF
    ("1fff:ffff::1", "reserved"),
    ("::ffff:0:a00:1", "reserved"),  # IPv4-translated (SIIT), outside 2000::/3
    # Public IPv6, and the neighbours of the special blocks inside 2000::/3.
    ("2606:2800:220:1:248:1893:25c8:1946", None),
    ("2000::1", None),
    ("2001:200::1", None),
    ("2001:db7:ffff::1", None),
    ("2001:db9::1", None),
    ("2620:4f:7fff::1", None),
    ("3ffe::1", None),
    ("3fff:1000::1", None),
    ("3fff:ffff::1", None),
]


@pytest.mark.parametrize(("address", "code"), ADDRESS_PROBES)
def test_every_special_purpose_block_is_refused_with_its_code_and_its_neighbours_pass(address: str, code: str | None):
    url = f"https://[{address}]/x" if ":" in address else f"https://{address}/x"
    if code is None:
        assert check_url(url, allow_loopback=False) == address
    else:
        assert refused(url) == code


# --- The IPv6 forms that carry an IPv4 address --------------------------------------------------------------

EMBEDDED_PROBES: list[tuple[str, str | None, str | None]] = [
    # (address, code outside local mode, code in local mode)
    # IPv4-mapped ::ffff:0:0/96: that address itself.
    ("::ffff:169.254.169.254", "link_local", "link_local"),
    ("::ffff:10.0.0.1", "private", "private"),
    ("::ffff:192.0.0.8", "reserved", "reserved"),
    ("::ffff:127.0.0.1", "loopback", None),
    ("::ffff:93.184.215.14", None, None),
    # IPv4-compatible ::/96 (deprecated): always refused, by its carried address's code if it has one.
    ("::169.254.169.254", "link_local", "link_local"),
    ("::10.0.0.1", "private", "private"),
    ("::127.0.0.1", "loopback", "loopback"),
    ("::93.184.215.14", "reserved", "reserved"),
    ("::2", "reserved", "reserved"),
    # 6to4 2002::/16: bits 16-47.
    ("2002:a9fe:a9fe::1", "link_local", "link_local"),
    ("2002:a00:1::", "private", "private"),
    ("2002:7f00:1::", "loopback", "loopback"),
    ("2002:c000:8::", "reserved", "reserved"),
    ("2002:5db8:d70e::1", None, None),
    # Teredo 2001::/32: server bits 32-63, client the last 32 bits inverted.
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved", "reserved"),  # RFC 4380's: client 192.0.2.45
    ("2001:0:5db8:d70e::5601:5601", "link_local", "link_local"),  # client 169.254.169.254
    ("2001:0:5db8:d70e::80ff:fffe", "loopback", "loopback"),  # client 127.0.0.1
    ("2001:0:5db8:d70e::f5ff:fff6", "private", "private"),  # client 10.0.0.9
    ("2001:0:a9fe:a9fe::a247:28f1", "link_local", "link_local"),  # server 169.254.169.254
    ("2001:0:5db8:d70e::a247:28f1", None, None),  # both 93.184.215.14
    ("2001:0:5db8:d70e::a9fe:a9fe", None, None),  # not obfuscated: the client is 86.1.86.1, public
    # NAT64 64:ff9b::/96: the last 32 bits; loopback is the translator's, never ours.
    ("64:ff9b::a9fe:a9fe", "link_local", "link_local"),
    ("64:ff9b::10.0.0.1", "private", "private"),
    ("64:ff9b::7f00:1", "loopback", "loopback"),
    ("64:ff9b::c000:8", "reserved", "reserved"),
    ("64:ff9b::5db8:d70e", None, None),
]


@pytest.mark.parametrize(("address", "code", "local_code"), EMBEDDED_PROBES)
def test_an_ipv4_address_inside_an_ipv6_form_is_judged_as_what_it_reaches(
    address: str, code: str | None, local_code: str | None
):
    for allow_loopback, expected in ((False, code), (True, local_code)):
        url = f"http://[{address}]/x" if allow_loopback else f"https://[{address}]/x"
        if expected is None:
            assert check_url(url, allow_loopback=allow_loopback)
        else:
            assert refused(url, allow_loopback=allow_loopback) == expected


# --- Resolution --------------------------------------------------------------------------------------------


def test_every_resolved_address_is_checked_and_the_first_is_pinned(resolver: list[str]):
    assert check_url("https://dual.test/x", allow_loopback=False) == "2606:2800:220:1:248:1893:25c8:1946"
    assert refused("https://mixed.test/x") == "private"
    assert refused("https://mapped.test/x") == "link_local"  # a name resolving to an IPv6 form
    assert refused("https://zoned.test/x") == "link_local"  # a zone on a resolved address is dropped, not fatal
    assert refused("https://nowhere.test/x") == "unresolvable"
    assert refused("https://empty.test/x") == "unresolvable"
    assert resolver == ["dual.test", "mixed.test", "mapped.test", "zoned.test", "nowhere.test", "empty.test"]


def test_a_literal_address_is_not_handed_to_the_resolver(resolver: list[str]):
    assert check_url("https://93.184.215.14/x", allow_loopback=False) == "93.184.215.14"
    assert check_url("https://[2606:2800:220:1::1]/x", allow_loopback=False) == "2606:2800:220:1::1"
    assert resolver == []


# --- The table, the docs and the catalog agree --------------------------------------------------------------


def test_the_table_in_docs_is_the_table_in_code():
    documented = set(re.findall(r"^\| `([0-9a-f:.]+/\d+)` \|", DOCS.read_text(), flags=re.MULTILINE))
    in_code = {str(block.network) for block in (*IPV4_BLOCKS, *IPV6_BLOCKS)}
    assert documented == in_code


def test_every_block_iana_calls_globally_reachable_has_a_decision():
    """Each globally reachable entry is refused on purpose (docs/ssrf.md says why), but for NAT64 by content."""
    for block in (*IPV4_BLOCKS, *IPV6_BLOCKS):
        if block.iana_global:
            address = block.network.network_address
            if str(block.network) == "64:ff9b::/96":
                assert refusal(address, allow_loopback=False) == ("reserved", "address reserved for special use")
            else:
                assert block.verdict == ("reserved", "address reserved for special use"), block


@pytest.mark.parametrize(
    "code",
    [
        "scheme",
        "https_required",
        "credentials",
        "malformed",
        "port",
        "unresolvable",
        "private",
        "link_local",
        "loopback",
        "reserved",
    ],
)
def test_every_code_has_a_text_in_each_language(code: str):
    assert set(MESSAGES[f"error.unsafe_url.{code}"]) == LANGUAGES
