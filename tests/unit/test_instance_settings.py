"""Instance settings as pure rules (bzapper.domain.instance_settings) and the proxy's SSRF check (bzapper.net)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from bzapper.domain.errors import BzError
from bzapper.domain.instance_settings import (
    DEFAULTS,
    InstanceSettings,
    apply_patch,
    masked_proxy,
    parse_proxy,
    session_changed,
    with_password,
)
from bzapper.net import UnsafeUrl, check_proxy


def test_defaults_are_all_off_and_nothing_is_stored_for_them() -> None:
    assert DEFAULTS.public() == {
        "reject_calls": False,
        "reject_call_message": None,
        "ignore_groups": False,
        "always_online": False,
        "read_incoming": False,
        "presence_events": False,
        "history_sync": False,
        "proxy_url": None,
    }
    assert DEFAULTS.stored() == {}
    assert InstanceSettings.from_stored(None) == DEFAULTS


def test_a_patch_changes_only_its_keys_and_a_stored_unknown_key_is_ignored() -> None:
    current = InstanceSettings.from_stored({"reject_calls": True, "some_future_key": 1})
    after = apply_patch(current, {"always_online": True})
    assert (after.reject_calls, after.always_online, after.ignore_groups) == (True, True, False)
    assert after.stored() == {"reject_calls": True, "always_online": True}


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"nope": True}, "settings.nope"),
        ({"proxy_secret": "x"}, "settings.proxy_secret"),  # ours, never the customer's
        ({"read_incoming": "true"}, "settings.read_incoming"),
        ({"history_sync": None}, "settings.history_sync"),
        ({"reject_call_message": "   "}, "settings.reject_call_message"),
        ({"reject_call_message": "x" * 1025}, "settings.reject_call_message"),
        ({"reject_call_message": 5}, "settings.reject_call_message"),
        ({"proxy_url": 5}, "settings.proxy_url"),
    ],
)
def test_a_bad_patch_names_the_setting(patch: dict[str, Any], param: str) -> None:
    with pytest.raises(BzError) as raised:
        apply_patch(DEFAULTS, patch)
    assert raised.value.code == "validation_failed" and raised.value.param == param


def test_a_message_of_exactly_the_limit_is_taken() -> None:
    assert apply_patch(DEFAULTS, {"reject_call_message": "x" * 1024}).reject_call_message == "x" * 1024


def test_the_proxy_is_stored_without_its_password_and_shown_masked() -> None:
    proxy = parse_proxy("socks5://shop:p%40ss@proxy.example.com:1080")
    assert (proxy.scheme, proxy.host, proxy.port, proxy.username, proxy.password) == (
        "socks5",
        "proxy.example.com",
        1080,
        "shop",
        "p@ss",
    )
    stored = proxy.without_password()
    assert stored == "socks5://shop@proxy.example.com:1080"
    settings = apply_patch(DEFAULTS, {"proxy_url": "…"}, proxy_url=stored, proxy_secret="sealed")
    assert settings.public()["proxy_url"] == "socks5://shop:***@proxy.example.com:1080"
    assert "sealed" not in str(settings.public())
    assert with_password(stored, "p@ss") == "socks5://shop:p%40ss@proxy.example.com:1080"
    # a password without a user name, and a proxy without either
    assert masked_proxy("http://proxy.example.com:3128", True) == "http://:***@proxy.example.com:3128"
    assert with_password("http://proxy.example.com:3128", "pw") == "http://:pw@proxy.example.com:3128"
    assert masked_proxy("http://proxy.example.com:3128", False) == "http://proxy.example.com:3128"
    assert parse_proxy("http://[2001:db8::1]:8080").without_password() == "http://[2001:db8::1]:8080"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://proxy.example.com:21",
        "socks4://proxy.example.com:1080",
        "javascript:alert(1)",
        "socks5://proxy.example.com",  # a proxy has no default port to guess
        "http://proxy.example.com:0",
        "http://proxy.example.com:65536",
        "http://proxy.example.com:80/path",
        "http://proxy.example.com:80?x=1",
        "http://proxy.example.com:80#frag",
        "http://proxy.example.com :80",
        "http://proxy.example.com:80\n",
        "http://:80",
        "http://[::1:80",
        "",
    ],
)
def test_malformed_proxies_are_refused(url: str) -> None:
    with pytest.raises(BzError) as raised:
        parse_proxy(url)
    assert raised.value.param == "settings.proxy_url"


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"proxy.example.com": "93.184.215.14", "rebind.example.com": "169.254.169.254"}

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.mark.parametrize(
    ("host", "code"),
    [
        ("169.254.169.254", "link_local"),  # the metadata service
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("127.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("[fd00::1]", "private"),
        ("0.0.0.0", None),  # some "this network" verdict: refused whatever its name
        ("rebind.example.com", "link_local"),  # a name that resolves to the metadata service
        ("nowhere.example.com", "unresolvable"),
        ("2130706433", "malformed"),  # 127.0.0.1 as one number
        ("0x7f.1", "malformed"),
    ],
)
def test_a_proxy_on_our_own_network_is_refused(public_dns: None, host: str, code: str | None) -> None:
    with pytest.raises(UnsafeUrl) as raised:
        check_proxy(host, 1080, allow_loopback=False)
    if code is not None:
        assert raised.value.code == code


def test_a_public_proxy_passes_and_loopback_only_in_local_mode(public_dns: None) -> None:
    check_proxy("proxy.example.com", 1080, allow_loopback=False)
    check_proxy("93.184.215.14", 3128, allow_loopback=False)
    check_proxy("127.0.0.1", 1080, allow_loopback=True)  # `bzapper dev`: a proxy on the developer's machine
    with pytest.raises(UnsafeUrl):
        check_proxy("169.254.169.254", 80, allow_loopback=True)  # never the metadata service


def test_only_what_the_worker_applies_is_sent_to_it() -> None:
    assert session_changed(DEFAULTS, apply_patch(DEFAULTS, {"history_sync": True}))  # the session subscribes
    assert session_changed(DEFAULTS, apply_patch(DEFAULTS, {"presence_events": True}))  # the worker drops or reports
    assert not session_changed(DEFAULTS, apply_patch(DEFAULTS, {"reject_call_message": "Later"}))
    assert session_changed(DEFAULTS, apply_patch(DEFAULTS, {"ignore_groups": True}))
    assert session_changed(DEFAULTS, apply_patch(DEFAULTS, {"read_incoming": True}))
    assert session_changed(DEFAULTS, apply_patch(DEFAULTS, {"always_online": True}))
    assert session_changed(DEFAULTS, apply_patch(DEFAULTS, {"reject_calls": True}))
    with_proxy = apply_patch(DEFAULTS, {"proxy_url": "x"}, proxy_url="http://p.example.com:1")
    assert session_changed(DEFAULTS, with_proxy)
