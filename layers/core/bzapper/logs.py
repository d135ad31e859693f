"""Logging for the long-running local processes (Lambda gets Powertools' JSON logger instead)."""

from __future__ import annotations

import logging

from bzapper.config import settings

_CHATTY = ("botocore", "boto3", "pynamodb", "httpx", "urllib3")


def configure(stream: object = None) -> None:
    logging.basicConfig(
        level=settings().logging.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=stream,  # type: ignore[arg-type]
    )
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
