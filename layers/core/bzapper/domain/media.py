"""Media rules: what WhatsApp accepts per kind (types, sizes), what a file really is, where it is kept.

Pure: no I/O. The type of a file is read from its first bytes (the `filetype` library's signatures),
never from its name or the type a client declares; a declared type is only used for a document whose
content has no signature (plain text, CSV), where it is a label and changes nothing WhatsApp does.
"""

from __future__ import annotations

import hashlib
import mimetypes
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import filetype

from bzapper.domain.ids import is_id, new_id

MiB = 1024 * 1024
KiB = 1024

SNIFF_BYTES = 8192
"""How much of the head of a file the signatures need (filetype reads at most this many bytes)."""

DIRECT_UPLOAD_MAX = 4 * MiB
"""POST /media (multipart) on AWS goes through API Gateway and Lambda, whose request limit is 6 MB
after base64: larger files use the pre-signed upload (POST /media/uploads), straight to S3."""

UPLOAD_BODY_MAX = DIRECT_UPLOAD_MAX + 64 * KiB
"""The request body POST /media may have: the file plus the multipart framing and fields."""

MAX_MEDIA_BYTES = 100 * MiB
"""The largest file any kind accepts (a document); a plan may allow less (Plan.media_size_bytes)."""

URL_FETCH_SECONDS = 10.0
"""The whole download of a media URL, inside the API's 15 s: slower or larger sources upload first."""

DOWNLOAD_URL_SECONDS = 300
"""GET /media/{id} redirects to a pre-signed URL valid this long (fresh at every call)."""

UPLOAD_URL_SECONDS = 3600
"""A pre-signed upload (POST /media/uploads) must be used within this time."""

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class KindRule:
    mime_types: frozenset[str]
    """Empty: any type (documents)."""
    max_bytes: int


# WhatsApp's limits for media messages (what its apps and the multi-device protocol accept, as Meta
# documents them for the Cloud API): images are sent as JPEG or PNG, voice notes must be OGG/Opus,
# stickers are WebP (100 KB static, 500 KB animated).
KINDS: dict[str, KindRule] = {
    "image": KindRule(frozenset({"image/jpeg", "image/png"}), 16 * MiB),
    "video": KindRule(frozenset({"video/mp4", "video/3gpp"}), 16 * MiB),
    "audio": KindRule(frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * MiB),
    "document": KindRule(frozenset(), MAX_MEDIA_BYTES),
    "sticker": KindRule(frozenset({"image/webp"}), 500 * KiB),
}
STATIC_STICKER_MAX = 100 * KiB
VOICE_MIME = "audio/ogg"

# The same container under another name: an audio-only MP4 is often signed as a video.
_ALIASES = {"audio": {"video/mp4": "audio/mp4"}}


class MediaRejected(ValueError):
    """The file cannot be sent as that kind; `reason` is an i18n key suffix, `params` its values."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def sniff(head: bytes) -> str | None:
    """The MIME type the content's signature says, or None when it has no known signature."""
    kind = filetype.guess(bytes(head[:SNIFF_BYTES])) if head else None
    return kind.mime if kind else None


def is_animated_webp(head: bytes) -> bool:
    """An extended WebP (VP8X chunk) with the animation flag set."""
    return len(head) > 20 and head[:4] == b"RIFF" and head[8:16] == b"WEBPVP8X" and bool(head[20] & 0x02)


def is_opus(head: bytes) -> bool:
    """An Ogg stream whose first page carries the Opus identification header (a voice note's codec)."""
    return head[:4] == b"OggS" and b"OpusHead" in head[:128]


_SIGNED_TYPES = frozenset(kind.mime for kind in filetype.types)
"""Types whose files carry a signature: a file without one is not of these, whatever it claims."""


def stored_type(head: bytes, declared: str | None = None, filename: str | None = None) -> str:
    """The type to store a file under: its signature's; without one, the declared type or the name's, as
    a label (then it can only go out as a document), never a type the bytes would have shown."""
    sniffed = sniff(head)
    if sniffed:
        return sniffed
    declared = (declared or "").split(";")[0].strip().lower()
    if not (declared and "/" in declared and declared != OCTET_STREAM):
        declared = (mimetypes.guess_type(filename)[0] if filename else None) or OCTET_STREAM
    return OCTET_STREAM if declared in _SIGNED_TYPES else declared


