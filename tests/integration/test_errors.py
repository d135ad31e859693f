"""Every error is {code, message, locale, request_id, param?}, translated, never a framework body or trace."""

from __future__ import annotations

import pytest
from support.accounts import make_account
from support.apigw import call

ERROR_KEYS = {"code", "message", "locale", "request_id"}


def _assert_error(body, code):
    assert set(body) >= ERROR_KEYS, body
    assert body["code"] == code
    assert body["request_id"].startswith("req_")
    assert "Traceback" not in body["message"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer bz_test_unknown"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer sk_x"}],
)
def test_missing_or_bad_key_is_401(messages_handler, account, headers):
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "x"}
    status, response_headers, error = call(messages_handler, "POST", "/messages/text", body=body, headers=headers)
    assert status == 401
    assert response_headers["www-authenticate"] == "Bearer"
    _assert_error(error, "unauthorized")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"instance_id": "", "to": "+5511988888888", "body": "x"}, "instance_id"),  # omitted is fine, empty is not
        ({"instance_id": "i", "body": "x"}, "to"),
        ({"instance_id": "i", "to": "+5511988888888"}, "body"),
        ({"instance_id": "i", "to": "+5511988888888", "body": ""}, "body"),
        ({"instance_id": "i", "to": "+5511988888888", "body": "x" * 4097}, "body"),
        ({"instance_id": "i", "to": "+5511988888888", "body": "x", "colour": "red"}, "colour"),
        ({"instance_id": "i", "to": "+5511988888888", "body": 5}, "body"),
        ({"instance_id": "i", "to": "+5511988888888", "body": "x", "client_reference": "r" * 129}, "client_reference"),
        ([1, 2], "request_body"),
    ],
)
def test_invalid_body_is_422_with_param(messages_handler, account, body, param):
    status, _, error = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert status == 422
    _assert_error(error, "validation_failed")
    assert error["param"] == param


@pytest.mark.parametrize("to", ["hello", "+1 555", "+55 20 8888-8888", "abc@g.us", "12345@newsletter", ""])
def test_bad_recipient_is_422_on_to(messages_handler, account, to):
    body = {"instance_id": account.instance_id, "to": to, "body": "x"}
    status, _, error = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert status == 422
    assert error["param"] == "to"


def test_broken_json_is_422(messages_handler, account):
    status, _, error = call(messages_handler, "POST", "/messages/text", raw_body="{not json", headers=account.auth)
    assert status == 422
    _assert_error(error, "validation_failed")
    assert error["param"] == "request_body"


def test_unknown_route_is_404_and_wrong_method_405(platform_handler, messages_handler):
    status, _, error = call(platform_handler, "GET", "/nowhere")
    assert status == 404
    _assert_error(error, "not_found")

    status, headers, error = call(platform_handler, "DELETE", "/health")
    assert status == 405
    assert headers["allow"] == "GET"
    _assert_error(error, "method_not_allowed")

    status, headers, error = call(messages_handler, "PUT", "/messages/text")
    assert status == 405
    # The literal resource's own methods, as the contract lists them (GET is another resource's,
    # /messages/{message_id}).
    assert headers["allow"] == "POST"
    _assert_error(error, "method_not_allowed")

    status, headers, _ = call(messages_handler, "PUT", "/messages/msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q")
    assert status == 405
    assert headers["allow"] == "DELETE, GET, PATCH"


