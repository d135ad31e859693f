"""Profiles on the booted local stack, as a customer sees them (issue #18 part 4): read and change the number's own
profile (name, about, picture), see the change as a contact sees it, read a simulated contact's profile and its
picture link twice (the same link, downloadable), and a new picture of the contact is a new link."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests
from support.media import png
from support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("profiles")]

ANA = "+5511988880001"  # an ordinary simulated contact: a generated picture (docs/sandbox.md, "Profiles")


def _get(stack: Stack, path: str, **query: str) -> requests.Response:
    return requests.get(f"{stack.base_url}{path}", params=query, headers=stack.auth, timeout=30)


def test_the_numbers_own_profile_read_and_changed(stack: Stack):
    path = f"/instances/{stack.instance_id}/profile"
    before = _get(stack, path)
    assert before.status_code == 200, before.text
    phone = before.json()["phone"]
    assert phone and before.json()["business"] is False

    upload = requests.post(
        f"{stack.base_url}/media",
        files={"file": ("me.png", png(16, 16), "image/png")},
        headers=stack.auth,
        timeout=30,
    )
    assert upload.status_code == 201, upload.text
    changes = {"push_name": "Acme Store", "about": "Seg-Sex 9-18h", "picture_media_id": upload.json()["media_id"]}
    after = requests.patch(f"{stack.base_url}{path}", json=changes, headers=stack.auth, timeout=30)
    assert after.status_code == 200, after.text
    profile = after.json()
    assert (profile["push_name"], profile["about"]) == ("Acme Store", "Seg-Sex 9-18h")
    picture = profile["picture"]
    assert picture["url"] == f"/media/{picture['media_id']}"

    again = _get(stack, path)
    assert again.json()["picture"] == picture
    seen = _get(stack, f"/sandbox/contacts/{quote(phone)}/profile")
    assert seen.status_code == 200, seen.text
    assert (seen.json()["name"], seen.json()["about"]) == ("Acme Store", "Seg-Sex 9-18h")
    assert seen.json()["picture_id"] is not None

    downloaded = _get(stack, picture["url"])
    assert downloaded.status_code == 200 and downloaded.content == png(16, 16)

    too_long = requests.patch(f"{stack.base_url}{path}", json={"about": "x" * 140}, headers=stack.auth, timeout=30)
    assert (too_long.status_code, too_long.json()["param"]) == (422, "about")


def test_a_contacts_profile_and_its_picture_as_one_stable_downloadable_link(stack: Stack):
    first = _get(stack, f"/contacts/{quote(ANA)}", instance_id=stack.instance_id)
    assert first.status_code == 200, first.text
    contact = first.json()
    assert (contact["phone"], contact["name"], contact["business"]) == (ANA, "Contact 0001", False)
    assert contact["lid"] and contact["about"]
    url = contact["picture"]["url"]

    second = _get(stack, f"/contacts/{quote('5511988880001@s.whatsapp.net')}", instance_id=stack.instance_id)
    assert second.json()["picture"]["url"] == url
    one, two = _get(stack, url), _get(stack, url)
    assert one.status_code == two.status_code == 200
    assert one.content == two.content and one.content.startswith(b"\x89PNG")

    changed = requests.patch(
        f"{stack.base_url}/sandbox/contacts/{quote(ANA)}/profile",
        json={"picture": True, "about": "At work", "business": True},
        headers=stack.auth,
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    now = _get(stack, f"/contacts/{quote(ANA)}", instance_id=stack.instance_id).json()
    assert (now["about"], now["business"], now["verified_name"]) == ("At work", True, "Business 0001")
    assert now["picture"]["url"] != url

    missing = _get(stack, f"/contacts/{quote('+5511900000123')}", instance_id=stack.instance_id)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_on_whatsapp")
