"""Malformed and unsafe customer URLs end as a 422 in our shape on the field that carried them, in the client's
language, on every route that takes one (POST and PATCH /webhooks, media by URL) and on every hop of a media
redirect: never a 500. Real handlers on moto; docs/ssrf.md is the rule."""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import boto3
import pytest
from support.accounts import Account
from support.apigw import call
from support.media import file_server, png

from bzapper.adapters import http as http_adapter
from bzapper.adapters.aws.models import MessageModel
from bzapper.config import settings
from bzapper.i18n import translate
from bzapper.services import webhooks as webhooks_service
from bzapper_dev.local.functions import load_function

TO = "+5511988888888"
LOCALES = ["en", "pt-BR", "es"]

# The URLs that answered 500 internal_error (urlsplit's .port/.hostname raising outside the guard), and the
# forms the guard let through (each with the code it now gives).
MALFORMED = [
    ("http://127.0.0.1:99999/hook", "port"),
    ("http://127.0.0.1:abc/hook", "port"),
    ("http://[::1/hook", "malformed"),
    ("http://[abc]/", "malformed"),
]
LET_THROUGH = [
    ("http://[::169.254.169.254]/", "link_local"),
    ("http://[::10.0.0.1]/", "private"),
    ("http://[::127.0.0.1]/", "loopback"),
    ("http://192.0.0.8/", "reserved"),
    ("http://127.0.0.1:0/hook", "port"),
    ("http://127.0.0.1\x00.example.com/hook", "malformed"),
    ("http://2130706433/hook", "malformed"),
    ("http://0x7f.1/hook", "malformed"),
]


