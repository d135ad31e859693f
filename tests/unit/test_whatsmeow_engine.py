"""WhatsmeowEngine against fake runs: the Go side replaced by a recorder, events fed as goneonize encodes them.

No socket and no Go client is started here (a real start dials web.whatsapp.com). Every fake call into "Go"
checks the gate: a call while a start or stop holds it alone is what aborts a real process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bzapper.domain.engine import NotConnected, PermanentFailure, ServerAck, SessionSpec
from bzapper.engines.whatsmeow import jids, lib
from bzapper.engines.whatsmeow.engine import WhatsmeowEngine
from bzapper.engines.whatsmeow.lib import NeonizeError, e2e
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb

INSTANCE = "inst_01"
OWN = "5511900000001@s.whatsapp.net"
OWN_LID = "111111111111111@lid"
PEER = "5511988887777@s.whatsapp.net"
PEER_LID = "222222222222222@lid"
NOW = 1_700_000_000.0


class FakeClient:
    """neonize's NewClient as the engine uses it; each call checks that no start or stop is in progress."""

    def __init__(self, run: FakeRun) -> None:
        self.run = run
        self.sent: list[tuple[str, e2e.Message]] = []
        self.uploads: list[tuple[bytes, Any]] = []
        self.queries: list[tuple[str, ...]] = []
        self.read: list[tuple[tuple[str, ...], str]] = []
        self.read_senders: list[str] = []
        self.fail_send: Exception | None = None
        self.on_whatsapp: dict[str, str] = {PEER: PEER}  # phone JID asked -> JID WhatsApp answers
        self.lids: dict[str, str] = {PEER: PEER_LID}
        self.logged_out = False

    def _call(self) -> None:
        gate = self.run.engine._gate
        for _ in range(2):  # on the way in, and after letting other threads run (a real call takes time)
            if gate._writing:
                self.run.violations.append("call into Go during a start or stop")
            time.sleep(0)

    def send_message(self, to: pb.JID, message: e2e.Message) -> pb.SendResponse:
        self._call()
        if self.fail_send is not None:
            raise self.fail_send
        self.sent.append((jids.to_str(to), message))
        return pb.SendResponse(ID=f"3EB0SRV{len(self.sent)}", Timestamp=1_700_000_005)

    def upload(self, data: bytes, media_type: Any) -> pb.UploadResponse:
        self._call()
        self.uploads.append((data, media_type))
        return pb.UploadResponse(
            url="https://mmg/x",
            DirectPath="/v/x",
            MediaKey=b"k",
            FileEncSHA256=b"e",
            FileSHA256=b"h",
            FileLength=len(data),
        )

    def is_on_whatsapp(self, *phones: str) -> list[pb.IsOnWhatsAppResponse]:
        self._call()
        self.queries.append(phones)
        answers = []
        for phone in phones:
            known = self.on_whatsapp.get(jids.phone_jid(phone))
            answers.append(pb.IsOnWhatsAppResponse(Query=phone, IsIn=known is not None, JID=jids.to_proto(known or "")))
        return answers

    def get_lid_from_pn(self, jid: pb.JID) -> pb.JID:
        self._call()
        return jids.to_proto(self.lids.get(jids.to_str(jid), ""))

    def get_pn_from_lid(self, jid: pb.JID) -> pb.JID:
        self._call()
        reverse = {lid: phone for phone, lid in self.lids.items()}
        return jids.to_proto(reverse.get(jids.to_str(jid), ""))

    def mark_read(self, *ids: str, chat: pb.JID, sender: pb.JID, receipt: Any) -> None:
        self._call()
        self.read.append((ids, jids.to_str(chat)))
        self.read_senders.append(jids.to_str(sender))

    def PairPhone(self, phone: str, show: bool, name: Any, kind: Any) -> str:
        self._call()
        return f"CODE-{phone[-4:]}"

    def logout(self) -> None:
        self._call()
        self.logged_out = True

    def download_any(self, message: e2e.Message) -> bytes:
        self._call()
        return b"JPEGDATA"

    # -- groups: a tiny model of one group, enough to check the mapping both ways ----------------------------

    group_calls: list[tuple[Any, ...]]

    def _group(self) -> pb.GroupInfo:
        info = pb.GroupInfo(JID=jids.to_proto(GROUP), OwnerJID=jids.to_proto(OWN_LID), GroupCreated=1_700_000_000)
        info.GroupName.Name = getattr(self, "subject", "Orders")
        info.GroupAnnounce.IsAnnounce = getattr(self, "announce", False)
        admin = pb.GroupParticipant(JID=jids.to_proto(OWN_LID), IsAdmin=True, IsSuperAdmin=True)
        admin.PhoneNumber.CopyFrom(jids.to_proto("5511900000001@s.whatsapp.net"))
        peer = pb.GroupParticipant(JID=jids.to_proto(PEER_LID))
        peer.PhoneNumber.CopyFrom(jids.to_proto(PEER))
        info.Participants.extend([admin, peer])
        return info

    def _log(self, *call: Any) -> None:
        self._call()
        self.__dict__.setdefault("group_calls", []).append(call)

    def create_group(self, name: str, participants: list[pb.JID]) -> pb.GroupInfo:
        self._log("create_group", name, [jids.to_str(j) for j in participants])
        self.subject = name
        return self._group()

    def get_group_info(self, jid: pb.JID) -> pb.GroupInfo:
        self._log("get_group_info", jids.to_str(jid))
        if jids.to_str(jid) != GROUP:
            raise lib.NeonizeError("failed to get group info: group not found")
        return self._group()

    def get_joined_groups(self) -> list[pb.GroupInfo]:
        self._log("get_joined_groups")
        return [self._group()]

    def set_group_name(self, jid: pb.JID, name: str) -> None:
        self._log("set_group_name", jids.to_str(jid), name)
        self.subject = name

    def set_group_topic(self, jid: pb.JID, previous_id: str, new_id: str, topic: str) -> None:
        self._log("set_group_topic", jids.to_str(jid), previous_id, new_id, topic)

    def set_group_announce(self, jid: pb.JID, announce: bool) -> None:
        self._log("set_group_announce", jids.to_str(jid), announce)
        self.announce = announce

    def set_group_locked(self, jid: pb.JID, locked: bool) -> None:
        self._log("set_group_locked", jids.to_str(jid), locked)

    def set_group_photo(self, jid: pb.JID, file_or_bytes: str | bytes) -> str:
        self._log("set_group_photo", jids.to_str(jid), file_or_bytes)
        if file_or_bytes == b"NOT A JPEG":
            raise lib.NeonizeError("failed to set group photo: bad request")
        return "picture-id-1"

    def update_group_participants(self, jid: pb.JID, changes: list[pb.JID], action: Any) -> list[pb.GroupParticipant]:
        self._log("update_group_participants", jids.to_str(jid), [jids.to_str(j) for j in changes], action.value)
        answered = []
        for change in changes:
            text = jids.to_str(change)
            participant = pb.GroupParticipant(JID=jids.to_proto(PEER_LID if text == PEER else text))
            participant.PhoneNumber.CopyFrom(change)
            if text == PRIVATE:
                participant.Error = 403
                participant.AddRequest.Code = "ADDREQ1"
                participant.AddRequest.Expiration = 86_400
            answered.append(participant)
        return answered

    def get_group_invite_link(self, jid: pb.JID, revoke: bool = False) -> str:
        self._log("get_group_invite_link", jids.to_str(jid), revoke)
        return "https://chat.whatsapp.com/" + ("NEWCODE" if revoke else "CODE")

    def join_group_with_link(self, code: str) -> pb.JID:
        self._log("join_group_with_link", code)
        if code != "CODE":
            raise lib.NeonizeError("failed to join group: that group invite link has been revoked")
        return jids.to_proto(GROUP)

    def leave_group(self, jid: pb.JID) -> None:
        self._log("leave_group", jids.to_str(jid))

    # -- presence and the blocklist (tests/unit/test_whatsmeow_presence.py) --------------------------------

    def send_chat_presence(self, jid: pb.JID, state: Any, media: Any) -> None:
        self._log("send_chat_presence", jids.to_str(jid), state.name, media.name)

    def send_presence(self, presence: Any) -> None:
        self._log("send_presence", presence.name)

    def subscribe_presence(self, jid: pb.JID) -> None:
        self._log("subscribe_presence", jids.to_str(jid))

    def get_blocklist(self) -> pb.Blocklist:
        self._log("get_blocklist")
        return pb.Blocklist(JIDs=[jids.to_proto(j) for j in self.__dict__.setdefault("blocked", [])])

    def update_blocklist(self, jid: pb.JID, action: Any) -> pb.Blocklist:
        self._log("update_blocklist", jids.to_str(jid), action.value)
        blocked = self.__dict__.setdefault("blocked", [])
        text = jids.to_str(jid)
        if action.value == "block" and text not in blocked:
            blocked.append(text)
        elif action.value == "unblock" and text in blocked:
            blocked.remove(text)
        return self.get_blocklist()