def size_limit(kind: str, plan_max: int) -> int:
    return min(KINDS[kind].max_bytes, plan_max)


def check_kind(kind: str, mime_type: str, size: int, head: bytes, *, plan_max: int, voice: bool = False) -> str:
    """The MIME type the file goes out as for `kind`, or MediaRejected. `mime_type` is the stored one."""
    rule = KINDS[kind]
    limit = size_limit(kind, plan_max)
    if size <= 0:
        raise MediaRejected("empty")
    if size > limit:
        raise MediaRejected("too_large", size=size, limit=limit)
    mime = _ALIASES.get(kind, {}).get(mime_type, mime_type)
    if rule.mime_types and mime not in rule.mime_types:
        raise MediaRejected("wrong_type", mime_type=mime_type, kind=kind, allowed=", ".join(sorted(rule.mime_types)))
    if kind == "sticker" and not is_animated_webp(head) and size > STATIC_STICKER_MAX:
        raise MediaRejected("too_large", size=size, limit=STATIC_STICKER_MAX)
    if voice and not (mime == VOICE_MIME and is_opus(head)):
        raise MediaRejected("voice_not_opus")
    return mime


# --- Where objects live -------------------------------------------------------------------------------

MEDIA_PREFIX = "med"
UPLOADS_PREFIX = "uploads/"
"""Pre-signed uploads land here until completed; the bucket's lifecycle deletes leftovers after a day."""


def new_media_id() -> str:
    return new_id(MEDIA_PREFIX)


def is_media_id(value: str) -> bool:
    return is_id(value, MEDIA_PREFIX)


def account_prefix(account_id: str, livemode: bool) -> str:
    """Every object of an account (and mode) is under this prefix: one place to list, export or erase."""
    return f"{account_id}/{'live' if livemode else 'test'}/"


def object_key(account_id: str, livemode: bool, media_id: str) -> str:
    return f"{account_prefix(account_id, livemode)}{media_id}"


def upload_key(account_id: str, livemode: bool, media_id: str) -> str:
    return f"{UPLOADS_PREFIX}{object_key(account_id, livemode, media_id)}"


def safe_filename(name: str | None) -> str | None:
    """A file name as WhatsApp shows it: no path, no control characters, at most 240 characters."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:240] or None


@dataclass(frozen=True, slots=True)
class MediaSource:
    """Where a send's media comes from: exactly one of `url` and `media_id`."""

    url: str | None = None
    media_id: str | None = None
    mime_type: str | None = None
    """Only a label for a document without a recognisable signature; the content decides otherwise."""
    filename: str | None = None
    voice: bool = False

    @property
    def param(self) -> str:
        return "url" if self.url else "media_id"


# Receiving a file: read once, hashed and size-capped as it arrives. A spooled temporary file is in-process
# buffering (memory, then Lambda's /tmp past a few MB), not I/O with the outside world.

_CHUNK = 1024 * 1024
_SPOOL_BYTES = 8 * 1024 * 1024
"""Past this, a file being received is spooled to disk (Lambda's /tmp), not held in memory."""


@dataclass
class Received:
    """A file read once from a stream: its head (to sniff), size, SHA-256, and a spooled copy to store."""

    head: bytes
    size: int
    sha256: str
    file: IO[bytes]

    def close(self) -> None:
        self.file.close()


class TooLarge(Exception):
    """The stream went past the allowed size; nothing was stored."""


def receive(chunks: Iterator[bytes], max_bytes: int) -> Received:
    """Consumes `chunks` once, hashing as it goes; stops as soon as `max_bytes` is passed."""
    digest = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - the caller closes it
    head = bytearray()
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return Received(bytes(head), size, digest.hexdigest(), spool)


def file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    while chunk := file.read(_CHUNK):
        yield chunk
