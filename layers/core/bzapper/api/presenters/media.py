"""Stored files as the API shows them (the object key stays internal)."""

from __future__ import annotations

from typing import Any

from bzapper.domain.clock import iso
from bzapper.services.media import UploadStarted


def media_out(media: dict[str, Any]) -> dict[str, Any]:
    shown = {name: media[name] for name in ("media_id", "mime_type", "size", "sha256")}
    shown["filename"] = media.get("filename")
    return shown


def upload_started_out(started: UploadStarted) -> dict[str, Any]:
    return {
        "media_id": started.media_id,
        "upload": {"url": started.url, "fields": started.fields, "method": "POST"},
        "max_size": started.max_size,
        "expires_at": iso(started.expires_at),
    }