class FakeRun:
    """runs.Run without Go: started, registered at once, stopped on demand."""

    def __init__(
        self,
        instance_id: str,
        db_path: Path,
        props: bytes,
        sink: Any,
        log_level: str,
        engine: Any,
        history: bool = False,
    ) -> None:
        self.instance_id = instance_id
        self.history = history  # subscribed to history sync blobs (docs/history.md)
        self.db_path = db_path
        self.sink = sink
        self.engine = engine
        self.client = FakeClient(self)
        self.registered = threading.Event()
        self.finished = threading.Event()
        self.started = self.stopped = False
        self.violations: list[str] = []

    def start(self) -> None:
        if not self.engine._gate._writing:
            self.violations.append("start without the gate held alone")
        self.started = True
        # Go registers the client a little after the thread starts; the engine waits for it, gate held.
        threading.Timer(0.002, self.registered.set).start()

    def stop(self) -> None:
        if not self.engine._gate._writing or self.engine._gate._readers:
            self.violations.append("stop without the gate held alone")
        self.stopped = True
        self.finished.set()

    def join(self, timeout: float) -> bool:
        return self.finished.wait(timeout)


class Harness:
    def __init__(self, tmp_path: Path, **options: Any) -> None:
        self.runs: list[FakeRun] = []
        self.events: list[dict[str, Any]] = []
        self.fetched: list[dict[str, Any]] = []

        def factory(*args: Any, **kwargs: Any) -> FakeRun:
            run = FakeRun(*args, engine=self.engine, **kwargs)
            self.runs.append(run)
            return run

        def fetch(media: dict[str, Any]) -> bytes:
            self.fetched.append(media)
            return b"IMAGEBYTES"

        options.setdefault("unseal", lambda sealed: "654321" if sealed == "sealed" else "?")
        self.engine = WhatsmeowEngine(
            tmp_path / "store",
            media_fetch=fetch,
            media_dir=tmp_path / "media",
            clock=lambda: NOW,
            random_bytes=lambda n: b"r" * n,
            run_factory=factory,
            start_timeout=0.1,
            **options,
        )

    @property
    def run(self) -> FakeRun:
        return self.runs[-1]

    @property
    def client(self) -> FakeClient:
        return self.run.client

    def open(self) -> None:
        self.engine.open(SessionSpec(instance_id=INSTANCE, account_id="acc_1", livemode=True), self.events.append)

    def feed(self, kind: str, payload: Any, run: FakeRun | None = None) -> None:
        self.engine._on_run(run or self.run, kind, payload)
        self.engine.pump(0)

    def event(self, code: int, message: Any, run: FakeRun | None = None) -> None:
        self.feed("event", (code, message), run)

    def connect(self) -> None:
        self.open()
        device = pb.Device(
            JID=jids.to_proto("5511900000001:7@s.whatsapp.net"), LID=jids.to_proto(OWN_LID), PushName="Loja"
        )
        self.event(lib.DEVICE, device)
        self.event(lib.CONNECTED, pb.Connected(status=True))
        self.events.clear()

    def states(self) -> list[tuple[str, str | None]]:
        return [(e["state"], e.get("error")) for e in self.events if e["kind"] == "state"]

    def violations(self) -> list[str]:
        return [v for run in self.runs for v in run.violations]


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def job(kind: str, content: dict[str, Any], to: str = PEER) -> dict[str, Any]:
    return {
        "message_id": "msg_1",
        "account_id": "acc_1",
        "instance_id": INSTANCE,
        "livemode": True,
        "type": kind,
        "content": content,
        "to_jid": to,
        "wa_message_id": "3EB0OURS",
    }


