"""Profiles: the number's own (read and change) and a contact's (read), each a question to the worker holding
the number; the pictures they name become stable `/media/{id}` links (docs/profiles.md)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any

from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.instances import InstanceStatus
from bzapper.domain.media import TooLarge, file_chunks, receive, sniff
from bzapper.domain.model import InstanceView, Principal
from bzapper.domain.phones import InvalidRecipient, parse_recipient
from bzapper.domain.profiles import (
    MAX_ABOUT,
    MAX_PICTURE_BYTES,
    MAX_PICTURE_DOWNLOAD,
    MAX_PUSH_NAME,
    PICTURE_TYPES,
    picture_media_id,
    text_problem,
)
from bzapper.services.container import Services
from bzapper.services.control import ask
from bzapper.services.instances import learn_identity, owned, require_session
from bzapper.services.media import usable_media

logger = logging.getLogger("bzapper.services.profiles")

STORED_PICTURE_TYPES = PICTURE_TYPES | {"image/webp"}
"""What a fetched picture may be (WhatsApp serves JPEG; WebP where a CDN converts it): anything else is not kept."""


def _refusal(code: str) -> BzError:
    if code == "not_on_whatsapp":
        # The contact is not there to read: 404 with the check's own word for it (POST /contacts/checkIsOnWhatsApp).
        return BzError("not_on_whatsapp", message_key="error.contact_not_on_whatsapp", status=404)
    if code == "picture_rejected":
        return validation_failed("picture_media_id", "error.profile_picture_rejected")
    if code == "not_supported":
        return BzError("not_supported", message_key="error.profile_not_supported", status=422)
    if code == "invalid_input":
        return BzError("validation_failed")
    if code == "not_connected":
        return BzError("not_connected")
    return BzError("temporarily_unavailable", retry_after=1)


def _ask(services: Services, view: InstanceView, op: str, **args: Any) -> dict[str, Any]:
    return present(dict(ask(services, view.ref, op, refusal=_refusal, **args).get("result") or {}))


def _connected(services: Services, principal: Principal, instance_id: str, action: str) -> InstanceView:
    view = owned(services, principal, instance_id)
    try:
        require_session(view, action)
    except BzError as error:
        # A Cloud API number: the request asks what its engine cannot do (422, as the issue states), not a key's
        # missing entitlement (require_session's 403).
        raise BzError(error.code, message_key=error.message_key, params=error.params, status=422) from None
    if view.status not in (InstanceStatus.CONNECTED, InstanceStatus.RESTRICTED):
        raise BzError("not_connected")  # a restricted number still reads and sets its profile
    return view


def present(profile: dict[str, Any]) -> dict[str, Any]:
    """A profile as the API shows it: its picture as {media_id, url} (our stable link), or None."""
    picture = profile.get("picture")
    media_id = picture.get("media_id") if isinstance(picture, dict) else None
    profile["picture"] = {"media_id": media_id, "url": f"/media/{media_id}"} if media_id else None
    return profile


def own(services: Services, principal: Principal, instance_id: str) -> dict[str, Any]:
    view = _connected(services, principal, instance_id, "profile")
    return _ask(services, view, "own_profile")


def _text(field: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise validation_failed(field)
    problem = text_problem(value, limit)
    if problem == "too_long":
        raise validation_failed(field, "error.profile_text_too_long", max=limit)
    if problem:
        raise validation_failed(field, "error.profile_text_control")
    return value


def picture_media(
    services: Services, principal: Principal, media_id: Any, *, param: str = "picture_media_id"
) -> dict[str, Any] | None:
    """The stored media a new profile or group picture names (None: remove it), checked as WhatsApp takes one."""
    if media_id is None:
        return None
    media = usable_media(services, principal, media_id) if isinstance(media_id, str) else None
    if media is None:
        # Another account's id (or a number's media this key may not use) is no media at all, as on GET /media.
        raise validation_failed(param, "error.profile_picture_unknown")
    if media.get("mime_type") not in PICTURE_TYPES:
        raise validation_failed(param, "error.profile_picture_type")
    if int(media.get("size") or 0) > MAX_PICTURE_BYTES:
        raise validation_failed(param, "error.profile_picture_size", limit=MAX_PICTURE_BYTES)
    return media


def update_own(services: Services, principal: Principal, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH /instances/{id}/profile: push_name, about, picture_media_id (null removes the picture)."""
    view = _connected(services, principal, instance_id, "profile")  # another account's number: 404 first
    if not changes:
        raise validation_failed("request_body", "error.profile_nothing_to_change")
    wanted: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "push_name":
            wanted[name] = _text(name, value, MAX_PUSH_NAME)
            if not value.strip():
                raise validation_failed(name, "error.profile_name_empty")
        elif name == "about":
            wanted[name] = _text(name, value, MAX_ABOUT)
        elif name == "picture_media_id":
            wanted["picture"] = picture_media(services, principal, value)
        else:
            raise validation_failed(name)
    profile = _ask(services, view, "update_profile", changes=wanted)
    if "push_name" in wanted and profile.get("push_name"):
        _remember_push_name(services, view, str(profile["push_name"]))
    return profile


