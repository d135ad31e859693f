"""The web console on the local stack: its built assets (`console/dist`, `make console`) served at /console with
the same strict headers CloudFront adds on AWS (infra), and `/console/config.json` telling it where the API is
(here: the same origin)."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import bzapper
from bzapper.config import settings
from bzapper_dev.local.refusals import method_not_allowed, refuse

PREFIX = "/console"


def content_security_policy(media_origin: str | None = None) -> str:
    """Everything from the console's own origin, nothing inline, nothing from a CDN (the same policy as on AWS).
    `media_origin`: where GET /media/{id} redirects (the object store's pre-signed URLs), which the console
    fetches to show a received photo; on the local stack, moto's address."""
    connect = "connect-src 'self'" + (f" {media_origin}" if media_origin else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            "font-src 'self'",
            connect,
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def _security_headers() -> dict[str, str]:
    # The runner sets AWS_ENDPOINT_URL (moto) before serving: the media downloads' origin.
    endpoint = (settings().aws_endpoint_url or "").rstrip("/") or None
    return {**SECURITY_HEADERS, "content-security-policy": content_security_policy(endpoint)}


def console_dir() -> Path:
    # layers/core/bzapper/__init__.py → the repository root holds console/.
    return Path(bzapper.__file__).resolve().parents[3] / "console" / "dist"


def _resolve(directory: Path, path: str) -> Path | None:
    relative = path[len(PREFIX) :].lstrip("/") or "index.html"
    if any(ord(character) < 0x20 or character == "\x7f" for character in relative):
        return None  # a NUL or a control character names no file (and the filesystem refuses a NUL)
    candidate = (directory / relative).resolve()
    if directory.resolve() not in candidate.parents and candidate != directory.resolve():
        return None  # ../ out of the console's folder
    return candidate if candidate.is_file() else None


async def console_app(scope: Any, receive: Any, send: Any, directory: Path | None = None) -> None:
    folder = directory or console_dir()
    path = scope["path"]
    if scope.get("method", "GET") not in ("GET", "HEAD"):
        await refuse(send, method_not_allowed(scope["method"], path))
        return
    if path == PREFIX:
        await _answer(send, 308, b"", {"location": PREFIX + "/"})
        return
    if path == PREFIX + "/config.json":
        body = json.dumps({"apiBaseUrl": "", "mode": "local"}).encode()  # "": the same origin
        await _answer(send, 200, body, {"content-type": "application/json", "cache-control": "no-store"})
        return
    found = _resolve(folder, path)
    if found is None:
        if not folder.is_dir():
            text = b"The console is not built: run `make console` (make dev does it).\n"
            await _answer(send, 503, text, {"content-type": "text/plain; charset=utf-8"})
            return
        found = folder / "index.html"  # a page of the console's own router
    kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    # Hashed assets never change; the page itself is read again each time.
    cache = "public, max-age=31536000, immutable" if "/assets/" in path else "no-cache"
    await _answer(send, 200, found.read_bytes(), {"content-type": kind, "cache-control": cache})


async def _answer(send: Any, status: int, body: bytes, headers: dict[str, str]) -> None:
    all_headers = {**_security_headers(), **headers, "content-length": str(len(body))}
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(name.encode(), value.encode()) for name, value in all_headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})
