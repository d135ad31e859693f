"""The adversarial review's sign-in findings (docs/reviews/2026-12-06-adversarial.md) over the memory fakes:
F21 the per-email budget holds under concurrency, F16 a suspension is told only to the right password, F5 a
sign-out needs its own session's bearer, F4 a password reset ends every earlier session, F3 anonymous sign-up
noise never spends the owner's reset codes."""

from __future__ import annotations

import threading
import time

import pytest

from bzapper.domain.errors import BzError
from bzapper.domain.identity import TokenClaims, ended_by
from bzapper.domain.keys import generate_key
from bzapper.services import auth
from bzapper.services.accounts import set_suspended

EMAIL = "maria@acme.com.br"
PASSWORD = "Corr3ct-horse!battery"
WRONG = "Wr0ng!password"
NEW_PASSWORD = "N3w-horse!!x-Battery"
BUDGET = auth.FAILED_SIGN_INS.limit


def refusal(action) -> BzError:
    with pytest.raises(BzError) as raised:
        action()
    return raised.value


def outcome(action) -> str:
    try:
        action()
    except BzError as error:
        return error.code
    return "ok"


def opened(fakes, email: str = EMAIL, password: str = PASSWORD) -> str:
    auth.sign_up(fakes.services, email=email, password=password, name="Acme", locale="en")
    code = fakes.identity.codes[("confirm", email)][0]
    return auth.confirm(fakes.services, email=email, code=code, password=password)


def sign_in(fakes, password: str = PASSWORD, email: str = EMAIL, client_address: str | None = None):
    return auth.sign_in(fakes.services, email=email, password=password, client_address=client_address)


# F21: at most the budget of password checks per email, whatever the concurrency -------------------------------


