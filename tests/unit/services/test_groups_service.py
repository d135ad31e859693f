"""The Groups API's use cases end to end without sockets: the service asks through the control channel, the
worker's CommandHandler calls the sandbox engine, the in-process network answers; refusals become our errors
(not an admin: 403 forbidden with a reason; a group the number is not in: 404)."""

from __future__ import annotations

from typing import Any

import pytest
from support.memory import open_account
from support.sandbox import FakeClock, InProcessClient, fake_network, online

from bzapper.domain.engine import GROUP_METHODS, SessionSpec
from bzapper.domain.errors import BzError
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.services import groups
from bzapper.worker.control import CommandHandler
from bzapper_dev.sandbox.network import SandboxNetwork

OWN, SECOND = "+5511955550001", "+5511955550002"
ANA, BIA, PRIVATE = "+5511988880001", "+5511988880002", "+5511900010001"


@pytest.fixture
def world(fakes) -> dict[str, Any]:
    network: SandboxNetwork = fake_network(FakeClock())
    tenant = open_account(fakes)
    second = fakes.instances.create(
        tenant.principal.account_id, livemode=False, engine="sandbox", name="2", status="connected"
    )
    engine = SandboxEngine("http://unused", client=InProcessClient(network))  # type: ignore[arg-type]
    for instance_id, phone in ((tenant.instance_id, OWN), (second.instance_id, SECOND)):
        online(network, tenant.principal.account_id, instance_id, phone)
        engine.open(SessionSpec(instance_id, tenant.principal.account_id, False, phone), lambda event: None)

    def call(instance_id: str, method: str, give_up_after: float | None = None, **kwargs: Any) -> Any:
        return getattr(engine, method)(instance_id, **kwargs)

    handler = CommandHandler(
        fakes.services, open_instance=lambda *a, **k: True, close_instance=lambda *a: None, call=call
    )
    for op in GROUP_METHODS:
        fakes.control.respond_to(op, lambda command: handler.handle(command) and None)
    return {"network": network, "tenant": tenant, "second": second.instance_id, "services": fakes.services}


def test_create_read_list_and_results_per_participant(world):
    services, tenant = world["services"], world["tenant"]
    created = groups.create(services, tenant.principal, tenant.instance_id, "Orders", [ANA, BIA, PRIVATE])
    jid = created["group"]["jid"]
    assert [r["status"] for r in created["participants"]] == ["added", "added", "invite_required"]
    info = groups.info(services, tenant.principal, tenant.instance_id, jid)
    assert [(p["phone"], p["role"]) for p in info["participants"]] == [
        (OWN, "superadmin"),
        (ANA, "member"),
        (BIA, "member"),
    ]
    assert [g["jid"] for g in groups.joined(services, tenant.principal, tenant.instance_id)] == [jid]


def test_admin_only_changes_are_403_with_the_reason_and_a_foreign_group_is_404(world):
    services, tenant, second = world["services"], world["tenant"], world["second"]
    jid = groups.create(services, tenant.principal, tenant.instance_id, "Orders", [SECOND])["group"]["jid"]

    with pytest.raises(BzError) as refused:
        groups.update(services, tenant.principal, second, jid, {"announce": True})
    assert (refused.value.code, refused.value.status, refused.value.message_key) == (
        "forbidden",
        403,
        "error.group_not_admin",
    )
    with pytest.raises(BzError) as refused:
        groups.change_participants(services, tenant.principal, second, jid, "add", [ANA])
    assert refused.value.code == "forbidden"

    groups.leave(services, tenant.principal, second, jid)
    with pytest.raises(BzError) as gone:
        groups.info(services, tenant.principal, second, jid)
    assert (gone.value.code, gone.value.message_key) == ("not_found", "error.group_not_found")
    with pytest.raises(BzError) as bad:
        groups.info(services, tenant.principal, tenant.instance_id, "not-a-group")
    assert (bad.value.code, bad.value.param) == ("validation_failed", "jid")


def test_participants_invite_links_and_joins(world, fakes):
    services, tenant, second = world["services"], world["tenant"], world["second"]
    jid = groups.create(services, tenant.principal, tenant.instance_id, "Orders", [ANA])["group"]["jid"]
    results = groups.change_participants(services, tenant.principal, tenant.instance_id, jid, "promote", [ANA])
    assert [r["status"] for r in results] == ["ok"]
    info = groups.update(services, tenant.principal, tenant.instance_id, jid, {"subject": "Orders 2", "locked": True})
    assert (info["subject"], info["locked"]) == ("Orders 2", True)

    link = groups.invite_link(services, tenant.principal, tenant.instance_id, jid)
    new = groups.invite_link(services, tenant.principal, tenant.instance_id, jid, reset=True)
    assert new != link
    with pytest.raises(BzError) as revoked:
        groups.join(services, tenant.principal, second, link)
    assert (revoked.value.code, revoked.value.param) == ("validation_failed", "invite_link")
    assert groups.join(services, tenant.principal, second, new)["jid"] == jid

    # Another account's key reaches none of this account's numbers.
    other = open_account(fakes)
    with pytest.raises(BzError) as foreign:
        groups.info(services, other.principal, tenant.instance_id, jid)
    assert foreign.value.code == "not_found"


def test_a_disconnected_number_is_409_and_nothing_is_asked(world, fakes):
    services, tenant = world["services"], world["tenant"]
    fakes.instances.apply_state(
        tenant.instance_id, status="disconnected", at=1, qr=None, phone=None, lid=None, push_name=None, error=None
    )
    asked = len(fakes.control.sent)
    with pytest.raises(BzError) as refused:
        groups.joined(services, tenant.principal, tenant.instance_id)
    assert refused.value.code == "not_connected" and len(fakes.control.sent) == asked
