"""Profiles: WhatsApp's limits on what a number shows of itself, and the stable media id of a profile picture
(docs/profiles.md). Pure: no I/O."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from bzapper.domain.media import MEDIA_PREFIX
from bzapper.domain.text import displayable

MAX_PUSH_NAME = 25
"""WhatsApp's apps cut a profile name at 25 characters (whatsmeow sends what it is given; the server keeps it)."""
MAX_ABOUT = 139
"""The "About" text: 139 characters in WhatsApp's apps (longer ones are refused by the server)."""
PICTURE_TYPES = frozenset({"image/jpeg", "image/png"})
"""What a profile picture may be made from (WhatsApp stores a JPEG; whatsmeow uploads the bytes it is given)."""
MAX_PICTURE_BYTES = 5 * 1024 * 1024
"""A profile picture is at most 640x640 on WhatsApp: a file past this is no photo anyone needs to upload."""
MAX_PICTURE_DOWNLOAD = 2 * 1024 * 1024
"""What the worker takes of a picture WhatsApp serves (they are tens of KB): past this it is not stored."""

PICTURE_HOST_SUFFIXES = (".whatsapp.net", ".cdninstagram.com", ".fbcdn.net")
"""Where WhatsApp serves profile pictures (pps.whatsapp.net; Meta's CDNs): the only hosts the whatsmeow engine
fetches a picture URL from, over https, besides the SSRF rules every outbound fetch passes."""

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def picture_media_id(account_id: str, owner_jid: str, picture_id: str) -> str:
    """Our media id for one WhatsApp picture of one owner, derived, never random: every read of the same picture
    names the same `/media/{id}`, a new picture (a new WhatsApp id) a new one, and no two accounts share one.
    The shape of every media id (`med_` + 26 Crockford characters, the first at most 7 like a ULID's)."""
    digest = int.from_bytes(hashlib.sha256(f"{account_id}\n{owner_jid}\n{picture_id}".encode()).digest(), "big")
    chars = [_CROCKFORD[digest & 7]]
    digest >>= 3
    for _ in range(25):
        chars.append(_CROCKFORD[digest & 31])
        digest >>= 5
    return f"{MEDIA_PREFIX}_{''.join(chars)}"


def is_picture_url(url: str) -> bool:
    """A picture URL the whatsmeow engine may fetch: https on one of WhatsApp's picture hosts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or parts.username or parts.password or parts.port not in (None, 443):
        return False
    return any(host.endswith(suffix) for suffix in PICTURE_HOST_SUFFIXES)


def text_problem(value: str, limit: int) -> str | None:
    """Why a profile text cannot be set ("too_long", "control"), or None: WhatsApp counts characters, and a
    control character (NUL, a newline in a name) is no part of a name or an about text."""
    if len(value) > limit:
        return "too_long"
    if not displayable(value):  # the same rule as every name a person reads back (domain/text.py)
        return "control"
    return None