def test_concurrent_wrong_passwords_get_only_the_budgets_checks(fakes):
    """20 wrong passwords at once, all inside the identity service together before any answers: only the budget
    is asked, the rest are 429 before it (the peek-then-take let all 20 through)."""
    opened(fakes)
    attempts = 20
    release = threading.Event()
    inside = threading.Semaphore(0)

    def held_in_the_identity_service() -> None:
        inside.release()
        release.wait(timeout=30)

    fakes.identity.before_next("sign_in", held_in_the_identity_service, times=attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        result = outcome(lambda: sign_in(fakes, WRONG))
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    # Wait until every attempt is either answered or being checked, then let the checks answer.
    inside_count = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        while inside.acquire(blocking=False):
            inside_count += 1
        with lock:
            answered = len(outcomes)
        if inside_count + answered >= attempts:
            break
        time.sleep(0.005)
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert fakes.identity.call_count("sign_in") == BUDGET
    assert sorted(outcomes) == sorted(["invalid_credentials"] * BUDGET + ["rate_limited"] * (attempts - BUDGET))


def test_guesses_arriving_while_one_is_being_checked_share_its_budget(fakes):
    """The interleaving that broke the peek-then-take, step by step: while the first guess is inside the
    identity service, five more arrive and finish. With a reservation the first holds its token, so only four of
    them are checked; before, all five passed the peek and the first was checked too (six checks)."""
    opened(fakes)
    during: list[str] = []

    def five_more() -> None:
        during.extend(outcome(lambda: sign_in(fakes, WRONG)) for _ in range(BUDGET))

    fakes.identity.before_next("sign_in", five_more)
    assert outcome(lambda: sign_in(fakes, WRONG)) == "invalid_credentials"
    assert during == ["invalid_credentials"] * (BUDGET - 1) + ["rate_limited"]
    assert fakes.identity.call_count("sign_in") == BUDGET
    assert outcome(lambda: sign_in(fakes)) == "rate_limited"  # even the right password waits now


def test_a_right_password_gives_its_reservation_back(fakes):
    opened(fakes)
    for _ in range(BUDGET - 1):
        assert outcome(lambda: sign_in(fakes, WRONG)) == "invalid_credentials"
    for _ in range(3 * BUDGET):
        sign_in(fakes)  # never held back by its own successes
    assert outcome(lambda: sign_in(fakes, WRONG)) == "invalid_credentials"  # the budget's last check
    assert outcome(lambda: sign_in(fakes, WRONG)) == "rate_limited"


def test_a_refused_address_budget_gives_the_emails_reservation_back(fakes):
    """Both budgets are reserved or neither: an address past its own budget does not spend the email's."""
    opened(fakes)
    per_address = auth.FAILED_SIGN_INS_PER_ADDRESS.limit
    for index in range(per_address):
        email = f"ghost{index // BUDGET}@acme.com.br"
        assert outcome(lambda e=email: sign_in(fakes, WRONG, e, "198.51.100.7")) == "invalid_credentials"
    for _ in range(2 * BUDGET):
        assert outcome(lambda: sign_in(fakes, WRONG, client_address="198.51.100.7")) == "rate_limited"
    for _ in range(BUDGET):  # from elsewhere, the email still has its whole budget
        assert outcome(lambda: sign_in(fakes, WRONG, client_address="203.0.113.9")) == "invalid_credentials"


def test_wrong_passwords_at_confirmation_arriving_together_share_the_budget(fakes):
    """The same reservation guards the password check of a confirmation (it was a peek-then-take too)."""
    auth.sign_up(fakes.services, email=EMAIL, password=PASSWORD, name="Acme", locale="en")
    code = fakes.identity.codes[("confirm", EMAIL)][0]

    def confirm(password: str) -> str:
        return outcome(lambda: auth.confirm(fakes.services, email=EMAIL, code=code, password=password))

    during: list[str] = []
    fakes.identity.before_next("confirm", lambda: during.extend(confirm(WRONG) for _ in range(BUDGET)))
    assert confirm(WRONG) == "validation_failed"
    assert during == ["validation_failed"] * (BUDGET - 1) + ["rate_limited"]
    assert fakes.identity.call_count("confirm") == BUDGET


# F16: a suspension is told only to the right password -----------------------------------------------------------


def test_a_suspended_account_answers_a_wrong_password_like_an_unknown_email(fakes):
    account_id = opened(fakes)
    set_suspended(fakes.services, account_id, True)
    wrong = refusal(lambda: sign_in(fakes, WRONG))
    unknown = refusal(lambda: sign_in(fakes, WRONG, "ghost@acme.com.br"))
    assert (wrong.code, wrong.message_key) == (unknown.code, unknown.message_key)
    assert wrong.code == "invalid_credentials"
    right = refusal(lambda: sign_in(fakes))
    assert (right.code, right.message_key) == ("account_restricted", "error.account_suspended")
    # The session that sign-in opened is ended at once: its refresh token is refused.
    [refresh_token] = [t for t in fakes.identity.refresh_tokens if t in fakes.revocations.refresh_tokens]
    assert refusal(lambda: auth.refresh(fakes.services, refresh_token=refresh_token)).code == "unauthorized"
    set_suspended(fakes.services, account_id, False)
    sign_in(fakes)


def test_a_suspension_ends_the_owners_sessions_and_refresh_checks_it(fakes):
    account_id = opened(fakes)
    before = sign_in(fakes)
    set_suspended(fakes.services, account_id, True)
    assert refusal(lambda: auth.refresh(fakes.services, refresh_token=before.refresh_token)).code == "unauthorized"
    # A session that escaped the sign-out (the identity service's sign-out raced it) is still refused.
    set_suspended(fakes.services, account_id, False)
    escaped = sign_in(fakes)
    fakes.accounts.set_status(account_id, "suspended")
    assert refusal(lambda: auth.refresh(fakes.services, refresh_token=escaped.refresh_token)).code == (
        "account_restricted"
    )


# F5: a sign-out needs its own session's access token ------------------------------------------------------------


def test_a_sign_out_without_a_session_bearer_is_refused_and_revokes_nothing(fakes):
    opened(fakes)
    tokens = sign_in(fakes)
    for bearer, code in ((None, "unauthorized"), (generate_key("test"), "forbidden"), ("not-a-token", "unauthorized")):
        error = refusal(
            lambda b=bearer: auth.sign_out(fakes.services, refresh_token=tokens.refresh_token, access_token=b)
        )
        assert error.code == code
    assert refusal(
        lambda: auth.sign_out(fakes.services, refresh_token=tokens.refresh_token, access_token=None)
    ).message_key == ("error.sign_out_needs_session")
    assert fakes.revocations.refresh_tokens == set() and fakes.revocations.sessions == set()
    auth.refresh(fakes.services, refresh_token=tokens.refresh_token)


def test_a_refresh_token_of_another_user_or_session_is_422_and_nobody_is_signed_out(fakes):
    opened(fakes)
    opened(fakes, "bob@acme.com.br")
    mine, my_other = sign_in(fakes), sign_in(fakes)
    theirs = sign_in(fakes, email="bob@acme.com.br")
    for refresh_token in (theirs.refresh_token, my_other.refresh_token, "rt_unknown"):
        error = refusal(
            lambda r=refresh_token: auth.sign_out(fakes.services, refresh_token=r, access_token=mine.access_token)
        )
        assert (error.code, error.param, error.message_key) == (
            "validation_failed",
            "refresh_token",
            "error.refresh_token_not_this_session",
        )
    assert fakes.revocations.refresh_tokens == set() and fakes.revocations.sessions == set()
    for tokens in (mine, my_other, theirs):
        auth.session_claims(fakes.services, tokens.access_token)
        auth.refresh(fakes.services, refresh_token=tokens.refresh_token)


def test_a_sign_out_with_its_own_pair_ends_the_session_renewed_tokens_included(fakes):
    opened(fakes)
    tokens = sign_in(fakes)
    renewed = auth.refresh(fakes.services, refresh_token=tokens.refresh_token)
    auth.sign_out(fakes.services, refresh_token=tokens.refresh_token, access_token=renewed.access_token)
    for access_token in (tokens.access_token, renewed.access_token):
        assert refusal(lambda a=access_token: auth.session_claims(fakes.services, a)).code == "unauthorized"
    assert refusal(lambda: auth.refresh(fakes.services, refresh_token=tokens.refresh_token)).code == "unauthorized"


# F4: a password reset ends every session that signed in before it ----------------------------------------------


def _reset(fakes, password: str = NEW_PASSWORD) -> None:
    auth.forgot_password(fakes.services, email=EMAIL)
    code = fakes.identity.codes[("reset", EMAIL)][0]
    auth.reset_password(fakes.services, email=EMAIL, code=code, password=password)


def test_a_password_reset_ends_every_earlier_session(fakes, clock):
    opened(fakes)
    first, second = sign_in(fakes), sign_in(fakes)
    clock.advance(60_000)
    renewed = auth.refresh(fakes.services, refresh_token=first.refresh_token)  # renewed before the reset
    clock.advance(60_000)
    _reset(fakes)
    for access_token in (first.access_token, second.access_token, renewed.access_token):
        error = refusal(lambda a=access_token: auth.session_claims(fakes.services, a))
        assert (error.code, error.message_key) == ("unauthorized", "error.invalid_session")
    for refresh_token in (first.refresh_token, second.refresh_token):
        assert refusal(lambda r=refresh_token: auth.refresh(fakes.services, refresh_token=r)).code == "unauthorized"
    clock.advance(1_000)
    after = sign_in(fakes, NEW_PASSWORD)  # the sessions opened after the reset work
    auth.session_claims(fakes.services, after.access_token)
    auth.refresh(fakes.services, refresh_token=after.refresh_token)


def test_a_reset_refuses_old_sessions_even_if_the_identity_service_kept_their_refresh_tokens(fakes, clock):
    """Our own mark is enough: a refresh token the identity service still honours mints a token whose session
    signed in before the reset (Cognito keeps auth_time across renewals), and that is refused."""
    opened(fakes)
    before = sign_in(fakes)
    clock.advance(5_000)
    fakes.identity.revoked_refresh.clear()  # as if the global sign-out had not reached it
    _reset(fakes)
    fakes.identity.revoked_refresh.clear()
    assert refusal(lambda: auth.refresh(fakes.services, refresh_token=before.refresh_token)).code == "unauthorized"


def test_only_sessions_that_signed_in_by_the_resets_second_are_ended():
    def claims(at: int) -> TokenClaims:
        return TokenClaims("u", "s", 0, authenticated_at=at)

    assert not ended_by(claims(1_000), 0)
    assert ended_by(claims(9_999), 10_500) and ended_by(claims(10_999), 10_500)  # the reset's own second too
    assert not ended_by(claims(11_000), 10_500)


# F3: anonymous sign-up noise never spends the owner's reset codes -----------------------------------------------


def test_sign_ups_of_a_taken_email_send_one_notice_an_hour_and_the_reset_code_still_goes(fakes, clock):
    opened(fakes)
    for _ in range(12):
        assert auth.sign_up(fakes.services, email=EMAIL, password=PASSWORD, name="T", locale="en") is None
    assert len(fakes.mailer.sent) == 1 and "already" in fakes.mailer.sent[0].subject.lower()
    auth.forgot_password(fakes.services, email=EMAIL)
    assert ("reset", EMAIL) in fakes.identity.codes
    clock.advance(3600_000)
    auth.sign_up(fakes.services, email=EMAIL, password=PASSWORD, name="T", locale="en")
    assert len(fakes.mailer.sent) == 2  # the next hour, the next notice


def test_codes_keep_their_own_budget_of_ten_an_hour(fakes):
    opened(fakes)
    for _ in range(auth.EMAILS_PER_ADDRESS.limit):
        auth.forgot_password(fakes.services, email=EMAIL)
    fakes.identity.codes.pop(("reset", EMAIL))
    auth.forgot_password(fakes.services, email=EMAIL)
    assert ("reset", EMAIL) not in fakes.identity.codes  # the eleventh in the hour is not sent


def test_the_memory_rate_limit_store_gives_a_token_back_and_never_banks_one(fakes):
    from bzapper.domain.ratelimit import Bucket

    store, bucket = fakes.rate_limits, Bucket(2, 60_000)
    assert [store.take("b", bucket).allowed for _ in range(3)] == [True, True, False]
    store.give_back("b", bucket)
    assert [store.take("b", bucket).allowed for _ in range(2)] == [True, False]
    store.give_back("idle", bucket)
    assert [store.take("idle", bucket).allowed for _ in range(3)] == [True, True, False]
