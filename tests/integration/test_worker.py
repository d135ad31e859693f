"""The session worker's job handling, with an engine that records what it was asked to send."""

from __future__ import annotations

from support.apigw import call

from bzapper.adapters.aws.models import MessageModel
from bzapper.domain.model import StatusReport
from bzapper.engines.base import Receipt, ServerAck
from bzapper.worker.runner import SessionWorker


class RecordingEngine:
    name = "sandbox"

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send(self, job):
        if self.fail:
            raise ConnectionError("socket closed")
        self.sent.append(job["wa_message_id"])
        return ServerAck(job["wa_message_id"], 1_000)

    def poll_receipts(self, instance_ids, wait_seconds):
        return [Receipt(1, instance_ids[0], "x", "delivered", 1)] if instance_ids else []

    def ack_receipts(self, receipt_ids):
        pass


class RecordingSink:
    def __init__(self) -> None:
        self.reports: list[StatusReport] = []

    def report(self, report: StatusReport) -> None:
        self.reports.append(report)


def _job(handler, account, svc) -> dict:
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "Hi"}
    _, _, accepted = call(handler, "POST", "/messages/text", body=body, headers=account.auth)
    item = MessageModel.get(accepted["message_id"])
    return {
        "message_id": item.message_id,
        "account_id": item.account_id,
        "instance_id": item.instance_id,
        "livemode": False,
        "type": "text",
        "content": item.content,
        "to_jid": item.to_jid,
        "wa_message_id": item.wa_message_id,
    }


def test_a_job_is_sent_once_and_reported(messages_handler, svc, account):
    engine, sink = RecordingEngine(), RecordingSink()
    svc.statuses = sink
    worker = SessionWorker(svc, {"sandbox": engine})
    job = _job(messages_handler, account, svc)

    assert worker.process_job(job) is True
    assert engine.sent == [job["wa_message_id"]]
    assert [(r.status, r.message_id) for r in sink.reports] == [
        ("sending", job["message_id"]),
        ("sent", job["message_id"]),
    ]


def test_a_redelivered_job_already_sent_is_skipped(messages_handler, svc, account):
    engine = RecordingEngine()
    svc.statuses = RecordingSink()
    worker = SessionWorker(svc, {"sandbox": engine})
    job = _job(messages_handler, account, svc)
    svc.messages.apply_status(job["message_id"], "sent", 5)

    assert worker.process_job(job) is True
    assert engine.sent == []


def test_a_job_interrupted_after_sending_is_resent_with_the_same_whatsapp_id(messages_handler, svc, account):
    engine = RecordingEngine()
    svc.statuses = RecordingSink()
    worker = SessionWorker(svc, {"sandbox": engine})
    job = _job(messages_handler, account, svc)
    svc.messages.apply_status(job["message_id"], "sending", 5)  # the crash happened after this

    assert worker.process_job(job) is True
    assert engine.sent == [job["wa_message_id"]]


def test_an_engine_failure_leaves_the_job_for_a_retry(messages_handler, svc, account):
    sink = RecordingSink()
    svc.statuses = sink
    worker = SessionWorker(svc, {"sandbox": RecordingEngine(fail=True)})
    job = _job(messages_handler, account, svc)

    assert worker.process_job(job) is False
    assert [r.status for r in sink.reports] == ["sending"]


def test_a_job_for_an_instance_without_engine_is_retried(messages_handler, svc, account):
    worker = SessionWorker(svc, {})
    svc.statuses = RecordingSink()
    assert worker.process_job(_job(messages_handler, account, svc)) is False
