"""Self-serve accounts through the real handlers on moto: sign-up (no account enumeration), confirmation that
opens the account, sign-in with throttling, sessions acting as the owner, refresh and sign-out, password reset;
and session tokens refused when tampered with, expired, from another pool or client, or signed out."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from support.apigw import call
from support.identity import PASSWORD, Pool, forged_token

from bzapper.config import settings
from bzapper.domain.model import wallet_id

EMAIL = "maria@acme.com.br"


def signed_up(auth_api, pool: Pool, email: str = EMAIL, locale: str = "pt-BR") -> str:
    status, _, body = call(
        auth_api, "POST", "/auth/signup", body={"email": email, "password": PASSWORD, "name": "Acme", "locale": locale}
    )
    assert (status, body) == (202, {"email": email, "status": "confirmation_pending"})
    return pool.code(email)


def confirmed(auth_api, pool: Pool, email: str = EMAIL) -> str:
    code = signed_up(auth_api, pool, email)
    status, _, body = call(auth_api, "POST", "/auth/confirm", body={"email": email, "code": code, "password": PASSWORD})
    assert status == 200, body
    return body["account_id"]


def logged_in(auth_api, email: str = EMAIL, password: str = PASSWORD) -> dict:
    status, _, tokens = call(auth_api, "POST", "/auth/login", body={"email": email, "password": password})
    assert status == 200, tokens
    return tokens


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def test_sign_up_confirm_and_sign_in_open_an_account_with_test_credits_and_a_connected_number(
    auth_api, account_api, pool, svc
):
    code = signed_up(auth_api, pool)
    [email] = pool.mailbox.messages(EMAIL)
    assert "bzapper" in email["subject"] and code in email["text"] and "Olá" in email["text"]  # in pt-BR

    status, _, body = call(auth_api, "POST", "/auth/confirm", body={"email": EMAIL, "code": code, "password": PASSWORD})
    assert status == 200 and body["status"] == "confirmed"
    account_id = body["account_id"]
    assert svc.wallets.balance(wallet_id(account_id, "test")) == settings().identity.signup_test_credits
    assert svc.wallets.balance(wallet_id(account_id, "live")) == 0
    [number] = svc.instances.of_account(account_id, False)
    assert (number.engine, number.status) == ("sandbox", "connected")
    assert svc.keys.list_for(account_id) == []  # no key until the user makes one

    tokens = logged_in(auth_api)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0 and tokens["refresh_token"]
    status, _, me = call(account_api, "GET", "/me", headers=bearer(tokens["access_token"]))
    assert (status, me["account_id"], me["livemode"], me["locale"]) == (200, account_id, False, "pt-BR")
    status, _, live = call(account_api, "GET", "/me", headers=bearer(tokens["access_token"], **{"Bz-Mode": "live"}))
    assert (status, live["livemode"]) == (200, True)
    status, _, error = call(account_api, "GET", "/me", headers=bearer(tokens["access_token"], **{"Bz-Mode": "prod"}))
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "Bz-Mode")


@pytest.mark.parametrize(("header", "status"), [("test", 200), (" TEST ", 200), ("live", 422), ("prod", 422)])
def test_a_key_is_its_own_mode_and_bz_mode_never_switches_it(account_api, account, header, status):
    """F18: a test key with `Bz-Mode: live` answered test data as if live; a key's mode is its prefix."""
    answered, _, body = call(account_api, "GET", "/me", headers={**account.auth, "Bz-Mode": header})
    assert answered == status
    if status == 200:
        assert body["livemode"] is False
    else:
        assert (body["code"], body["param"]) == ("validation_failed", "Bz-Mode")


