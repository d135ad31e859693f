"""`python -m bench.webhooks`: issue #5's figures, measured on this machine and printed (nothing asserted).

1. event → webhook delivered, p50 and p99, on the local stack (`bzapper dev`);
2. event → SSE client, p50 and p99, on the same stack (no settle window since the log is numbered);
3. the deliveries per second the webhook dispatcher sustains, and where a delivery's time goes.

1 and 2 reuse `bench.e2e.steady` (an open loop of sends on a booted `bzapper dev`, a loopback endpoint
registered through `POST /webhooks`, a `GET /stream` client, a tap on the bus): "event" is the envelope's
own `created` (for a status, the moment the WhatsApp server, here the sandbox network, stamped it), and
the arrival is this machine's clock, like the stack's. sent, delivered and read are pooled.

3 runs the real dispatcher (`functions/webhook_dispatch/handler.py`, Powertools' batch processor and
all) in a child process, against moto and a loopback receiver in a process of its own that answers 200
at once (HTTP/1.1, kept alive). Its jobs are made by the real fan-out handler from bus-shaped events
(one endpoint subscribed to everything, one delivery record and one SQS job per event). Then, as
Lambda's event source mapping does with the topology's batch size (2): receive a batch, invoke the
handler with a genuine SQS event, delete what succeeded; with one invocation stream, then with 4 at
once (threads, each with its own copy of the handler module, as 4 execution environments would have;
unlike Lambda they share one process, its GIL and its `services()`). Two backends, each in its own
child: a moto *server* in its own process (the rest of the bench's choice: the handler pays botocore's
serialisation and a loopback round trip, as on Lambda, and moto's CPU is not the handler's), and moto
*in-process* (`mock_aws`, as tests/integration/conftest.py sets it up): there moto's work runs in the
dispatcher's process and under its GIL.

Usage: `.venv/bin/python -m bench.webhooks [--quick] [--skip stack,server,inproc] [--output file.json]`.
About 2 to 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from bench.machine import ROOT, Section, describe, load
from bench.stats import summary_ms

FULL = {"deliveries": 240, "streams": (1, 4), "budget_s": 40.0, "rate": 0.5, "seconds": 40.0, "drain_s": 45.0}
QUICK = {**FULL, "deliveries": 16, "budget_s": 15.0, "rate": 1.0, "seconds": 4.0, "drain_s": 20.0}
BATCH_SIZE = 2  # topology: Consumer("webhook_dispatch", "webhook-deliveries", batch_size=2)
DISPATCH_GROUP = "webhook_dispatch"


# -- the customer's endpoint, in a process of its own -------------------------------------------------


def serve_receiver(port: int) -> None:
    """Answers every POST with 200 at once and counts them (and their distinct webhook-ids); GET /stats."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lock = threading.Lock()
    posts = [0]
    ids: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a customer's server would

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                posts[0] += 1
                ids.add(self.headers.get("webhook-id", ""))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            with lock:
                body = json.dumps({"posts": posts[0], "distinct_ids": len(ids)}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.1)


class ReceiverProcess:
    def __init__(self, log: Any) -> None:
        from bzapper_dev.local.processes import free_port, wait_for_port

        self.port = free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}/hooks/bench"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.webhooks", "--receiver", str(self.port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port("127.0.0.1", self.port, timeout=30)

    def stats(self) -> dict[str, int]:
        import httpx

        return httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=10).json()

    def stop(self) -> None:
        from bzapper_dev.local.processes import stop_process

        stop_process(self.process)  # type: ignore[arg-type]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the dispatcher child ----------------------------------------------------------------------------


