"""Where our emails go: Amazon SES on AWS, or the local stack's mailbox (a folder the local runtime serves at
GET /sandbox/mailbox and prints), so a sign-up's confirmation code can be read without a mail server."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from bzapper.domain.clock import iso, now_ms

_LOCK = threading.Lock()
MESSAGES_FILE = "messages.jsonl"


class LocalMailbox:
    """One JSON line per email, appended atomically (one write of a whole line, under a lock and O_APPEND)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, to: str, subject: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": to, "subject": subject, "text": text, "sent_at": iso(now_ms())}, ensure_ascii=False)
        with _LOCK, open(self.directory / MESSAGES_FILE, "a", encoding="utf-8") as file:
            file.write(line + "\n")

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Every email (to one address, when given), oldest first."""
        path = self.directory / MESSAGES_FILE
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        wanted = to.strip().lower() if to else None
        return [m for m in found if wanted is None or m["to"].lower() == wanted]


class SesMailer:
    """Plain-text emails through Amazon SES v2, from the stage's verified sender."""

    def __init__(self, sender: str) -> None:
        self.sender = sender

    def send(self, to: str, subject: str, text: str) -> None:
        from bzapper.adapters.aws.clients import client

        client("sesv2").send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [to]},
            Content={
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                }
            },
        )


class NoMailer:
    """A stage with no sender configured: the email is not sent (logged, never its content)."""

    def send(self, to: str, subject: str, text: str) -> None:
        import logging

        logging.getLogger(__name__).warning("no sender configured (BZ_MAIL_FROM): an email was not sent")
