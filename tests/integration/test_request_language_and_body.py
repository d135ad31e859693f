"""What a request's body and Accept-Language header make of an error: a body that is JSON but not an object has
its own message, and "any language" keeps the account's."""

from __future__ import annotations

import pytest
from support.accounts import make_account
from support.apigw import call

TEXT = "/messages/text"


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "The request body must be a JSON object."),
        ("pt-BR", "O corpo da requisição deve ser um objeto JSON."),
        ("es", "El cuerpo de la solicitud debe ser un objeto JSON."),
    ],
)
@pytest.mark.parametrize("body", ["[1, 2]", '"hello"', "5", "null"])
def test_a_json_body_that_is_not_an_object_says_so(messages_handler, account, body, locale, message):
    headers = {**account.auth, "Accept-Language": locale}
    status, _, error = call(messages_handler, "POST", TEXT, raw_body=body, headers=headers)
    assert (status, error["code"], error["param"], error["message"]) == (
        422,
        "validation_failed",
        "request_body",
        message,
    )


def test_a_body_that_is_not_json_keeps_its_message(messages_handler, account):
    status, _, error = call(messages_handler, "POST", TEXT, raw_body="{not json", headers=account.auth)
    assert (status, error["param"], error["message"]) == (422, "request_body", "The request body is not valid JSON.")


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("*", "pt-BR"),
        ("es;q=0, *", "pt-BR"),
        ("fr, *;q=0.1", "pt-BR"),
        ("es, *", "es"),  # a named language still wins
        ("pt;q=0, *", "en"),  # the account's language excluded
    ],
)
def test_any_language_keeps_the_accounts(messages_handler, svc, accept_language, expected):
    brazilian = make_account(svc, locale="pt-BR")
    body = {"instance_id": "inst_nope", "to": "+5511988888888", "body": "x"}
    headers = {**brazilian.auth, "Accept-Language": accept_language}
    status, _, error = call(messages_handler, "POST", TEXT, body=body, headers=headers)
    assert status == 404 and error["locale"] == expected
