"""History on pairing, whatsmeow (docs/history.md): neonize 0.5.2's HistorySync event -> `history` engine events,
offline against fake neonize events; and the worker's cut of a chunk into reports (bzapper.domain.history)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_calls_and_session_settings import SettingsHarness
from test_whatsmeow_engine import INSTANCE, OWN_LID, PEER, PEER_LID

from bzapper.domain import history as cut
from bzapper.domain.reports import group_and_dedupe
from bzapper.engines.whatsmeow import engine as engine_module
from bzapper.engines.whatsmeow import jids, lib, mapping
from bzapper.engines.whatsmeow.lib import e2e
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb

OWN = "5511900000001@s.whatsapp.net"
GROUP = "120363025246125888@g.us"
MEMBER = "5511966665555@s.whatsapp.net"
NOW_MS = 1_700_000_000_000
# neonize's history protos, reached through the event (lib must load neonize first: NEONIZE_BOT_TAG)
HistorySyncData = type(pb.HistorySync().Data)
Conversation = type(HistorySyncData().conversations.add())
HistorySyncMsg = type(Conversation().messages.add())
WebMessageInfo = type(HistorySyncMsg().message)
T = HistorySyncData.HistorySyncType


def info(wa_id: str, chat: str, body: str, *, from_me: bool = False, participant: str = "", ts: int = 1_690_000_000):
    return WebMessageInfo(
        key={"remoteJID": chat, "fromMe": from_me, "ID": wa_id, "participant": participant},
        message=e2e.Message(conversation=body),
        messageTimestamp=ts,
        pushName="" if from_me else "Maria",
    )


def sync(kind: int, conversations: list[Any], *, chunk: int = 0, progress: int = 0) -> pb.HistorySync:
    data = HistorySyncData(syncType=kind, chunkOrder=chunk, progress=progress, conversations=conversations)
    return pb.HistorySync(Data=data)


def conversation(chat: str, *items: Any, **fields: Any) -> Conversation:
    return Conversation(
        ID=chat, messages=[HistorySyncMsg(message=i, msgOrderID=n) for n, i in enumerate(items)], **fields
    )


def mapped(event: pb.HistorySync) -> dict[str, Any] | None:
    return mapping.history(INSTANCE, event, NOW_MS, sync_id="dev-7", own_jid=OWN, own=frozenset({OWN, OWN_LID}))


# -- the mapping -----------------------------------------------------------------------------------------


def test_goneonize_sends_history_blobs_only_when_subscribed() -> None:
    assert lib.HISTORY_SYNC not in lib.SUBSCRIBED  # big blobs: never by default
    assert lib.INT_TO_EVENT[lib.HISTORY_SYNC] is pb.HistorySync


def test_a_chunk_maps_conversations_to_messages_that_read_like_inbound_ones() -> None:
    event = sync(
        T.INITIAL_BOOTSTRAP,
        [
            conversation(PEER, info("H1", PEER, "hello"), info("H2", PEER, "mine", from_me=True)),
            conversation(GROUP, info("G1", GROUP, "in the group", participant=MEMBER), name="Orders"),
        ],
    )
    chunk = mapped(event)
    assert chunk is not None
    assert (chunk["kind"], chunk["sync_id"], chunk["chunk_id"], chunk["final"]) == (
        "history",
        "dev-7",
        "initial_bootstrap-0",
        False,
    )
    one, group = chunk["conversations"]
    assert one["chat_jid"] == PEER and "chat_name" not in one
    assert one["messages"] == [
        {
            "wa_message_id": "H1",
            "chat_jid": PEER,
            "from_me": False,
            "sender": {"jid": PEER, "phone": "+5511988887777", "push_name": "Maria"},
            "type": "text",
            "content": {"body": "hello"},
            "at": 1_690_000_000_000,
        },
        {
            "wa_message_id": "H2",
            "chat_jid": PEER,
            "from_me": True,
            "sender": {"jid": OWN, "phone": "+5511900000001"},
            "type": "text",
            "content": {"body": "mine"},
            "at": 1_690_000_000_000,
        },
    ]
    assert group["chat_name"] == "Orders"
    assert group["messages"][0]["sender"]["jid"] == MEMBER


def test_a_lid_chat_is_named_by_its_phone_when_the_conversation_knows_it() -> None:
    chunk = mapped(sync(T.RECENT, [conversation(PEER_LID, info("H1", PEER_LID, "hi"), pnJID=PEER)]))
    assert chunk is not None and chunk["conversations"][0]["chat_jid"] == PEER


def test_media_are_described_not_downloaded_and_stubs_and_statuses_are_left_out() -> None:
    image = WebMessageInfo(
        key={"remoteJID": PEER, "ID": "IMG1"},
        message=e2e.Message(imageMessage=e2e.ImageMessage(mimetype="image/jpeg", fileLength=10, caption="look")),
        messageTimestamp=1_690_000_000,
    )
    stub = WebMessageInfo(key={"remoteJID": PEER, "ID": "STUB1"}, messageStubType=1, messageTimestamp=1)
    chunk = mapped(
        sync(
            T.RECENT,
            [
                conversation(PEER, image, stub),
                conversation("status@broadcast", info("S1", "status@broadcast", "story")),
            ],
        )
    )
    assert chunk is not None
    [only] = chunk["conversations"]
    [message] = only["messages"]
    assert message["type"] == "image" and message["content"]["media_error"] == "media_unavailable"
    assert message["content"]["caption"] == "look"


def test_types_without_conversations_map_to_nothing_and_progress_100_ends_the_sync() -> None:
    assert mapped(sync(T.PUSH_NAME, [])) is None
    assert mapped(sync(T.INITIAL_STATUS_V3, [])) is None
    assert mapped(sync(T.NON_BLOCKING_DATA, [])) is None
    assert mapped(sync(T.INITIAL_BOOTSTRAP, [], progress=100))["final"] is False  # type: ignore[index]
    assert mapped(sync(T.RECENT, [], chunk=3, progress=60))["final"] is False  # type: ignore[index]
    last = mapped(sync(T.RECENT, [], chunk=4, progress=100))
    assert last is not None and last["final"] is True and last["chunk_id"] == "recent-4"


# -- the engine --------------------------------------------------------------------------------------------


class HistoryHarness(SettingsHarness):
    @property
    def subscribed(self) -> list[bool]:
        """Per run started: whether it subscribed to history blobs."""
        return [run.history for run in self.runs]


def _device(h: HistoryHarness) -> None:
    device = pb.Device(JID=jids.to_proto("5511900000001:7@s.whatsapp.net"), LID=jids.to_proto(OWN_LID), PushName="Loja")
    h.event(lib.DEVICE, device)
    h.event(lib.CONNECTED, pb.Connected(status=True))


HistoryHarness.connect_device = _device  # type: ignore[attr-defined]


def _paired(tmp_path: Path, history_sync: bool) -> HistoryHarness:
    h = HistoryHarness(tmp_path, settings={"history_sync": history_sync})
    h.connect()
    return h


def test_a_pairing_run_subscribes_to_history_a_paired_one_only_with_the_setting_on(tmp_path: Path) -> None:
    on = _paired(tmp_path / "on", True)
    off = _paired(tmp_path / "off", False)
    assert on.subscribed == off.subscribed == [True]  # no store yet: it pairs (the setting may come)
    for h in (on, off):
        h.engine.store_path(INSTANCE).touch()  # what whatsmeow's store is once paired
        h.engine.close(INSTANCE)
        h.open()
    assert on.subscribed[-1] is True
    assert off.subscribed[-1] is False


def test_history_turned_on_while_the_qr_shows_is_imported(tmp_path: Path) -> None:
    h = HistoryHarness(tmp_path, settings={"history_sync": False})
    h.open()
    h.engine.apply_settings(INSTANCE, {"history_sync": True})  # the customer sets it before scanning
    h.connect_device()
    h.event(lib.HISTORY_SYNC, sync(T.INITIAL_BOOTSTRAP, [conversation(PEER, info("H1", PEER, "hi"))]))
    assert [e["chunk_id"] for e in h.events if e["kind"] == "history"] == ["initial_bootstrap-0"]


def test_chunks_are_reported_under_the_linked_device_and_the_last_one_ends_the_sync(tmp_path: Path) -> None:
    h = _paired(tmp_path, True)
    h.event(lib.HISTORY_SYNC, sync(T.INITIAL_BOOTSTRAP, [conversation(PEER, info("H1", PEER, "hi"))]))
    h.event(lib.HISTORY_SYNC, sync(T.RECENT, [conversation(PEER, info("H0", PEER, "older"))], progress=100))
    h.event(lib.HISTORY_SYNC, sync(T.RECENT, [conversation(PEER, info("HX", PEER, "late"))], chunk=9))
    chunks = [e for e in h.events if e["kind"] == "history"]
    assert [(c["chunk_id"], c["final"]) for c in chunks] == [("initial_bootstrap-0", False), ("recent-0", True)]
    assert {c["sync_id"] for c in chunks} == {"5511900000001:7@s.whatsapp.net"}  # the device: new per pairing


def test_a_sync_that_never_reaches_100_ends_after_a_quiet_while(tmp_path: Path, monkeypatch) -> None:
    h = _paired(tmp_path, True)
    h.event(lib.HISTORY_SYNC, sync(T.RECENT, [conversation(PEER, info("H1", PEER, "hi"))], progress=40))
    session = h.engine._sessions[INSTANCE]
    assert session.history_at is not None
    session.history_at -= engine_module.HISTORY_QUIET_SECONDS + 1
    h.engine.pump(0)
    chunks = [e for e in h.events if e["kind"] == "history"]
    assert [(c["chunk_id"], c["final"], c["conversations"]) for c in chunks][-1] == ("quiet-end", True, [])
    h.engine.pump(0)
    assert len([e for e in h.events if e["kind"] == "history"]) == 2  # ended once


def test_with_the_setting_turned_off_meanwhile_no_history_is_reported(tmp_path: Path) -> None:
    h = _paired(tmp_path, True)
    h.engine.apply_settings(INSTANCE, {"history_sync": False})
    h.event(lib.HISTORY_SYNC, sync(T.INITIAL_BOOTSTRAP, [conversation(PEER, info("H1", PEER, "hi"))]))
    assert [e for e in h.events if e["kind"] == "history"] == []


# -- the worker's cut --------------------------------------------------------------------------------------


def _chunk(messages: int, conversations: int = 1, body: str = "x", final: bool = True) -> dict[str, Any]:
    return {
        "kind": "history",
        "instance_id": INSTANCE,
        "sync_id": "dev-7",
        "chunk_id": "recent-0",
        "final": final,
        "at": NOW_MS,
        "conversations": [
            {
                "chat_jid": f"55119000{c:05d}@s.whatsapp.net",
                "messages": [
                    {"wa_message_id": f"M{c}-{n}", "type": "text", "content": {"body": body}, "at": n, "extra": 1}
                    for n in range(messages)
                ],
            }
            for c in range(conversations)
        ],
    }


def test_a_big_chunk_is_cut_into_bounded_parts_and_only_the_last_is_final() -> None:
    parts = cut.split(_chunk(120, conversations=3))
    assert [cut.message_count(p["conversations"]) for p in parts] == [100, 100, 100, 60]
    assert [p["final"] for p in parts] == [False, False, False, True]
    assert [p["part_id"] for p in parts] == ["recent-0#0", "recent-0#1", "recent-0#2", "recent-0#3"]
    assert "extra" not in parts[0]["conversations"][0]["messages"][0]
    # a conversation cut in two keeps its chat in both parts
    assert parts[0]["conversations"][-1]["chat_jid"] == parts[1]["conversations"][0]["chat_jid"]


def test_parts_stay_under_the_byte_bound_and_fit_a_batch_of_ten() -> None:
    parts = cut.split(_chunk(60, body="y" * 2000))
    assert len(parts) > 1
    for part in parts:
        assert len(json.dumps(part["conversations"])) <= cut.PART_BYTES_MAX + 200


def test_an_empty_final_chunk_still_makes_one_final_part() -> None:
    [part] = cut.split({**_chunk(0), "conversations": []})
    assert part["final"] and part["conversations"] == []


def test_history_reports_are_ordered_per_instance_and_count_once_per_part() -> None:
    [part] = cut.split(_chunk(2))
    group, dedupe = group_and_dedupe({**part, "kind": "history"})
    assert group == INSTANCE and dedupe == f"hist:{INSTANCE}:dev-7:recent-0#0"
