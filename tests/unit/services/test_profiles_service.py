"""Profiles end to end without sockets: the service asks through the control channel, the worker's CommandHandler
calls the sandbox engine, the in-process network answers, and the worker stores the pictures a profile names in
the account's media under a derived id (the same picture: the same id; a new picture: a new one)."""

from __future__ import annotations

from typing import Any

import pytest
from support.media import png
from support.memory import open_account
from support.sandbox import FakeClock, InProcessClient, fake_network, online

from bzapper.domain.engine import PROFILE_METHODS, SessionSpec
from bzapper.domain.errors import BzError
from bzapper.domain.profiles import picture_media_id
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.services import profiles
from bzapper.worker.control import CommandHandler
from bzapper_dev.sandbox.network import SandboxNetwork

OWN, SECOND = "+5511955550001", "+5511955550002"
ANA = "+5511988880001"  # an ordinary contact: a generated picture
NO_PICTURE = "+5511988880010"  # ends in 0: none
BUSINESS = "+5511988880007"  # ends in 7: a business
NOT_ON_WHATSAPP = "+5511900000123"


@pytest.fixture
def world(fakes) -> dict[str, Any]:
    network: SandboxNetwork = fake_network(FakeClock())
    tenant = open_account(fakes)
    second = fakes.instances.create(
        tenant.principal.account_id, livemode=False, engine="sandbox", name="2", status="connected"
    )
    engine = SandboxEngine(
        "http://unused",
        client=InProcessClient(network),  # type: ignore[arg-type]
        media_fetch=fakes.services.media.read,
    )
    for instance_id, phone in ((tenant.instance_id, OWN), (second.instance_id, SECOND)):
        online(network, tenant.principal.account_id, instance_id, phone)
        engine.open(SessionSpec(instance_id, tenant.principal.account_id, False, phone), lambda event: None)
    calls: list[str] = []
    failing: list[str] = []

    def call(instance_id: str, method: str, give_up_after: float | None = None, **kwargs: Any) -> Any:
        calls.append(method)
        if method in failing:
            failing.remove(method)
            raise OSError("the picture host did not answer")
        return getattr(engine, method)(instance_id, **kwargs)

    handler = CommandHandler(
        fakes.services, open_instance=lambda *a, **k: True, close_instance=lambda *a: None, call=call
    )
    for op in PROFILE_METHODS:
        fakes.control.respond_to(op, lambda command: handler.handle(command) and None)
    return {
        "network": network,
        "tenant": tenant,
        "second": second.instance_id,
        "services": fakes.services,
        "calls": calls,
        "failing": failing,
        "fakes": fakes,
    }


def test_a_contacts_profile_and_its_picture_as_one_stable_media_link(world):
    services, tenant, calls = world["services"], world["tenant"], world["calls"]
    first = profiles.contact(services, tenant.principal, tenant.instance_id, ANA)
    assert first["jid"] == "5511988880001@s.whatsapp.net"
    assert (first["phone"], first["name"], first["business"]) == (ANA, "Contact 0001", False)
    assert first["about"] == "Hey there! I am using WhatsApp."
    media_id = first["picture"]["media_id"]
    assert first["picture"]["url"] == f"/media/{media_id}"
    stored = services.media.describe(tenant.principal.account_id, False, media_id)
    assert stored is not None and stored["mime_type"] == "image/png" and "instance_id" not in stored
    assert calls.count("profile_picture") == 1
    # The lookup named both sides of the contact: the mapping is learned, as by the contacts check.
    assert services.identities.lid_of(tenant.principal.account_id, ANA) == first["lid"]

    again = profiles.contact(services, tenant.principal, tenant.instance_id, "5511988880001@s.whatsapp.net")
    assert again["picture"] == first["picture"]
    assert calls.count("profile_picture") == 1  # fetched once per WhatsApp picture id

    world["network"].set_contact_profile(tenant.principal.account_id, ANA, {"picture": True, "about": "At work"})
    changed = profiles.contact(services, tenant.principal, tenant.instance_id, ANA)
    assert changed["about"] == "At work"
    assert changed["picture"]["media_id"] != media_id
    assert calls.count("profile_picture") == 2


def test_the_same_contact_seen_by_two_numbers_of_the_account_names_the_same_media(world):
    services, tenant = world["services"], world["tenant"]
    one = profiles.contact(services, tenant.principal, tenant.instance_id, ANA)
    two = profiles.contact(services, tenant.principal, world["second"], ANA)
    assert one["picture"] == two["picture"]


def test_rules_of_the_simulated_world_no_picture_business_by_lid(world):
    services, tenant = world["services"], world["tenant"]
    none = profiles.contact(services, tenant.principal, tenant.instance_id, NO_PICTURE)
    assert none["picture"] is None
    business = profiles.contact(services, tenant.principal, tenant.instance_id, BUSINESS)
    assert business["business"] is True and business["verified_name"] == "Business 0007"
    lid = profiles.contact(services, tenant.principal, tenant.instance_id, ANA)["lid"]
    by_lid = profiles.contact(services, tenant.principal, tenant.instance_id, lid)
    assert (by_lid["phone"], by_lid["lid"]) == (ANA, lid)


def test_a_number_not_on_whatsapp_is_404_not_on_whatsapp(world):
    services, tenant = world["services"], world["tenant"]
    with pytest.raises(BzError) as refused:
        profiles.contact(services, tenant.principal, tenant.instance_id, NOT_ON_WHATSAPP)
    assert (refused.value.code, refused.value.status) == ("not_on_whatsapp", 404)


