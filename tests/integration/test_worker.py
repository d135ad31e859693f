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


class FlakyEngine(RecordingEngine):
    """Fails the first attempt of one job."""

    def __init__(self, flaky_wa_id: str) -> None:
        super().__init__()
        self.flaky = flaky_wa_id

    def send(self, job):
        if job["wa_message_id"] == self.flaky:
            self.flaky = ""
            raise ConnectionError("socket closed")
        return super().send(job)


class ListReader:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete(self, handles):
        self.deleted.extend(handles)


def test_a_failed_job_holds_back_its_numbers_later_jobs(messages_handler, svc, account):
    import json

    svc.statuses = RecordingSink()
    jobs = [_job(messages_handler, account, svc) for _ in range(3)]
    engine = FlakyEngine(jobs[0]["wa_message_id"])
    worker = SessionWorker(svc, {"sandbox": engine})
    batch = [
        {"Body": json.dumps(job), "ReceiptHandle": f"rh{i}", "Attributes": {"MessageGroupId": account.instance_id}}
        for i, job in enumerate(jobs)
    ]
    reader = ListReader()

    worker.process_batch(reader, batch)
    assert engine.sent == [] and reader.deleted == []  # the first failed: nothing overtook it

    worker.process_batch(reader, batch)  # the redelivery, in the same order
    assert engine.sent == [job["wa_message_id"] for job in jobs]
    assert reader.deleted == ["rh0", "rh1", "rh2"]


def test_a_dead_job_fails_and_is_refunded_unless_it_was_sent(messages_handler, svc, account):
    from support.apigw import LambdaContext

    from bzapper.domain.model import wallet_id
    from bzapper.local.functions import load_function
    from bzapper.local.lambda_events import sqs_event

    class Captured:
        def __init__(self):
            self.events = []

        def publish(self, events):
            self.events.extend(events)

    svc.events = Captured()
    stuck, sent = _job(messages_handler, account, svc), _job(messages_handler, account, svc)
    svc.messages.apply_status(stuck["message_id"], "sending", 1)
    svc.messages.apply_status(sent["message_id"], "sent", 2)
    records = [
        {
            "MessageId": job["message_id"],
            "ReceiptHandle": "rh",
            "Body": __import__("json").dumps(job),
            "Attributes": {"MessageGroupId": job["instance_id"]},
        }
        for job in (stuck, sent)
    ]
    handler = load_function("dead_jobs").handler
    result = handler(
        sqs_event(records, "arn:aws:sqs:us-east-1:1:bzapper-test-shard-0-dlq.fifo", "us-east-1"), LambdaContext()
    )

    assert result == {"batchItemFailures": []}
    assert svc.messages.get(stuck["message_id"]).status == "failed"
    assert svc.messages.get(stuck["message_id"]).error_code == "send_failed"
    assert svc.messages.get(sent["message_id"]).status == "sent"
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999  # 1000 - 2 sends + 1 refund
