"""neonize's profile answers as the engine port's plain dicts (docs/profiles.md). Pure functions over neonize's
protos and errors: tested offline."""

from __future__ import annotations

from typing import Any

from bzapper.engines.whatsmeow import jids

# whatsmeow's ErrProfilePictureNotSet / ErrProfilePictureUnauthorized (and the IQ codes behind them): no picture
# this number may see, which a profile shows as none rather than as an error.
_NO_PICTURE = (
    "does not have a profile picture",
    "hidden their profile picture",
    "item-not-found",
    "not-authorized",
    "404",
    "401",
)


def no_picture(error: BaseException) -> bool:
    text = str(error).lower()
    return any(marker in text for marker in _NO_PICTURE)


def picture(info: Any) -> dict[str, Any] | None:
    """ProfilePictureInfo as {id, url} (the full picture's URL on WhatsApp's host), or None when it names none."""
    if info is None or not info.ID or not info.URL:
        return None
    return {"id": str(info.ID), "url": str(info.URL)}


def user_info(found: Any, jid: str) -> Any | None:
    """The UserInfo of `jid` in get_user_info's answer (keyed by the JID asked for), or None."""
    for single in found:
        if jids.to_str(single.JID) == jid:
            return single.UserInfo
    return next((single.UserInfo for single in found), None) if len(found) == 1 else None


def verified_name(info: Any | None) -> str | None:
    """A business's verified name (only WhatsApp Business accounts have a certificate)."""
    if info is None or not info.HasField("VerifiedName"):
        return None
    return info.VerifiedName.Details.verifiedName or None


def own(jid: str, lid: str, push_name: str, info: Any | None, pic: dict[str, Any] | None) -> dict[str, Any]:
    name = verified_name(info)
    return {
        "jid": jid,
        "phone": jids.phone_of(jid),
        "lid": lid or None,
        "push_name": push_name or None,
        "about": (info.Status if info is not None else "") or None,
        "business": name is not None,
        "picture": pic,
    }


def contact(
    jid: str, phone: str | None, lid: str | None, stored: Any | None, info: Any | None, pic: dict[str, Any] | None
) -> dict[str, Any]:
    """A contact: its push name from the session's store (what its messages carried), else a business's names."""
    name = verified_name(info)
    shown = None
    if stored is not None and stored.Found:
        shown = stored.PushName or stored.BusinessName or stored.FullName or None
    return {
        "jid": jid,
        "phone": phone,
        "lid": lid,
        "name": shown or name,
        "about": (info.Status if info is not None else "") or None,
        "business": name is not None or bool(stored is not None and stored.Found and stored.BusinessName),
        "verified_name": name,
        "picture": pic,
    }