def test_own_profile_changes_are_what_the_others_see(world):
    services, tenant, network = world["services"], world["tenant"], world["network"]
    account = tenant.principal.account_id
    before = profiles.own(services, tenant.principal, tenant.instance_id)
    assert (before["phone"], before["push_name"], before["picture"]) == (OWN, "Sandbox 0001", None)

    upload = services.media.put_bytes(account, False, png(), "image/png")
    after = profiles.update_own(
        services,
        tenant.principal,
        tenant.instance_id,
        {"push_name": "Acme", "about": "Mon-Fri", "picture_media_id": upload["media_id"]},
    )
    assert (after["push_name"], after["about"]) == ("Acme", "Mon-Fri")
    assert services.instances.view(tenant.instance_id).push_name == "Acme"  # GET /instances/{id} shows it too
    assert after["picture"]["media_id"] != upload["media_id"]  # WhatsApp's picture, stored under its own id
    assert profiles.own(services, tenant.principal, tenant.instance_id)["picture"] == after["picture"]

    seen = network.profile_seen(account, OWN)
    assert (seen["name"], seen["about"]) == ("Acme", "Mon-Fri") and seen["picture"] is not None
    # Another number of the account looks the first up: it sees the change, and the same picture link.
    other = profiles.contact(services, tenant.principal, world["second"], OWN)
    assert (other["name"], other["picture"]) == ("Acme", after["picture"])

    removed = profiles.update_own(services, tenant.principal, tenant.instance_id, {"picture_media_id": None})
    assert removed["picture"] is None


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"about": "x" * 140}, "about"),
        ({"about": "a\x00b"}, "about"),
        ({"push_name": "Ana\u202eanuS"}, "push_name"),  # a right-to-left override: names refuse hidden text
        ({"about": "zero\u200bwidth"}, "about"),
        ({"push_name": "n" * 26}, "push_name"),
        ({"push_name": "   "}, "push_name"),
        ({"push_name": 5}, "push_name"),
        ({"picture_media_id": "med_01JD5V9Q0A1B2C3D4E5F6G7H8J"}, "picture_media_id"),
        ({}, "request_body"),
    ],
)
def test_bad_changes_are_422_naming_the_field_and_reach_no_worker(world, changes, param):
    services, tenant = world["services"], world["tenant"]
    with pytest.raises(BzError) as refused:
        profiles.update_own(services, tenant.principal, tenant.instance_id, changes)
    assert (refused.value.code, refused.value.param) == ("validation_failed", param)
    assert world["fakes"].control.commands("update_profile") == []


def test_a_picture_must_be_an_image_of_this_account(world, fakes):
    services, tenant = world["services"], world["tenant"]
    text = services.media.put_bytes(tenant.principal.account_id, False, b"hello", "text/plain")
    with pytest.raises(BzError) as refused:
        profiles.update_own(services, tenant.principal, tenant.instance_id, {"picture_media_id": text["media_id"]})
    assert (refused.value.param, refused.value.message_key) == ("picture_media_id", "error.profile_picture_type")
    other = open_account(fakes, name="Other")
    theirs = services.media.put_bytes(other.principal.account_id, False, png(), "image/png")
    with pytest.raises(BzError) as refused:
        profiles.update_own(services, tenant.principal, tenant.instance_id, {"picture_media_id": theirs["media_id"]})
    assert (refused.value.param, refused.value.message_key) == ("picture_media_id", "error.profile_picture_unknown")


def test_a_picture_that_cannot_be_fetched_shows_as_none_and_is_fetched_at_the_next_read(world):
    services, tenant = world["services"], world["tenant"]
    world["failing"].append("profile_picture")
    first = profiles.contact(services, tenant.principal, tenant.instance_id, ANA)
    assert first["picture"] is None and first["name"] == "Contact 0001"  # the rest of the profile still answers
    again = profiles.contact(services, tenant.principal, tenant.instance_id, ANA)
    assert again["picture"] is not None
    assert world["calls"].count("profile_picture") == 2


def test_picture_media_ids_are_derived_per_account_owner_and_picture():
    one = picture_media_id("acct_A", "5511988880001@s.whatsapp.net", "123")
    assert one == picture_media_id("acct_A", "5511988880001@s.whatsapp.net", "123")
    assert one != picture_media_id("acct_B", "5511988880001@s.whatsapp.net", "123")
    assert one != picture_media_id("acct_A", "5511988880001@s.whatsapp.net", "124")
    from bzapper.domain.media import is_media_id

    assert is_media_id(one)


def test_a_cloud_number_has_no_session_profile_422_not_supported(world, fakes):
    services, tenant = world["services"], world["tenant"]
    cloud = fakes.instances.create(
        tenant.principal.account_id, livemode=False, engine="cloud", name="c", status="connected"
    )
    for ask in (
        lambda: profiles.own(services, tenant.principal, cloud.instance_id),
        lambda: profiles.update_own(services, tenant.principal, cloud.instance_id, {"about": "x"}),
        lambda: profiles.contact(services, tenant.principal, cloud.instance_id, ANA),
    ):
        with pytest.raises(BzError) as refused:
            ask()
        assert (refused.value.code, refused.value.status) == ("not_supported", 422)