# -- sessions ---------------------------------------------------------------------------------------------


def test_each_instance_has_its_own_store_file(h):
    h.open()
    assert h.run.db_path == h.engine.store_dir / f"{INSTANCE}.sqlite3"
    assert h.run.started
    with pytest.raises(ValueError):
        h.engine.store_path("../escape")


def test_opening_an_open_session_is_a_no_op(h):
    h.open()
    h.open()
    assert len(h.runs) == 1


def test_qr_codes_are_pairing_states_once_each(h):
    h.open()
    h.feed("qr", "2@first")
    h.feed("qr", "2@first")
    h.feed("qr", "2@second")
    assert [(e["state"], e["qr"]) for e in h.events] == [("pairing", "2@first"), ("pairing", "2@second")]


def test_login_reports_connected_with_phone_lid_and_name_and_the_own_identity(h):
    h.open()
    device = pb.Device(JID=jids.to_proto("5511900000001:7@s.whatsapp.net"), LID=jids.to_proto(OWN_LID), PushName="Loja")
    h.event(lib.DEVICE, device)
    h.event(lib.CONNECTED, pb.Connected(status=True))
    identity, connected = h.events
    assert identity == {
        "kind": "identity",
        "instance_id": INSTANCE,
        "phone": "+5511900000001",
        "lid": OWN_LID,
        "at": 1_700_000_000_000,
    }
    assert connected == {
        "kind": "state",
        "instance_id": INSTANCE,
        "state": "connected",
        "at": 1_700_000_000_000,
        "phone": "+5511900000001",
        "lid": OWN_LID,
        "push_name": "Loja",
    }
    assert h.engine.connected(INSTANCE)


