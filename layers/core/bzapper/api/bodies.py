"""How a request's JSON body is read: as the framework reads it, but a key given twice in one object is refused.

`{"amount": 500, "amount": 5000}` is valid JSON to Python's parser, which keeps the last value: what the caller
meant is ambiguous (and another parser, a proxy or a log, may have read the first), so the API refuses it with a
422 naming the key. Every group router is built with `JsonRoute`, the one place a body is parsed as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class DuplicateKey(json.JSONDecodeError):
    """A JSON decoding error, so the framework reports it where it reports any body it cannot read; `path` is
    where the key is (`contacts.0.name`), as a validation error names a field."""

    def __init__(self, path: str) -> None:
        super().__init__(f"duplicate key {path!r}", "", 0)
        self.path = path


class _Repeated(dict[str, Any]):
    """An object of the body in which `key` came more than once."""

    key: str


def _first_repeated(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of the first repeated key, in the order of the document."""
    if isinstance(value, _Repeated):
        return (*path, value.key)
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, child in children:
        found = _first_repeated(child, (*path, str(name)))
        if found is not None:
            return found
    return None


def parse_json(body: bytes | str) -> Any:
    """`json.loads`, but a key repeated in an object raises `DuplicateKey`."""
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        obj: dict[str, Any] = {}
        for key, value in items:
            if key in obj:
                repeated = True
                marked = _Repeated(obj)
                marked.key = key
                return marked
            obj[key] = value
        return obj

    value = json.loads(body, object_pairs_hook=pairs)
    if repeated:
        # Not lost: an object dropped as a repeated key's earlier value sits in an object marked itself.
        raise DuplicateKey(".".join(_first_repeated(value) or ()))
    return value


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class JsonRoute(APIRoute):
    """A route whose JSON body is read by `parse_json` (the framework's documented hook for a custom Request)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(JsonRequest(request.scope, request.receive))

        return handle
