"""A request's path as the routes read it, the same on AWS and locally."""

from __future__ import annotations

import re
from urllib.parse import unquote

_ENCODED_SLASH = re.compile(r"%2f", re.IGNORECASE)


def has_encoded_slash(raw_path: str) -> bool:
    return _ENCODED_SLASH.search(raw_path) is not None


def slash_kept(raw_path: str) -> str:
    """The raw path with each encoded slash encoded once more: decoding it once gives the routing path (Mangum
    decodes the path it is given)."""
    return _ENCODED_SLASH.sub("%252F", raw_path)


def routing_path(raw_path: str) -> str:
    """The raw (still percent-encoded) path decoded, except that an encoded slash stays `%2F` inside its segment:
    API Gateway routes `/instances/a%2Fqr` as one instance id, so the app must not see it as `/instances/a/qr`."""
    return unquote(slash_kept(raw_path))