def test_pair_success_reports_connected_with_the_new_number(h):
    h.open()
    h.feed("qr", "2@code")
    success = pb.PairStatus(ID=jids.to_proto("5511900000001:9@s.whatsapp.net"), Status=pb.PairStatus.SUCCESS)
    h.event(lib.PAIR_STATUS, success)
    assert h.events[-1]["state"] == "connected"
    assert h.events[-1]["phone"] == "+5511900000001"
    assert not h.engine.connected(INSTANCE)  # whatsmeow reconnects once more before the number is usable


def test_a_drop_is_reported_and_left_to_whatsmeows_own_reconnect(h):
    h.connect()
    h.event(lib.DISCONNECTED, pb.Disconnected(status=True))
    assert h.states() == [("disconnected", None)]
    assert not h.run.stopped and len(h.runs) == 1
    h.event(lib.CONNECTED, pb.Connected(status=True))
    assert h.states()[-1] == ("connected", None)


@pytest.mark.parametrize(
    ("code", "message", "state", "error"),
    [
        (lib.STREAM_REPLACED, pb.StreamReplaced(), "disconnected", "stream_replaced"),
        (lib.TEMPORARY_BAN, pb.TemporaryBan(Code=pb.TemporaryBan.SEND_TO_TOO_MANY_PEOPLE, Expire=3600), "restricted",
         "account_restricted"),
        (lib.CLIENT_OUTDATED, pb.ClientOutdated(), "failed", "client_outdated"),
    ],
)  # fmt: skip
def test_terminal_events_stop_the_client_for_good(h, code, message, state, error):
    h.connect()
    h.event(code, message)
    assert h.states() == [(state, error)]
    assert h.run.stopped
    h.engine._tick()
    assert len(h.runs) == 1  # never reconnected behind WhatsApp's back
    with pytest.raises(NotConnected) as held:
        h.engine.send(INSTANCE, job("text", {"body": "x"}))
    assert held.value.state == state


def test_logged_out_forgets_the_store(h):
    h.connect()
    store = h.engine.store_path(INSTANCE)
    store.write_bytes(b"sqlite")
    h.event(lib.LOGGED_OUT, pb.LoggedOut(OnConnect=False))
    assert h.states() == [("logged_out", None)]
    assert h.run.stopped
    assert not store.exists()


def test_logout_unlinks_the_device_stops_and_forgets(h):
    h.connect()
    store = h.engine.store_path(INSTANCE)
    store.write_bytes(b"sqlite")
    h.engine.logout(INSTANCE)
    assert h.client.logged_out
    assert h.run.stopped
    assert h.states() == [("logged_out", None)]
    assert not store.exists()


def test_a_failed_connect_is_retried_after_a_backoff(h):
    h.open()
    first = h.run
    first.finished.set()
    h.feed("finished", "failed to dial whatsapp web websocket")
    assert h.states() == [("disconnected", "connect_failed")]
    assert len(h.runs) == 1  # not before the backoff
    h.engine._sessions[INSTANCE].restart_at = 0.0  # the backoff is over
    h.engine.pump(0)
    assert len(h.runs) == 2 and h.run is not first and h.run.started


def test_a_restart_due_for_a_closed_session_starts_nothing(h):
    h.open()
    session = h.engine._sessions[INSTANCE]
    h.run.finished.set()
    h.feed("finished", "dial failed")
    h.engine.close(INSTANCE)
    h.engine._start(session)  # what the pump's deadline check would do, racing the close
    assert len(h.runs) == 1


def test_a_connect_that_hangs_is_stopped_and_tried_again(h):
    h.open()
    h.engine._sessions[INSTANCE].started_at -= h.engine.pairing_timeout + 1
    h.engine.pump(0)
    assert h.states() == [("disconnected", "connect_failed")]
    assert h.run.stopped
    assert h.engine._sessions[INSTANCE].restart_at is not None


def test_a_pairing_nobody_finishes_is_given_up(h):
    h.open()
    h.feed("qr", "2@code")
    h.engine._sessions[INSTANCE].started_at -= h.engine.pairing_timeout + 1
    h.engine.pump(0)
    assert h.states()[-1] == ("disconnected", "pairing_timeout")
    assert h.run.stopped


@pytest.mark.parametrize(
    ("status", "state", "error"),
    [("timeout", "disconnected", "pairing_timeout"), ("err-client-outdated", "failed", "client_outdated"),
     ("err-scanned-without-multidevice", "disconnected", "pairing_failed")],
)  # fmt: skip
def test_qr_loop_endings(h, status, state, error):
    h.open()
    h.feed("qr", "2@code")
    h.feed("login", status)
    assert h.states()[-1] == (state, error)
    assert h.run.stopped


def test_events_of_a_stopped_run_are_ignored(h):
    h.connect()
    old = h.run
    h.engine.close(INSTANCE)
    h.open()
    h.event(lib.DISCONNECTED, pb.Disconnected(status=True), run=old)
    h.feed("qr", "2@stale", run=old)
    assert h.events == []


