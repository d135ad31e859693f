"""The ports: what the services need from the outside world, as small Protocols.

AWS adapters live in `bzapper.adapters.aws`; fakes for tests in `bzapper.adapters.memory`.
"""

from __future__ import annotations

from typing import Any, Protocol

from bzapper.domain.model import OutboundMessage


class JobQueue(Protocol):
    """The FIFO shard queues between the API and the session workers."""

    def enqueue(self, message: OutboundMessage) -> None: ...


class ReportSink(Protocol):
    """Where workers send their fenced reports (the status-updates queue)."""

    def send(self, reports: list[dict[str, Any]]) -> list[int]: ...


class EventPublisher(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None: ...


class SandboxRefused(Exception):
    """The simulated network refused a tester's request: `code` is its stable reason (e.g. not_on_whatsapp,
    already_paired, invalid_pairing_code), `reason` its explanation in English (it names request fields),
    `problem` the stable name of what is wrong with malformed input (e.g. media_data_invalid), when known."""

    def __init__(self, code: str | None, reason: str, problem: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.problem = problem


class SandboxUnavailable(Exception):
    """The simulated network could not be reached or failed: worth retrying."""


class SandboxWorld(Protocol):
    """What a tester does on the other side of the simulated WhatsApp (test mode only).

    Refusals raise SandboxRefused, an unreachable network SandboxUnavailable, and an instance with no open
    socket `bzapper.engines.base.NotConnected`.
    """

    @property
    def enabled(self) -> bool:
        """False when this deployment has no sandbox network (then every call is refused as not supported)."""
        ...

    def received(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        """What `contact` (E.164 or a JID) received from the account's instances, oldest first."""
        ...

    def scan(
        self, account_id: str, instance_id: str, phone: str | None = None, *, code: str | None = None
    ) -> dict[str, Any]:
        """A phone scans the instance's QR (or confirms its pairing `code`); returns the instance's state."""
        ...

    def inject_inbound(
        self,
        account_id: str,
        instance_id: str,
        sender: str,
        message_type: str,
        content: dict[str, Any],
        *,
        from_me: bool = False,
        push_name: str | None = None,
        wa_message_id: str | None = None,
        group: str | None = None,
        group_name: str | None = None,
    ) -> str:
        """A contact writes to the instance, or in a `group` (a `@g.us` JID) as a participant; returns the
        WhatsApp message id."""
        ...
