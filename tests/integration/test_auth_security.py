"""The adversarial review's sign-in findings (docs/reviews/2026-12-06-adversarial.md), as they were observed over
HTTP, through the real handlers on moto: F21 concurrent wrong passwords get only the per-email budget, F16 a
suspension is told only to the right password, F5 a sign-out needs its own session's bearer and refresh token,
F4 a password reset ends every earlier session, F3 sign-ups of a taken email never block its reset code."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from support.apigw import call
from support.identity import PASSWORD, Pool, open_by_sign_up

from bzapper.adapters.aws.cognito import CognitoIdentity
from bzapper.services.accounts import set_suspended
from bzapper.services.auth import FAILED_SIGN_INS
from bzapper_dev.local.functions import load_function

EMAIL = "maria@acme.com.br"
OTHER = "bob@acme.com.br"
WRONG = "Wr0ng-password!"
NEW_PASSWORD = "N3w!Password99"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(auth_api, password: str = PASSWORD, email: str = EMAIL) -> tuple[int, dict]:
    status, _, body = call(auth_api, "POST", "/auth/login", body={"email": email, "password": password})
    return status, body


def logged_in(auth_api, password: str = PASSWORD, email: str = EMAIL) -> dict:
    status, body = login(auth_api, password, email)
    assert status == 200, body
    return body


def me(account_api, access_token: str) -> int:
    return call(account_api, "GET", "/me", headers=bearer(access_token))[0]


def refreshed(auth_api, refresh_token: str) -> tuple[int, dict]:
    status, _, body = call(auth_api, "POST", "/auth/refresh", body={"refresh_token": refresh_token})
    return status, body


def logout(auth_api, refresh_token: str, headers: dict[str, str] | None = None) -> tuple[int, dict | None]:
    status, _, body = call(auth_api, "POST", "/auth/logout", body={"refresh_token": refresh_token}, headers=headers)
    return status, body


# F21 -------------------------------------------------------------------------------------------------------------


def test_concurrent_wrong_passwords_are_checked_only_the_budgets_number_of_times(auth_api, pool, monkeypatch):
    """20 wrong passwords sent at once for one email: each request that reaches the identity service is held
    there until every request is either held or answered, so all of them overlap (the review saw 20 × 401)."""
    open_by_sign_up(pool, EMAIL, PASSWORD)
    attempts = 20
    release = threading.Event()
    asked: list[str] = []
    lock = threading.Lock()
    original = CognitoIdentity.sign_in

    def held(self: CognitoIdentity, email: str, password: str):  # type: ignore[no-untyped-def]
        with lock:
            asked.append(email)
        release.wait(timeout=30)
        return original(self, email, password)

    monkeypatch.setattr(CognitoIdentity, "sign_in", held)
    statuses: list[int] = []

    def attempt(index: int) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum runs on the thread's loop
        status, _ = login(auth_api, f"{WRONG}{index}")
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(attempts)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if len(asked) + len(statuses) >= attempts:
                break
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(timeout=60)

    assert len(asked) == FAILED_SIGN_INS.limit
    assert sorted(statuses) == [401] * FAILED_SIGN_INS.limit + [429] * (attempts - FAILED_SIGN_INS.limit)
    assert login(auth_api)[0] == 429  # the budget is spent: even the right password waits


def test_a_right_password_does_not_spend_the_budget(auth_api, pool):
    open_by_sign_up(pool, EMAIL, PASSWORD)
    for _ in range(FAILED_SIGN_INS.limit - 1):
        assert login(auth_api, WRONG)[0] == 401
    for _ in range(3):
        logged_in(auth_api)
    assert login(auth_api, WRONG)[0] == 401
    assert login(auth_api, WRONG)[0] == 429


# F16 -------------------------------------------------------------------------------------------------------------


def test_a_suspended_account_is_told_only_to_the_right_password(auth_api, account_api, pool, svc):
    tokens, account_id = open_by_sign_up(pool, EMAIL, PASSWORD)
    set_suspended(svc, account_id, True)
    wrong_status, wrong = login(auth_api, "Totally!Wrong99")
    unknown_status, unknown = login(auth_api, "Totally!Wrong99", "ghost@acme.com.br")
    assert (wrong_status, wrong["code"], wrong["message"]) == (unknown_status, unknown["code"], unknown["message"])
    assert (wrong_status, wrong["code"]) == (401, "invalid_credentials")
    status, right = login(auth_api)
    assert (status, right["code"]) == (403, "account_restricted")
    assert refreshed(auth_api, tokens["refresh_token"])[0] == 401  # the suspension signed its sessions out
    set_suspended(svc, account_id, False)
    assert me(account_api, logged_in(auth_api)["access_token"]) == 200


# F5 --------------------------------------------------------------------------------------------------------------


def test_a_sign_out_without_the_sessions_bearer_is_refused(auth_api, account_api, keys_api_for, pool):
    tokens, _ = open_by_sign_up(pool, EMAIL, PASSWORD)
    key = keys_api_for(tokens["access_token"])
    status, error = logout(auth_api, tokens["refresh_token"])
    assert (status, error["code"]) == (401, "unauthorized")
    status, error = logout(auth_api, tokens["refresh_token"], bearer(key))
    assert (status, error["code"]) == (403, "forbidden")
    assert refreshed(auth_api, tokens["refresh_token"])[0] == 200  # nothing was revoked
    assert me(account_api, tokens["access_token"]) == 200


def test_a_refresh_token_of_another_session_is_422_and_signs_nobody_out(auth_api, account_api, pool):
    mine, _ = open_by_sign_up(pool, EMAIL, PASSWORD)
    theirs, _ = open_by_sign_up(pool, OTHER, PASSWORD)
    my_other = logged_in(auth_api)
    for refresh_token in (theirs["refresh_token"], my_other["refresh_token"]):
        status, error = logout(auth_api, refresh_token, bearer(mine["access_token"]))
        assert (status, error["code"], error["param"]) == (422, "validation_failed", "refresh_token")
    for tokens in (mine, theirs, my_other):
        assert me(account_api, tokens["access_token"]) == 200
        assert refreshed(auth_api, tokens["refresh_token"])[0] == 200


def test_a_sign_out_with_its_own_pair_refuses_the_sessions_tokens(auth_api, account_api, pool):
    tokens, _ = open_by_sign_up(pool, EMAIL, PASSWORD)
    status, renewed = refreshed(auth_api, tokens["refresh_token"])
    assert status == 200
    assert logout(auth_api, tokens["refresh_token"], bearer(renewed["access_token"]))[0] == 204
    assert me(account_api, tokens["access_token"]) == 401  # the same session's first access token too
    assert me(account_api, renewed["access_token"]) == 401
    assert refreshed(auth_api, tokens["refresh_token"])[0] == 401


# F4 --------------------------------------------------------------------------------------------------------------


def _reset(auth_api, pool: Pool) -> None:
    assert call(auth_api, "POST", "/auth/password/forgot", body={"email": EMAIL})[0] == 202
    code = pool.code(EMAIL, subject_word="password")
    body = {"email": EMAIL, "code": code, "password": NEW_PASSWORD}
    status, _, answer = call(auth_api, "POST", "/auth/password/reset", body=body)
    assert status == 200, answer


def test_a_password_reset_ends_every_session_opened_before_it(auth_api, account_api, pool):
    first, _ = open_by_sign_up(pool, EMAIL, PASSWORD)
    second = logged_in(auth_api)
    _reset(auth_api, pool)
    for tokens in (first, second):
        status, error = refreshed(auth_api, tokens["refresh_token"])
        assert (status, error["code"]) == (401, "unauthorized")
        assert me(account_api, tokens["access_token"]) == 401
    time.sleep(1.1)  # auth_time has whole seconds: a session of the reset's own second is ended too
    after = logged_in(auth_api, NEW_PASSWORD)
    assert me(account_api, after["access_token"]) == 200
    assert refreshed(auth_api, after["refresh_token"])[0] == 200


# F3 --------------------------------------------------------------------------------------------------------------


def test_sign_ups_of_a_taken_email_do_not_block_its_reset_code(auth_api, pool):
    open_by_sign_up(pool, EMAIL, PASSWORD)
    before = len(pool.mailbox.messages(EMAIL))
    for _ in range(12):
        status, _, body = call(
            auth_api, "POST", "/auth/signup", body={"email": EMAIL, "password": "Str0ng!Passw0rd", "name": "T"}
        )
        assert (status, body) == (202, {"email": EMAIL, "status": "confirmation_pending"})
    notices = pool.mailbox.messages(EMAIL)[before:]
    assert len(notices) == 1 and "already" in notices[0]["subject"].lower()
    status, _, body = call(auth_api, "POST", "/auth/password/forgot", body={"email": EMAIL})
    assert (status, body["status"]) == (202, "reset_code_sent_if_registered")
    [reset] = pool.mailbox.messages(EMAIL)[before + 1 :]
    assert "password" in reset["subject"].lower()


@pytest.fixture
def keys_api_for(pool):
    keys = load_function("keys").handler

    def make(access_token: str) -> str:
        status, _, key = call(keys, "POST", "/keys", headers=bearer(access_token), body={"name": "k", "mode": "test"})
        assert status == 201, key
        return str(key["key"])

    return make


def test_the_rate_limit_store_gives_a_token_back_and_never_banks_one(aws):
    """The reservation's other half, on DynamoDB: a token given back is taken again; an idle bucket is full,
    so giving one back there adds nothing."""
    from bzapper.adapters.aws.ratelimits import RateLimitStore
    from bzapper.domain.ratelimit import Bucket

    store, bucket = RateLimitStore(), Bucket(2, 60_000)
    assert [store.take("b", bucket).allowed for _ in range(3)] == [True, True, False]
    store.give_back("b", bucket)
    assert [store.take("b", bucket).allowed for _ in range(2)] == [True, False]
    store.give_back("idle", bucket)
    assert [store.take("idle", bucket).allowed for _ in range(3)] == [True, True, False]
