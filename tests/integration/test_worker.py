"""The session worker's job handling: real message statuses on moto, a recording host pool and reporter."""

from __future__ import annotations

import json
import threading

from support.apigw import call

from bzapper.adapters.aws.models import MessageModel
from bzapper.domain.engine import NotConnected, PermanentFailure
from bzapper.domain.leases import LeaseLost
from bzapper.domain.pacing import Pacer, PacingPolicy
from bzapper.topology import HELD_VISIBILITY_SECONDS, JOB_VISIBILITY_SECONDS
from bzapper.worker.jobs import OPENING_RETRY_SECONDS, JobRunner, Outcome


class RecordingPool:
    """Stands for the hosts: records what it was asked to send, or fails as told."""

    def __init__(self, fail_with: Exception | None = None, open_: bool = True) -> None:
        self.sent: list[str] = []
        self.fail_with = fail_with
        self.open = open_
        self.fail_once: str = ""

    def holds(self, instance_id):
        return self.open

    def call(self, instance_id, method, **kwargs):
        job = kwargs["job"]
        if job["wa_message_id"] == self.fail_once:
            self.fail_once = ""
            raise ConnectionError("socket closed")
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(job["wa_message_id"])
        return {"wa_message_id": job["wa_message_id"], "server_timestamp_ms": 1_000}


class RecordingReporter:
    def __init__(self) -> None:
        self.reports: list[dict] = []
        self.lost = False

    def report_now(self, shard, report):
        if self.lost:
            raise LeaseLost(shard)
        self.reports.append(report)


class ListReader:
    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.hidden: list[tuple[list[str], int]] = []

    def delete(self, handles):
        self.deleted.extend(handles)

    def hide(self, handles, seconds):
        self.hidden.append((list(handles), seconds))


def _runner(svc, pool, reporter=None):
    reporter = reporter or RecordingReporter()
    runner = JobRunner(svc, lambda engine: pool, svc.instances.view, reporter, Pacer(PacingPolicy(), lambda: 0.0))
    return runner, reporter


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


def _batch(jobs, group):
    return [
        {"Body": json.dumps(job), "ReceiptHandle": f"rh{i}", "Attributes": {"MessageGroupId": group}}
        for i, job in enumerate(jobs)
    ]


def test_a_job_is_sent_once_and_reported(messages_handler, svc, account):
    pool = RecordingPool()
    runner, reporter = _runner(svc, pool)
    job = _job(messages_handler, account, svc)

    assert runner.process_job(0, job) is Outcome.DONE
    assert pool.sent == [job["wa_message_id"]]
    assert [(r["status"], r["message_id"]) for r in reporter.reports] == [
        ("sending", job["message_id"]),
        ("sent", job["message_id"]),
    ]


def test_a_redelivered_job_already_sent_is_skipped(messages_handler, svc, account):
    pool = RecordingPool()
    runner, _ = _runner(svc, pool)
    job = _job(messages_handler, account, svc)
    svc.messages.apply_status(job["message_id"], "sent", 5)

    assert runner.process_job(0, job) is Outcome.DONE
    assert pool.sent == []


def test_a_job_interrupted_after_sending_is_resent_with_the_same_whatsapp_id(messages_handler, svc, account):
    pool = RecordingPool()
    runner, _ = _runner(svc, pool)
    job = _job(messages_handler, account, svc)
    svc.messages.apply_status(job["message_id"], "sending", 5)  # the crash happened after this

    assert runner.process_job(0, job) is Outcome.DONE
    assert pool.sent == [job["wa_message_id"]]


def test_an_engine_failure_leaves_the_job_for_a_retry(messages_handler, svc, account):
    runner, reporter = _runner(svc, RecordingPool(fail_with=ConnectionError("socket closed")))
    assert runner.process_job(0, _job(messages_handler, account, svc)) is Outcome.RETRY
    assert [r["status"] for r in reporter.reports] == ["sending"]


def test_a_permanent_failure_fails_the_message_with_its_code(messages_handler, svc, account):
    runner, reporter = _runner(svc, RecordingPool(fail_with=PermanentFailure("not_on_whatsapp")))
    assert runner.process_job(0, _job(messages_handler, account, svc)) is Outcome.DONE
    assert [(r["status"], r.get("error_code")) for r in reporter.reports] == [
        ("sending", None),
        ("failed", "not_on_whatsapp"),
    ]


def test_a_send_to_a_number_that_is_down_is_held_with_its_numbers_later_jobs(messages_handler, svc, account):
    runner, reporter = _runner(svc, RecordingPool(fail_with=NotConnected("restricted")))
    jobs = [_job(messages_handler, account, svc) for _ in range(3)]
    reader = ListReader()

    runner.process_batch(0, reader, _batch(jobs, account.instance_id), threading.Event())

    assert reader.deleted == []
    assert reader.hidden == [(["rh0", "rh1", "rh2"], HELD_VISIBILITY_SECONDS)]
    assert [r["message_id"] for r in reporter.reports] == [jobs[0]["message_id"]]  # nothing overtook it


