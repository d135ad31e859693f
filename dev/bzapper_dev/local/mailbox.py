"""The local mailbox: GET /sandbox/mailbox?to=EMAIL (local stack only, no key; never routed on AWS, where the
emails are real) and the runner's printout of each email as it arrives."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from bzapper import i18n
from bzapper.adapters.mailbox import MESSAGES_FILE, LocalMailbox
from bzapper.api.errors import resolve_locale
from bzapper.domain.errors import validation_failed
from bzapper_dev.local.refusals import method_not_allowed, refuse


async def mailbox_app(directory: Path, scope: Any, receive: Any, send: Any) -> None:
    headers = {key.decode().lower(): value.decode() for key, value in scope.get("headers", [])}
    locale = resolve_locale(headers.get("accept-language"), None)
    query = parse_qs(scope.get("query_string", b"").decode())
    to = (query.get("to") or [""])[0].strip()
    if scope.get("method") not in ("GET", "HEAD"):
        await refuse(send, method_not_allowed(scope.get("method", ""), scope["path"]), locale)
        return
    if not to:
        await refuse(send, validation_failed("to", "error.validation_missing"), locale)
        return
    body = json.dumps({"data": LocalMailbox(directory).messages(to)}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


class MailPrinter(threading.Thread):
    """Prints every email the stack sends (to, subject, text) as it lands in the mailbox."""

    def __init__(self, directory: Path, stop: threading.Event, locale: str) -> None:
        super().__init__(name="mailbox", daemon=True)
        self.path = Path(directory) / MESSAGES_FILE
        self.stop_event = stop
        self.locale = locale

    def run(self) -> None:
        offset = self.path.stat().st_size if self.path.exists() else 0
        while not self.stop_event.wait(0.5):
            if not self.path.exists() or self.path.stat().st_size <= offset:
                continue
            with open(self.path, encoding="utf-8") as file:
                file.seek(offset)
                chunk = file.read()
                offset = file.tell()
            for line in chunk.splitlines():
                if line.strip():
                    email = json.loads(line)
                    heading = i18n.translate("cli.dev.email", self.locale, to=email["to"], subject=email["subject"])
                    print(f"\n{heading}\n{email['text']}\n", flush=True)
