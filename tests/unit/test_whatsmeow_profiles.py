"""The whatsmeow engine's profiles, offline: neonize's answers (UserInfo, ProfilePictureInfo, ContactInfo) as the
engine port's dicts, its setters called with what the API asked, and what neonize 0.5.2 cannot do refused as
not_supported (never a silent no-op)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_whatsmeow_engine import INSTANCE, OWN_LID, PEER, PEER_LID, Harness

from bzapper.domain.engine import PermanentFailure
from bzapper.domain.profiles import is_picture_url
from bzapper.engines.whatsmeow import jids, lib, profiles
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb

OWN_JID = "5511900000001@s.whatsapp.net"
PIC_URL = "https://pps.whatsapp.net/v/t61.24694-24/123_n.jpg?oh=x&oe=y"


class ProfileClient:
    """neonize's profile calls on top of the harness's fake client, recording what was set."""

    def __init__(self) -> None:
        self.set: list[tuple[str, Any]] = []
        self.about: dict[str, str] = {OWN_JID: "Mon-Fri", PEER: "Hi"}
        self.pictures: dict[str, str] = {PEER: "555"}
        self.business: dict[str, str] = {}
        self.contacts: dict[str, pb.ContactInfo] = {PEER: pb.ContactInfo(Found=True, PushName="Ana")}
        self.photo_error: Exception | None = None

    def install(self, client: Any) -> None:
        for name in (
            "get_user_info",
            "get_profile_picture",
            "get_contact",
            "set_profile_name",
            "set_status_message",
            "set_profile_photo",
        ):
            setattr(client, name, getattr(self, name))

    def get_user_info(self, *wanted: pb.JID) -> list[pb.GetUserInfoSingleReturnFunction]:
        found = []
        for jid in wanted:
            text = jids.to_str(jid)
            info = pb.UserInfo(Status=self.about.get(text, ""), PictureID=self.pictures.get(text, ""))
            if text in self.business:
                info.VerifiedName.Details.verifiedName = self.business[text]
            found.append(pb.GetUserInfoSingleReturnFunction(JID=jid, UserInfo=info))
        return found

    def get_profile_picture(self, jid: pb.JID, params: Any) -> pb.ProfilePictureInfo:
        assert params.Preview is False  # the full picture, not the thumbnail
        picture_id = self.pictures.get(jids.to_str(jid))
        if picture_id is None:
            raise lib.NeonizeError("failed to get profile picture: that user does not have a profile picture")
        return pb.ProfilePictureInfo(ID=picture_id, URL=PIC_URL, Type="image")

    def get_contact(self, jid: pb.JID) -> pb.ContactInfo:
        return self.contacts.get(jids.to_str(jid), pb.ContactInfo(Found=False))

    def set_profile_name(self, name: str) -> None:
        self.set.append(("name", name))

    def set_status_message(self, about: str) -> None:
        self.set.append(("about", about))
        self.about[OWN_JID] = about

    def set_profile_photo(self, data: bytes) -> str:
        if self.photo_error is not None:
            raise self.photo_error
        self.set.append(("photo", data))
        self.pictures[OWN_JID] = "777"
        return "777"


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path, picture_fetch=lambda url: b"\xff\xd8\xffJPEG")
    harness.connect()
    fake = ProfileClient()
    fake.install(harness.client)
    harness.profiles = fake  # type: ignore[attr-defined]
    return harness


def test_own_profile_maps_name_about_and_picture(h):
    profile = h.engine.own_profile(INSTANCE)
    assert profile == {
        "jid": OWN_JID,
        "phone": "+5511900000001",
        "lid": OWN_LID,
        "push_name": "Loja",
        "about": "Mon-Fri",
        "business": False,
        "picture": None,  # none set: whatsmeow's "does not have a profile picture" is no error
    }


def test_a_contact_by_phone_with_its_push_name_lid_and_picture(h):
    profile = h.engine.contact_profile(INSTANCE, PEER)
    assert profile == {
        "jid": PEER,
        "phone": "+5511988887777",
        "lid": PEER_LID,
        "name": "Ana",
        "about": "Hi",
        "business": False,
        "verified_name": None,
        "picture": {"id": "555", "url": PIC_URL},
    }


def test_a_picture_hidden_from_this_number_is_none(h):
    def hidden(jid: pb.JID, params: Any) -> pb.ProfilePictureInfo:
        raise lib.NeonizeError(
            "the user has hidden their profile picture from you: info query returned status 401: not-authorized"
        )

    h.client.get_profile_picture = hidden
    assert h.engine.contact_profile(INSTANCE, PEER)["picture"] is None


def test_a_business_contact_has_its_verified_name(h):
    h.profiles.business[PEER] = "Acme Ltda"
    h.profiles.contacts.pop(PEER)
    profile = h.engine.contact_profile(INSTANCE, PEER)
    assert (profile["business"], profile["verified_name"], profile["name"]) == (True, "Acme Ltda", "Acme Ltda")


def test_a_contact_by_lid_gets_its_phone_from_the_store(h):
    profile = h.engine.contact_profile(INSTANCE, PEER_LID)
    assert (profile["jid"], profile["phone"], profile["lid"]) == (PEER_LID, "+5511988887777", PEER_LID)


def test_a_number_not_on_whatsapp_is_refused(h):
    with pytest.raises(PermanentFailure) as refused:
        h.engine.contact_profile(INSTANCE, "5511977776666@s.whatsapp.net")
    assert refused.value.code == "not_on_whatsapp"


def test_update_calls_neonizes_setters_and_answers_the_profile_after(h):
    media = {"media_id": "med_1", "key": "k", "mime_type": "image/jpeg", "size": 10}
    after = h.engine.update_profile(INSTANCE, {"push_name": "Acme", "about": "Open 24h", "picture": media})
    assert h.profiles.set == [("name", "Acme"), ("about", "Open 24h"), ("photo", b"IMAGEBYTES")]
    assert h.fetched == [media]
    assert (after["push_name"], after["about"], after["picture"]) == ("Acme", "Open 24h", {"id": "777", "url": PIC_URL})


def test_removing_the_picture_is_not_supported_and_changes_nothing(h):
    with pytest.raises(PermanentFailure) as refused:
        h.engine.update_profile(INSTANCE, {"about": "x", "picture": None})
    assert refused.value.code == "not_supported"
    assert h.profiles.set == []


def test_a_picture_whatsapp_refuses_is_picture_rejected(h):
    h.profiles.photo_error = lib.NeonizeError("failed to set profile photo: server returned error 406")
    with pytest.raises(PermanentFailure) as refused:
        h.engine.update_profile(INSTANCE, {"picture": {"media_id": "med_1", "key": "k", "mime_type": "image/png"}})
    assert refused.value.code == "picture_rejected"


def test_the_picture_is_fetched_only_from_whatsapps_host(h):
    path = h.engine.profile_picture(INSTANCE, PEER, {"id": "555", "url": PIC_URL})
    assert Path(path).read_bytes() == b"\xff\xd8\xffJPEG"
    Path(path).unlink()
    for url in ("http://pps.whatsapp.net/x.jpg", "https://169.254.169.254/x", "https://evil.example/pps.whatsapp.net"):
        with pytest.raises(PermanentFailure) as refused:
            h.engine.profile_picture(INSTANCE, PEER, {"id": "555", "url": url})
        assert refused.value.code == "invalid_input"


def test_picture_url_rules():
    assert is_picture_url(PIC_URL)
    assert is_picture_url("https://scontent.fbcdn.net/p.jpg")
    assert not is_picture_url("https://whatsapp.net.evil.com/p.jpg")
    assert not is_picture_url("https://user:pw@pps.whatsapp.net/p.jpg")
    assert not is_picture_url("https://pps.whatsapp.net:8443/p.jpg")
    assert not is_picture_url("ftp://pps.whatsapp.net/p.jpg")


def test_no_picture_errors_are_recognised():
    assert profiles.no_picture(lib.NeonizeError("the user has hidden their profile picture from you"))
    assert not profiles.no_picture(lib.NeonizeError("websocket not connected"))