def test_a_job_whose_session_is_still_opening_is_looked_at_again_soon(messages_handler, svc, account):
    runner, reporter = _runner(svc, RecordingPool(open_=False))
    reader = ListReader()
    runner.process_batch(0, reader, _batch([_job(messages_handler, account, svc)], "g"), threading.Event())
    assert reader.hidden == [(["rh0"], OPENING_RETRY_SECONDS)] and reporter.reports == []


def test_a_job_for_a_deleted_instance_fails_for_good(messages_handler, svc, account):
    runner, reporter = _runner(svc, RecordingPool())
    job = _job(messages_handler, account, svc)
    svc.instances.delete(account.instance_id)
    assert runner.process_job(0, job) is Outcome.DONE
    assert [(r["status"], r["error_code"]) for r in reporter.reports] == [("failed", "instance_not_connected")]


def test_a_worker_that_lost_its_shard_touches_nothing(messages_handler, svc, account):
    pool = RecordingPool()
    reporter = RecordingReporter()
    reporter.lost = True
    runner, _ = _runner(svc, pool, reporter)
    reader = ListReader()
    runner.process_batch(0, reader, _batch([_job(messages_handler, account, svc)], "g"), threading.Event())
    assert pool.sent == [] and reader.deleted == [] and reader.hidden == []


def test_a_failed_job_holds_back_its_numbers_later_jobs(messages_handler, svc, account):
    jobs = [_job(messages_handler, account, svc) for _ in range(3)]
    pool = RecordingPool()
    pool.fail_once = jobs[0]["wa_message_id"]
    runner, _ = _runner(svc, pool)
    batch = _batch(jobs, account.instance_id)
    reader = ListReader()

    runner.process_batch(0, reader, batch, threading.Event())
    assert pool.sent == [] and reader.deleted == []  # the first failed: nothing overtook it

    runner.process_batch(0, reader, batch, threading.Event())  # the redelivery, in the same order
    assert pool.sent == [job["wa_message_id"] for job in jobs]
    assert reader.deleted == ["rh0", "rh1", "rh2"]


def test_pacing_keeps_a_waiting_group_invisible(messages_handler, svc, account):
    clock = [0.0]
    pool = RecordingPool()
    reporter = RecordingReporter()
    runner = JobRunner(
        svc,
        lambda engine: pool,
        svc.instances.view,
        reporter,
        Pacer(PacingPolicy(min_interval_ms=6000), lambda: clock[0]),
        clock=lambda: clock[0],
    )
    jobs = [_job(messages_handler, account, svc) for _ in range(2)]
    reader = ListReader()
    stop = threading.Event()

    def wait(seconds):  # no real sleeping: the time passes, and the heartbeat's thread beats meanwhile
        clock[0] += seconds
        runner.visibility.beat()
        return False

    stop.wait = wait
    runner.process_batch(0, reader, _batch(jobs, account.instance_id), stop, received_at=0.0)
    # The second job waits 6 s for its slot: the heartbeat extends it (only it: the first is deleted), since
    # less than RENEW_WITHIN_SECONDS of its 10 s visibility is left.
    assert reader.hidden == [(["rh1"], JOB_VISIBILITY_SECONDS)]
    assert reader.deleted == ["rh0", "rh1"]


def test_a_dead_job_fails_and_is_refunded_unless_it_was_sent(messages_handler, svc, account):
    from support.apigw import LambdaContext

    from bzapper.domain.model import wallet_id
    from bzapper_dev.local.functions import load_function
    from bzapper_dev.local.lambda_events import sqs_event

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


def test_a_suspended_accounts_queued_send_is_held_then_sent_when_it_is_active_again(
    messages_handler, svc, account, monkeypatch
):
    from bzapper.worker import jobs

    monkeypatch.setattr(jobs, "SUSPENSION_CACHE_SECONDS", 0.0)  # every job reads the account: the flip shows at once
    pool = RecordingPool()
    runner, reporter = _runner(svc, pool)
    job = _job(messages_handler, account, svc)  # accepted while active, still in its queue
    svc.accounts.set_status(account.account_id, "suspended")

    assert runner.process_job(0, job) is Outcome.HELD  # not sent, not failed: it waits in the queue
    assert pool.sent == [] and reporter.reports == []
    assert svc.messages.get(job["message_id"]).status == "queued"

    svc.accounts.set_status(account.account_id, "active")
    assert runner.process_job(0, job) is Outcome.DONE
    assert pool.sent == [job["wa_message_id"]]
