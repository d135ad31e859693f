"""Accounts (bzapper.services.accounts): the caller's own, and the operator's actions (a test account ready to
send; credits and debits)."""

from __future__ import annotations

import pytest
from support.memory import open_account

from bzapper.domain.errors import BzError
from bzapper.domain.model import wallet_id
from bzapper.domain.sandbox import SandboxUnavailable
from bzapper.services.accounts import account_of, create_test_account, credit_wallet, update_account


def test_the_callers_account_and_its_language(fakes):
    tenant = open_account(fakes, name="Acme", locale="en")
    assert account_of(fakes.services, tenant.principal).name == "Acme"
    assert update_account(fakes.services, tenant.principal, locale="pt-BR").locale == "pt-BR"
    assert fakes.accounts.principal_for(tenant.api_key).locale == "pt-BR"  # the next request speaks it
    assert update_account(fakes.services, tenant.principal, locale=None).locale == "pt-BR"


def test_a_deleted_account_is_not_found(fakes):
    tenant = open_account(fakes)
    del fakes.accounts.accounts[tenant.account_id]
    with pytest.raises(BzError) as missing:
        account_of(fakes.services, tenant.principal)
    assert missing.value.code == "not_found"


def test_a_test_account_can_send_at_once(fakes):
    created = create_test_account(fakes.services, name="Dev", locale="es", credits=500)

    principal = fakes.accounts.principal_for(created["api_key"])
    assert (principal.account_id, principal.mode, principal.locale) == (created["account_id"], "test", "es")
    assert fakes.wallets.balance(wallet_id(created["account_id"], "test")) == 500
    view = fakes.instances.view(created["instance_id"])
    assert (view.status, view.engine, view.livemode) == ("connected", "sandbox", False)
    assert fakes.sandbox.paired == {created["instance_id"]: "+5511955550001"}  # linked in the simulated world
    [opened] = fakes.control.commands("open")
    assert opened["instance_id"] == created["instance_id"]


def test_without_a_sandbox_network_or_credits_nothing_is_linked_or_credited(fakes):
    fakes.sandbox.enabled = False
    created = create_test_account(fakes.services, name="Dev", locale="en", credits=0)
    assert fakes.sandbox.calls_of("scan") == []
    assert fakes.wallets.entries(wallet_id(created["account_id"], "test"), 10, None) == ([], None)


def test_an_unreachable_sandbox_network_fails_the_operators_command(fakes):
    fakes.sandbox.fail_next("scan", SandboxUnavailable("down"))
    with pytest.raises(SandboxUnavailable):
        create_test_account(fakes.services, name="Dev", locale="en", credits=10)


def test_an_operator_credits_or_debits_a_known_account(fakes):
    tenant = open_account(fakes, credits=100)
    assert credit_wallet(fakes.services, tenant.account_id, "test", 50, "goodwill") == 150
    assert credit_wallet(fakes.services, tenant.account_id, "test", -30, "correction") == 120
    [latest, *_] = fakes.wallets.entries(tenant.wallet, 10, None)[0]
    assert (latest.amount, latest.reason, latest.reference) == (-30, "correction", "operator")
    with pytest.raises(LookupError):
        credit_wallet(fakes.services, "acct_unknown", "test", 50, "goodwill")
