"""What the session worker applies of an instance's settings around the engine, for every engine: group traffic
dropped before it is reported (settings.ignore_groups), automatic read receipts (settings.read_incoming) and
contacts' presence reported only when asked for (settings.presence_events)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bzapper.adapters.memory import MemoryLeaseStore, memory_fakes
from bzapper.domain.instance_settings import InstanceSettings
from bzapper.domain.model import InstanceView
from bzapper.worker.runner import SessionWorker

GROUP = "120363025246125888@g.us"
PERSON = "5511988888888@s.whatsapp.net"


class Recorder:
    def __init__(self) -> None:
        self.submitted: list[tuple[Any, ...]] = []

    def submit(self, *args: Any) -> None:
        self.submitted.append(args)


@pytest.fixture
def worker() -> SessionWorker:
    worker = SessionWorker(memory_fakes().services, {}, lease_store=MemoryLeaseStore(), lease_duration_ms=15_000)
    worker._media = Recorder()  # type: ignore[assignment]
    worker.reporter = Recorder()  # type: ignore[assignment]
    return worker


def _view(settings: InstanceSettings) -> InstanceView:
    return InstanceView(
        instance_id="inst_1",
        account_id="acc_1",
        livemode=False,
        engine="sandbox",
        shard=0,
        name="",
        status="connected",
        phone=None,
        lid=None,
        push_name=None,
        last_error=None,
        qr=None,
        state_at=0,
        active=True,
        created_at=0,
        updated_at=0,
        settings=settings.stored(),
    )


def _inbound(chat: str, ack: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "inbound",
        "instance_id": "inst_1",
        "wa_message_id": f"3A{ack}",
        "chat_jid": chat,
        "from_me": False,
        "sender": {"jid": PERSON, "phone": "+5511988888888"},
        "type": "text",
        "content": {"body": "hi"},
        "at": 1,
        "ack": ack,
        **extra,
    }


def test_ignored_groups_are_acked_and_never_reported(worker: SessionWorker, monkeypatch) -> None:
    acked: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(worker, "_ack", lambda instance_id, acks: acked.append((instance_id, acks)))
    worker._instances["inst_1"] = _view(InstanceSettings(ignore_groups=True))

    worker._on_event(_inbound(GROUP, 1))
    worker._on_event(_inbound(PERSON, 2))

    assert acked == [("inst_1", [1])]  # the group's message: gone for good, offered no more
    assert [args[2]["chat_jid"] for args in worker._media.submitted] == [PERSON]  # type: ignore[attr-defined]

    worker._instances["inst_1"] = _view(InstanceSettings())  # a settings command refreshed the worker's copy
    worker._on_event(_inbound(GROUP, 3))
    assert [args[2]["chat_jid"] for args in worker._media.submitted] == [PERSON, GROUP]  # type: ignore[attr-defined]


def test_read_incoming_marks_received_messages_read(worker: SessionWorker, monkeypatch) -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(worker, "_call", lambda instance_id, method, **kw: calls.append((instance_id, method, kw)))
    view = _view(InstanceSettings(read_incoming=True))
    worker._instances["inst_1"] = view

    worker._report_inbound(view, _inbound(PERSON, 1))
    worker._report_inbound(view, _inbound(GROUP, 2))
    worker._report_inbound(view, _inbound(PERSON, 3, from_me=True))  # the phone's own message: never

    assert calls == [
        ("inst_1", "mark_read", {"chat_jid": PERSON, "wa_message_ids": ["3A1"]}),
        ("inst_1", "mark_read", {"chat_jid": GROUP, "wa_message_ids": ["3A2"], "sender_jid": PERSON}),
    ]

    calls.clear()
    off = replace(view, settings={})
    worker._instances["inst_1"] = off
    worker._report_inbound(off, _inbound(PERSON, 4))
    assert calls == []


@pytest.mark.parametrize("kind", ["call", "group"])
def test_calls_and_group_changes_are_reported_whole_with_their_account(worker: SessionWorker, kind: str) -> None:
    """A call's offer or a group's change becomes one report (call.* / group.* events), acked with it."""
    worker._instances["inst_1"] = _view(InstanceSettings())
    event = {"kind": kind, "instance_id": "inst_1", "at": 1, "call_id": "c1", "group_jid": GROUP, "ack": 7}

    worker._on_event(event)

    [(shard, report, ack)] = worker.reporter.submitted  # type: ignore[attr-defined]
    assert (shard, ack) == (0, 7)
    assert report["kind"] == kind and (report["account_id"], report["livemode"]) == ("acc_1", False)
    assert "ack" not in report


# -- history on pairing (settings.history_sync, docs/history.md) -------------------------------------------


def _history(ack: int, conversations: list[dict[str, Any]], final: bool = True) -> dict[str, Any]:
    return {
        "kind": "history",
        "instance_id": "inst_1",
        "sync_id": "dev-7",
        "chunk_id": "recent-0",
        "final": final,
        "at": 5,
        "conversations": conversations,
        "ack": ack,
    }


def _conversation(chat: str, messages: int) -> dict[str, Any]:
    return {"chat_jid": chat, "messages": [{"wa_message_id": f"M{chat[:4]}{n}", "at": n} for n in range(messages)]}


def test_history_is_dropped_and_acked_without_the_setting(worker: SessionWorker, monkeypatch) -> None:
    acked: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(worker, "_ack", lambda instance_id, acks: acked.append((instance_id, acks)))
    worker._instances["inst_1"] = _view(InstanceSettings())

    worker._on_event(_history(7, [_conversation(PERSON, 2)]))

    assert acked == [("inst_1", [7])]
    assert worker.reporter.submitted == []  # type: ignore[attr-defined]


def test_history_is_reported_in_bounded_parts_the_ack_on_the_last_and_ignored_groups_dropped(
    worker: SessionWorker,
) -> None:
    worker._instances["inst_1"] = _view(InstanceSettings(history_sync=True, ignore_groups=True))

    worker._on_event(_history(7, [_conversation(GROUP, 3), _conversation(PERSON, 150)]))

    submitted = worker.reporter.submitted  # type: ignore[attr-defined]
    assert [(shard, ack) for shard, _, ack in submitted] == [(0, None), (0, 7)]
    first, last = (report for _, report, _ in submitted)
    assert (first["kind"], first["account_id"], first["livemode"], first["final"]) == ("history", "acc_1", False, False)
    assert last["final"] is True and last["part_id"] == "recent-0#1"
    chats = {c["chat_jid"] for _, report, _ in submitted for c in report["conversations"]}
    assert chats == {PERSON}  # the group's conversation never reported
    assert sum(len(c["messages"]) for _, r, _ in submitted for c in r["conversations"]) == 150


def _presence(ack: int, chat: str | None = None) -> dict[str, Any]:
    event = {"kind": "presence", "instance_id": "inst_1", "from": {"jid": PERSON}, "state": "composing", "at": ack}
    return event | {"ack": ack} | ({"chat_jid": chat} if chat else {})


def test_presence_is_reported_only_with_presence_events_and_dropped_otherwise(
    worker: SessionWorker, monkeypatch
) -> None:
    acked: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(worker, "_ack", lambda instance_id, acks: acked.append((instance_id, acks)))
    worker._instances["inst_1"] = _view(InstanceSettings())  # the default: never reported

    worker._on_event(_presence(1))
    assert acked == [("inst_1", [1])] and worker.reporter.submitted == []  # type: ignore[attr-defined]

    worker._instances["inst_1"] = _view(InstanceSettings(presence_events=True))  # a settings command came
    worker._on_event(_presence(2))
    (_shard, report, ack), *_ = worker.reporter.submitted  # type: ignore[attr-defined]
    assert (report["kind"], report["state"], report["account_id"], ack) == ("presence", "composing", "acc_1", 2)
    assert "ack" not in report

    worker._instances["inst_1"] = _view(InstanceSettings(presence_events=True, ignore_groups=True))
    worker._on_event(_presence(3, chat=GROUP))  # a group's typing while groups are ignored: dropped too
    assert acked[-1] == ("inst_1", [3]) and len(worker.reporter.submitted) == 1  # type: ignore[attr-defined]
