"""The workers' reports (bzapper.services.reports): each applied by its kind, unless it was made under a lease the
shard's new holder has since taken: then it is refused, and changes nothing."""

from __future__ import annotations

from support.memory import LID, PHONE, PHONE_JID, open_account, send_text

from bzapper.domain.leases import Fence
from bzapper.services.reports import apply_worker_report

DURATION = 15_000


def status_report(fakes, message_id: str, status: str, fence: Fence | None) -> dict:
    view = fakes.messages.get(message_id)
    body = {"kind": "status", "instance_id": view.instance_id, "wa_message_id": view.wa_message_id}
    body |= {"status": status, "at": fakes.clock(), "message_id": message_id}
    return body | ({"fence": fence.to_json()} if fence else {})


def held_shard(fakes, tenant, owner: str = "wk_a"):
    shard = fakes.instances.get(tenant.instance_id).shard
    lease = fakes.leases.acquire(shard, owner, fakes.clock(), DURATION)
    assert lease is not None
    return lease


def test_a_report_made_under_the_current_lease_is_applied(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    lease = held_shard(fakes, tenant)
    clock.advance(100)

    apply_worker_report(
        fakes.services, status_report(fakes, message_id, "sent", Fence(lease.shard, lease.token, clock.now))
    )

    assert fakes.messages.status_of(message_id) == "sent"


def test_a_report_made_after_a_takeover_is_refused(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    old = held_shard(fakes, tenant)
    clock.advance(DURATION)  # the old holder stalled; its lease expired and another worker took the shard
    held_shard(fakes, tenant, owner="wk_b")
    clock.advance(10)
    stale = Fence(old.shard, old.token, clock.now)  # stamped after the takeover

    apply_worker_report(fakes.services, status_report(fakes, message_id, "failed", stale))

    assert fakes.messages.status_of(message_id) == "queued"
    assert fakes.events.published == [] and fakes.wallets.balance(tenant.wallet) == 999


def test_a_report_of_something_done_before_the_takeover_still_counts(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    old = held_shard(fakes, tenant)
    sent_at = clock.now  # sent while the lease was held; the report lands late
    clock.advance(DURATION)
    held_shard(fakes, tenant, owner="wk_b")

    apply_worker_report(fakes.services, status_report(fakes, message_id, "sent", Fence(old.shard, old.token, sent_at)))

    assert fakes.messages.status_of(message_id) == "sent"


def test_a_shard_never_leased_refuses_a_fenced_report(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    shard = fakes.instances.get(tenant.instance_id).shard
    apply_worker_report(fakes.services, status_report(fakes, message_id, "sent", Fence(shard, 1, clock.now)))
    assert fakes.messages.status_of(message_id) == "queued"


def test_an_unfenced_report_is_applied(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    apply_worker_report(fakes.services, status_report(fakes, message_id, "delivered", None))
    assert fakes.messages.status_of(message_id) == "delivered"


def test_each_kind_goes_to_its_use_case(fakes, clock):
    tenant = open_account(fakes, status="pairing")
    lease = held_shard(fakes, tenant)
    fence = Fence(lease.shard, lease.token, clock.now).to_json()
    common = {"instance_id": tenant.instance_id, "at": clock.now, "fence": fence}

    apply_worker_report(fakes.services, {"kind": "state", "state": "connected", "phone": "+5511911112222", **common})
    apply_worker_report(fakes.services, {"kind": "identity", "phone": PHONE, "lid": LID, **common})
    inbound = {
        "kind": "inbound",
        "account_id": tenant.account_id,
        "livemode": False,
        "wa_message_id": "3EB0INBOUND00001",
        "chat_jid": PHONE_JID,
        "sender": {"jid": PHONE_JID},
        "type": "text",
        "content": {"body": "hi"},
    }
    apply_worker_report(fakes.services, inbound | common)
    apply_worker_report(fakes.services, {"kind": "gossip", **common})  # unknown: logged and dropped

    assert fakes.instances.status(tenant.instance_id) == "connected"
    assert fakes.identities.lid_of(tenant.account_id, PHONE) == LID
    assert fakes.events.types() == ["instance.connected", "contact.identity_resolved", "message.received"]


def test_an_identity_of_a_deleted_instance_is_dropped(fakes, clock):
    tenant = open_account(fakes)
    fakes.instances.delete(tenant.instance_id)
    apply_worker_report(
        fakes.services, {"kind": "identity", "instance_id": tenant.instance_id, "phone": PHONE, "lid": LID, "at": 1}
    )
    assert fakes.identities.lid_of(tenant.account_id, PHONE) is None
