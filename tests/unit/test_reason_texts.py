"""Every stable reason the SSRF guard and the sandbox network give has a catalog text of its own, so an API
answer never inserts their English wording into a translated sentence."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from bzapper.i18n import MESSAGES
from bzapper.net import UnsafeUrl, check_url
from bzapper_dev.sandbox.network import InvalidInput, SandboxNetwork

PHONE = "+5511988888888"
PNG_BASE64 = "iVBORw0KGgo="


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names are resolved here without a network: public.test is public, everything else unknown."""

    def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "public.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
        try:  # a literal address resolves to itself, as getaddrinfo does
            family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "unknown") from None
        return [(family, socket.SOCK_STREAM, 6, "", (host, 443))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.mark.parametrize(
    ("url", "allow_loopback", "code"),
    [
        ("ftp://public.test/x", False, "scheme"),
        ("http://public.test/x", False, "https_required"),
        ("https://u:p@public.test/x", False, "credentials"),
        ("https://nowhere.test/x", False, "unresolvable"),
        ("https://10.1.2.3/x", False, "private"),
        ("https://[fec0::1]/x", False, "private"),
        ("https://169.254.169.254/x", False, "link_local"),
        ("https://[::ffff:169.254.169.254]/x", False, "link_local"),
        ("https://127.0.0.1/x", False, "loopback"),
        ("https://192.0.0.8/x", False, "reserved"),
        ("https://[::1/x", False, "malformed"),
        ("https://127.1/x", True, "malformed"),
        ("https://public.test:0/x", False, "port"),
    ],
)
def test_each_unsafe_url_names_a_code_with_its_own_text(url: str, allow_loopback: bool, code: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        check_url(url, allow_loopback=allow_loopback)
    assert refused.value.code == code
    assert f"error.unsafe_url.{code}" in MESSAGES


@pytest.mark.parametrize(
    ("message_type", "content", "problem"),
    [
        ("text", [], "content_not_object"),
        ("text", {}, "text_body"),
        ("image", {}, "media_missing"),
        ("image", {"media": {"data_base64": PNG_BASE64}}, "media_mime_type"),
        ("image", {"media": {"mime_type": "image/png", "data_base64": PNG_BASE64, "filename": ""}}, "media_filename"),
        ("image", {"media": {"mime_type": "image/png", "data_base64": 5}}, "media_data_type"),
        ("image", {"media": {"mime_type": "image/png", "data_base64": "!!"}}, "media_data_invalid"),
        ("image", {"media": {"mime_type": "image/png", "data_base64": ""}}, "media_data_empty"),
    ],
)
def test_each_refused_injection_names_a_problem_with_its_own_text(message_type: str, content: Any, problem: str):
    with pytest.raises(InvalidInput) as refused:
        SandboxNetwork().inject_inbound("acc_1", "ins_1", PHONE, message_type, content)
    assert refused.value.problem == problem
    assert f"error.sandbox_invalid_inbound.{problem}" in MESSAGES
