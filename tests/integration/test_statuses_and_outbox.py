"""The statuses consumer (genuine SQS events, partial failures) and the outbox sweeper."""

from __future__ import annotations

import json

import boto3
from support.apigw import LambdaContext, call
from support.reports import CapturingPublisher

from bzapper.adapters.aws.models import MessageModel
from bzapper.adapters.aws.queues import SqsReader
from bzapper.config import settings
from bzapper.domain.model import StatusReport
from bzapper.services.outbox import sweep
from bzapper_dev.local.lambda_events import sqs_event
from bzapper_dev.local.pollers import deliver_batch


def _send(handler, account):
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "Hi", "client_reference": "ref-9"}
    status, _, accepted = call(handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert status == 202
    return accepted["message_id"]


def _record(report: StatusReport, message_id: str = "m-1") -> dict:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"rh-{message_id}",
        "Body": json.dumps(report.to_json()),
        "Attributes": {"MessageGroupId": report.wa_message_id, "ApproximateReceiveCount": "1"},
    }


def _event(*records: dict) -> dict:
    return sqs_event(list(records), "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo", "us-east-1")


def test_statuses_move_forward_only_and_emit_one_event_each(messages_handler, statuses_handler, svc, account):
    message_id = _send(messages_handler, account)
    wa_id = MessageModel.get(message_id).wa_message_id
    publisher = CapturingPublisher()
    svc.events = publisher

    reports = [
        StatusReport(account.instance_id, wa_id, "sending", 1_000, message_id),
        StatusReport(account.instance_id, wa_id, "sent", 2_000, message_id),
        StatusReport(account.instance_id, wa_id, "read", 4_000),  # receipts carry only WhatsApp's id
        StatusReport(account.instance_id, wa_id, "delivered", 3_000),  # late: ignored
    ]
    for index, report in enumerate(reports):
        assert statuses_handler(_event(_record(report, f"m-{index}")), LambdaContext()) == {"batchItemFailures": []}

    _, _, view = call(messages_handler, "GET", f"/messages/{message_id}", headers=account.auth)
    assert view["status"] == "read"
    assert [change["status"] for change in view["history"]] == ["queued", "sending", "sent", "read"]
    assert [event["type"] for event in publisher.events] == ["message.queued", "message.sent", "message.read"]
    queued_event, sent_event = publisher.events[0], publisher.events[1]
    assert queued_event["created"] == view["history"][0]["at"]  # when it was queued, not when it left
    assert sent_event["id"].startswith("evt_")
    assert sent_event["data"] == {
        "message_id": message_id,
        "status": "sent",
        "to": "+5511988888888",
        "client_reference": "ref-9",
    }
    assert (sent_event["account_id"], sent_event["instance_id"], sent_event["livemode"]) == (
        account.account_id,
        account.instance_id,
        False,
    )


def test_receipts_find_a_message_by_the_id_whatsapp_acked_it_with(messages_handler, statuses_handler, svc, account):
    """An engine that cannot send under our derived id (whatsmeow): the `sent` report's id is recorded, in the
    status update itself, so the receipts (which carry only WhatsApp's id) find the message through by_wa_id."""
    message_id = _send(messages_handler, account)
    acked = "3EB0C0FFEE0ACKED"
    reports = [
        StatusReport(account.instance_id, MessageModel.get(message_id).wa_message_id, "sending", 1_000, message_id),
        StatusReport(account.instance_id, acked, "sent", 2_000, message_id),
        StatusReport(account.instance_id, acked, "delivered", 3_000),
    ]
    for index, report in enumerate(reports):
        assert statuses_handler(_event(_record(report, f"m-{index}")), LambdaContext()) == {"batchItemFailures": []}

    assert MessageModel.get(message_id).wa_message_id == acked
    _, _, view = call(messages_handler, "GET", f"/messages/{message_id}", headers=account.auth)
    assert view["status"] == "delivered"