class TimedHttp:
    """The real HttpSender, with the time spent in its POSTs added up (the bench's view, not the product's)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self._lock = threading.Lock()

    def post(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.post(*args, **kwargs)
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def fresh_handler(group: str, index: int) -> Any:
    """Another copy of `functions/<group>/handler.py`: its own module, so its own batch processor."""
    from bzapper_dev.local.functions import functions_dir

    spec = importlib.util.spec_from_file_location(f"bench_{group}_{index}", functions_dir() / group / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def _environment(backend: str, tmp: Path) -> Any:
    """Sets the environment (and has bzapper read it again); returns the moto server (or None)."""
    from bzapper.config import reset_settings

    for name in list(os.environ):
        if name.startswith(("AWS_", "BZ_", "POWERTOOLS_")):
            del os.environ[name]
    if backend == "server":
        from bench.backend import MotoServer, bench_environment

        moto = MotoServer(tmp)
        os.environ.update(bench_environment(moto.url))
        reset_settings()  # bzapper reads its settings once: read them again, now that the environment is set
        return moto
    from bzapper_dev.local.dev import LOCAL_AWS

    os.environ.update(
        {
            **LOCAL_AWS,
            "BZ_STAGE": "bench",
            "BZ_LOCAL_MODE": "1",  # a loopback endpoint is allowed, as on the local stack
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    reset_settings()
    return None


class World:
    """Provisioned resources, a test account, one webhook endpoint (subscribed to everything)."""

    def __init__(self, backend: str, moto: Any, receiver: ReceiverProcess) -> None:
        import boto3

        from bench.backend import EndpointSession
        from bzapper.bootstrap import services
        from bzapper.config import settings
        from bzapper.services.accounts import create_test_account
        from bzapper_dev.local.functions import load_function
        from bzapper_dev.local.lambda_context import LocalLambdaContext
        from bzapper_dev.local.lambda_events import http_event
        from bzapper_dev.local.provision import provision

        self.settings = settings()
        provision(EndpointSession(moto.url) if moto else boto3.session.Session(), self.settings)
        self.services = services()
        self.http = TimedHttp(self.services.http)
        self.services.http = self.http
        self.account = create_test_account(self.services, name="Bench", locale="en", credits=1000)
        answer = load_function("webhooks").handler(
            http_event(
                "POST",
                "/webhooks",
                body={"url": receiver.url},
                headers={"Authorization": f"Bearer {self.account['api_key']}"},
                user_agent="bench",
            ),
            LocalLambdaContext("bzapper-bench-webhooks"),
        )
        if answer["statusCode"] != 201:
            raise RuntimeError(f"could not register the bench's endpoint: {answer}")
        from bzapper.adapters.aws.queues import SqsReader

        self.reader = SqsReader(self.settings.queue("webhook-deliveries", False))
        self.fanout_arn = self._arn("webhook-fanout")
        self.deliveries_arn = self._arn("webhook-deliveries")
        self.fanout = load_function("webhook_fanout").handler
        self.made = 0

    def _arn(self, logical: str) -> str:
        from bzapper.adapters.aws.clients import client, queue_url

        url = queue_url(self.settings.queue(logical, False))
        return client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def waiting(self) -> int:
        from bzapper.adapters.aws.clients import client

        attributes = client("sqs").get_queue_attributes(
            QueueUrl=self.reader.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def make_jobs(self, count: int) -> float:
        """`count` delivery jobs through the real fan-out handler, fed bus-shaped events 10 at a time."""
        from bzapper.domain.clock import now_ms
        from bzapper.domain.events import envelope
        from bzapper_dev.local.lambda_context import LocalLambdaContext
        from bzapper_dev.local.lambda_events import sqs_event

        started = time.perf_counter()
        for start in range(0, count, 10):
            messages = []
            for _ in range(start, min(count, start + 10)):
                self.made += 1
                message_id = f"msg_bench{self.made:08d}"
                event = envelope(
                    "message.sent",
                    at_ms=now_ms(),
                    account_id=self.account["account_id"],
                    instance_id=self.account["instance_id"],
                    livemode=False,
                    data={"message_id": message_id, "status": "sent", "to": "+5511988888888", "client_reference": "b"},
                    identity=(message_id,),
                )
                bridge = {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": event["type"],
                    "source": "bzapper",
                    "account": "123456789012",
                    "time": event["created"],
                    "region": self.settings.region,
                    "resources": [],
                    "detail": event,
                }
                messages.append(
                    {"MessageId": str(uuid.uuid4()), "ReceiptHandle": uuid.uuid4().hex, "Body": json.dumps(bridge)}
                )
            result = self.fanout(
                sqs_event(messages, self.fanout_arn, self.settings.region), LocalLambdaContext("bzapper-bench-fanout")
            )
            if result.get("batchItemFailures"):
                raise RuntimeError(f"the fan-out failed: {result}")
        return time.perf_counter() - started


def run_streams(world: World, handlers: list[Any], expected: int, budget_s: float, record: bool) -> dict[str, Any]:
    """Event source mappings, one per handler copy, until `expected` deliveries are done (or the budget)."""
    from bench.counting import RECORDER
    from bzapper_dev.local.lambda_context import LocalLambdaContext
    from bzapper_dev.local.lambda_events import sqs_event

    lock = threading.Lock()
    state = {"handled": 0, "failed": 0}
    batches: list[dict[str, float]] = []
    deadline = time.monotonic() + budget_s
    labelled = RECORDER.recording if record else (lambda _component: contextlib.nullcontext())

    def stream(handler: Any) -> None:
        while time.monotonic() < deadline:
            with lock:
                if state["handled"] >= expected:
                    return
            t0 = time.perf_counter()
            with labelled("esm:webhook-deliveries"):
                messages = world.reader.receive(max_messages=BATCH_SIZE, wait_seconds=0)
            t1 = time.perf_counter()
            if not messages:
                time.sleep(0.005)  # the rest are in other streams' hands
                continue
            event = sqs_event(messages, world.deliveries_arn, world.settings.region)
            with labelled(DISPATCH_GROUP):
                result = handler(event, LocalLambdaContext(f"bzapper-bench-{DISPATCH_GROUP}")) or {}
            t2 = time.perf_counter()
            failed = {failure["itemIdentifier"] for failure in result.get("batchItemFailures", [])}
            done = [m["ReceiptHandle"] for m in messages if m["MessageId"] not in failed]
            if done:
                with labelled("esm:webhook-deliveries"):
                    world.reader.delete(done)
            t3 = time.perf_counter()
            with lock:
                state["handled"] += len(done)
                state["failed"] += len(failed)
                batches.append({"size": len(messages), "receive": t1 - t0, "invoke": t2 - t1, "delete": t3 - t2})

    threads = [threading.Thread(target=stream, args=(handler,), daemon=True) for handler in handlers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"wall_s": time.perf_counter() - started, **state, "batches": batches}


def measure_dispatch(world: World, streams: int, deliveries: int, budget_s: float, pids: dict[str, int]) -> dict:
    from bench.counting import RECORDER, by_operation

    handlers = [fresh_handler(DISPATCH_GROUP, index) for index in range(streams)]
    # Warm: each copy's first invocation (its module's first call, the first POST's connection) untimed.
    world.make_jobs(BATCH_SIZE * streams)
    for handler in handlers:
        run_streams(world, [handler], BATCH_SIZE, 10.0, record=False)
    fanout_s = world.make_jobs(deliveries)
    queued = world.waiting()
    RECORDER.take()
    section = Section(f"dispatch x{streams}")
    with section:
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        cpu_self = time.process_time()
        botocore_before, post_before = RECORDER.aws_seconds(), world.http.seconds
        run = run_streams(world, handlers, deliveries, budget_s, record=streams == 1)
        cpu_self = time.process_time() - cpu_self
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        botocore_s, post_s = RECORDER.aws_seconds() - botocore_before, world.http.seconds - post_before
    calls = RECORDER.take()
    done = run["handled"] or 1
    batches = run["batches"]
    invoke_s = sum(b["invoke"] for b in batches)
    result: dict[str, Any] = {
        "streams": streams,
        "deliveries": run["handled"],
        "retried": run["failed"],
        "queued_before": queued,
        "fanout_s_per_delivery_ms": round(fanout_s / max(deliveries, 1) * 1000, 2),
        "wall_s": round(run["wall_s"], 2),
        "deliveries_per_s": round(run["handled"] / run["wall_s"], 1) if run["wall_s"] else None,
        # Inside the handler only (what Lambda bills), per delivery, summed over the streams.
        "handler_ms_per_delivery": round(invoke_s / done * 1000, 2),
        # What the streams would sustain if receiving and deleting cost nothing (Lambda's poller does it).
        "handler_bound_per_s": round(streams * done / invoke_s, 1) if invoke_s else None,
        "esm_ms_per_delivery": round(sum(b["receive"] + b["delete"] for b in batches) / done * 1000, 2),
        "invocation_ms": summary_ms([b["invoke"] for b in batches]),
        "esm_receive_ms": summary_ms([b["receive"] for b in batches]),
        "esm_delete_ms": summary_ms([b["delete"] for b in batches]),
        "batch_size_mean": round(sum(b["size"] for b in batches) / len(batches), 2) if batches else None,
        "cpu_ms_per_delivery": {
            "this_process": round(cpu_self / done * 1000, 2),
            **{name: round((cpu_after[name] - cpu_before[name]) / done * 1000, 2) for name in pids},
        },
        "load": section.info,
    }
    if streams == 1:
        mine = [call for call in calls if call.component == DISPATCH_GROUP]
        in_botocore = sum(call.seconds for call in mine)
        result["where"] = {
            "aws_calls_per_delivery": by_operation(calls, per=done),
            "in_botocore_ms": round(in_botocore / done * 1000, 2),
            "post_ms": round(post_s / done * 1000, 2),
            "rest_ms": round((invoke_s - in_botocore - post_s) / done * 1000, 2),
            "all_botocore_ms_incl_esm": round(botocore_s / done * 1000, 2),
        }
    return result


def dispatcher_child(backend: str, cfg: dict[str, Any], out: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"bzapper-bench-webhooks-{backend}-"))
    moto = _environment(backend, tmp)
    from bench.counting import RECORDER

    RECORDER.install()  # before any botocore client exists
    mock = None
    if backend == "inproc":
        from moto import mock_aws

        from bzapper_dev.local.moto_fidelity import install

        install()  # the DynamoDB corrections the local stack and the integration tests run with
        mock = mock_aws()
        mock.start()
    log = open(tmp / "receiver.log", "ab")  # noqa: SIM115 - for the receiver's life
    receiver = ReceiverProcess(log)
    result: dict[str, Any] = {"backend": backend, "runs": []}
    try:
        world = World(backend, moto, receiver)
        pids = {"receiver": receiver.process.pid}
        if moto is not None:
            pids["moto_server"] = moto.process.pid
        for streams in cfg["streams"]:
            result["runs"].append(measure_dispatch(world, streams, cfg["deliveries"], cfg["budget_s"], pids))
        result["receiver"] = receiver.stats()
        result["jobs_made"] = world.made
    finally:
        receiver.stop()
        log.close()
        if mock is not None:
            mock.stop()
        if moto is not None:
            moto.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out.write_text(json.dumps(result))


def run_child(backend: str, cfg: dict[str, Any], tmp: Path, timeout: float) -> dict[str, Any]:
    out = tmp / f"dispatch-{backend}.json"
    with open(tmp / f"dispatch-{backend}.log", "wb") as log:
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.webhooks",
                "--dispatcher",
                backend,
                "--out",
                str(out),
                "--config",
                json.dumps(cfg),
            ],
            cwd=ROOT,
            stdout=log,  # Powertools and the handlers print here; the table stays clean
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if process.returncode != 0 or not out.exists():
        tail = (tmp / f"dispatch-{backend}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the {backend} dispatcher child failed ({process.returncode}):\n{tail}")
    return json.loads(out.read_text())


# -- the local stack -----------------------------------------------------------------------------------

STACK_KEYS = (
    "offered_per_second",
    "offered_for_s",
    "accepted",
    "refused",
    "completed_per_second",
    "stack_cpu_s_per_message",
    "event_to_bus",
    "bus_to_webhook",
    "event_to_webhook",
    "bus_to_sse",
    "event_to_sse",
    "send_to_webhook_sent",
    "send_to_sse_sent",
)


def stack_section(cfg: dict[str, Any], tmp: Path, base_env: dict[str, str]) -> dict[str, Any]:
    from bench import e2e
    from bench.stack import DevStack

    stack = DevStack(tmp / "stack", base_env)
    stack.start()
    try:
        section = Section("stack e2e")
        with section:
            steady = e2e.steady(stack, cfg["rate"], cfg["seconds"], cfg["drain_s"])
        return {"ready_s": round(stack.ready_s, 1), **{k: steady.get(k) for k in STACK_KEYS}, "load": section.info}
    finally:
        stack.stop()


# -- the printed table -----------------------------------------------------------------------------------


def render(results: dict[str, Any]) -> str:
    from bench.report import _load, _table

    m = results["machine"]
    out = [
        "bzapper bench.webhooks (issue #5)",
        f"  machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, moto {m['moto']}, commit {m['commit']}"
        + (
            f" + uncommitted changes in {len(m['uncommitted_code_changes'])} code files"
            if m["uncommitted_code_changes"]
            else ""
        ),
        f"  started {m['started_at']}, load at start {results['load_at_start']}, at end {results.get('load_at_end')}",
        "",
    ]
    stack = results.get("stack")
    out.append("EVENT → WEBHOOK / SSE on the local stack (bzapper dev); sent, delivered, read pooled")
    if stack and "error" not in stack:
        out.append(
            f"  offered {stack['offered_per_second']}/s for {stack['offered_for_s']} s: {stack['accepted']} sends"
            f" accepted; lives completed at {stack['completed_per_second']}/s; stack ready in {stack['ready_s']} s"
        )
        rows = []
        for key, label in (
            ("event_to_bus", "event created → on the bus"),
            ("bus_to_webhook", "on the bus → webhook received"),
            ("event_to_webhook", "event created → webhook received (1)"),
            ("bus_to_sse", "on the bus → SSE received"),
            ("event_to_sse", "event created → SSE received (2)"),
            ("send_to_webhook_sent", "(send → webhook message.sent)"),
            ("send_to_sse_sent", "(send → SSE message.sent)"),
        ):
            value = stack.get(key) or {}
            rows.append([label, value.get("p50_ms"), value.get("p99_ms"), value.get("n"), value.get("missing")])
        out.append(_table(["", "p50 ms", "p99 ms", "n", "missing"], rows))
        out.append(_load(stack) + " stack")
    elif stack:
        out.append(f"  FAILED: {stack['error']}")
    out.append("")

    out.append(f"WEBHOOK DISPATCHER (3): real handler, batches of {BATCH_SIZE}, loopback receiver answering 200")
    out.append(
        "  deliveries/s: receive + invoke + delete, as the event source mapping (ESM) does; handler-only/s: streams"
        " / time inside\n  the handler per delivery (what Lambda runs and bills); an invocation is one batch; CPU:"
        " this process (handlers, ESM,\n  and moto too when in-process) / the moto server"
    )
    for backend in ("server", "inproc"):
        section = results.get("dispatch", {}).get(backend)
        if section is None:
            continue
        label = "moto server (own process)" if backend == "server" else "moto in-process (mock_aws)"
        if "error" in section:
            out.append(f"  {label}: FAILED: {section['error'][:400]}")
            continue
        rows = []
        for run in section["runs"]:
            cpu = run["cpu_ms_per_delivery"]
            rows.append(
                [
                    f"{label}, {run['streams']} stream{'s' if run['streams'] > 1 else ''}",
                    run["deliveries_per_s"],
                    run.get("handler_bound_per_s"),
                    run["handler_ms_per_delivery"],
                    run["invocation_ms"].get("p50_ms"),
                    run["invocation_ms"].get("p99_ms"),
                    run.get("esm_ms_per_delivery"),
                    f"{cpu['this_process']} / {cpu.get('moto_server', '-')}",
                    f"{run['deliveries']} ({run['retried']})",
                ]
            )
        headers = [
            "",
            "deliveries/s",
            "handler-only/s",
            "handler ms/deliv.",
            "invoke p50 ms",
            "invoke p99 ms",
            "ESM ms/deliv.",
            "CPU ms/deliv. self / moto",
            "n (retried)",
        ]
        out.append(_table(headers, rows))
        for run in section["runs"]:
            out.append(_load(run) + f" {backend} x{run['streams']}")
            where = run.get("where")
            if where:
                calls = where["aws_calls_per_delivery"].get(DISPATCH_GROUP, {})
                out.append(
                    f"  one delivery, 1 stream: {where['in_botocore_ms']} ms in botocore calls"
                    f" ({', '.join(f'{k} {v:g}' for k, v in calls.items())}), {where['post_ms']} ms in the POST,"
                    f" {where['rest_ms']} ms the rest (signing, JSON, pynamodb, Powertools)"
                )
        out.append(
            f"  receiver got {section['receiver']['posts']} POSTs,"
            f" {section['receiver']['distinct_ids']} distinct webhook-ids, for {section['jobs_made']} jobs made"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks the harness, not the figures")
    parser.add_argument("--skip", default="", help="comma-separated: stack,server,inproc")
    parser.add_argument("--deliveries", type=int, help="delivery jobs per dispatcher run")
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dispatcher", choices=("server", "inproc"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receiver:
        serve_receiver(args.receiver)
        return
    if args.dispatcher:
        dispatcher_child(args.dispatcher, json.loads(args.config), args.out)
        return

    cfg = dict(QUICK if args.quick else FULL)
    if args.deliveries:
        cfg["deliveries"] = args.deliveries
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    base_env = dict(os.environ)
    from bzapper_dev.local.dev import LOCAL_AWS

    os.environ.update(LOCAL_AWS)  # the harness's own clients of the stack's moto (the tap) need credentials
    started = time.monotonic()
    results: dict[str, Any] = {"machine": describe(), "load_at_start": load(), "config": cfg, "dispatch": {}}
    print(f"load at start {results['load_at_start']}", file=sys.stderr, flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bzapper-bench-webhooks-"))
    try:
        for backend in ("server", "inproc"):
            if backend in skip:
                continue
            print(f"… dispatcher, moto {backend}", file=sys.stderr, flush=True)
            try:
                results["dispatch"][backend] = run_child(backend, cfg, tmp, timeout=240)
            except Exception as error:
                traceback.print_exc()
                results["dispatch"][backend] = {"error": f"{type(error).__name__}: {error}"}
        if "stack" not in skip:
            print("… local stack: event → webhook / SSE", file=sys.stderr, flush=True)
            try:
                results["stack"] = stack_section(cfg, tmp, base_env)
            except Exception as error:
                traceback.print_exc()
                results["stack"] = {"error": f"{type(error).__name__}: {error}"}
    finally:
        results["load_at_end"] = load()
        results["wall_s"] = round(time.monotonic() - started, 1)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"\n({results['wall_s']} s; `.venv/bin/python -m bench.webhooks{' --quick' if args.quick else ''}`)")


if __name__ == "__main__":
    main()
