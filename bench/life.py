"""A message's whole life, counted request by request, in-process and against the bench's moto server.

send → queued → sending → sent → delivered → read, and every event after it, through the very code
that runs on AWS: the messages handler (API Gateway v2 events), the worker's `JobRunner` with the
sandbox engine in this process (the network on a thread), its fenced reports, then every
queue consumer fed genuine SQS events the way Lambda's event source mapping feeds it (receive a
batch, invoke, delete what succeeded): statuses, and, behind the bus rules (moto delivers
EventBridge → SQS targets itself), the event log, the webhook fan-out and the webhook dispatcher,
which POSTs to a loopback receiver standing for the customer's endpoint (one endpoint subscribed).

The worker's loops are replayed step for step: one receive of up to 10 jobs handed to
`JobRunner.process_batch` (one delete per finished job), and the engine's event pump turned into
batched reports then acks as `worker.reports.Reporter` does (the engine runs in this process instead
of a host child, so its calls are counted), so per-message counts are not blurred by idle polling;
the idle polling (and the leases' heartbeat) is measured on its own by running the real
`SessionWorker.run` with nothing to do.

Two traffic shapes, both measured: "busy" (many messages in flight: batches fill up) and "quiet"
(one message at a time: every batch holds what one message produced at that moment).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

from bench.apigw import fifo_sqs_message, send_event
from bench.backend import drain
from bench.counting import RECORDER, by_operation, eventbridge_entries
from bench.dynamo_units import item_sizes, total_units

COMPONENTS = {
    "api": "messages Lambda: POST /messages/text",
    "worker.jobs": "session worker: shard queue → engine → status reports",
    "worker.receipts": "session worker: receipts → status reports",
    "esm:<queue>": "a Lambda event source mapping's SQS polling (receive, delete), billed as SQS requests",
    "statuses": "statuses Lambda",
    "event_log": "event log Lambda (bus rule → event-log queue)",
    "webhook_fanout": "webhook fan-out Lambda (bus rule → webhook-fanout queue)",
    "webhook_dispatch": "webhook dispatcher Lambda (webhook-deliveries queue → the customer's endpoint)",
}
DOWNSTREAM = (
    ("event_log", "event-log"),
    ("webhook_fanout", "webhook-fanout"),
    ("webhook_dispatch", "webhook-deliveries"),
)


class Receiver:
    """The customer's webhook endpoint, on loopback: answers 200 and counts."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.count = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bench"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mapping:
    """Lambda's SQS event source mapping for one consumer, with ReportBatchItemFailures."""

    def __init__(self, ctx: Any, group: str, queue: str, batch_size: int = 10) -> None:
        from bzapper.adapters.aws.queues import SqsReader
        from bzapper.topology import TOPOLOGY
        from bzapper_dev.local.functions import load_function

        self.ctx = ctx
        self.group = group
        self.handler = load_function(group).handler
        self.reader = SqsReader(ctx.settings.queue(queue, TOPOLOGY.queue(queue).fifo))
        self.arn = ctx.raw_sqs.get_queue_attributes(QueueUrl=self.reader.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.component = f"esm:{queue}"
        self.batch_size = batch_size
        self.batches: list[int] = []
        self.cpu_s = 0.0
        self.wall_s = 0.0

    def waiting(self) -> int:
        """Visible messages, asked with the harness's own client: an empty poll is not counted."""
        attributes = self.ctx.raw_sqs.get_queue_attributes(
            QueueUrl=self.reader.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def drain(self, expected: int | None, deadline: float) -> int:
        """Until `expected` records are handled, or (None) until the queue is empty."""
        from bzapper_dev.local.lambda_context import LocalLambdaContext
        from bzapper_dev.local.lambda_events import sqs_event

        handled = 0
        while time.monotonic() < deadline:
            if expected is None and not self.waiting():
                break
            if expected is not None and handled >= expected:
                break
            with RECORDER.recording(self.component):
                messages = self.reader.receive(max_messages=self.batch_size, wait_seconds=1)
            if not messages:
                continue
            self.batches.append(len(messages))
            event = sqs_event(messages, self.arn, self.ctx.settings.region)
            with RECORDER.recording(self.group):
                cpu, wall = _clock()
                result = self.handler(event, LocalLambdaContext(f"bzapper-bench-{self.group}")) or {}
                cpu, wall = _clock(cpu, wall)
                self.cpu_s += cpu
                self.wall_s += wall
            failed = {failure["itemIdentifier"] for failure in result.get("batchItemFailures", [])}
            done = [m["ReceiptHandle"] for m in messages if m["MessageId"] not in failed]
            if done:
                with RECORDER.recording(self.component):
                    self.reader.delete(done)
            handled += len(done)
        return handled

    def reset(self) -> None:
        self.batches = []
        self.cpu_s = self.wall_s = 0.0


class InProcessPool:
    """The host pool's calls answered by an engine in this process (what a host child does over its pipe)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def holds(self, instance_id: str) -> bool:
        return True

    def call(self, instance_id: str, method: str, **kwargs: Any) -> Any:
        from dataclasses import asdict

        return asdict(getattr(self.engine, method)(instance_id, **kwargs))


class Life:
    def __init__(self, ctx: Any) -> None:
        from bzapper.adapters.aws.leases import LeaseStore
        from bzapper.adapters.aws.queues import SqsReader
        from bzapper.bootstrap import services
        from bzapper.domain.clock import now_ms
        from bzapper.domain.engine import SessionSpec
        from bzapper.domain.leases import Fence
        from bzapper.domain.pacing import Pacer, PacingPolicy
        from bzapper.engines.sandbox.engine import SandboxEngine
        from bzapper.topology import shard_queue_name
        from bzapper.worker.jobs import JobRunner
        from bzapper.worker.reports import Reporter
        from bzapper_dev.local.lambda_context import LocalLambdaContext

        self.ctx = ctx
        self.services = services()
        self.engine = SandboxEngine(ctx.network_url)
        view = self.services.instances.view(ctx.account["instance_id"])
        self.shard = view.shard
        # The bench holds the instance's shard, as a worker would, so every report carries a valid fence.
        lease = LeaseStore().acquire(self.shard, "wk_bench_life", now_ms(), 24 * 3_600_000)
        if lease is None:
            raise RuntimeError(f"shard {self.shard} is held by a running worker: stop it before the life count")
        self.lease = lease
        self.fence = lambda shard: Fence(shard, lease.token, now_ms())
        self.reporter = Reporter(self.fence, lambda *_: None, send=self.services.reports.send)
        self.events: list[dict[str, Any]] = []
        self.engine.open(SessionSpec(view.instance_id, view.account_id, view.livemode, view.phone), self.events.append)
        self.runner = JobRunner(
            self.services,
            lambda engine: InProcessPool(self.engine),
            lambda instance_id: view,  # the worker keeps its instances' views in memory
            self.reporter,
            Pacer(PacingPolicy(), time.monotonic),
        )
        self.idle = threading.Event()
        self.jobs = SqsReader(ctx.settings.queue(shard_queue_name(self.shard), fifo=True))
        self.statuses = Mapping(ctx, "statuses", "status-updates")
        from bzapper.topology import TOPOLOGY

        consumers = {(c.group, c.queue): c for c in TOPOLOGY.consumers}
        self.downstream = [
            Mapping(ctx, group, queue, consumers[(group, queue)].batch_size)
            for group, queue in DOWNSTREAM
            if (group, queue) in consumers
        ]
        self.receiver = Receiver()
        self.webhook = self._subscribe()
        self.context = LocalLambdaContext
        self.job_batches: list[int] = []
        self.cpu = Counter[str]()

    def _subscribe(self) -> str | None:
        """One webhook endpoint for the bench account, every event: what a typical customer has."""
        try:
            from bzapper.services.webhooks import create_webhook
        except ImportError:
            return None
        principal = self.services.accounts.principal_for(self.ctx.account["api_key"])
        return create_webhook(self.services, principal, self.receiver.url, None, "bench").webhook.webhook_id

    def after_statuses(self, deadline: float) -> None:
        """Whatever the statuses published travels on: event log, fan-out, then the deliveries."""
        for mapping in self.downstream:
            mapping.drain(None, deadline)

    def close(self) -> None:
        from bzapper.adapters.aws.leases import LeaseStore

        self.receiver.close()
        self.engine.shutdown()
        LeaseStore().release(self.lease)  # the idle worker measured next takes every shard

    # -- the steps, as the runner does them ------------------------------------------------------

    def send(self, count: int) -> list[str]:
        ids = []
        with RECORDER.recording("api"):
            for _ in range(count):
                event = send_event(self.ctx.account["api_key"], self.ctx.account["instance_id"])
                cpu, wall = _clock(process=True)
                response = self.ctx.messages_handler(event, self.context("bzapper-bench-messages"))
                self.cpu["api"] += _clock(cpu, wall, process=True)[0]
                if response["statusCode"] != 202:
                    raise RuntimeError(f"send refused during the life count: {response}")
                ids.append(json.loads(response["body"])["message_id"])
        return ids

    def take_jobs(self, count: int, deadline: float) -> int:
        processed = 0
        with RECORDER.recording("worker.jobs"):
            while processed < count and time.monotonic() < deadline:
                cpu, wall = _clock(process=True)  # the runner sends each number's group on its own thread
                messages = self.jobs.receive(max_messages=10, wait_seconds=1)
                if messages:
                    self.job_batches.append(len(messages))
                    self.runner.process_batch(self.shard, self.jobs, messages, self.idle)
                    processed += len(messages)
                self.cpu["worker"] += _clock(cpu, wall, process=True)[0]
        return processed

    def pump_receipts(self, count: int, deadline: float) -> int:
        from bzapper.domain.reports import BATCH

        reported = 0
        with RECORDER.recording("worker.receipts"):
            while reported < count and time.monotonic() < deadline:
                cpu, wall = _clock()
                self.engine.pump(1.0)
                receipts = [e for e in self.events if e["kind"] == "receipt"]
                acks = [e["ack"] for e in self.events]
                self.events.clear()
                reports = [
                    {"kind": "status", **{k: e[k] for k in ("instance_id", "wa_message_id", "status", "at")}}
                    for e in receipts
                ]
                fence = self.fence(self.shard).to_json()
                for start in range(0, len(reports), BATCH):
                    self.services.reports.send([{**r, "fence": fence} for r in reports[start : start + BATCH]])
                if acks:
                    self.engine.ack(acks)
                reported += len(receipts)
                self.cpu["worker"] += _clock(cpu, wall)[0]
        return reported

    def final_statuses(self, ids: list[str]) -> Counter[str]:
        table = self.ctx.settings.table("messages")
        found: Counter[str] = Counter()
        for message_id in ids:
            item = self.ctx.raw_ddb.get_item(TableName=table, Key={"message_id": {"S": message_id}}).get("Item")
            found[item["status"]["S"] if item else "missing"] += 1
        return found

    # -- scenarios -------------------------------------------------------------------------------

    def warm(self, budget_s: float) -> None:
        """One message through every step, not counted: first-call imports, clients and caches are a
        cold-start cost (measured on its own), not a per-message one."""
        self.quiet(1, budget_s)
        RECORDER.take()
        RECORDER.take_clients()

    def busy(self, count: int, budget_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + budget_s
        ids = self.send(count)
        self.take_jobs(count, deadline)
        self.statuses.drain(2 * count, deadline)  # sending, sent
        self.after_statuses(deadline)
        self.pump_receipts(2 * count, deadline)  # delivered, read
        self.statuses.drain(2 * count, deadline)
        self.after_statuses(deadline)
        return self._summary("busy", ids)

    def quiet(self, count: int, budget_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + budget_s
        ids = []
        for _ in range(count):
            ids += self.send(1)
            self.take_jobs(1, deadline)
            self.statuses.drain(2, deadline)
            self.after_statuses(deadline)
            waiting = 2  # delivered, then read, each reported and consumed as it comes
            while waiting > 0 and time.monotonic() < deadline:
                got = self.pump_receipts(1, deadline)
                self.statuses.drain(got, deadline)
                self.after_statuses(deadline)
                waiting -= got
        return self._summary("quiet", ids)

    def leftovers(self) -> dict[str, int]:
        """What is still queued after a scenario (its time budget ran out): emptied, uncounted, and
        reported, so the next scenario does not inherit it and an incomplete count says so."""
        left = {}
        for mapping in [self.statuses, *self.downstream]:
            waiting = mapping.waiting()
            if waiting:
                left[mapping.group] = waiting
                drain(self.ctx.raw_sqs, mapping.reader.url)
        return left

    def _summary(self, name: str, ids: list[str]) -> dict[str, Any]:
        from bzapper.topology import TOPOLOGY

        left = self.leftovers()
        calls = RECORDER.take()
        clients = RECORDER.take_clients()
        n = len(ids)
        mappings = [self.statuses, *self.downstream]
        counts = by_operation(calls, per=n)
        sqs = Counter(
            "fifo" if str(c.params.get("QueueUrl", "")).endswith(".fifo") else "standard"
            for c in calls
            if c.service == "sqs"
        )
        entries = eventbridge_entries(calls)
        rules = [rule for rule in getattr(TOPOLOGY, "rules", ()) if rule.source == "bzapper"]
        result = {
            "scenario": name,
            "messages": n,
            "complete": not left,
            "left_in_queues": left,
            "final_status": dict(self.final_statuses(ids)),
            "requests_per_message": counts,
            "requests_per_message_total": {component: round(sum(ops.values()), 3) for component, ops in counts.items()},
            "sqs_requests_per_message": {kind: round(count / n, 3) for kind, count in sorted(sqs.items())},
            "http_attempts_per_message": round(sum(call.attempts for call in calls) / n, 3),
            "errors": dict(Counter(f"{c.service}:{c.operation}:{c.error}" for c in calls if c.error)),
            "eventbridge_entries_per_message": round(entries / n, 3),
            # EventBridge's own SendMessage to each rule's queue: billed by SQS, invisible to our hooks.
            "eventbridge_target_sends_per_message": round(entries * len(rules) / n, 3),
            "webhook_posts_per_message": round(self.receiver.count / n, 3),
            "dynamodb_units_per_message": _per(total_units(calls, self.ctx.schemas), n),
            "dynamodb_units_per_message_if_by_wa_id_keys_only": _per(
                total_units(calls, self.ctx.schemas, keys_only=frozenset({"by_wa_id"})), n
            ),
            "dynamodb_units_by_component": {
                component: _per(total_units([c for c in calls if c.component == component], self.ctx.schemas), n)
                for component in sorted({c.component for c in calls})
            },
            "item_bytes_max": item_sizes(calls),
            "botocore_clients_created_per_message": {k: round(v / n, 3) for k, v in clients.items()},
            "job_batch_sizes": _batch_summary(self.job_batches),
            "batch_sizes": {m.group: _batch_summary(m.batches) for m in mappings},
            "invocations_per_message": {
                "messages": 1.0,
                **{m.group: round(len(m.batches) / n, 3) for m in mappings},
            },
            "cpu_ms_per_message": {
                "messages": round(self.cpu["api"] / n * 1000, 2),
                **{m.group: round(m.cpu_s / n * 1000, 2) for m in mappings},
                "worker": round(self.cpu["worker"] / n * 1000, 2),
            },
            "wall_ms_per_invocation": {m.group: round(m.wall_s / max(1, len(m.batches)) * 1000, 2) for m in mappings},
            "calls": calls,  # dropped before results.json; used for the cost lines
        }
        self.job_batches = []
        self.receiver.count = 0
        for mapping in mappings:
            mapping.reset()
        self.cpu = Counter()
        return result


def _clock(cpu: float | None = None, wall: float | None = None, process: bool = False) -> tuple[float, float]:
    """Start (no arguments) or stop a CPU + wall stopwatch that leaves out the sizer's own work.

    `process=True` counts every thread (FastAPI runs a sync endpoint on a worker thread)."""
    sizer = RECORDER.sizer
    own_cpu = (time.process_time() if process else time.thread_time()) - (sizer.cpu_s if sizer else 0.0)
    own_wall = time.perf_counter() - (sizer.wall_s if sizer else 0.0)
    if cpu is None or wall is None:
        return own_cpu, own_wall
    return own_cpu - cpu, own_wall - wall


def _per(units: dict[str, float], n: int) -> dict[str, float]:
    return {name: round(value / n, 3) for name, value in units.items()}


def _batch_summary(sizes: list[int]) -> dict[str, Any]:
    return {"batches": len(sizes), "mean": round(sum(sizes) / len(sizes), 2) if sizes else None}


def cold_send(ctx: Any) -> dict[str, Any]:
    """The requests of the first send of a fresh process: every cache empty, every client new."""
    from pynamodb.models import Model

    from bzapper import bootstrap
    from bzapper.adapters.aws import clients

    bootstrap.services.cache_clear()
    clients.client.cache_clear()
    clients.queue_url.cache_clear()
    for model in _models(Model):
        model._connection = None
    RECORDER.take()
    RECORDER.take_clients()
    with RECORDER.recording("api"):
        response = ctx.messages_handler(
            send_event(ctx.account["api_key"], ctx.account["instance_id"]), _context("bzapper-bench-messages")
        )
    calls = RECORDER.take()
    return {
        "status": response["statusCode"],
        "requests": by_operation(calls)["api"],
        "botocore_clients_created": dict(RECORDER.take_clients()),
    }


def _context(name: str) -> Any:
    from bzapper_dev.local.lambda_context import LocalLambdaContext

    return LocalLambdaContext(name)


def _models(base: type) -> list[type]:
    found, stack = [], list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


IDLE_WARMUP_S = 2.0
"""Past the worker's start-up (its shards acquired, its first receives and sweeps sent)."""


def idle_worker(ctx: Any, seconds: float) -> dict[str, Any]:
    """The real `SessionWorker.run` with no jobs: what a worker costs per hour just by waiting (its
    queues' long polls, its leases' heartbeat; its host's calls to the sandbox network are not AWS calls).
    Its start-up (acquiring the shards, resolving the queues, the first sweep) is left out, and `seconds`
    should be a multiple of the 20 s long poll (`bench.idle.count_idle`)."""
    from bench.idle import count_idle, per_hour
    from bzapper.adapters.aws.clients import queue_url
    from bzapper.bootstrap import services
    from bzapper.config import settings
    from bzapper.topology import SHARD_COUNT, priority_queue_name, shard_queue_name
    from bzapper.worker.runner import EngineSetup, SessionWorker

    worker = SessionWorker(services(), {"sandbox": EngineSetup("sandbox", {"sandbox_url": settings().sandbox_url})})
    for shard in range(SHARD_COUNT):
        for name in (shard_queue_name(shard), priority_queue_name(shard)):
            drain(ctx.raw_sqs, queue_url(settings().queue(name, fifo=True)))
    drain(ctx.raw_sqs, queue_url(settings().queue("status-updates", fifo=True)))
    ctx.network.reset()  # nothing left in flight: idle means idle
    # The reset also forgot which phone the instance is linked to: link it again, or the worker would measure
    # a pairing instance's QR refreshes (a state report every qr_interval), not an idle connected number.
    ctx.network.scan(ctx.account["account_id"], ctx.account["instance_id"])
    elapsed, calls, _, _ = count_idle(worker, seconds, IDLE_WARMUP_S)
    return {
        "seconds": round(elapsed, 1),
        "shards": SHARD_COUNT,
        "requests_per_hour": per_hour(calls, elapsed),
        "calls": calls,
    }


def per_status(ctx: Any) -> dict[str, Any]:
    """What the statuses Lambda does for each status, one single-record invocation each."""
    from bzapper.domain.model import StatusReport
    from bzapper_dev.local.lambda_events import sqs_event

    response = ctx.messages_handler(
        send_event(ctx.account["api_key"], ctx.account["instance_id"]), _context("bzapper-bench-messages")
    )
    message_id = json.loads(response["body"])["message_id"]
    item = ctx.raw_ddb.get_item(TableName=ctx.settings.table("messages"), Key={"message_id": {"S": message_id}})
    wa_id = item["Item"]["wa_message_id"]["S"]
    instance_id = ctx.account["instance_id"]
    arn = f"arn:aws:sqs:{ctx.settings.region}:123456789012:{ctx.settings.queue('status-updates', fifo=True)}"
    RECORDER.take()
    result = {}
    at = int(time.time() * 1000)
    for sequence, status in enumerate(("sending", "sent", "delivered", "read")):
        # The worker knows our message id for its own reports; receipts carry only WhatsApp's id.
        known = message_id if status in ("sending", "sent") else None
        report = StatusReport(instance_id, wa_id, status, at + sequence, known)
        message = fifo_sqs_message(report.to_json(), group=wa_id, dedupe=f"{wa_id}:{status}", sequence=sequence)
        with RECORDER.recording(f"statuses:{status}"):
            ctx.statuses_handler(sqs_event([message], arn, ctx.settings.region), _context("bzapper-bench-statuses"))
        calls = RECORDER.take()
        result[status] = {
            "requests": by_operation(calls).get(f"statuses:{status}", {}),
            "dynamodb_units": _per(total_units(calls, ctx.schemas), 1),
            "eventbridge_entries": eventbridge_entries(calls),
        }
    RECORDER.take_clients()
    ctx.purge_jobs()
    return result
