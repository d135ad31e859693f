"""Request bodies through the real handlers: a value of another JSON type is refused, not converted; a key given
twice is refused, not resolved by its last value; a broken multipart form and a bad payment signature each say
what they are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.apigw import LambdaContext, call, http_event
from support.media import binary_event, multipart, png
from support.sandbox import served_network

from bzapper.adapters.payments.base import sign
from bzapper.adapters.payments.sandbox import sandbox_secret
from bzapper_dev.local.functions import load_function
from bzapper_dev.sandbox.network import SandboxNetwork

TO = "+5511988888888"
INTEGER = "The field '{}' must be a JSON integer (like 5, not \"5\" or 5.0)."
NUMBER = "The field '{}' must be a JSON number (like 12.5, not \"12.5\")."
BOOLEAN = "The field '{}' must be true or false (not 1 or \"true\")."


@pytest.fixture
def billing(aws):
    return load_function("billing").handler


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxNetwork]:
    yield from served_network(monkeypatch)


def _raw(handler: Any, path: str, raw: str, account: Any, **headers: str) -> tuple[int, Any]:
    status, _, body = call(handler, "POST", path, raw_body=raw, headers={**account.auth, **headers})
    return status, body


@pytest.mark.parametrize("amount", ['"1000"', "1000.0", "1e3", "5000.5", "true"])
def test_a_checkout_amount_is_a_json_integer(billing, account, amount):
    status, error = _raw(billing, "/billing/checkout", f'{{"amount": {amount}}}', account)
    assert (status, error["code"], error["param"], error["message"]) == (
        422,
        "validation_failed",
        "amount",
        INTEGER.format("amount"),
    )


def test_a_checkout_amount_given_as_an_integer_still_opens_a_checkout(billing, account):
    status, body = _raw(billing, "/billing/checkout", '{"amount": 1000}', account)
    assert (status, body["amount"]) == (201, 1000)


@pytest.mark.parametrize("length", ['"6"', "6.0", "6e0"])
def test_an_otp_length_is_a_json_integer(messages_handler, account, length):
    raw = f'{{"instance_id": "{account.instance_id}", "to": "{TO}", "length": {length}}}'
    status, error = _raw(messages_handler, "/messages/otp", raw, account)
    assert (status, error["param"], error["message"]) == (422, "length", INTEGER.format("length"))


@pytest.mark.parametrize(("field", "value"), [("latitude", '"12.5"'), ("longitude", '"-46.6"'), ("latitude", "true")])
def test_a_location_is_made_of_json_numbers(messages_handler, account, field, value):
    fields = {"latitude": "-23.56", "longitude": "-46.65", field: value}
    raw = f'{{"instance_id": "{account.instance_id}", "to": "{TO}", ' + ", ".join(
        f'"{name}": {text}' for name, text in fields.items()
    )
    status, error = _raw(messages_handler, "/messages/location", raw + "}", account)
    assert (status, error["param"], error["message"]) == (422, field, NUMBER.format(field))


def test_a_json_integer_is_a_number(messages_handler, account):
    raw = f'{{"instance_id": "{account.instance_id}", "to": "{TO}", "latitude": -23, "longitude": -46}}'
    status, body = _raw(messages_handler, "/messages/location", raw, account)
    assert (status, body["status"]) == (202, "queued")


@pytest.mark.parametrize("voice", ["1", '"true"'])
def test_a_voice_note_flag_is_a_json_boolean(messages_handler, account, voice):
    media = "med_01JD5V6W4E7R8T9Y0V1W2X3Y4Z"
    raw = f'{{"instance_id": "{account.instance_id}", "to": "{TO}", "media_id": "{media}", "voice": {voice}}}'
    status, error = _raw(messages_handler, "/messages/audio", raw, account)
    assert (status, error["param"], error["message"]) == (422, "voice", BOOLEAN.format("voice"))


def test_the_type_refusal_is_translated(billing, account):
    status, error = _raw(billing, "/billing/checkout", '{"amount": "1000"}', account, **{"Accept-Language": "pt-BR"})
    assert (status, error["message"]) == (
        422,
        "O campo 'amount' deve ser um número inteiro JSON (como 5, não \"5\" nem 5.0).",
    )


def test_an_injected_location_is_made_of_json_numbers(network, account):
    sandbox = load_function("sandbox").handler
    raw = '{"from": "+5511988888888", "type": "location", "content": {"latitude": "12.5", "longitude": 1}}'
    status, error = _raw(sandbox, f"/sandbox/instances/{account.instance_id}/inbound", raw, account)
    assert (status, error["param"], error["message"]) == (422, "content.latitude", NUMBER.format("content.latitude"))


# --- a key given twice ---------------------------------------------------------------------------------------


def test_a_key_given_twice_is_refused_not_resolved_by_its_last_value(billing, account):
    status, error = _raw(billing, "/billing/checkout", '{"amount": 500, "amount": 5000}', account)
    assert (status, error["code"], error["param"], error["message"]) == (
        422,
        "validation_failed",
        "amount",
        "The field 'amount' appears more than once in the request body: give each field once.",
    )


def test_a_key_given_twice_deep_in_the_body_is_named_by_its_path(messages_handler, account):
    raw = (
        f'{{"instance_id": "{account.instance_id}", "to": "{TO}", '
        '"contacts": [{"name": "Maria", "phones": [{"number": "+5511977770001", "type": "CELL", "type": "WORK"}]}]}'
    )
    status, error = _raw(messages_handler, "/messages/contact", raw, account, **{"Accept-Language": "es"})
    assert (status, error["param"], error["message"]) == (
        422,
        "contacts.0.phones.0.type",
        "El campo 'contacts.0.phones.0.type' aparece más de una vez en el cuerpo de la solicitud: indica cada "
        "campo una sola vez.",
    )


# --- a broken multipart form ---------------------------------------------------------------------------------


def _broken_uploads() -> dict[str, tuple[bytes, str]]:
    body, header = multipart("file", "photo.png", png(2, 2), "image/png")
    return {
        "no boundary": (body, "multipart/form-data"),
        "not multipart at all": (b"just some bytes\r\n\r\n", header),
        "a part without its headers' colon": (body.replace(b"Content-Disposition:", b"Content-Disposition"), header),
    }


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        (
            "en",
            "The request body is not a valid multipart/form-data body (check its boundary and each part's headers).",
        ),
        (
            "pt-BR",
            "O corpo da requisição não é um multipart/form-data válido (verifique o boundary e os cabeçalhos de cada "
            "parte).",
        ),
    ],
)
@pytest.mark.parametrize("case", list(_broken_uploads()))
def test_a_broken_multipart_upload_says_so_not_that_it_is_bad_json(aws, account, case, locale, message):
    body, content_type = _broken_uploads()[case]
    headers = {**account.auth, "Accept-Language": locale}
    event = binary_event(http_event("POST", "/media", headers=headers, raw_body=""), body, content_type)
    response = load_function("media").handler(event, LambdaContext())
    error = json.loads(response["body"])
    assert (response["statusCode"], error["code"], error["param"], error["message"]) == (
        422,
        "validation_failed",
        "request_body",
        message,
    )


# --- the payment provider's signature ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [None, "t=1,v1=00", "garbage", sign(b'{"other": "body"}', sandbox_secret())],
    ids=["missing", "stale and wrong", "unparsable", "of another body"],
)
def test_a_bad_payment_signature_is_a_400_invalid_signature_not_an_api_key_error(aws, signature):
    payments = load_function("payments").handler
    headers = {"Stripe-Signature": signature} if signature else {}
    status, response_headers, error = call(
        payments, "POST", "/billing/webhooks/stripe", raw_body='{"type": "checkout.session.completed"}', headers=headers
    )
    assert (status, error["code"]) == (400, "invalid_signature")
    assert error["message"] == (
        "Missing or invalid Stripe-Signature header: it must be a recent signature of this exact body with the "
        "endpoint's webhook secret."
    )
    assert "www-authenticate" not in response_headers  # no API key (Bearer) is involved


@pytest.fixture
def inbox_handler(aws):
    return load_function("inbox").handler


@pytest.mark.parametrize("limit", ["%201", "1%20", "%2B1", "1.0", "0x1", "%D9%A1"])  # the last: an Arabic-Indic 1
def test_a_page_limit_is_written_in_decimal_digits(inbox_handler, account, limit):
    """F7: `?limit=%201` (" 1") was read as 1; a padded or signed number is the caller's bug, said so."""
    query = f"instance_id={account.instance_id}&limit={limit}"
    status, _, error = call(inbox_handler, "GET", "/conversations", query=query, headers=account.auth)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "limit")
    assert error["message"] == "The parameter 'limit' must be an integer written in decimal digits only (like 25)."


def test_a_page_limit_in_digits_reads(inbox_handler, account):
    query = f"instance_id={account.instance_id}&limit=07"
    status, _, page = call(inbox_handler, "GET", "/conversations", query=query, headers=account.auth)
    assert status == 200 and "data" in page
