"""The media store in memory (bzapper.ports.media): objects under each account's prefix, described by what S3
keeps with them (type, size, SHA-256, file name), and pre-signed uploads a test plays the client's part in."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bzapper.adapters.memory.faults import Faults
from bzapper.domain.media import (
    SNIFF_BYTES,
    Received,
    file_chunks,
    new_media_id,
    object_key,
    receive,
    safe_filename,
    sniff,
    upload_key,
)


@dataclass(frozen=True, slots=True)
class _Object:
    data: bytes
    mime_type: str
    sha256: str
    filename: str | None
    instance_id: str | None = None


def _media(key: str, media_id: str, stored: _Object) -> dict[str, Any]:
    media: dict[str, Any] = {
        "media_id": media_id,
        "key": key,
        "mime_type": stored.mime_type,
        "size": len(stored.data),
        "sha256": stored.sha256,
    }
    if stored.filename:
        media["filename"] = stored.filename
    return media


class MemoryMediaStore(Faults):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.objects: dict[str, _Object] = {}
        self.uploads: dict[str, bytes] = {}
        self.upload_limits: dict[str, int] = {}
        """The size limit each pre-signed form was made with (S3 itself refuses a larger file)."""

    # Writing --------------------------------------------------------------------------------------------

    def put_received(
        self,
        account_id: str,
        livemode: bool,
        received: Received,
        mime_type: str,
        filename: str | None = None,
        media_id: str | None = None,
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        self._enter("put_received", account_id, livemode, received, mime_type, filename, media_id=media_id)
        media_id = media_id or new_media_id()
        key = object_key(account_id, livemode, media_id)
        received.file.seek(0)
        stored = _Object(received.file.read(), mime_type, received.sha256, safe_filename(filename), instance_id)
        with self._lock:
            self.objects[key] = stored
        return _media(key, media_id, stored)

    def put_bytes(
        self, account_id: str, livemode: bool, data: bytes, mime_type: str, filename: str | None = None
    ) -> dict[str, Any]:
        self._enter("put_bytes", account_id, livemode, data, mime_type, filename)
        received = receive(iter([data]), len(data))
        try:
            return self.put_received(account_id, livemode, received, mime_type, filename)
        finally:
            received.close()

    def put_file(
        self,
        account_id: str,
        livemode: bool,
        path: str | Path,
        mime_type: str,
        filename: str | None = None,
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        self._enter("put_file", account_id, livemode, path, mime_type, filename)
        with open(path, "rb") as file:
            received = receive(file_chunks(file), max_bytes=1 << 62)
        try:
            return self.put_received(
                account_id, livemode, received, sniff(received.head) or mime_type, filename, instance_id=instance_id
            )
        finally:
            received.close()

    # Reading --------------------------------------------------------------------------------------------

    def read(self, media: dict[str, Any]) -> bytes:
        self._enter("read", media)
        with self._lock:
            return self.objects[media["key"]].data

    def head_bytes(self, media: dict[str, Any], length: int = SNIFF_BYTES) -> bytes:
        self._enter("head_bytes", media, length)
        with self._lock:
            return self.objects[media["key"]].data[:length]

    def describe(self, account_id: str, livemode: bool, media_id: str) -> dict[str, Any] | None:
        self._enter("describe", account_id, livemode, media_id)
        key = object_key(account_id, livemode, media_id)
        with self._lock:
            stored = self.objects.get(key)
        if stored is None:
            return None
        media = _media(key, media_id, stored)
        if stored.instance_id:
            media["instance_id"] = stored.instance_id
        return media

    def download_url(self, media: dict[str, Any], expires_seconds: int) -> str:
        self._enter("download_url", media, expires_seconds)
        return f"memory://media/{media['key']}?expires={expires_seconds}"

    # Pre-signed uploads -----------------------------------------------------------------------------------

    def upload_form(
        self, account_id: str, livemode: bool, media_id: str, max_bytes: int, expires_seconds: int
    ) -> dict[str, Any]:
        self._enter("upload_form", account_id, livemode, media_id, max_bytes, expires_seconds)
        key = upload_key(account_id, livemode, media_id)
        with self._lock:
            self.upload_limits[key] = max_bytes
        return {"url": "memory://uploads", "fields": {"key": key, "expires": str(expires_seconds)}}

    def upload(self, account_id: str, livemode: bool, media_id: str, data: bytes) -> None:
        """The client's POST to the pre-signed form (not checked against its limit: S3's job, not ours)."""
        with self._lock:
            self.uploads[upload_key(account_id, livemode, media_id)] = data

    def read_upload(self, account_id: str, livemode: bool, media_id: str, max_bytes: int) -> Received | None:
        self._enter("read_upload", account_id, livemode, media_id, max_bytes)
        with self._lock:
            data = self.uploads.get(upload_key(account_id, livemode, media_id))
        return None if data is None else receive(iter([data]), max_bytes)

    def promote_upload(
        self, account_id: str, livemode: bool, media_id: str, received: Received, mime_type: str, filename: str | None
    ) -> dict[str, Any]:
        self._enter("promote_upload", account_id, livemode, media_id, received, mime_type, filename)
        key = object_key(account_id, livemode, media_id)
        with self._lock:
            data = self.uploads.pop(upload_key(account_id, livemode, media_id))
            stored = _Object(data, mime_type, received.sha256, safe_filename(filename))
            self.objects[key] = stored
        return _media(key, media_id, stored)

    def discard_upload(self, account_id: str, livemode: bool, media_id: str) -> None:
        self._enter("discard_upload", account_id, livemode, media_id)
        with self._lock:
            self.uploads.pop(upload_key(account_id, livemode, media_id), None)