@pytest.fixture
def local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mode for customer URLs only (http and loopback allowed), as on the local stack where the 500s
    were found; everything else as configured."""
    local = dataclasses.replace(settings(), local_mode=True)
    monkeypatch.setattr(http_adapter, "settings", lambda: local)
    monkeypatch.setattr(webhooks_service, "settings", lambda: local)


@pytest.fixture
def webhooks_api(aws: None) -> Any:
    return load_function("webhooks").handler


def _refused_in_our_shape(status: int, error: dict[str, Any], code: str, locale: str, param: str = "url") -> None:
    assert status == 422, error
    assert error["code"] == "validation_failed" and error["param"] == param
    assert error["locale"] == locale and error["request_id"]
    assert error["message"] == translate(f"error.unsafe_url.{code}", locale)


def _headers(account: Account, locale: str) -> dict[str, str]:
    return {**account.auth, "Accept-Language": locale}


@pytest.mark.parametrize(("url", "code"), MALFORMED + LET_THROUGH)
@pytest.mark.parametrize("locale", LOCALES)
def test_post_webhooks_refuses_each_url_in_our_shape(webhooks_api, account, local_mode, url, code, locale):
    status, _, error = call(webhooks_api, "POST", "/webhooks", body={"url": url}, headers=_headers(account, locale))
    _refused_in_our_shape(status, error, code, locale)


@pytest.mark.parametrize(("url", "code"), MALFORMED + LET_THROUGH)
def test_patch_webhooks_refuses_each_url_in_our_shape_and_keeps_the_endpoint(
    webhooks_api, account, local_mode, url, code
):
    with file_server({}) as server:  # a loopback endpoint: allowed in local mode
        created = call(webhooks_api, "POST", "/webhooks", body={"url": f"{server.url}/hook"}, headers=account.auth)
    assert created[0] == 201
    webhook = created[2]
    for locale in LOCALES:
        status, _, error = call(
            webhooks_api, "PATCH", f"/webhooks/{webhook['id']}", body={"url": url}, headers=_headers(account, locale)
        )
        _refused_in_our_shape(status, error, code, locale)
    assert call(webhooks_api, "GET", f"/webhooks/{webhook['id']}", headers=account.auth)[2]["url"] == webhook["url"]


@pytest.mark.parametrize(
    ("url", "code"),
    [(url.replace("http://", "https://", 1), code) for url, code in MALFORMED + LET_THROUGH],
)
def test_outside_local_mode_the_same_urls_in_https_are_refused_too(webhooks_api, account, url, code):
    status, _, error = call(webhooks_api, "POST", "/webhooks", body={"url": url}, headers=account.auth)
    _refused_in_our_shape(status, error, code, "en")


@pytest.mark.parametrize(("url", "code"), MALFORMED + LET_THROUGH)
@pytest.mark.parametrize("locale", LOCALES)
def test_media_by_url_refuses_each_url_in_our_shape(messages_handler, account, local_mode, url, code, locale):
    body = {"instance_id": account.instance_id, "to": TO, "url": url}
    status, _, error = call(messages_handler, "POST", "/messages/image", body=body, headers=_headers(account, locale))
    _refused_in_our_shape(status, error, code, locale)
    assert list(MessageModel.scan()) == []


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ("http://127.0.0.1:99999/hook", "port"),  # was a 500: the old guard read .port outside its error handling
        ("http://127.0.0.1:0/x", "port"),
        ("http://exa mple.com/x", "malformed"),
        ("http://%31%32%37.0.0.1/x", "malformed"),
        ("http://127.1/", "malformed"),
        ("http://[::169.254.169.254]/latest/meta-data/", "link_local"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "link_local"),
        ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "link_local"),
        ("http://[2002:a9fe:a9fe::]/latest/meta-data/", "link_local"),
        ("http://192.0.0.8/", "reserved"),
        ("ftp://127.0.0.1/x", "scheme"),
        ("http://user:pw@127.0.0.1/x", "credentials"),
    ],
)
def test_a_redirect_to_a_malformed_or_unsafe_location_ends_as_a_clean_422(
    messages_handler, account, local_mode, location, code
):
    with file_server({}, {"/hop": location}) as server:
        body = {"instance_id": account.instance_id, "to": TO, "url": f"{server.url}/hop"}
        status, _, error = call(messages_handler, "POST", "/messages/image", body=body, headers=account.auth)
    assert server.hits == ["/hop"]  # the first hop was fetched, the Location never
    _refused_in_our_shape(status, error, code, "en")
    assert list(MessageModel.scan()) == []
    assert boto3.client("s3").list_objects_v2(Bucket=settings().bucket("media")).get("KeyCount", 0) == 0


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:abc/hook", "http://[::1/hook", "http://[abc]/", "http://[::1]]/x", "//[::1/x"]
)
def test_a_location_the_http_client_cannot_parse_is_a_failed_download(messages_handler, account, local_mode, location):
    """httpx reads every Location before we do (even not following it) and calls an unparseable one a protocol
    error: the download failed, a 422 on `url`, nothing followed."""
    with file_server({}, {"/hop": location}) as server:
        body = {"instance_id": account.instance_id, "to": TO, "url": f"{server.url}/hop"}
        status, _, error = call(messages_handler, "POST", "/messages/image", body=body, headers=account.auth)
    assert server.hits == ["/hop"]
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "url")
    assert error["message"] == translate("error.media_fetch_failed.network", "en")
    assert list(MessageModel.scan()) == []


def test_an_internationalised_name_is_fetched_by_its_a_label(messages_handler, account, local_mode, monkeypatch):
    """A valid IDN passes the guard and is sent with its ASCII form in the Host header (its Unicode form there
    raised UnicodeEncodeError: a 500)."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return real("127.0.0.1" if host == "xn--bcher-kva.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with file_server({"/cover.png": (png(2, 2), "image/png")}) as server:
        port = server.url.rsplit(":", 1)[1]
        body = {"instance_id": account.instance_id, "to": TO, "url": f"http://bücher.test:{port}/cover.png"}
        status, _, accepted = call(messages_handler, "POST", "/messages/image", body=body, headers=account.auth)
    assert status == 202, accepted
    assert server.hits == ["/cover.png"]
    assert [host for host in asked if host.endswith(".test")] == ["xn--bcher-kva.test"]  # then the pinned address
