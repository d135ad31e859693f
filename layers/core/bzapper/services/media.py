"""Media: uploads (direct and pre-signed), media by URL fetched safely, and the media of a send.

Whatever the source, a file is read once (hashed, sniffed, size-capped as it arrives), checked against
WhatsApp's rules for the kind it is sent as, and stored privately under the account's prefix; a send
carries only the resulting content "media" dict (bzapper.domain.content), never the bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.media import (
    DIRECT_UPLOAD_MAX,
    DOWNLOAD_URL_SECONDS,
    MAX_MEDIA_BYTES,
    UPLOAD_URL_SECONDS,
    URL_FETCH_SECONDS,
    MediaRejected,
    MediaSource,
    Received,
    TooLarge,
    check_kind,
    is_media_id,
    new_media_id,
    receive,
    safe_filename,
    size_limit,
    stored_type,
)
from bzapper.domain.model import Principal
from bzapper.domain.plans import plan_named
from bzapper.domain.transport import FetchFailed
from bzapper.services.container import Services


def upload_limit(principal: Principal) -> int:
    return min(plan_named(principal.plan).media_size_bytes, MAX_MEDIA_BYTES)


@dataclass(frozen=True, slots=True)
class UploadStarted:
    """A media id reserved for a pre-signed upload, and the form to POST the file with, straight to storage."""

    media_id: str
    url: str
    fields: dict[str, str]
    max_size: int
    expires_at: int


# --- POST /media -----------------------------------------------------------------------------------------


def upload(
    services: Services, principal: Principal, chunks: Iterator[bytes], declared: str | None, filename: str | None
) -> dict[str, Any]:
    """A file sent in the request itself (multipart), up to DIRECT_UPLOAD_MAX."""
    limit = min(DIRECT_UPLOAD_MAX, upload_limit(principal))
    try:
        received = receive(chunks, limit)
    except TooLarge as error:
        raise validation_failed("file", "error.media_too_large", size=limit + 1, limit=limit) from error
    try:
        return _store(services, principal, received, declared, filename)
    finally:
        received.close()


def _store(
    services: Services,
    principal: Principal,
    received: Received,
    declared: str | None,
    filename: str | None,
    media_id: str | None = None,
) -> dict[str, Any]:
    if received.size == 0:
        raise validation_failed("file", "error.media_empty")
    mime_type = stored_type(received.head, declared, filename)
    return services.media.put_received(
        principal.account_id, principal.livemode, received, mime_type, filename, media_id=media_id
    )


# --- Pre-signed uploads ----------------------------------------------------------------------------------


def start_upload(services: Services, principal: Principal) -> UploadStarted:
    """A media id and a pre-signed POST for it: the client sends the file straight to S3 (up to the
    plan's media size), then completes the upload, which checks it like any other."""
    media_id = new_media_id()
    limit = upload_limit(principal)
    form = services.media.upload_form(principal.account_id, principal.livemode, media_id, limit, UPLOAD_URL_SECONDS)
    return UploadStarted(media_id, form["url"], form["fields"], limit, now_ms() + UPLOAD_URL_SECONDS * 1000)


def complete_upload(
    services: Services, principal: Principal, media_id: str, declared: str | None, filename: str | None
) -> dict[str, Any]:
    if not is_media_id(media_id):
        raise BzError("not_found")
    existing = services.media.describe(principal.account_id, principal.livemode, media_id)
    if existing is not None:
        instance_id = existing.pop("instance_id", None)
        if instance_id and not principal.may_use(instance_id):
            raise BzError("not_found")  # a file received by a number the key does not have
        return existing  # completed before: completing again is harmless
    limit = upload_limit(principal)
    try:
        received = services.media.read_upload(principal.account_id, principal.livemode, media_id, limit)
    except TooLarge as error:
        services.media.discard_upload(principal.account_id, principal.livemode, media_id)
        raise validation_failed("file", "error.media_too_large", size=limit + 1, limit=limit) from error
    if received is None:
        raise BzError("not_found", message_key="error.upload_missing")
    try:
        if received.size == 0:
            raise validation_failed("file", "error.media_empty")
        mime_type = stored_type(received.head, declared, filename)
        return services.media.promote_upload(
            principal.account_id, principal.livemode, media_id, received, mime_type, filename
        )
    finally:
        received.close()


# --- GET /media/{id} -------------------------------------------------------------------------------------


def usable_media(services: Services, principal: Principal, media_id: str) -> dict[str, Any] | None:
    """The content "media" dict of a file the caller may use, or None: another account's, or one received by a
    number a restricted key does not have (it is that number's data, like its messages); uploads are the
    account's, usable by any of its keys."""
    media = (
        services.media.describe(principal.account_id, principal.livemode, media_id) if is_media_id(media_id) else None
    )
    if media is None:
        return None
    instance_id = media.pop("instance_id", None)  # not part of the content a send carries
    if instance_id and not principal.may_use(instance_id):
        return None
    return media


def download_url(services: Services, principal: Principal, media_id: str) -> str:
    media = usable_media(services, principal, media_id)
    if media is None:
        raise BzError("not_found")  # another account's (or number's) media is indistinguishable from none
    return services.media.download_url(media, DOWNLOAD_URL_SECONDS)


# --- The media of a send ---------------------------------------------------------------------------------


def media_for_send(services: Services, principal: Principal, kind: str, source: MediaSource) -> dict[str, Any]:
    """The content "media" dict for sending `source` as `kind`: an uploaded file checked for that kind,
    or the URL fetched, checked and stored. Raises 422 validation_failed naming the field at fault."""
    plan_max = plan_named(principal.plan).media_size_bytes
    if source.media_id is not None:  # an empty id is an unknown one (a 422), never a fall through to the URL
        media = usable_media(services, principal, source.media_id)
        if media is None:
            raise validation_failed("media_id", "error.media_not_found")
        needs_head = kind == "sticker" or source.voice
        head = services.media.head_bytes(media) if needs_head else b""
        _check(kind, media["mime_type"], media["size"], head, plan_max, source)
        return media
    assert source.url is not None
    limit = size_limit(kind, plan_max)
    received, served_type = _fetch(services, source.url, limit)
    try:
        filename = source.filename or _name_in(source.url)
        mime_type = stored_type(received.head, source.mime_type or served_type, filename)
        _check(kind, mime_type, received.size, received.head, plan_max, source)
        return services.media.put_received(principal.account_id, principal.livemode, received, mime_type, filename)
    finally:
        received.close()


def _check(kind: str, mime_type: str, size: int, head: bytes, plan_max: int, source: MediaSource) -> None:
    try:
        check_kind(kind, mime_type, size, head, plan_max=plan_max, voice=source.voice)
    except MediaRejected as rejected:
        param = "voice" if rejected.reason == "voice_not_opus" else source.param
        raise validation_failed(param, f"error.media_{rejected.reason}", **rejected.params) from rejected


def _fetch(services: Services, url: str, limit: int) -> tuple[Received, str | None]:
    """The file at `url` (SSRF-guarded, size-capped, within the time limit) and the type it was served as."""
    try:
        with services.http.get(url, timeout=URL_FETCH_SECONDS) as download:
            if download.content_length is not None and download.content_length > limit:
                raise validation_failed("url", "error.media_too_large", size=download.content_length, limit=limit)
            return receive(download.chunks(), limit), download.content_type
    except TooLarge as error:
        raise validation_failed("url", "error.media_too_large", size=limit + 1, limit=limit) from error
    except FetchFailed as failed:
        if failed.reason == "unsafe_url":
            raise validation_failed("url", f"error.unsafe_url.{failed.detail}") from failed
        if failed.reason.startswith("http_"):
            status = failed.reason.removeprefix("http_")
            raise validation_failed("url", "error.media_fetch_failed.http_status", status=status) from failed
        raise validation_failed("url", f"error.media_fetch_failed.{failed.reason}") from failed


def _name_in(url: str) -> str | None:
    return safe_filename(unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
