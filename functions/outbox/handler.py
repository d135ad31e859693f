"""Scheduled every minute: re-sends committed messages whose queue send never happened."""

from bzapper.bootstrap import services
from bzapper.config import settings
from bzapper.lambda_entry import scheduled_handler
from bzapper.services.outbox import sweep


def run() -> dict[str, int]:
    return {"resent": sweep(services(), grace_ms=settings().outbox_grace_seconds * 1000)}


handler = scheduled_handler(run)