def _remember_push_name(services: Services, view: InstanceView, push_name: str) -> None:
    """GET /instances/{id} shows the new name at once: the stored observation again, with the new name (at the
    same time, so a newer observation stored meanwhile wins; same status, so no event)."""
    services.instances.apply_state(
        view.instance_id,
        status=view.status,
        at=view.state_at,
        qr=view.qr,
        phone=view.phone,
        lid=view.lid,
        push_name=push_name,
        error=view.last_error,
        until=view.restricted_until,
    )


def contact_jid(value: str) -> str:
    """The JID to ask about: a phone, a phone JID or an `@lid` (groups and anything else are refused)."""
    try:
        return parse_recipient(value).jid
    except InvalidRecipient as error:
        raise validation_failed("jid", "error.invalid_recipient", value=value) from error


def contact(services: Services, principal: Principal, instance_id: str, jid: str) -> dict[str, Any]:
    view = _connected(services, principal, instance_id, "contacts")
    wanted = contact_jid(jid)
    profile = _ask(services, view, "contact_profile", jid=wanted)
    if profile.get("phone") and profile.get("lid"):
        # A lookup that names both sides teaches the mapping, as the contacts check does (one event the first time).
        learn_identity(services, view, str(profile["phone"]), str(profile["lid"]), now_ms())
    return profile


# -- in the worker: the pictures a profile names, stored once per WhatsApp picture id --------------------------

PictureFetch = Callable[[str, dict[str, Any]], str]
"""(owner jid, the engine's picture {id, url?}) → a local temp file with its bytes (the engine's profile_picture)."""


def store_picture(
    services: Services, account_id: str, livemode: bool, profile: dict[str, Any], fetch: PictureFetch
) -> dict[str, Any]:
    """The profile with its picture as {media_id}: the bytes fetched and stored the first time this picture id is
    seen for this owner, under an id derived from (account, owner, picture id), so a repeated read names the same
    media and a new picture a new one. A picture that cannot be fetched is shown as none (logged), never an error:
    the rest of the profile is still the answer. The media is the account's (not one number's), like an upload."""
    picture = profile.get("picture")
    owner = str(profile.get("jid") or "")
    if not isinstance(picture, dict) or not picture.get("id") or not owner:
        profile["picture"] = None
        return profile
    media_id = picture_media_id(account_id, owner, str(picture["id"]))
    if services.media.describe(account_id, livemode, media_id) is None:
        try:
            path = fetch(owner, picture)
        except Exception:
            logger.warning("profile picture of %s not fetched", owner, exc_info=True)
            profile["picture"] = None
            return profile
        try:
            if not _store(services, account_id, livemode, media_id, path):
                profile["picture"] = None
                return profile
        finally:
            _remove(path)
    profile["picture"] = {"media_id": media_id}
    return profile


def _store(services: Services, account_id: str, livemode: bool, media_id: str, path: str) -> bool:
    try:
        with open(path, "rb") as file:
            received = receive(file_chunks(file), max_bytes=MAX_PICTURE_DOWNLOAD)
    except TooLarge:
        logger.warning("profile picture %s refused: over %d bytes", media_id, MAX_PICTURE_DOWNLOAD)
        return False
    try:
        mime_type = sniff(received.head)
        if received.size == 0 or mime_type not in STORED_PICTURE_TYPES:
            logger.warning("profile picture %s refused: %s", media_id, mime_type)
            return False
        services.media.put_received(account_id, livemode, received, mime_type, "profile" + _suffix(mime_type), media_id)
        return True
    finally:
        received.close()


def _suffix(mime_type: str) -> str:
    return {"image/png": ".png", "image/webp": ".webp"}.get(mime_type, ".jpg")


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
