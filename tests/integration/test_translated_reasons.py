"""Why a URL or an injected message is refused reads whole in the client's language: each reason is a catalog
text of its own, never an English reason inserted into a translated sentence."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from support.accounts import Account
from support.apigw import call
from support.media import file_server
from support.sandbox import served_network

from bzapper.adapters import http as http_adapter
from bzapper.config import settings
from bzapper.i18n import translate
from bzapper_dev.local.functions import load_function
from bzapper_dev.sandbox.network import SandboxNetwork

PHONE = "+5511988888888"
OWN = "+5511955550001"
# The English reasons the guard and the sandbox network word: none may reach a pt-BR or es answer.
ENGLISH_REASONS = [
    "link-local or metadata address",
    "private address",
    "loopback address",
    "does not resolve",
    "https is required",
    "credentials in URLs",
    "only http(s) URLs",
    "is not valid base64",
    "must be a base64 string",
    "a text needs",
    "media content needs",
    "could not be downloaded",
]


def _no_english(message: str) -> None:
    assert [reason for reason in ENGLISH_REASONS if reason in message] == []


def _headers(account: Account, locale: str) -> dict[str, str]:
    return {**account.auth, "Accept-Language": locale}


# -- the SSRF guard on webhook URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://169.254.169.254/latest", "error.unsafe_url.link_local"),
        ("https://10.0.0.8/hook", "error.unsafe_url.private"),
        ("https://127.0.0.1/hook", "error.unsafe_url.loopback"),
        ("https://nothing.invalid/hook", "error.unsafe_url.unresolvable"),
        ("http://example.com/hook", "error.unsafe_url.https_required"),
        ("https://user:pw@example.com/h", "error.unsafe_url.credentials"),
        ("ftp://example.com/x", "error.unsafe_url.scheme"),
    ],
)
@pytest.mark.parametrize("locale", ["pt-BR", "es"])
def test_a_refused_webhook_url_says_why_in_the_clients_language(aws, public_dns, account, url, key, locale):
    webhooks_api = load_function("webhooks").handler
    body = {"url": url}
    status, _, error = call(webhooks_api, "POST", "/webhooks", body=body, headers=_headers(account, locale))
    assert (status, error["code"], error["param"], error["locale"]) == (422, "validation_failed", "url", locale)
    assert error["message"] == translate(key, locale) != translate(key, "en")
    _no_english(error["message"])


def test_the_metadata_address_reads_whole_in_portuguese(aws, public_dns, account):
    webhooks_api = load_function("webhooks").handler
    body = {"url": "https://169.254.169.254/latest"}
    error = call(webhooks_api, "POST", "/webhooks", body=body, headers=_headers(account, "pt-BR"))[2]
    assert error["message"] == "Esta URL não pode ser usada: ela aponta para um endereço link-local ou de metadados."
    english = call(webhooks_api, "POST", "/webhooks", body=body, headers=_headers(account, "en"))[2]["message"]
    assert english == "This URL cannot be used: it points to a link-local or metadata address."


# -- media by URL: the guard on every hop, and the download's own failures -------------------------------


@pytest.fixture
def local_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mode for customer URLs only: loopback allowed (the test's file server), nothing else."""
    local = dataclasses.replace(settings(), local_mode=True)
    monkeypatch.setattr(http_adapter, "settings", lambda: local)


@pytest.mark.parametrize(
    ("path", "key", "params"),
    [
        ("/missing.jpg", "error.media_fetch_failed.http_status", {"status": "404"}),
        ("/to-metadata", "error.unsafe_url.link_local", {}),
        ("/loop", "error.media_fetch_failed.redirects", {}),
    ],
)
@pytest.mark.parametrize("locale", ["pt-BR", "es"])
def test_a_media_url_that_cannot_be_fetched_says_why_in_the_clients_language(
    aws, account, local_urls, path, key, params, locale
):
    messages_api = load_function("messages").handler
    redirects = {"/to-metadata": "http://169.254.169.254/latest/meta-data/", "/loop": "/loop"}
    with file_server({}, redirects) as server:
        body = {"instance_id": account.instance_id, "to": PHONE, "url": f"{server.url}{path}"}
        status, _, error = call(messages_api, "POST", "/messages/image", body=body, headers=_headers(account, locale))
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "url")
    assert error["message"] == translate(key, locale, **params) != translate(key, "en", **params)
    _no_english(error["message"])
    if path == "/missing.jpg" and locale == "es":
        assert error["message"] == "No se pudo descargar el archivo desde la URL: respondió HTTP 404."


# -- the sandbox network's refusals of an injected message ------------------------------------------------


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxNetwork]:
    yield from served_network(monkeypatch)


@pytest.fixture
def paired(svc: Any, account: Account, network: SandboxNetwork) -> Account:
    ref = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="New", status="disconnected")
    network.scan(account.account_id, ref.instance_id, OWN)
    return Account(account.account_id, account.api_key, ref.instance_id)


@pytest.mark.parametrize(
    ("data_base64", "key"),
    [
        ("!!", "error.sandbox_invalid_inbound.media_data_invalid"),
        ("%", "error.sandbox_invalid_inbound.media_data_invalid"),
    ],
)
@pytest.mark.parametrize("locale", ["pt-BR", "es"])
def test_an_injected_message_the_network_refuses_says_why_in_the_clients_language(
    aws, paired, data_base64, key, locale
):
    sandbox_api = load_function("sandbox").handler
    body = {
        "from": PHONE,
        "type": "image",
        "content": {"media": {"mime_type": "image/png", "data_base64": data_base64}},
    }
    path = f"/sandbox/instances/{paired.instance_id}/inbound"
    status, _, error = call(sandbox_api, "POST", path, body=body, headers=_headers(paired, locale))
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "content"), error
    assert error["message"] == translate(key, locale) != translate(key, "en")
    _no_english(error["message"])
    if locale == "pt-BR":
        assert error["message"] == "A mensagem simulada não é válida: content.media.data_base64 não é base64 válido."


# -- a closed sandbox checkout page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("close", "texts"),
    [
        ("complete", {"pt-BR": "Este checkout não está mais aberto: ele já foi pago.", "es": "ya se pagó"}),
        (
            "fail",
            {"pt-BR": "o pagamento foi recusado", "es": "Este checkout ya no está abierto: el pago fue rechazado."},
        ),
        ("expire", {"pt-BR": "Este checkout não está mais aberto: ele expirou.", "es": "ya no está abierto: caducó."}),
    ],
)
def test_a_closed_checkout_says_why_in_the_visitors_language(aws, account, close, texts):
    from support.apigw import LambdaContext, http_event

    from bzapper.adapters.aws.models import CheckoutModel

    billing, payments = load_function("billing").handler, load_function("payments").handler
    body = {"amount": 5_000, "method": "pix"}
    checkout_id = call(billing, "POST", "/billing/checkout", body=body, headers=account.auth)[2]["checkout_id"]
    page = f"/sandbox/checkout/{checkout_id}"
    if close == "expire":
        CheckoutModel.get(checkout_id).update(actions=[CheckoutModel.expires_at.set(1)])
    else:
        assert payments(http_event("POST", f"{page}/{close}"), LambdaContext())["statusCode"] == 200
    for locale, text in texts.items():
        answer = payments(http_event("GET", page, headers={"accept-language": locale}), LambdaContext())
        assert answer["statusCode"] == 409 and text in answer["body"]
        assert re.search(r"\b(paid|failed|expired)\b", answer["body"]) is None  # no English status word
