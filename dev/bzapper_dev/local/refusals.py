"""The local stack's own routes (the console's assets, the mailbox) sit outside the API apps' middleware: they
refuse in the same error shape, with a request id, through this one helper."""

from __future__ import annotations

from typing import Any

from bzapper.api.errors import error_bytes, error_headers
from bzapper.domain.errors import BzError
from bzapper.domain.ids import new_id


async def refuse(send: Any, error: BzError, locale: str = "en") -> None:
    request_id = new_id("req")
    body = error_bytes(error, locale, request_id)
    headers = {"content-type": "application/json", "x-request-id": request_id, **error_headers(error)}
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})


def method_not_allowed(method: str, path: str) -> BzError:
    return BzError("method_not_allowed", params={"method": method, "path": path}, headers={"Allow": "GET, HEAD"})