def test_a_taken_email_answers_like_a_new_one_and_gets_a_notice_instead(auth_api, pool):
    confirmed(auth_api, pool)
    before = len(pool.mailbox.messages(EMAIL))
    status, _, body = call(
        auth_api, "POST", "/auth/signup", body={"email": EMAIL.upper(), "password": PASSWORD, "name": "X"}
    )
    assert (status, body) == (202, {"email": EMAIL, "status": "confirmation_pending"})
    notices = pool.mailbox.messages(EMAIL)[before:]
    assert len(notices) == 1 and "already" in notices[0]["subject"].lower()
    assert not any(ch.isdigit() for ch in notices[0]["text"])  # no code: nothing to confirm


def test_a_second_sign_up_of_an_unconfirmed_email_sends_a_new_code_and_only_it_works(auth_api, pool):
    first = signed_up(auth_api, pool)
    second = signed_up(auth_api, pool)
    status, _, error = call(
        auth_api, "POST", "/auth/confirm", body={"email": EMAIL, "code": first, "password": PASSWORD}
    )
    if first != second:
        assert (status, error["code"], error["param"]) == (422, "validation_failed", "code")
    status, _, _ = call(auth_api, "POST", "/auth/confirm", body={"email": EMAIL, "code": second, "password": PASSWORD})
    assert status == 200


ATTACKER = "Attack3r!Pass1"
OWNER = "Own3r!Passw0rd"


def _sign_up(auth_api, pool: Pool, password: str, name: str) -> str:
    body = {"email": EMAIL, "password": password, "name": name, "locale": "en"}
    status, _, answer = call(auth_api, "POST", "/auth/signup", body=body)
    assert (status, answer) == (202, {"email": EMAIL, "status": "confirmation_pending"})
    return pool.code(EMAIL)


def _confirm(auth_api, code: str, password: str) -> tuple[int, dict]:
    status, _, body = call(auth_api, "POST", "/auth/confirm", body={"email": EMAIL, "code": code, "password": password})
    return status, body


def _login(auth_api, password: str) -> int:
    return call(auth_api, "POST", "/auth/login", body={"email": EMAIL, "password": password})[0]


def test_a_strangers_earlier_sign_up_leaves_no_password_or_name_behind(auth_api, pool):
    """F26: a stranger signs up the owner's email first; the owner signs up, confirms, and the account is theirs."""
    _sign_up(auth_api, pool, ATTACKER, "Mallory")
    code = _sign_up(auth_api, pool, OWNER, "Owner")
    assert "Mallory" not in pool.mailbox.messages(EMAIL)[-1]["text"]  # the new code greets the newest sign-up
    assert _confirm(auth_api, code, OWNER)[0] == 200
    assert _login(auth_api, ATTACKER) == 401
    assert _login(auth_api, OWNER) == 200


def test_a_strangers_sign_up_between_the_owners_and_the_confirmation_is_refused(auth_api, pool):
    """F26, the other order: the code mailed after the stranger's sign-up confirms only the stranger's password,
    which the owner does not have; the owner's own sign-up again wins."""
    first = _sign_up(auth_api, pool, OWNER, "Owner")
    second = _sign_up(auth_api, pool, ATTACKER, "Mallory")
    for code in {first, second}:
        status, error = _confirm(auth_api, code, OWNER)
        assert (status, error["code"]) == (422, "validation_failed")
    assert _login(auth_api, ATTACKER) == 403  # still unconfirmed: not signed in
    code = _sign_up(auth_api, pool, OWNER, "Owner")
    assert _confirm(auth_api, code, OWNER)[0] == 200
    assert _login(auth_api, ATTACKER) == 401
    assert _login(auth_api, OWNER) == 200


