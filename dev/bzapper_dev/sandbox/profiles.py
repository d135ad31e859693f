"""Profiles on the sandbox network: what every user shows (name, about, business or not, a picture).

A mixin of SandboxNetwork (network.py), under its lock. A simulated contact has a default profile (documented
in docs/sandbox.md, "Profiles") until a test sets one (`set_contact_profile`); a number (an instance's phone) has the
profile its instance sets (`update_profile`), and every other user of the account sees that one. Pictures are
generated PNGs for contacts, the uploaded bytes for a number; each has an id that changes with the picture,
as WhatsApp's picture ids do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bzapper_dev.sandbox.numbers import (
    InvalidInput,
    contact_key,
    default_push_name,
    lid_for,
    on_whatsapp,
    phone_for_lid,
    phone_jid,
)

if TYPE_CHECKING:
    from bzapper_dev.sandbox.network import _Device, _Instance

DEFAULT_ABOUT = "Hey there! I am using WhatsApp."
MAX_PUSH_NAME = 25  # WhatsApp's limits (bzapper.domain.profiles)
MAX_ABOUT = 139
MAX_PICTURE_BYTES = 5 * 1024 * 1024
PICTURE_SIZE = 32  # pixels of a generated picture's side
_PICTURE_IDS = itertools.count(1)  # never reset: a picture id never names two pictures


@dataclass
class _Picture:
    id: str
    mime_type: str
    data: bytes


@dataclass
class _Profile:
    name: str
    about: str
    business: bool
    picture: _Picture | None
    verified_name: str | None = None
    changed: set[str] = field(default_factory=set)


def is_business(phone: str) -> bool:
    """The rule for simulated contacts: a number ending in 7 is a WhatsApp Business account."""
    return phone.endswith("7")


def has_default_picture(phone: str) -> bool:
    """The rule for simulated contacts: every one has a generated picture, except numbers ending in 0."""
    return not phone.endswith("0")


def generated_picture(phone: str, generation: int) -> _Picture:
    """A small solid PNG in a colour of the phone and generation: the same contact, the same picture id."""
    seed = hashlib.sha256(f"{phone}:{generation}".encode()).digest()
    picture_id = str(int.from_bytes(seed[:5], "big"))
    return _Picture(picture_id, "image/png", _png(PICTURE_SIZE, seed[5:8]))


def _png(side: int, rgb: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + rgb * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def default_profile(phone: str) -> _Profile:
    business = is_business(phone)
    return _Profile(
        name=default_push_name(phone),
        about=DEFAULT_ABOUT,
        business=business,
        picture=generated_picture(phone, 0) if has_default_picture(phone) else None,
        verified_name=f"Business {phone[-4:]}" if business else None,
    )


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise InvalidInput(f"{name} must be a string of at most {limit} characters", name)
    return value


def _uploaded_picture(value: Any) -> _Picture | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("data_base64"), str):
        raise InvalidInput("picture must be {mime_type, data_base64} or null", "picture")
    try:
        data = base64.b64decode(value["data_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("picture.data_base64 is not valid base64", "picture") from None
    if not data or len(data) > MAX_PICTURE_BYTES:
        raise InvalidInput(f"a picture has 1 to {MAX_PICTURE_BYTES} bytes", "picture")
    mime_type = value.get("mime_type")
    if mime_type not in ("image/jpeg", "image/png"):
        raise InvalidInput("picture.mime_type must be image/jpeg or image/png", "picture")
    return _Picture(str(next(_PICTURE_IDS) + 10**9), mime_type, data)


class ProfilesMixin:
    """Profiles of SandboxNetwork (the attributes below are the network's)."""

    if TYPE_CHECKING:
        from threading import Lock

        _lock: Lock
        _instances: dict[tuple[str, str], _Instance]
        _profiles: dict[tuple[str, str], _Profile]

        def _advance(self) -> float: ...
        def _online(self, key: tuple[str, str], *, sending: bool = False) -> _Instance: ...
        def _check(self, device: _Device, value: str) -> dict[str, Any]: ...

    def _profile(self, account_id: str, phone: str) -> _Profile:
        """The profile a phone shows in this account's world: one set (by its instance or a test), else the
        default of a simulated contact, or of a number (its push name, no picture)."""
        found = self._profiles.get((account_id, phone))
        if found is not None:
            return found
        for key, inst in self._instances.items():
            if key[0] == account_id and inst.device is not None and inst.device.phone == phone:
                return _Profile(inst.device.push_name, DEFAULT_ABOUT, False, None)
        return default_profile(phone)

    @staticmethod
    def _picture_of(profile: _Profile) -> dict[str, Any] | None:
        return {"id": profile.picture.id} if profile.picture else None

    def own_profile(self, account_id: str, instance_id: str) -> dict[str, Any]:
        """{jid, phone, lid, push_name, about, business, picture: {id} | None} of the instance's number."""
        with self._lock:
            self._advance()
            inst = self._online((account_id, instance_id))
            assert inst.device is not None
            return self._own(account_id, inst.device)

    def _own(self, account_id: str, device: _Device) -> dict[str, Any]:
        profile = self._profile(account_id, device.phone)
        return {
            "jid": phone_jid(device.phone),
            "phone": device.phone,
            "lid": device.lid,
            "push_name": profile.name,
            "about": profile.about,
            "business": profile.business,
            "picture": self._picture_of(profile),
        }

    def update_profile(self, account_id: str, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set push_name, about, picture ({mime_type, data_base64}, or None to remove it): the profile after.
        Every user of the account sees it from then on (and messages carry the new push name)."""
        if not isinstance(changes, dict) or not changes:
            raise InvalidInput("nothing to change", "changes")
        wanted: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "push_name":
                wanted[name] = _text(value, name, MAX_PUSH_NAME)
                if not value.strip():
                    raise InvalidInput("push_name must not be blank", name)
            elif name == "about":
                wanted[name] = _text(value, name, MAX_ABOUT)
            elif name == "picture":
                wanted[name] = _uploaded_picture(value)
            else:
                raise InvalidInput(f"unknown profile field: {name}", name)
        with self._lock:
            self._advance()
            inst = self._online((account_id, instance_id))
            device = inst.device
            assert device is not None
            current = self._profile(account_id, device.phone)
            profile = _Profile(current.name, current.about, current.business, current.picture)
            if "push_name" in wanted:
                profile.name = device.push_name = wanted["push_name"]
            if "about" in wanted:
                profile.about = wanted["about"]
            if "picture" in wanted:
                profile.picture = wanted["picture"]
            self._profiles[(account_id, device.phone)] = profile
            return self._own(account_id, device)

    def contact_profile(self, account_id: str, instance_id: str, jid: str) -> dict[str, Any]:
        """{jid, phone, lid, name, about, business, verified_name, picture} of a user as this number sees it
        (a LID it cannot map shows no phone); Rejected("not_on_whatsapp") for one WhatsApp does not know."""
        with self._lock:
            self._advance()
            inst = self._online((account_id, instance_id))
            assert inst.device is not None
            found = self._check(inst.device, jid)
            if not found["exists"]:
                from bzapper_dev.sandbox.network import Rejected

                raise Rejected("not_on_whatsapp")
            phone = found["phone"] or phone_for_lid(found["jid"])
            assert phone is not None
            profile = self._profile(account_id, phone)
            return {
                "jid": found["jid"],
                "phone": found["phone"],
                "lid": found["lid"],
                "name": profile.name,
                "about": profile.about,
                "business": profile.business,
                "verified_name": profile.verified_name,
                "picture": self._picture_of(profile),
            }

    def profile_picture(self, account_id: str, jid: str, picture_id: str) -> tuple[str, bytes] | None:
        """(mime type, bytes) of that user's picture while it is the current one (None once it changed)."""
        phone = self._phone_of(jid)
        with self._lock:
            picture = self._profile(account_id, phone).picture if phone else None
            if picture is None or picture.id != picture_id:
                return None
            return picture.mime_type, picture.data

    @staticmethod
    def _phone_of(jid: str) -> str | None:
        key = contact_key(jid)
        if key.startswith("+"):
            return key if on_whatsapp(key) else None
        return phone_for_lid(key)

    def set_contact_profile(self, account_id: str, phone: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A test control: what a simulated contact shows (name, about, business, picture: true for a new
        generated one, false for none). Answers the profile as anyone sees it."""
        contact = self._phone_of(phone)
        if contact is None:
            raise InvalidInput(f"not a phone of a WhatsApp user: {phone!r}", "phone")
        if not isinstance(changes, dict) or not changes:
            raise InvalidInput("nothing to change", "changes")
        with self._lock:
            current = self._profile(account_id, contact)
            profile = _Profile(current.name, current.about, current.business, current.picture, current.verified_name)
            for name, value in changes.items():
                if name == "name":
                    profile.name = _text(value, name, MAX_PUSH_NAME)
                elif name == "about":
                    profile.about = _text(value, name, MAX_ABOUT)
                elif name == "business":
                    if not isinstance(value, bool):
                        raise InvalidInput("business must be true or false", name)
                    profile.business = value
                    profile.verified_name = (profile.verified_name or f"Business {contact[-4:]}") if value else None
                elif name == "picture":
                    if not isinstance(value, bool):
                        raise InvalidInput("picture must be true (a new one) or false (none)", name)
                    profile.picture = generated_picture(contact, next(_PICTURE_IDS)) if value else None
                else:
                    raise InvalidInput(f"unknown profile field: {name}", name)
            self._profiles[(account_id, contact)] = profile
            return self._seen(contact, profile)

    def profile_seen(self, account_id: str, phone: str) -> dict[str, Any]:
        """What every user sees of this phone (a simulated contact or a number): a test's window."""
        contact = self._phone_of(phone)
        if contact is None:
            raise InvalidInput(f"not a phone of a WhatsApp user: {phone!r}", "phone")
        with self._lock:
            return self._seen(contact, self._profile(account_id, contact))

    def _seen(self, phone: str, profile: _Profile) -> dict[str, Any]:
        return {
            "jid": phone_jid(phone),
            "phone": phone,
            "lid": lid_for(phone),
            "name": profile.name,
            "about": profile.about,
            "business": profile.business,
            "verified_name": profile.verified_name,
            "picture": self._picture_of(profile),
        }
