"""The media store: private files under each account's prefix, described by the content "media" dict
(bzapper.domain.content: media_id, key, mime_type, size, sha256, filename?)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from bzapper.domain.media import Received


class MediaStore(Protocol):
    def put_received(
        self,
        account_id: str,
        livemode: bool,
        received: Received,
        mime_type: str,
        filename: str | None = None,
        media_id: str | None = None,
        instance_id: str | None = None,
    ) -> dict[str, Any]: ...

    def put_bytes(
        self, account_id: str, livemode: bool, data: bytes, mime_type: str, filename: str | None = None
    ) -> dict[str, Any]: ...

    def put_file(
        self,
        account_id: str,
        livemode: bool,
        path: str | Path,
        mime_type: str,
        filename: str | None = None,
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        """Inbound media: stored as received by `instance_id` (only keys that may use that number see it)."""
        ...

    def read(self, media: dict[str, Any]) -> bytes: ...

    def head_bytes(self, media: dict[str, Any], length: int = ...) -> bytes: ...

    def describe(self, account_id: str, livemode: bool, media_id: str) -> dict[str, Any] | None:
        """The stored file of this account and mode, or None (another account's id names nothing here); with
        `instance_id` when a number received it (an upload has none)."""
        ...

    def download_url(self, media: dict[str, Any], expires_seconds: int) -> str: ...

    def upload_form(
        self, account_id: str, livemode: bool, media_id: str, max_bytes: int, expires_seconds: int
    ) -> dict[str, Any]:
        """A pre-signed POST: {"url", "fields"}."""
        ...

    def read_upload(self, account_id: str, livemode: bool, media_id: str, max_bytes: int) -> Received | None:
        """The uploaded file, once (raises TooLarge past `max_bytes`); None when nothing was uploaded."""
        ...

    def promote_upload(
        self, account_id: str, livemode: bool, media_id: str, received: Received, mime_type: str, filename: str | None
    ) -> dict[str, Any]: ...

    def discard_upload(self, account_id: str, livemode: bool, media_id: str) -> None: ...
