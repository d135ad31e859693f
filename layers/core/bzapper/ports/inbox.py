"""The inbox: received and sent messages in conversations, and the LID <-> phone identities learned."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bzapper.domain.inbox import ConversationRow, HistoryTally, ReceivedMessage, ThreadEntry, ThreadMessage


class InboxStore(Protocol):
    def add_received(self, message: ReceivedMessage, entry: ThreadEntry, *, count_usage: bool) -> bool:
        """Stores a received message with its conversation's row; False when it was stored before."""
        ...

    def add_sent(self, entry: ThreadEntry, chat_jid: str) -> bool: ...

    # -- history on pairing (docs/history.md) --

    def imported_before(
        self, instance_id: str, message_ids: list[str], conversation_jids: list[str], sync_id: str
    ) -> tuple[set[str], set[str]]:
        """(the ids among these of messages stored already, the conversations among these that already hold
        messages imported by this sync)."""
        ...

    def add_imported(self, messages: list[ReceivedMessage], entries: list[ThreadEntry], sync_id: str) -> None:
        """Stores messages not stored yet (marked imported; no usage) and moves each entry's conversation (one
        entry per conversation: its newest message), marking it as holding this sync's messages. Conversations
        first, so a stop half-way is completed by the next delivery (which finds the messages missing)."""
        ...

    def count_history(self, instance_id: str, sync_id: str, part_id: str, *, conversations: int, messages: int) -> bool:
        """Adds a part's counts to the sync's tally, once per part id; False when that part was counted before."""
        ...

    def finish_history(self, instance_id: str, sync_id: str, at: int) -> HistoryTally:
        """The sync's tally, its end time set at the first call (`at`) and kept after."""
        ...

    def received(self, message_id: str) -> ReceivedMessage | None: ...

    def conversations(self, instance_id: str, jids: tuple[str, ...]) -> list[ConversationRow]: ...

    def activity_page(self, instance_id: str, count: int, cursor: str | None) -> tuple[list[ConversationRow], bool]:
        """Conversations by latest activity, newest first, and whether more follow."""
        ...

    def activity_cursor(self, row: ConversationRow) -> str: ...

    def page_thread(
        self, instance_id: str, jids: tuple[str, ...], limit: int, before: str | None
    ) -> tuple[list[ThreadMessage], str | None]: ...

    def mark_read(self, conversation: ConversationRow) -> bool: ...

    def unread_received(
        self, instance_id: str, jid: str, after: str | None, through: str, limit: int
    ) -> list[ThreadMessage]: ...


class IdentityStore(Protocol):
    def record(self, account_id: str, phone: str, lid: str) -> bool: ...

    def phone_of(self, account_id: str, lid: str) -> str | None: ...

    def lid_of(self, account_id: str, phone: str) -> str | None: ...

    def learned(
        self, account_id: str, lids: Iterable[str] = (), phones: Iterable[str] = (), *, consistent: bool = False
    ) -> tuple[dict[str, str], dict[str, str]]:
        """({lid: phone}, {phone: lid}) of the known ones among these, the unknown left out."""
        ...