def test_close_keeps_the_store_and_reports_nothing(h):
    h.connect()
    store = h.engine.store_path(INSTANCE)
    store.write_bytes(b"sqlite")
    h.engine.close(INSTANCE)
    assert h.run.stopped
    assert store.exists()
    assert h.events == []


def test_shutdown_stops_every_client(h):
    h.connect()
    h.engine.shutdown()
    assert h.run.stopped


# -- sending ----------------------------------------------------------------------------------------------


def test_send_text_returns_whatsapps_id_and_time(h):
    h.connect()
    ack = h.engine.send(INSTANCE, job("text", {"body": "Olá"}))
    assert ack == ServerAck(wa_message_id="3EB0SRV1", server_timestamp_ms=1_700_000_005_000)
    [(to, message)] = h.client.sent
    assert to == PEER
    assert message.conversation == "Olá"


def test_send_before_connected_is_held(h):
    with pytest.raises(NotConnected):
        h.engine.send(INSTANCE, job("text", {"body": "x"}))
    h.open()
    h.feed("qr", "2@code")
    with pytest.raises(NotConnected) as held:
        h.engine.send(INSTANCE, job("text", {"body": "x"}))
    assert held.value.state == "pairing"


def test_a_client_stopped_under_a_send_is_never_called(h):
    """The pump may end a session (a logout on the phone) between a send's checks and its call into Go."""
    h.connect()
    with h.engine._gate.exclusive():
        h.run.stop()  # goneonize forgets the client: a call naming it would abort the process
    with pytest.raises(NotConnected):
        h.engine.send(INSTANCE, job("text", {"body": "x"}, to=PEER_LID))
    assert h.client.sent == []


def test_a_number_not_on_whatsapp_fails_before_sending(h):
    h.connect()
    with pytest.raises(PermanentFailure) as failed:
        h.engine.send(INSTANCE, job("text", {"body": "x"}, to="5511900000999@s.whatsapp.net"))
    assert failed.value.code == "not_on_whatsapp"
    assert h.client.sent == []


def test_the_jid_whatsapp_answers_is_used_and_remembered(h):
    h.connect()
    old_style = "551188887777@s.whatsapp.net"  # a Brazilian account kept without its ninth digit
    h.client.on_whatsapp[PEER] = old_style
    h.client.lids[old_style] = PEER_LID
    h.engine.send(INSTANCE, job("text", {"body": "1"}))
    h.engine.send(INSTANCE, job("text", {"body": "2"}))
    assert [to for to, _ in h.client.sent] == [old_style, old_style]
    assert len(h.client.queries) == 1
    assert {"kind": "identity", "instance_id": INSTANCE, "phone": "+551188887777", "lid": PEER_LID,
            "at": 1_700_000_000_000} in h.events  # fmt: skip


def test_lid_recipients_are_sent_to_as_they_are(h):
    h.connect()
    h.engine.send(INSTANCE, job("text", {"body": "x"}, to=PEER_LID))
    assert h.client.sent[0][0] == PEER_LID
    assert h.client.queries == []


@pytest.mark.parametrize(
    ("error", "raised", "code"),
    [
        (NeonizeError("failed to send: websocket not connected"), NotConnected, None),
        (NeonizeError("server returned error 463"), PermanentFailure, "reach_out_restricted"),
        (NeonizeError("info query timed out"), NeonizeError, None),
    ],
)
def test_send_errors_are_mapped(h, error, raised, code):
    h.connect()
    h.client.fail_send = error
    with pytest.raises(raised) as caught:
        h.engine.send(INSTANCE, job("text", {"body": "x"}))
    if code:
        assert caught.value.code == code


def test_media_is_fetched_uploaded_and_sent(h):
    h.connect()
    media = {"media_id": "med_1", "key": "acc_1/med_1", "mime_type": "image/png", "size": 10, "sha256": "00"}
    h.engine.send(INSTANCE, job("image", {"media": media, "caption": "hi"}))
    assert h.fetched == [media]
    [(data, media_type)] = h.client.uploads
    assert (data, media_type) == (b"IMAGEBYTES", lib.MediaType.MediaImage)
    image = h.client.sent[0][1].imageMessage
    assert (image.URL, image.directPath, image.fileLength, image.caption) == ("https://mmg/x", "/v/x", 10, "hi")


def test_otp_is_two_messages_and_the_code_comes_from_unseal(h):
    h.connect()
    ack = h.engine.send(INSTANCE, job("otp", {"body": "Your code:", "code_sealed": "sealed"}))
    assert [m.conversation for _, m in h.client.sent] == ["Your code:", "654321"]
    assert ack.wa_message_id == "3EB0SRV2"  # the code's own message


