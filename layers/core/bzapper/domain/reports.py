"""A worker's reports on the status-updates FIFO queue: what must stay in order, and what must count once. Pure."""

from __future__ import annotations

import hashlib
import json
from typing import Any

BATCH = 10
"""Reports per SendMessageBatch (SQS's limit)."""


def group_and_dedupe(report: dict[str, Any]) -> tuple[str, str]:
    """FIFO group (what must stay ordered) and deduplication id (what must count once) of a report."""
    kind, instance = report["kind"], report["instance_id"]
    if kind == "status":
        wa_id = report["wa_message_id"]
        participant = report.get("participant")
        if participant:
            # A group message: each participant's receipt counts on its own (not once per status).
            who = participant.get("phone") or participant.get("lid") or participant.get("jid") or ""
            return wa_id, f"{instance}:{wa_id}:{report['status']}:{who}"[:128]
        return wa_id, f"{instance}:{wa_id}:{report['status']}"
    if kind == "inbound":
        return f"{instance}:{report['chat_jid']}"[:128], f"in:{instance}:{report['wa_message_id']}"[:128]
    if kind == "state":
        qr = hashlib.sha256((report.get("qr") or "").encode()).hexdigest()[:16]
        return instance, f"state:{instance}:{report['state']}:{report['at']}:{qr}"[:128]
    if kind == "identity":
        return instance, f"id:{instance}:{report['lid']}:{report['phone']}"[:128]
    if kind == "call":  # a call's offer before its end, in the instance's order; each phase counts once
        return instance, f"call:{instance}:{report['call_id']}:{report['phase']}"[:128]
    if kind == "group":
        # Ordered per group; one change is what the whole report says (an engine may report two at the same ms).
        digest = hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()[:32]
        return f"{instance}:{report['group_jid']}"[:128], f"grp:{instance}:{digest}"
    if kind == "history":
        # A history's parts in the instance's order (its final part after the others); each part counts once.
        return instance, f"hist:{instance}:{report['sync_id']}:{report['part_id']}"[:128]
    if kind == "presence":
        # Ordered per contact (typing, then paused); a presence counts once per contact, chat, state and moment.
        who = (report.get("from") or {}).get("jid") or ""
        what = f"{who}\x1f{report.get('chat_jid') or ''}\x1f{report['state']}\x1f{report['at']}"
        return f"{instance}:{who}"[:128], f"pres:{instance}:{hashlib.sha256(what.encode()).hexdigest()[:32]}"
    raise ValueError(f"unknown report kind {kind!r}")
