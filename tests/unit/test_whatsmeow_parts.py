"""The whatsmeow engine's small parts: JIDs, vCards, error mapping, the gate over goneonize's maps, the terminal QR."""

from __future__ import annotations

import io
import threading
import time

import pytest

from bzapper.domain.engine import NotConnected, PermanentFailure
from bzapper.engines.whatsmeow import errors, jids, vcards
from bzapper.engines.whatsmeow.gate import Gate
from bzapper.engines.whatsmeow.lib import NeonizeError
from bzapper.engines.whatsmeow.terminal import render_qr


def test_jid_strings_and_protos_round_trip():
    proto = jids.to_proto("5511988887777:12@s.whatsapp.net")
    assert (proto.User, proto.Device, proto.Server) == ("5511988887777", 12, "s.whatsapp.net")
    assert jids.to_str(proto) == "5511988887777@s.whatsapp.net"  # the device is dropped
    assert jids.to_str(jids.to_proto("123.1:2@lid")) == "123@lid"
    assert jids.to_str(jids.to_proto("")) == ""


def test_phone_and_lid_pairs():
    assert jids.phone_of("5511988887777@s.whatsapp.net") == "+5511988887777"
    assert jids.phone_of("123@lid") is None
    assert jids.pair("123@lid", "5511988887777@s.whatsapp.net") == ("+5511988887777", "123@lid")
    assert jids.pair("5511988887777@s.whatsapp.net", "") is None


def test_vcard_parse_reads_whatsapp_cards():
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Silva;Ana;;;\r\nFN:Ana Silva\r\nORG:Padaria\\, Ltda;\r\n"
        "item1.TEL;waid=5511988887777:+55 11 98888-7777\r\nitem1.X-ABLabel:Celular\r\n"
        "TEL;TYPE=WORK,VOICE:+55 11 3333-4444\r\nEMAIL;type=INTERNET:ana@example.com\r\nEND:VCARD"
    )
    assert vcards.parse(card) == {
        "name": "Ana Silva",
        "phones": [{"number": "+5511988887777"}, {"number": "+55 11 3333-4444", "type": "work"}],
        "emails": ["ana@example.com"],
        "organization": "Padaria, Ltda",
    }


def test_vcard_parse_falls_back_to_the_structured_name_and_unfolds_lines():
    card = "BEGIN:VCARD\nN:Souza;Bia\nTEL;CELL:+55119\n 8888\nEND:VCARD"
    assert vcards.parse(card) == {"name": "Bia Souza", "phones": [{"number": "+551198888", "type": "cell"}]}


def test_vcard_parse_never_raises_on_junk():
    assert vcards.parse("not a card\n:::\nTEL") == {"name": "", "phones": []}


def test_vcard_build_round_trips_through_parse():
    contact = {
        "name": "Ana; the baker",
        "phones": [{"number": "+5511988887777", "type": "cell"}],
        "emails": ["ana@example.com"],
        "organization": "Padaria",
    }
    card = vcards.build(contact)
    assert "waid=5511988887777" in card
    assert vcards.parse(card) == contact


@pytest.mark.parametrize(
    "text",
    [
        "failed to send message: websocket not connected",
        "not logged in",
        "the store doesn't contain a device JID",
    ],
)
def test_connection_errors_hold_the_message(text):
    mapped = errors.translate(NeonizeError(text))
    assert isinstance(mapped, NotConnected)


def test_the_reach_out_lock_463_fails_the_message():
    mapped = errors.translate(NeonizeError("server returned error 463"))
    assert isinstance(mapped, PermanentFailure) and mapped.code == "reach_out_restricted"


def test_unknown_server_fails_the_message():
    mapped = errors.translate(NeonizeError("can't send message to unknown server example"))
    assert isinstance(mapped, PermanentFailure) and mapped.code == "not_on_whatsapp"


@pytest.mark.parametrize("text", ["info query timed out", "server returned error 500", "server returned error"])
def test_other_errors_are_transient(text):
    error = NeonizeError(text)
    assert errors.translate(error) is error


def test_gate_writer_waits_for_readers_and_readers_for_the_writer():
    gate = Gate()
    reading, release_reader = threading.Event(), threading.Event()
    events: list[str] = []

    def reader() -> None:
        with gate.shared():
            events.append("read")
            reading.set()
            release_reader.wait(5)
            events.append("read done")

    def writer() -> None:
        with gate.exclusive():
            events.append("write")

    first = threading.Thread(target=reader)
    first.start()
    reading.wait(5)
    second = threading.Thread(target=writer)
    second.start()
    # The writer cannot get in while the reader is inside, whatever the scheduling.
    release_reader.set()
    first.join(5)
    second.join(5)
    assert events == ["read", "read done", "write"]


def test_gate_never_lets_a_writer_in_beside_anyone():
    gate = Gate()
    inside = {"readers": 0, "writers": 0}
    violations: list[str] = []
    lock = threading.Lock()

    def enter(kind: str) -> None:
        with lock:
            inside[kind] += 1
            if inside["writers"] > 1 or (inside["writers"] and inside["readers"]):
                violations.append(f"{inside}")

    def leave(kind: str) -> None:
        with lock:
            inside[kind] -= 1

    def work(kind: str) -> None:
        for _ in range(300):
            with gate.exclusive() if kind == "writers" else gate.shared():
                enter(kind)
                time.sleep(0)  # let the others run while inside
                leave(kind)

    threads = [threading.Thread(target=work, args=(k,)) for k in ("readers", "readers", "writers", "writers")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert violations == []


def test_render_qr_draws_blocks_and_the_instructions():
    out = io.StringIO()
    render_qr("2@abc,def,ghi", out)
    text = out.getvalue()
    assert "█" in text
    assert "Linked devices" in text
