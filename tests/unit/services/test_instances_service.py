"""Instances (bzapper.services.instances): what customers ask of their numbers goes to the shard's holder as
commands; what the holder observes comes back as states, stored unless stale, with one event per change."""

from __future__ import annotations

import pytest
from support.memory import LID, PHONE, open_account

from bzapper.domain.errors import BzError
from bzapper.services import instances

NUMBER = "+5511911112222"
NUMBER_LID = "987654321098765@lid"


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


def state(fakes, tenant, status: str, at: int, **fields) -> None:
    instances.apply_state(fakes.services, {"instance_id": tenant.instance_id, "state": status, "at": at, **fields})


# What customers ask -------------------------------------------------------------------------------------------


def test_a_new_number_starts_disconnected_and_its_holder_opens_it(fakes):
    tenant = open_account(fakes)
    view = instances.create(fakes.services, tenant.principal, name="Sales", engine="sandbox")
    assert (view.status, view.name, view.livemode) == ("disconnected", "Sales", False)
    assert [c["instance_id"] for c in fakes.control.commands("open")] == [view.instance_id]


def test_test_keys_reach_the_sandbox_only_and_plans_cap_the_count(fakes):
    tenant = open_account(fakes)
    error = refusal(lambda: instances.create(fakes.services, tenant.principal, name="x", engine="whatsmeow"))
    assert (error.code, error.param) == ("validation_failed", "engine")
    live = open_account(fakes, mode="live")
    assert instances.create(fakes.services, live.principal, name="real", engine="whatsmeow").engine == "whatsmeow"

    for _ in range(2):  # payg allows 3; the account has one
        instances.create(fakes.services, tenant.principal, name="more", engine="sandbox")
    error = refusal(lambda: instances.create(fakes.services, tenant.principal, name="x", engine="sandbox"))
    assert (error.code, error.params) == ("limit_exceeded", {"limit": 3, "resource": "instances"})


def test_another_accounts_or_modes_number_is_not_found(fakes):
    tenant, other, live = open_account(fakes), open_account(fakes), open_account(fakes, mode="live")
    assert [v.instance_id for v in instances.list_instances(fakes.services, tenant.principal)] == [tenant.instance_id]
    for principal in (other.principal, live.principal):
        assert refusal(lambda p=principal: instances.owned(fakes.services, p, tenant.instance_id)).code == "not_found"
    assert refusal(lambda: instances.owned(fakes.services, tenant.principal, "nonsense")).code == "not_found"


def test_a_qr_is_shown_while_pairing_and_asked_for_otherwise(fakes, clock):
    tenant = open_account(fakes, status="logged_out")
    fakes.instances.set_active(tenant.instance_id, False)

    error = refusal(lambda: instances.qr(fakes.services, tenant.principal, tenant.instance_id))
    assert (error.code, error.retry_after) == ("qr_not_ready", 1)
    assert fakes.instances.view(tenant.instance_id).active  # pairing starts again
    assert len(fakes.control.commands("open")) == 1

    state(fakes, tenant, "pairing", clock.now)  # pairing, no QR yet: nothing more to ask
    assert refusal(lambda: instances.qr(fakes.services, tenant.principal, tenant.instance_id)).code == "qr_not_ready"
    assert len(fakes.control.commands("open")) == 1

    state(fakes, tenant, "pairing", clock.now + 1, qr="2@abc")
    assert instances.qr(fakes.services, tenant.principal, tenant.instance_id).qr == "2@abc"


@pytest.mark.parametrize(("status", "code"), [("connected", "already_connected"), ("restricted", "account_restricted")])
def test_no_qr_helps_a_linked_number(fakes, status, code):
    tenant = open_account(fakes, status=status)
    assert refusal(lambda: instances.qr(fakes.services, tenant.principal, tenant.instance_id)).code == code
    assert fakes.control.sent == []


def test_a_pairing_code_is_the_holders_answer(fakes):
    tenant = open_account(fakes, status="disconnected")
    fakes.control.respond_to("pairing_code", lambda asked: {"code": "ABCD1234"} if asked["phone"] == NUMBER else None)

    assert (
        instances.pairing_code(fakes.services, tenant.principal, tenant.instance_id, "+55 11 91111-2222") == "ABCD1234"
    )
    error = refusal(lambda: instances.pairing_code(fakes.services, tenant.principal, tenant.instance_id, "12"))
    assert (error.code, error.param) == ("validation_failed", "phone")
    fakes.instances.set_status(tenant.instance_id, "connected")
    assert (
        refusal(lambda: instances.pairing_code(fakes.services, tenant.principal, tenant.instance_id, NUMBER)).code
        == "already_connected"
    )


