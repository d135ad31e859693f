"""Meta's customer service window: a free-form message reaches a contact only within 24 hours of the contact's
last message to the number; outside it only a template may be sent. Pure rules; docs/templates.md."""

from __future__ import annotations

WINDOW_MS = 24 * 60 * 60 * 1000

WINDOW_ENGINES = frozenset({"cloud"})
"""The engines whose numbers Meta holds to the window (the Cloud API). A linked-device number has none."""

EXEMPT_TYPES = frozenset({"template"})
"""What may be sent with the window closed."""


def window_open(last_inbound_at: int | None, now: int) -> bool:
    """Open from the contact's last message until 24 hours after it (closed at exactly 24 hours, as Meta)."""
    # An inbound time ahead of `now` (clocks of two machines) is an open window, never a refusal.
    return last_inbound_at is not None and now - last_inbound_at < WINDOW_MS


def needs_window(engine: str, message_type: str) -> bool:
    """Whether a send of this type from a number of this engine needs the contact's window open."""
    return engine in WINDOW_ENGINES and message_type not in EXEMPT_TYPES