def test_partial_batch_failure_returns_only_the_failed_record(messages_handler, statuses_handler, svc, account):
    message_id = _send(messages_handler, account)
    wa_id = MessageModel.get(message_id).wa_message_id
    svc.events = CapturingPublisher()
    good = _record(StatusReport(account.instance_id, wa_id, "sent", 2_000, message_id), "good")
    broken = {**_record(StatusReport(account.instance_id, "other", "sent", 2_000), "bad"), "Body": "{not json"}

    result = statuses_handler(_event(good, broken), LambdaContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert MessageModel.get(message_id).status == "sent"


def test_a_publish_failure_is_retried_with_the_same_event_id(messages_handler, statuses_handler, svc, account):
    message_id = _send(messages_handler, account)
    wa_id = MessageModel.get(message_id).wa_message_id
    record = _record(StatusReport(account.instance_id, wa_id, "sent", 2_000, message_id), "r")

    class FailingOnce(CapturingPublisher):
        failed = False

        def publish(self, events):
            if not self.failed:
                self.failed = True
                raise RuntimeError("bus unavailable")
            super().publish(events)

    publisher = FailingOnce()
    svc.events = publisher
    assert statuses_handler(_event(record), LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "r"}]}
    assert statuses_handler(_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert [event["type"] for event in publisher.events] == ["message.sent"]
    # A third delivery (redelivery after success) publishes the same id again; consumers dedupe by id.
    statuses_handler(_event(record), LambdaContext())
    assert len({event["id"] for event in publisher.events}) == 1


def test_status_events_reach_the_bus(messages_handler, statuses_handler, svc, account):
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    probe = sqs.create_queue(QueueName="bus-probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="probe", EventBusName=settings().bus, EventPattern=json.dumps({"source": ["bzapper"]}))
    events.put_targets(Rule="probe", EventBusName=settings().bus, Targets=[{"Id": "q", "Arn": probe_arn}])

    message_id = _send(messages_handler, account)
    wa_id = MessageModel.get(message_id).wa_message_id
    statuses_handler(
        _event(_record(StatusReport(account.instance_id, wa_id, "sent", 2_000, message_id))), LambdaContext()
    )

    [delivered] = sqs.receive_message(QueueUrl=probe, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(delivered["Body"])
    assert envelope["detail-type"] == "message.sent"
    assert envelope["detail"]["data"]["message_id"] == message_id


class FailingQueue:
    def enqueue(self, message) -> None:
        raise ConnectionError("process died between the commit and the SQS send")


def _shard_reader(svc, account) -> SqsReader:
    shard = svc.instances.get(account.instance_id).shard
    return SqsReader(settings().queue(f"shard-{shard}", fifo=True))


def test_a_message_committed_but_never_enqueued_is_sent_by_the_sweeper(messages_handler, svc, account):
    real_queue = svc.jobs
    svc.jobs = FailingQueue()
    message_id = _send(messages_handler, account)  # still 202: committed is accepted
    svc.jobs = real_queue
    reader = _shard_reader(svc, account)
    assert reader.receive(wait_seconds=0) == []
    created = int(MessageModel.get(message_id).created_at)

    assert sweep(svc, grace_ms=30_000, now=created + 1_000) == 0  # within the grace period: not yet
    assert sweep(svc, grace_ms=30_000, now=created + 31_000) == 1

    [job] = reader.receive(wait_seconds=0)
    assert json.loads(job["Body"])["message_id"] == message_id
    # Backed off: the next sweep right away does not send it again.
    assert sweep(svc, grace_ms=30_000, now=created + 32_000) == 0
    assert sweep(svc, grace_ms=30_000, now=created + 31_000 + 61_000) == 1


def test_a_message_a_worker_took_leaves_the_outbox(messages_handler, svc, account):
    message_id = _send(messages_handler, account)
    view = svc.messages.apply_status(message_id, "sending", 1)
    assert view is not None
    assert sweep(svc, grace_ms=0, now=10**13) == 0
    assert MessageModel.get(message_id).outbox_due is None


def test_outbox_handler_runs_with_a_scheduler_event(messages_handler, svc, account, monkeypatch):
    from bzapper.services import outbox
    from bzapper_dev.local.functions import load_function
    from bzapper_dev.local.lambda_events import scheduled_event

    svc.jobs = FailingQueue()
    message_id = _send(messages_handler, account)
    svc.jobs = __import__("bzapper.adapters.aws.queues", fromlist=["SqsJobQueue"]).SqsJobQueue()
    handler = load_function("outbox").handler
    event = scheduled_event("arn:aws:scheduler:x", "us-east-1")
    assert handler(event, LambdaContext()) == {"resent": 0}  # within the grace period

    created = int(MessageModel.get(message_id).created_at)
    monkeypatch.setattr(outbox, "now_ms", lambda: created + 10 * 60 * 1000)
    assert handler(event, LambdaContext()) == {"resent": 1}
    [job] = _shard_reader(svc, account).receive(wait_seconds=0)
    assert json.loads(job["Body"])["message_id"] == message_id


def test_local_poller_deletes_successes_and_keeps_failures(aws):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="poller-probe", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for body in ("ok-1", "fail", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[str] = []

    def handler(event, context):
        assert context.get_remaining_time_in_millis() > 0
        seen.extend(record["body"] for record in event["Records"])
        assert all(record["eventSource"] == "aws:sqs" for record in event["Records"])
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]} for record in event["Records"] if record["body"] == "fail"
            ]
        }

    reader = SqsReader("poller-probe")
    deleted = 0
    while len(seen) < 3:
        deleted += deliver_batch(reader, handler, "probe", "us-east-1")
    assert deleted == 2
    remaining = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in remaining] == ["fail"]