def test_a_confirmation_with_a_wrong_password_reads_the_same_for_an_unknown_email(auth_api, pool):
    code = _sign_up(auth_api, pool, OWNER, "Owner")
    status, _, unknown = call(
        auth_api, "POST", "/auth/confirm", body={"email": "ghost@acme.com.br", "code": code, "password": ATTACKER}
    )
    status_known, known = _confirm(auth_api, code, ATTACKER)
    assert (status, unknown["param"], unknown["message"]) == (status_known, known["param"], known["message"])
    assert (status, known["param"]) == (422, "password")
    assert _confirm(auth_api, code, OWNER)[0] == 200  # a wrong password did not spend the code


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short1!A", "at least 10"),
        ("alllowercase1!", "uppercase"),
        ("NoDigits!!Here", "digit"),
        ("NoSymbols123A", "symbol"),
    ],
)
def test_a_weak_password_is_refused_naming_the_rule(auth_api, pool, password, rule):
    status, _, error = call(auth_api, "POST", "/auth/signup", body={"email": EMAIL, "password": password, "name": "A"})
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "password")
    assert rule in error["message"]
    assert pool.mailbox.messages(EMAIL) == []


def test_a_wrong_code_is_422_and_a_code_is_void_after_five_wrong_guesses(auth_api, pool):
    code = signed_up(auth_api, pool)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        status, _, error = call(
            auth_api, "POST", "/auth/confirm", body={"email": EMAIL, "code": wrong, "password": PASSWORD}
        )
        assert (status, error["code"], error["param"]) == (422, "validation_failed", "code")
    status, _, error = call(
        auth_api, "POST", "/auth/confirm", body={"email": EMAIL, "code": code, "password": PASSWORD}
    )
    assert (status, error["param"]) == (422, "code")  # too late: ask for a new one


def test_bad_credentials_are_401_the_same_for_an_unknown_email_then_throttled(auth_api, pool):
    confirmed(auth_api, pool)
    for email in (EMAIL, "nobody@acme.com.br"):
        status, _, error = call(auth_api, "POST", "/auth/login", body={"email": email, "password": "Wr0ng-password!"})
        assert (status, error["code"]) == (401, "invalid_credentials")
    for _ in range(4):
        call(auth_api, "POST", "/auth/login", body={"email": EMAIL, "password": "Wr0ng-password!"})
    status, headers, error = call(auth_api, "POST", "/auth/login", body={"email": EMAIL, "password": PASSWORD})
    assert (status, error["code"]) == (429, "rate_limited") and int(headers["retry-after"]) > 0