def test_logout_restart_and_delete_are_commands_to_the_holder(fakes):
    tenant = open_account(fakes)
    instances.logout(fakes.services, tenant.principal, tenant.instance_id)
    assert not fakes.instances.view(tenant.instance_id).active
    instances.restart(fakes.services, tenant.principal, tenant.instance_id)
    assert fakes.instances.view(tenant.instance_id).active
    instances.delete(fakes.services, tenant.principal, tenant.instance_id)

    assert [c["op"] for c in fakes.control.commands()] == ["logout", "restart", "logout"]
    assert fakes.instances.view(tenant.instance_id) is None
    assert fakes.control.commands()[-1]["account_id"] == tenant.account_id  # the holder still knows whose it was


def test_checking_numbers_needs_a_connection_and_learns_identities(fakes):
    tenant = open_account(fakes)
    results = [{"input": PHONE, "exists": True, "phone": PHONE, "lid": LID}, {"input": "+1", "exists": False}]
    fakes.control.respond_to("check_numbers", lambda asked: {"results": results})

    assert instances.check_numbers(fakes.services, tenant.principal, tenant.instance_id, [PHONE, "+1"]) == results
    assert fakes.identities.lid_of(tenant.account_id, PHONE) == LID
    assert fakes.events.types() == ["contact.identity_resolved"]
    instances.check_numbers(fakes.services, tenant.principal, tenant.instance_id, [PHONE])
    assert fakes.events.types() == ["contact.identity_resolved"]  # known: no news

    fakes.instances.set_status(tenant.instance_id, "disconnected")
    assert refusal(
        lambda: instances.check_numbers(fakes.services, tenant.principal, tenant.instance_id, [PHONE])
    ).code == ("not_connected")


# What the holder observes -----------------------------------------------------------------------------------------


def test_each_change_of_state_emits_its_event_once(fakes, clock):
    tenant = open_account(fakes, status="disconnected")
    state(fakes, tenant, "pairing", clock.now, qr="qr-1")
    state(fakes, tenant, "pairing", clock.now + 1, qr="qr-2")  # a fresh QR
    state(fakes, tenant, "pairing", clock.now + 2, qr="qr-2")  # the same one reported again
    state(fakes, tenant, "connected", clock.now + 3, phone=NUMBER, push_name="Shop")
    state(fakes, tenant, "connected", clock.now + 4)

    assert fakes.events.types() == ["instance.qr", "instance.qr", "instance.connected"]
    qr = fakes.events.published[1]["data"]
    assert qr == {"instance_id": tenant.instance_id, "status": "pairing", "qr": "qr-2"}
    assert fakes.events.published[2]["data"] == {
        "instance_id": tenant.instance_id,
        "status": "connected",
        "phone": NUMBER,
        "lid": None,
        "push_name": "Shop",
    }
    view = fakes.instances.view(tenant.instance_id)
    assert (view.qr, view.phone) == (None, NUMBER)  # a state that does not say the number keeps it


def test_an_older_observation_than_the_stored_one_is_ignored(fakes, clock):
    tenant = open_account(fakes)
    state(fakes, tenant, "restricted", clock.now + 10, error="account_restricted")
    state(fakes, tenant, "connected", clock.now + 5)
    view = fakes.instances.view(tenant.instance_id)
    assert (view.status, view.last_error) == ("restricted", "account_restricted")
    [restricted] = fakes.events.published
    assert restricted["data"]["error"] == {"code": "account_restricted"}


def test_the_numbers_own_identity_is_learned_when_both_sides_are_first_known(fakes, clock):
    tenant = open_account(fakes, status="pairing")
    state(fakes, tenant, "connected", clock.now, phone=NUMBER, lid=NUMBER_LID)
    state(fakes, tenant, "disconnected", clock.now + 1)
    assert fakes.identities.lid_of(tenant.account_id, NUMBER) == NUMBER_LID
    assert fakes.events.types() == ["instance.connected", "contact.identity_resolved", "instance.disconnected"]


def test_a_state_of_a_deleted_instance_is_dropped(fakes, clock):
    tenant = open_account(fakes)
    fakes.instances.delete(tenant.instance_id)
    state(fakes, tenant, "disconnected", clock.now)
    assert fakes.events.published == []


def test_an_identity_whose_publish_failed_is_not_stored_until_published(fakes, clock):
    tenant = open_account(fakes)
    view = fakes.instances.view(tenant.instance_id)
    fakes.events.fail_next("publish", RuntimeError("throttled"))

    with pytest.raises(RuntimeError):
        instances.learn_identity(fakes.services, view, PHONE, LID, clock.now)
    assert fakes.identities.lid_of(tenant.account_id, PHONE) is None
    instances.learn_identity(fakes.services, view, PHONE, LID, clock.now)

    [resolved] = fakes.events.published
    assert resolved["data"] == {"phone": PHONE, "lid": LID}
    assert fakes.identities.lid_of(tenant.account_id, PHONE) == LID


def test_an_identity_is_keyed_as_the_inbox_keys_a_chat(fakes, clock):
    tenant = open_account(fakes)
    view = fakes.instances.view(tenant.instance_id)
    instances.learn_identity(fakes.services, view, "+551188887777", LID, clock.now)  # without the ninth digit
    assert fakes.identities.lid_of(tenant.account_id, PHONE) == LID
