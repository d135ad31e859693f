"""Choosing the number a message goes out from when the customer leaves it to us. Pure.

Rendezvous hashing: each (recipient, instance) pair gets a score and the highest connected one wins.
A recipient keeps its number while that number stays connected, and when numbers come or go only
the recipients of those numbers move, so conversations stay on one number without any stored state.
"""

from __future__ import annotations

import hashlib


def choose_number(recipient_jid: str, connected_instance_ids: list[str]) -> str | None:
    if not connected_instance_ids:
        return None
    return max(connected_instance_ids, key=lambda instance_id: _score(recipient_jid, instance_id))


def _score(recipient_jid: str, instance_id: str) -> bytes:
    return hashlib.sha256(f"{recipient_jid}\x1f{instance_id}".encode()).digest()
