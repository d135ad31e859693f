"""Console users over the memory fakes: no enumeration, the account opened once at confirmation, sign-in
throttled before the identity service is asked, sessions revoked by sign-out."""

from __future__ import annotations

import pytest

from bzapper.domain.errors import BzError
from bzapper.domain.identity import NewUser, TooManyAttempts
from bzapper.domain.model import wallet_id
from bzapper.services import auth
from bzapper.services.accounts import provision_owner

EMAIL = "maria@acme.com.br"
PASSWORD = "Corr3ct-horse!battery"


def refusal(action) -> BzError:
    with pytest.raises(BzError) as raised:
        action()
    return raised.value


def signed_up(fakes, email: str = EMAIL) -> str:
    auth.sign_up(fakes.services, email=email, password=PASSWORD, name="Acme", locale="pt-BR")
    return fakes.identity.codes[("confirm", EMAIL)][0]


def test_sign_up_normalises_the_email_and_a_taken_one_gets_a_notice_not_an_error(fakes):
    code = signed_up(fakes, "  Maria@ACME.com.br ")
    assert ("confirm", EMAIL) in fakes.identity.codes
    auth.confirm(fakes.services, email=EMAIL, code=code, password=PASSWORD)
    auth.sign_up(fakes.services, email=EMAIL, password=PASSWORD, name="Other", locale="es")  # no error
    [notice] = fakes.mailer.sent
    assert notice.to == EMAIL and "Ya tienes" in notice.subject  # the language of whoever tried


ATTACKER = "Attack3r!Pass1"
OWNER = "Own3r!Passw0rd"


def _sign_up(fakes, password: str, name: str) -> str:
    auth.sign_up(fakes.services, email=EMAIL, password=password, name=name, locale="en")
    return fakes.identity.codes[("confirm", EMAIL)][0]


def test_an_unconfirmed_email_signing_up_again_gets_a_new_code_and_the_old_one_is_void(fakes):
    first = signed_up(fakes)
    second = _sign_up(fakes, PASSWORD, "Acme")
    assert fakes.identity.call_count("replace_pending") == 1 and fakes.mailer.sent == []
    if first != second:
        error = refusal(lambda: auth.confirm(fakes.services, email=EMAIL, code=first, password=PASSWORD))
        assert error.param == "code"
    auth.confirm(fakes.services, email=EMAIL, code=second, password=PASSWORD)
    auth.sign_in(fakes.services, email=EMAIL, password=PASSWORD)


def test_a_strangers_earlier_sign_up_never_keeps_its_password_or_name(fakes):
    """F26: the stranger signs up first, the mailbox's owner after; the owner's sign-up replaces the pending one."""
    _sign_up(fakes, ATTACKER, "Mallory")
    code = _sign_up(fakes, OWNER, "Owner")
    account_id = auth.confirm(fakes.services, email=EMAIL, code=code, password=OWNER)
    assert fakes.accounts.get(account_id).owner_email == EMAIL
    assert fakes.identity.users[EMAIL].name == "Owner"
    assert refusal(lambda: auth.sign_in(fakes.services, email=EMAIL, password=ATTACKER)).code == "invalid_credentials"
    auth.sign_in(fakes.services, email=EMAIL, password=OWNER)


def test_a_strangers_sign_up_after_the_owners_cannot_be_confirmed_by_the_owner(fakes):
    """F26, the other order: the stranger signs up again between the owner's sign-up and confirmation. The code
    the owner then receives is for the stranger's password, and the owner's password refuses it; the owner signs up
    again and confirms their own."""
    first = _sign_up(fakes, OWNER, "Owner")
    second = _sign_up(fakes, ATTACKER, "Mallory")
    for code in {first, second}:
        error = refusal(lambda code=code: auth.confirm(fakes.services, email=EMAIL, code=code, password=OWNER))
        assert error.code == "validation_failed"
    assert fakes.identity.is_confirmed(EMAIL) is False
    code = _sign_up(fakes, OWNER, "Owner")
    auth.confirm(fakes.services, email=EMAIL, code=code, password=OWNER)
    assert refusal(lambda: auth.sign_in(fakes.services, email=EMAIL, password=ATTACKER)).code == "invalid_credentials"
    auth.sign_in(fakes.services, email=EMAIL, password=OWNER)


def test_a_confirmation_with_another_password_is_422_on_password_whether_or_not_the_email_exists(fakes):
    code = _sign_up(fakes, OWNER, "Owner")
    wrong = refusal(lambda: auth.confirm(fakes.services, email=EMAIL, code=code, password=ATTACKER))
    unknown = refusal(lambda: auth.confirm(fakes.services, email="ghost@acme.com.br", code=code, password=ATTACKER))
    assert (wrong.code, wrong.param, wrong.message_key) == (unknown.code, unknown.param, unknown.message_key)
    assert (wrong.code, wrong.param) == ("validation_failed", "password")
    auth.confirm(fakes.services, email=EMAIL, code=code, password=OWNER)  # the code was not spent


def test_wrong_passwords_at_confirmation_are_throttled_like_sign_ins(fakes):
    code = _sign_up(fakes, OWNER, "Owner")
    for _ in range(5):
        refusal(lambda: auth.confirm(fakes.services, email=EMAIL, code=code, password=ATTACKER))
    asked = fakes.identity.call_count("confirm")
    assert refusal(lambda: auth.confirm(fakes.services, email=EMAIL, code=code, password=OWNER)).code == "rate_limited"
    assert fakes.identity.call_count("confirm") == asked