def test_otp_without_an_unseal_key_is_not_supported(tmp_path):
    h = Harness(tmp_path, unseal=None)
    h.connect()
    with pytest.raises(PermanentFailure) as failed:
        h.engine.send(INSTANCE, job("otp", {"body": "Your code:", "code_sealed": "sealed"}))
    assert failed.value.code == "not_supported"
    assert h.client.sent == []


def test_reactions_skip_the_number_lookup(h):
    h.connect()
    target = {"wa_message_id": "3EB0SRV1", "chat_jid": PEER, "from_me": True}
    h.engine.send(INSTANCE, job("reaction", {"target": target, "emoji": "👍"}))
    assert h.client.queries == []
    assert h.client.sent[0][1].reactionMessage.key.ID == "3EB0SRV1"


def test_unknown_types_fail_as_not_supported(h):
    h.connect()
    with pytest.raises(PermanentFailure) as failed:
        h.engine.send(INSTANCE, job("hologram", {}, to=PEER_LID))
    assert failed.value.code == "not_supported"


# -- inbound ----------------------------------------------------------------------------------------------


def message_event(message: e2e.Message, *, chat: str = PEER_LID, sender: str = PEER_LID, alt: str = PEER) -> pb.Message:
    source = pb.MessageSource(Chat=jids.to_proto(chat), Sender=jids.to_proto(sender), SenderAlt=jids.to_proto(alt))
    source.RecipientAlt.CopyFrom(pb.JID(IsEmpty=True))
    info = pb.MessageInfo(MessageSource=source, ID="3EB0IN", Timestamp=1_700_000_001_000, Pushname="Ana")
    return pb.Message(Info=info, Message=message)


def test_inbound_text_with_the_identity_it_reveals(h):
    h.connect()
    h.event(lib.MESSAGE, message_event(e2e.Message(conversation="oi")))
    identity, inbound = h.events
    assert identity == {"kind": "identity", "instance_id": INSTANCE, "phone": "+5511988887777", "lid": PEER_LID,
                        "at": 1_700_000_000_000}  # fmt: skip
    assert inbound["chat_jid"] == PEER
    assert inbound["content"] == {"body": "oi"}
    h.event(lib.MESSAGE, message_event(e2e.Message(conversation="again")))
    assert [e["kind"] for e in h.events] == ["identity", "inbound", "inbound"]  # a pair is reported once


def test_inbound_media_lands_in_a_temp_file(h):
    h.connect()
    image = e2e.ImageMessage(mimetype="image/jpeg", fileLength=8, fileSHA256=b"\xab")
    h.event(lib.MESSAGE, message_event(e2e.Message(imageMessage=image)))
    inbound = h.events[-1]
    path = Path(inbound["media_path"])
    assert path.parent == h.engine.media_dir
    assert path.suffix in (".jpg", ".jpeg")
    assert path.read_bytes() == b"JPEGDATA"


def test_inbound_media_too_big_comes_without_a_file(tmp_path):
    h = Harness(tmp_path, max_inbound_media_bytes=4)
    h.connect()
    image = e2e.ImageMessage(mimetype="image/jpeg", fileLength=8)
    h.event(lib.MESSAGE, message_event(e2e.Message(imageMessage=image)))
    assert "media_path" not in h.events[-1]
    assert h.events[-1]["type"] == "image"


def test_receipts_become_receipt_events(h):
    h.connect()
    source = pb.MessageSource(Chat=jids.to_proto(PEER), Sender=jids.to_proto(PEER), IsFromMe=False)
    h.event(
        lib.RECEIPT,
        pb.Receipt(MessageSource=source, MessageIDs=["3EB0SRV1"], Timestamp=1_700_000_009, Type=pb.Receipt.READ),
    )
    assert h.events == [
        {"kind": "receipt", "instance_id": INSTANCE, "chat_jid": PEER, "status": "read", "at": 1_700_000_009_000,
         "wa_message_id": "3EB0SRV1"}
    ]  # fmt: skip


# -- other calls ------------------------------------------------------------------------------------------


def test_check_numbers_answers_in_order(h):
    h.connect()
    answers = h.engine.check_numbers(INSTANCE, ["+5511988887777", "+5511900000999", PEER_LID, "not a number"])
    assert answers == [
        {"input": "+5511988887777", "exists": True, "phone": "+5511988887777", "jid": PEER, "lid": PEER_LID},
        {"input": "+5511900000999", "exists": False, "phone": None, "jid": None, "lid": None},
        {"input": PEER_LID, "exists": True, "phone": "+5511988887777", "jid": PEER_LID, "lid": PEER_LID},
        {"input": "not a number", "exists": False, "phone": None, "jid": None, "lid": None},
    ]
    assert len(h.client.queries) == 1  # every number in one question


def test_mark_read(h):
    h.connect()
    h.engine.mark_read(INSTANCE, PEER, ["3EB0IN", "3EB0IN2"])
    assert h.client.read == [(("3EB0IN", "3EB0IN2"), PEER)]
    assert h.client.read_senders == [PEER]  # in a one-to-one chat the sender is the chat


