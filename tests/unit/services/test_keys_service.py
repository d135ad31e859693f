"""API keys over the memory fakes: only sessions manage them, scopes and numbers checked, roll and revoke."""

from __future__ import annotations

import pytest
from support.memory import open_account

from bzapper.domain.errors import BzError
from bzapper.domain.model import Principal
from bzapper.services import keys


def session_of(principal: Principal) -> Principal:
    return Principal(principal.account_id, principal.mode, principal.locale, user_id="usr_1", key_id="session:usr_1")


def refusal(action) -> BzError:
    with pytest.raises(BzError) as raised:
        action()
    return raised.value


def test_a_key_is_never_managed_by_a_key(fakes):
    tenant = open_account(fakes)
    error = refusal(
        lambda: keys.create_key(fakes.services, tenant.principal, name="x", mode="test", scopes=None, instance_ids=None)
    )
    assert (error.code, error.message_key) == ("forbidden", "error.session_required")


def test_a_restricted_key_carries_its_scopes_and_numbers_to_its_principal(fakes):
    tenant = open_account(fakes)
    owner = session_of(tenant.principal)
    made = keys.create_key(
        fakes.services, owner, name="Sender", mode="test", scopes=["messages:write"], instance_ids=[tenant.instance_id]
    )
    principal = fakes.accounts.principal_for(made.secret)
    assert principal.scopes == frozenset({"messages:write"}) and principal.instance_ids == frozenset(
        {tenant.instance_id}
    )
    assert principal.api_key_id == made.key.key_id


def test_unknown_scopes_and_other_mode_numbers_are_refused(fakes):
    tenant = open_account(fakes)
    owner = session_of(tenant.principal)
    error = refusal(
        lambda: keys.create_key(fakes.services, owner, name="x", mode="test", scopes=["root"], instance_ids=None)
    )
    assert error.param == "scopes.0"
    error = refusal(
        lambda: keys.create_key(
            fakes.services, owner, name="x", mode="live", scopes=None, instance_ids=[tenant.instance_id]
        )
    )
    assert error.code == "not_found"
    assert (
        refusal(
            lambda: keys.create_key(fakes.services, owner, name=" ", mode="test", scopes=None, instance_ids=None)
        ).param
        == "name"
    )


def test_roll_keeps_the_old_secret_until_its_expiry_and_revoke_stops_both(fakes, clock):
    tenant = open_account(fakes)
    owner = session_of(tenant.principal)
    made = keys.create_key(fakes.services, owner, name="k", mode="test", scopes=None, instance_ids=None)
    rolled = keys.roll_key(fakes.services, owner, made.key.key_id, 1)
    assert fakes.accounts.principal_for(made.secret) and fakes.accounts.principal_for(rolled.secret)
    clock.advance(3600 * 1000 + 1)
    assert fakes.accounts.principal_for(made.secret) is None and fakes.accounts.principal_for(rolled.secret)
    keys.revoke_key(fakes.services, owner, made.key.key_id)
    assert fakes.accounts.principal_for(rolled.secret) is None
    assert refusal(lambda: keys.roll_key(fakes.services, owner, made.key.key_id, 0)).message_key == "error.key_revoked"
    assert refusal(lambda: keys.roll_key(fakes.services, owner, made.key.key_id, 169)).param == "expires_in_hours"


def test_another_accounts_key_is_404(fakes):
    mine, theirs = open_account(fakes), open_account(fakes)
    made = keys.create_key(
        fakes.services, session_of(theirs.principal), name="k", mode="test", scopes=None, instance_ids=None
    )
    assert (
        refusal(lambda: keys.owned_key(fakes.services, session_of(mine.principal), made.key.key_id)).code == "not_found"
    )