def test_refresh_and_sign_out(auth_api, account_api, pool):
    confirmed(auth_api, pool)
    tokens = logged_in(auth_api)
    status, _, renewed = call(auth_api, "POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert status == 200 and renewed["refresh_token"] == tokens["refresh_token"]
    assert call(account_api, "GET", "/me", headers=bearer(renewed["access_token"]))[0] == 200

    status, _, _ = call(
        auth_api,
        "POST",
        "/auth/logout",
        body={"refresh_token": tokens["refresh_token"]},
        headers=bearer(tokens["access_token"]),
    )
    assert status == 204
    status, _, error = call(auth_api, "POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert (status, error["code"]) == (401, "unauthorized")
    status, _, error = call(account_api, "GET", "/me", headers=bearer(tokens["access_token"]))
    assert (status, error["code"]) == (401, "unauthorized")  # the session's access token is refused too


def test_a_password_reset_by_mailed_code(auth_api, pool):
    confirmed(auth_api, pool)
    status, _, body = call(auth_api, "POST", "/auth/password/forgot", body={"email": EMAIL})
    assert (status, body["status"]) == (202, "reset_code_sent_if_registered")
    status, _, body = call(auth_api, "POST", "/auth/password/forgot", body={"email": "ghost@acme.com.br"})
    assert (status, body["status"]) == (202, "reset_code_sent_if_registered")  # the same answer
    assert pool.mailbox.messages("ghost@acme.com.br") == []
    code = pool.code(EMAIL, subject_word="senha")  # the account's language: pt-BR
    weak = {"email": EMAIL, "code": code, "password": "weak"}
    assert call(auth_api, "POST", "/auth/password/reset", body=weak)[2]["param"] == "password"  # moto would accept it
    status, _, _ = call(
        auth_api, "POST", "/auth/password/reset", body={"email": EMAIL, "code": code, "password": "N3w-horse!!x"}
    )
    assert status == 200
    assert call(auth_api, "POST", "/auth/login", body={"email": EMAIL, "password": PASSWORD})[0] == 401
    logged_in(auth_api, password="N3w-horse!!x")


def _payload(token: str) -> dict:
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_tampered_expired_foreign_and_id_tokens_are_refused(auth_api, account_api, pool):
    confirmed(auth_api, pool)
    tokens = logged_in(auth_api)
    genuine = _payload(tokens["access_token"])
    assert call(account_api, "GET", "/me", headers=bearer(tokens["access_token"]))[0] == 200

    header, _, signature = tokens["access_token"].split(".")
    tampered_claims = {**genuine, "sub": "someone-else"}
    tampered_body = base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).decode().rstrip("=")
    tampered = f"{header}.{tampered_body}.{signature}"

    from cryptography.hazmat.primitives.asymmetric import rsa

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    other_pool = cognito.create_user_pool(PoolName="elsewhere")["UserPool"]["Id"]
    other_issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{other_pool}"
    refused = {
        "tampered": tampered,
        "expired": forged_token({**genuine, "iat": genuine["iat"] - 7200, "exp": genuine["iat"] - 3600}),
        "another pool": forged_token({**genuine, "iss": other_issuer}),
        "another client": forged_token({**genuine, "client_id": "someoneelsesclient"}),
        "an id token": forged_token({**genuine, "token_use": "id"}),
        "another key": forged_token(genuine, key=other_key),
        "not a jwt": "eyJhbGciOi.not-a-token",
        "no algorithm": forged_token(genuine).split(".")[0] + "." + tampered_body + ".",
    }
    for name, token in refused.items():
        status, _, error = call(account_api, "GET", "/me", headers=bearer(token))
        assert (status, error["code"]) == (401, "unauthorized"), name
    # The same claims, freshly signed: accepted (so each refusal above is for its own reason).
    assert call(account_api, "GET", "/me", headers=bearer(forged_token(genuine)))[0] == 200


def test_an_address_the_identity_service_refuses_is_a_422_on_email_not_a_500(auth_api, pool):
    """Found by the contract fuzzing: an address of the right shape that Cognito (and moto) will not take."""
    for path, body in (
        ("/auth/signup", {"email": "0@0.0", "password": PASSWORD, "name": "A"}),
        ("/auth/login", {"email": "0@0.0", "password": PASSWORD}),
        ("/auth/password/forgot", {"email": "0@0.0"}),
        ("/auth/confirm", {"email": "0@0.0", "code": "123456", "password": PASSWORD}),
    ):
        status, _, body = call(auth_api, "POST", path, body=body)
        assert status < 500, (path, body)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"email": "a..b@example.com"}, "email"),  # two dots in a row: not a dot-atom (RFC 5321)
        ({"email": "a.@example.com"}, "email"),
        ({"email": "a@-example.com"}, "email"),  # a label starting with a hyphen (RFC 1035)
        ({"email": "a@example-.com"}, "email"),
        ({"name": "\u0000"}, "name"),  # F17: reached the console and the email's greeting
        ({"name": "Ana\u202eanuS"}, "name"),  # a right-to-left override
        ({"name": "Ana\nBcc: x@example.com"}, "name"),
    ],
)
def test_undeliverable_addresses_and_hidden_characters_in_names_are_refused(auth_api, pool, body, param):
    """F17: these were accepted (202) and the code mailed to an address that bounces, or a name that hides text."""
    signup = {"email": "ana@example.com", "password": PASSWORD, "name": "Ana", **body}
    status, _, error = call(auth_api, "POST", "/auth/signup", body=signup)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", param)
    assert pool.mailbox.messages(signup["email"]) == []