def test_mark_read_in_a_group_names_the_participant(h):
    h.connect()
    group = "120363025246125888@g.us"
    h.engine.mark_read(INSTANCE, group, ["3EB0G1"], sender_jid=PEER)
    assert (h.client.read, h.client.read_senders) == ([(("3EB0G1",), group)], [PEER])


def test_pairing_code_once_the_client_is_connected(h):
    h.open()
    h.feed("qr", "2@code")
    assert h.engine.pairing_code(INSTANCE, "+5511900000001") == "CODE-0001"


def test_pairing_code_needs_an_open_unpaired_session(h):
    with pytest.raises(NotConnected):
        h.engine.pairing_code(INSTANCE, "+5511900000001")
    h.open()
    with pytest.raises(NotConnected):  # no QR yet: the websocket is not up
        h.engine.pairing_code(INSTANCE, "+5511900000001")
    h.engine.close(INSTANCE)
    h.connect()
    with pytest.raises(NotConnected):
        h.engine.pairing_code(INSTANCE, "+5511900000001")


def test_go_is_never_called_during_a_start_or_stop(h):
    """Sends, lookups and event handling race opens and closes of other instances, as in a busy host."""
    h.connect()
    stop = threading.Event()
    errors: list[BaseException] = []

    def send_loop() -> None:
        while not stop.is_set():
            try:
                h.engine.send(INSTANCE, job("text", {"body": "x"}))
                h.engine.check_numbers(INSTANCE, ["+5511988887777"])
            except Exception as error:
                errors.append(error)

    def pump_loop() -> None:
        while not stop.is_set():
            h.engine._on_run(h.runs[0], "event", (lib.MESSAGE, message_event(e2e.Message(conversation="x"))))
            h.engine.pump(0)

    threads = [threading.Thread(target=send_loop), threading.Thread(target=pump_loop)]
    for thread in threads:
        thread.start()
    for i in range(100):
        spec = SessionSpec(instance_id=f"inst_other_{i}", account_id="acc_1", livemode=True)
        h.engine.open(spec, lambda event: None)
        h.engine.close(spec.instance_id)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert h.violations() == []


# -- groups (issue #18): neonize's group calls and their mapping, offline -------------------------------------

GROUP = "120363025246125888@g.us"
PRIVATE = "5511900010001@s.whatsapp.net"


def test_group_info_maps_subject_settings_and_participants_with_phone_lid_and_role(h):
    h.connect()
    info = h.engine.group_info(INSTANCE, GROUP)
    assert (info["jid"], info["subject"], info["announce"], info["created_at"]) == (
        GROUP,
        "Orders",
        False,
        1_700_000_000_000,
    )
    assert [(p["phone"], p["lid"], p["role"]) for p in info["participants"]] == [
        ("+5511900000001", OWN_LID, "superadmin"),
        ("+" + PEER.partition("@")[0], PEER_LID, "member"),
    ]
    assert [g["jid"] for g in h.engine.joined_groups(INSTANCE)] == [GROUP]


def test_create_group_and_participant_results(h):
    h.connect()
    created = h.engine.create_group(INSTANCE, "Team", ["+" + PEER.partition("@")[0]])
    assert created["group"]["subject"] == "Team"
    assert [r["status"] for r in created["participants"]] == ["added"]
    assert h.client.group_calls[0] == ("create_group", "Team", [PEER])

    results = h.engine.update_group_participants(INSTANCE, GROUP, "add", [PEER, PRIVATE])
    assert [(r["status"], r.get("invite_code")) for r in results] == [("added", None), ("invite_required", "ADDREQ1")]
    # Whom WhatsApp would not let us add gets the invite its add request names, as a phone sends it.
    [(to, invite)] = h.client.sent
    assert to == PRIVATE
    assert (invite.groupInviteMessage.groupJID, invite.groupInviteMessage.inviteCode) == (GROUP, "ADDREQ1")
    assert invite.groupInviteMessage.groupName == "Team" and invite.groupInviteMessage.inviteExpiration == 86_400
    results = h.engine.update_group_participants(INSTANCE, GROUP, "promote", [PEER])
    assert results[0]["status"] == "ok" and h.client.group_calls[-1][-1] == "promote"
    with pytest.raises(PermanentFailure) as bad:
        h.engine.update_group_participants(INSTANCE, GROUP, "add", ["not a phone"])
    assert bad.value.code == "invalid_input"


