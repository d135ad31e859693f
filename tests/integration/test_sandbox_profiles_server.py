"""Profiles over the sandbox network's real HTTP server (a free port on 127.0.0.1), driven by the real client: the
worker's calls, a picture's bytes (gone once it changes), the test's controls, and bad input as a 400, never a 500."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from support.media import png
from test_sandbox_server import base_url, network, online  # noqa: F401 - the same server fixtures

from bzapper.engines.sandbox.client import SandboxNetworkClient, SandboxNetworkError

OWN, ANA = "+5511955550001", "+5511988880001"


@pytest.fixture
def client(base_url: str) -> Iterator[SandboxNetworkClient]:  # noqa: F811
    with SandboxNetworkClient(base_url) as c:
        online(c, "acc_1", "ins_1", OWN)
        yield c


def test_a_contacts_profile_and_picture_over_http(client: SandboxNetworkClient) -> None:
    ana = client.contact_profile("acc_1", "ins_1", ANA)
    assert (ana["phone"], ana["name"], ana["business"]) == (ANA, "Contact 0001", False)
    mime_type, data = client.profile_picture("acc_1", ana["jid"], ana["picture"]["id"])
    assert mime_type == "image/png" and data.startswith(b"\x89PNG")

    changed = client.set_contact_profile("acc_1", ANA, {"picture": True, "name": "Ana"})
    assert changed["picture"]["id"] != ana["picture"]["id"] and changed["name"] == "Ana"
    with pytest.raises(SandboxNetworkError) as gone:
        client.profile_picture("acc_1", ana["jid"], ana["picture"]["id"])
    assert gone.value.status_code == 404

    with pytest.raises(SandboxNetworkError) as refused:
        client.contact_profile("acc_1", "ins_1", "+5511900000123")
    assert (refused.value.status_code, refused.value.code) == (422, "not_on_whatsapp")


def test_the_numbers_own_profile_over_http_is_what_others_see(client: SandboxNetworkClient) -> None:
    picture = {"mime_type": "image/png", "data_base64": base64.b64encode(png(2, 2)).decode()}
    after = client.update_profile("acc_1", "ins_1", {"push_name": "Acme", "about": "Hi", "picture": picture})
    assert (after["push_name"], after["about"]) == ("Acme", "Hi") and after["picture"]["id"]
    assert client.own_profile("acc_1", "ins_1") == after
    seen = client.profile_seen("acc_1", OWN)
    assert (seen["name"], seen["picture"]) == ("Acme", after["picture"])
    assert client.profile_picture("acc_1", OWN, after["picture"]["id"])[1] == png(2, 2)
    assert client.profile_seen("acc_2", OWN)["name"] == "Contact 0001"  # another account's world is apart


@pytest.mark.parametrize(
    "changes",
    [
        {"about": "x" * 140},
        {"push_name": "a\u0000b"},
        {"push_name": " "},
        {"picture": {"mime_type": "image/gif", "data_base64": "R0lG"}},
        {"picture": {"mime_type": "image/png", "data_base64": "not base64!"}},
        {"nickname": "x"},
        {},
    ],
)
def test_bad_changes_are_a_400(client: SandboxNetworkClient, changes: dict) -> None:
    with pytest.raises(SandboxNetworkError) as bad:
        client.update_profile("acc_1", "ins_1", changes)
    assert bad.value.status_code == 400