def test_message_translated_by_accept_language_else_account_locale(messages_handler, svc):
    spanish = make_account(svc, locale="es")
    body = {"instance_id": "inst_nope", "to": "+5511988888888", "body": "x"}

    _, _, error = call(messages_handler, "POST", "/messages/text", body=body, headers=spanish.auth)
    assert error["locale"] == "es"

    headers = {**spanish.auth, "Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}
    _, _, error = call(messages_handler, "POST", "/messages/text", body=body, headers=headers)
    assert error["locale"] == "pt-BR"
    english = call(
        messages_handler, "POST", "/messages/text", body=body, headers={**spanish.auth, "Accept-Language": "en"}
    )
    assert english[2]["message"] != error["message"]


def test_unexpected_exception_is_500_in_the_same_shape(messages_handler, account, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("bzapper.api.routers.messages.send_message", explode)
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "x"}
    status, headers, error = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert status == 500
    _assert_error(error, "internal_error")
    assert "secret internals" not in str(error)
    assert error["request_id"] == headers["x-request-id"]
    assert error["request_id"] in error["message"]


def test_request_id_comes_from_api_gateway(platform_handler):
    from support.apigw import LambdaContext, http_event

    event = http_event("GET", "/health")
    response = platform_handler(event, LambdaContext())
    assert response["statusCode"] == 200
    assert response["headers"]["x-request-id"] == "req_" + event["requestContext"]["requestId"]


def test_health_needs_no_key(platform_handler):
    assert call(platform_handler, "GET", "/health")[:1] == (200,)


def test_oversized_body_is_413(messages_handler, account):
    status, _, error = call(messages_handler, "POST", "/messages/text", raw_body="x" * 300_000, headers=account.auth)
    assert status == 413
    _assert_error(error, "payload_too_large")


def test_json_too_deep_to_parse_is_422_not_500(messages_handler, account):
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    status, _, error = call(messages_handler, "POST", "/messages/text", raw_body=deep, headers=account.auth)
    assert status == 422
    assert error["param"] == "request_body"


def test_head_is_answered_like_get_without_a_body(platform_handler):
    from support.apigw import LambdaContext, http_event

    response = platform_handler(http_event("HEAD", "/health"), LambdaContext())
    assert response["statusCode"] == 200
    assert not response.get("body")


@pytest.mark.parametrize(
    "message_id", ["msg_" + "A" * 3000, "msg_short", "../../etc/passwd", "MSG_01M87N2RV1RQHJ90B2B8GW183P"]
)
def test_malformed_ids_are_404_without_a_lookup(messages_handler, account, message_id):
    status, _, error = call(messages_handler, "GET", f"/messages/{message_id}", headers=account.auth)
    assert (status, error["code"]) == (404, "not_found")


def test_test_key_cannot_reach_live_instance_or_message(messages_handler, svc, account):
    live = svc.instances.create(account.account_id, livemode=True, engine="sandbox", name="Live", status="connected")
    body = {"instance_id": live.instance_id, "to": "+5511988888888", "body": "x"}
    status, _, error = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert (status, error["code"]) == (404, "not_found")


def test_a_wallet_conflict_is_retried_not_blamed_on_idempotency():
    from types import SimpleNamespace

    from pynamodb.exceptions import CancellationReason

    from bzapper.adapters.aws.messages import _cancellation_reason

    def reasons(*codes):
        return SimpleNamespace(cancellation_reasons=[CancellationReason(code=c) if c else None for c in codes])

    assert _cancellation_reason(reasons(None, None, None, "TransactionConflict", None)) == "conflict"
    assert _cancellation_reason(reasons(None, None, None, None, None, "TransactionConflict")) == "idempotency_conflict"
    assert _cancellation_reason(reasons(None, None, None, "ConditionalCheckFailed", None)) == "insufficient_balance"
    assert _cancellation_reason(reasons("ConditionalCheckFailed", None, None, None, None)) == "instance_not_connected"
    assert _cancellation_reason(reasons(None, None, None, "ThrottlingError", None)) == "busy"


@pytest.mark.parametrize(
    ("query", "param"),
    [("limit=1&limit=3", "limit"), ("cursor=a&limit=2&cursor=a", "cursor"), ("limit=&limit=", "limit")],
)
def test_a_query_parameter_sent_twice_is_400_naming_it(account, query, param):
    from bzapper_dev.local.functions import load_function

    webhooks = load_function("webhooks").handler
    headers = {**account.auth, "Accept-Language": "es"}
    status, response_headers, body = call(webhooks, "GET", "/webhooks", headers=headers, query=query)
    assert (status, body["code"], body["param"], body["locale"]) == (400, "bad_request", param, "es")
    assert param in body["message"] and response_headers["x-request-id"] == body["request_id"]
    status, _, _ = call(webhooks, "GET", "/webhooks", headers=account.auth, query="limit=1&cursor=")
    assert status == 200  # distinct parameters, an empty one included, are fine


def test_an_encoded_slash_stays_inside_its_path_parameter(account):
    """F14: `GET /instances/{id}%2Fqr` answered the QR route of that number (409 already_connected): the
    encoded slash was decoded before the app routed. API Gateway chose `GET /instances/{instance_id}`."""
    from bzapper_dev.local.functions import load_function

    instances = load_function("instances").handler
    status, _, body = call(instances, "GET", f"/instances/{account.instance_id}%2Fqr", headers=account.auth)
    assert (status, body["code"]) == (404, "not_found")
    status, _, body = call(instances, "GET", f"/instances/{account.instance_id}%2fqr", headers=account.auth)
    assert (status, body["code"]) == (404, "not_found")


@pytest.mark.parametrize("encoding", ["gzip", "br", " GZIP ", "deflate, identity"])
def test_a_compressed_or_labelled_compressed_body_is_refused(messages_handler, account, encoding):
    """F10: `Content-Encoding: gzip` over a plain JSON body was ignored (202, a message queued)."""
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "hi"}
    headers = {**account.auth, "Content-Encoding": encoding}
    status, _, error = call(messages_handler, "POST", "/messages/text", body=body, headers=headers)
    assert (status, error["code"], error["param"]) == (400, "bad_request", "Content-Encoding")


def test_an_identity_encoding_is_a_plain_body(messages_handler, account):
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "hi"}
    headers = {**account.auth, "Content-Encoding": "identity"}
    assert call(messages_handler, "POST", "/messages/text", body=body, headers=headers)[0] == 202