@pytest.mark.parametrize(("email", "param"), [("not-an-email", "email"), ("a@b", "email")])
def test_a_malformed_email_is_422_on_email(fakes, email, param):
    error = refusal(lambda: auth.sign_up(fakes.services, email=email, password=PASSWORD, name="A", locale="en"))
    assert (error.code, error.param) == ("validation_failed", param)


def test_the_confirmation_opens_the_account_once_with_credits_and_a_sandbox_number(fakes):
    code = signed_up(fakes)
    account_id = auth.confirm(fakes.services, email=EMAIL, code=code, password=PASSWORD)
    user_id = next(u.user_id for u in fakes.identity.users.values())
    assert fakes.accounts.account_of_user(user_id) == account_id
    assert fakes.accounts.get(account_id).owner_email == EMAIL
    balance = fakes.wallets.balance(wallet_id(account_id, "test"))
    assert balance > 0 and fakes.wallets.balance(wallet_id(account_id, "live")) == 0
    # Opening it again (a retry, or a sign-in after a crash) changes nothing.
    assert provision_owner(fakes.services, NewUser(user_id, EMAIL, "Acme", "pt-BR")) == account_id
    assert fakes.wallets.balance(wallet_id(account_id, "test")) == balance
    assert fakes.instances.count_for(account_id, False) == 1


def test_a_wrong_code_is_422_on_code(fakes):
    signed_up(fakes)
    error = refusal(lambda: auth.confirm(fakes.services, email=EMAIL, code="000001", password=PASSWORD))
    assert (error.code, error.param) == ("validation_failed", "code")


def test_failed_sign_ins_are_throttled_before_the_identity_service_is_asked(fakes):
    auth.confirm(fakes.services, email=EMAIL, code=signed_up(fakes), password=PASSWORD)
    for _ in range(5):
        assert (
            refusal(lambda: auth.sign_in(fakes.services, email=EMAIL, password="Wr0ng!password")).code
            == "invalid_credentials"
        )
    asked = fakes.identity.call_count("sign_in")
    error = refusal(lambda: auth.sign_in(fakes.services, email=EMAIL, password=PASSWORD))
    assert error.code == "rate_limited" and error.retry_after and error.retry_after > 0
    assert fakes.identity.call_count("sign_in") == asked


def test_an_unknown_email_reads_like_a_wrong_password(fakes):
    assert (
        refusal(lambda: auth.sign_in(fakes.services, email="ghost@acme.com.br", password=PASSWORD)).code
        == "invalid_credentials"
    )


def test_the_identity_service_throttling_is_a_429(fakes):
    auth.confirm(fakes.services, email=EMAIL, code=signed_up(fakes), password=PASSWORD)
    fakes.identity.fail_next("sign_in", TooManyAttempts())
    assert refusal(lambda: auth.sign_in(fakes.services, email=EMAIL, password=PASSWORD)).code == "rate_limited"


def test_sign_out_revokes_the_refresh_token_and_the_sessions_access_tokens(fakes):
    auth.confirm(fakes.services, email=EMAIL, code=signed_up(fakes), password=PASSWORD)
    tokens = auth.sign_in(fakes.services, email=EMAIL, password=PASSWORD)
    claims = auth.session_claims(fakes.services, tokens.access_token)
    auth.sign_out(fakes.services, refresh_token=tokens.refresh_token, access_token=tokens.access_token)
    assert refusal(lambda: auth.refresh(fakes.services, refresh_token=tokens.refresh_token)).code == "unauthorized"
    assert refusal(lambda: auth.session_claims(fakes.services, tokens.access_token)).code == "unauthorized"
    assert claims.session_id in fakes.revocations.sessions


def test_without_a_user_pool_the_auth_api_is_not_supported(fakes):
    fakes.services.identity = None
    error = refusal(lambda: auth.sign_up(fakes.services, email=EMAIL, password=PASSWORD, name="A", locale="en"))
    assert error.code == "not_supported"


def test_a_reset_by_code_and_a_weak_new_password_refused_first(fakes):
    auth.confirm(fakes.services, email=EMAIL, code=signed_up(fakes), password=PASSWORD)
    auth.forgot_password(fakes.services, email=EMAIL)
    code = fakes.identity.codes[("reset", EMAIL)][0]
    assert (
        refusal(lambda: auth.reset_password(fakes.services, email=EMAIL, code=code, password="weak")).param
        == "password"
    )
    auth.reset_password(fakes.services, email=EMAIL, code=code, password="N3w-horse!!x")
    auth.sign_in(fakes.services, email=EMAIL, password="N3w-horse!!x")


def test_every_address_we_take_is_one_the_identity_service_takes():
    """Cognito's (and moto's) email usernames: a sign-up we accept is never refused there (a 500 the contract
    fuzzing found). moto's own rule, copied: the one we must stay inside."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bzapper.domain.identity import EMAIL_PATTERN, normalized_email

    theirs = r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}\b"

    @settings(max_examples=500, deadline=None)
    @given(st.from_regex(EMAIL_PATTERN, fullmatch=True))
    def taken_there(email: str) -> None:
        normalized = normalized_email(email)
        assert normalized is None or re.fullmatch(theirs, normalized), email

    taken_there()
    assert normalized_email("0@0.0") is None and normalized_email("+a@x.co") is None
