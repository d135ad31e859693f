"""The worker hands a mark_read command to the engine: a group's carries the participant who wrote."""

from __future__ import annotations

from typing import Any

from bzapper.worker.control import CommandHandler


def _handler(calls: list[tuple[str, str, dict[str, Any]]]) -> CommandHandler:
    return CommandHandler(
        None,  # type: ignore[arg-type]  # mark_read reads no services
        open_instance=lambda *a, **k: True,
        close_instance=lambda *a: None,
        call=lambda instance_id, method, **kwargs: calls.append((instance_id, method, kwargs)),
    )


def test_a_one_to_one_receipt_names_only_the_chat():
    calls: list = []
    command = {"op": "mark_read", "instance_id": "inst_1", "chat_jid": "5511@s.whatsapp.net", "wa_message_ids": ["A"]}
    assert _handler(calls).handle(command)
    assert calls == [("inst_1", "mark_read", {"chat_jid": "5511@s.whatsapp.net", "wa_message_ids": ["A"]})]


def test_a_group_receipt_names_the_participant():
    calls: list = []
    command = {
        "op": "mark_read",
        "instance_id": "inst_1",
        "chat_jid": "120363025246125888@g.us",
        "wa_message_ids": ["A", "B"],
        "sender_jid": "123456789012345@lid",
    }
    assert _handler(calls).handle(command)
    [(_, _, kwargs)] = calls
    assert kwargs == {
        "chat_jid": "120363025246125888@g.us",
        "wa_message_ids": ["A", "B"],
        "sender_jid": "123456789012345@lid",
    }