def test_update_group_calls_one_setter_per_change(h):
    h.connect()
    info = h.engine.update_group(
        INSTANCE, GROUP, {"subject": "New", "description": "d", "announce": True, "locked": False}
    )
    assert (info["subject"], info["announce"]) == ("New", True)
    names = [call[0] for call in h.client.group_calls]
    assert names == ["set_group_name", "set_group_topic", "set_group_announce", "set_group_locked", "get_group_info"]
    # A new picture: the stored image's bytes, read before any change, uploaded with set_group_photo.
    media = {"media_id": "med_1", "mime_type": "image/jpeg", "size": 10}
    h.engine.update_group(INSTANCE, GROUP, {"picture": media})
    assert h.fetched[-1] == media
    assert h.client.group_calls[-2] == ("set_group_photo", GROUP, b"IMAGEBYTES")
    # Removing it is not exposed by neonize 0.5.2: said so, never silently skipped.
    with pytest.raises(PermanentFailure) as unsupported:
        h.engine.update_group(INSTANCE, GROUP, {"picture": None})
    assert unsupported.value.code == "not_supported"


def test_a_group_photo_whatsapp_refuses_is_picture_rejected(h):
    h.connect()
    h.engine.media_fetch = lambda media: b"NOT A JPEG"
    with pytest.raises(PermanentFailure) as refused:
        h.engine.update_group(INSTANCE, GROUP, {"picture": {"media_id": "med_2", "mime_type": "image/png"}})
    assert refused.value.code == "picture_rejected"


def test_invite_links_join_and_leave(h):
    h.connect()
    assert h.engine.group_invite_link(INSTANCE, GROUP) == "https://chat.whatsapp.com/CODE"
    assert h.engine.group_invite_link(INSTANCE, GROUP, reset=True) == "https://chat.whatsapp.com/NEWCODE"
    assert h.engine.join_group(INSTANCE, "https://chat.whatsapp.com/CODE")["jid"] == GROUP
    with pytest.raises(PermanentFailure) as revoked:
        h.engine.join_group(INSTANCE, "https://chat.whatsapp.com/OLD")
    assert revoked.value.code == "invite_link_invalid"
    h.engine.leave_group(INSTANCE, GROUP)
    assert h.client.group_calls[-1] == ("leave_group", GROUP)
    with pytest.raises(PermanentFailure) as missing:
        h.engine.group_info(INSTANCE, "120363000000000001@g.us")
    assert missing.value.code == "group_not_found"


def test_sending_to_a_group_skips_the_number_lookup_and_carries_mentions(h):
    h.connect()
    h.engine.send(INSTANCE, job("text", {"body": "@5511988887777 hi", "mentions": [PEER]}, to=GROUP))
    [(to, message)] = h.client.sent
    assert to == GROUP and h.client.queries == []
    assert list(message.extendedTextMessage.contextInfo.mentionedJID) == [PEER]


def _info_event(**fields: Any) -> pb.GroupInfoEvent:
    event = pb.GroupInfoEvent(JID=jids.to_proto(GROUP), Timestamp=1_700_000_200)
    event.Sender.CopyFrom(jids.to_proto(fields.pop("sender", OWN_LID)))
    for name in ("Join", "Leave", "Promote", "Demote"):
        getattr(event, name).extend(jids.to_proto(j) for j in fields.pop(name, []))
    if "name" in fields:
        event.Name.Name = fields.pop("name")
    if "announce" in fields:
        event.Announce.IsAnnounce = fields.pop("announce")
    if "link" in fields:
        event.NewInviteLink = fields.pop("link")
    if "reason" in fields:
        event.JoinReason = fields.pop("reason")
    assert not fields
    return event


def test_group_events_become_one_engine_event_per_change(h):
    h.connect()
    joined = pb.JoinedGroup(GroupInfo=h.client._group())
    joined.Sender.CopyFrom(jids.to_proto(PEER_LID))
    h.event(lib.JOINED_GROUP, joined)
    h.event(lib.GROUP_INFO, _info_event(Promote=[PEER_LID], name="New", announce=True, link="NEWCODE"))
    h.event(lib.GROUP_INFO, _info_event(sender=PEER_LID, Join=[PEER_LID], reason="invite"))
    h.event(lib.GROUP_INFO, _info_event(sender=PEER_LID, Leave=[OWN_LID]))
    found = [(e["change"], e.get("action"), e.get("reason")) for e in h.events if e["kind"] == "group"]
    assert found == [
        ("joined", None, None),
        ("participants_changed", "promote", None),
        ("updated", None, None),
        ("participants_changed", "join", None),
        ("left", None, "removed"),
    ]
    groups = [e for e in h.events if e["kind"] == "group"]
    assert groups[0]["group"]["jid"] == GROUP and groups[0]["by"]["lid"] == PEER_LID
    assert groups[2]["changes"] == {"subject": "New", "announce": True, "invite_link": "revoked"}
    assert groups[2]["at"] == 1_700_000_200_000 and groups[2]["by"]["lid"] == OWN_LID
    assert groups[3]["participants"] == [{"jid": PEER_LID, "phone": None, "lid": PEER_LID}]
