"""Cold start: the import and first invocations of every functions/*/handler.py, in fresh interpreters.

Each figure is the median of `repeats` fresh processes, reported as a ratio to `import boto3` measured
the same way, so machines of different speeds give comparable figures. First invocations hit the
bench's moto server with genuine events (API Gateway v2, SQS, Scheduler), so they include what a
real first request pays: building clients, the first GetItems of an empty auth cache, GetQueueUrl.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.apigw import fifo_sqs_message, http_event, send_event
from bench.machine import ROOT
from bench.stats import median


def _run(spec: dict[str, Any], env: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold_child", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _http_events(ctx: Any, group: str) -> list[dict[str, Any]] | None:
    from bzapper.topology import TOPOLOGY

    auth = {"Authorization": f"Bearer {ctx.account['api_key']}"}
    if group == "messages":
        return [send_event(ctx.account["api_key"], ctx.account["instance_id"]) for _ in range(2)]
    routes = [route for route in TOPOLOGY.routes if route.group == group]
    if not routes:
        return None
    route = next((r for r in routes if r.method == "GET" and "{" not in r.path), routes[0])
    path = route.path.replace("{phone}", "+5511988888888")
    for name in ("message_id", "checkout_id"):
        path = path.replace("{" + name + "}", f"bench_{name}")
    return [http_event(route.method, path, headers=auth if route.auth else None) for _ in range(2)]


def _statuses_events(ctx: Any) -> list[dict[str, Any]]:
    from bzapper.domain.model import StatusReport
    from bzapper.local.lambda_context import LocalLambdaContext
    from bzapper.local.lambda_events import sqs_event

    response = ctx.messages_handler(
        send_event(ctx.account["api_key"], ctx.account["instance_id"]), LocalLambdaContext("bench")
    )
    message_id = json.loads(response["body"])["message_id"]
    item = ctx.raw_ddb.get_item(TableName=ctx.settings.table("messages"), Key={"message_id": {"S": message_id}})
    wa_id = item["Item"]["wa_message_id"]["S"]
    arn = f"arn:aws:sqs:{ctx.settings.region}:123456789012:{ctx.settings.queue('status-updates', fifo=True)}"
    events = []
    for sequence, status in enumerate(("sending", "sent")):
        report = StatusReport(ctx.account["instance_id"], wa_id, status, int(time.time() * 1000), message_id)
        message = fifo_sqs_message(report.to_json(), group=wa_id, dedupe=f"{wa_id}:{status}", sequence=sequence)
        events.append(sqs_event([message], arn, ctx.settings.region))
    return events


def _one_record(ctx: Any, body: dict[str, Any], group: str, sequence: int) -> dict[str, Any]:
    from bzapper.local.lambda_events import sqs_event

    arn = f"arn:aws:sqs:{ctx.settings.region}:123456789012:bench-queue.fifo"
    return sqs_event(
        [fifo_sqs_message(body, group=group, dedupe=f"{group}:{sequence}", sequence=sequence)], arn, "us-east-1"
    )


def _job_events(ctx: Any) -> list[dict[str, Any]]:
    """Two genuine jobs (what a shard queue carries) of messages committed for this run."""
    from bench.backend import job_body_of
    from bzapper.local.lambda_context import LocalLambdaContext

    events = []
    for sequence in range(2):
        response = ctx.messages_handler(
            send_event(ctx.account["api_key"], ctx.account["instance_id"]), LocalLambdaContext("bench")
        )
        message_id = json.loads(response["body"])["message_id"]
        key = {"message_id": {"S": message_id}}
        item = ctx.raw_ddb.get_item(TableName=ctx.settings.table("messages"), Key=key)["Item"]
        events.append(_one_record(ctx, json.loads(job_body_of(item)), ctx.account["instance_id"], sequence))
    ctx.purge_jobs()
    return events


def _events_for(ctx: Any, group: str) -> tuple[str, list[dict[str, Any]] | None]:
    from bzapper.local.lambda_events import scheduled_event
    from bzapper.topology import TOPOLOGY

    if group in TOPOLOGY.api_groups:
        events = _http_events(ctx, group)
        return (f"{events[0]['routeKey']}" if events else "n/a"), events
    consumer = next((c for c in TOPOLOGY.consumers if c.group == group), None)
    if consumer is not None:
        if group == "statuses":
            return "SQS batch of 1 status report", _statuses_events(ctx)
        if consumer.queue.startswith("shard-"):
            return f"SQS batch of 1 job ({consumer.queue}{' DLQ' if consumer.dead_letter else ''})", _job_events(ctx)
        return "SQS batch of 1 record", [_one_record(ctx, {}, "bench", n) for n in range(2)]
    if any(schedule.group == group for schedule in TOPOLOGY.schedules):
        arn = f"arn:aws:scheduler:{ctx.settings.region}:123456789012:schedule/default/bench-{group}"
        return "Scheduler event", [scheduled_event(arn, ctx.settings.region) for _ in range(2)]
    return "import only (no event source in the topology)", None


def measure(ctx: Any, repeats: int, budget_s: float) -> dict[str, Any]:
    env = dict(os.environ)
    deadline = time.monotonic() + budget_s
    baseline = [_run({"mode": "import", "module": "boto3"}, env) for _ in range(repeats)]
    boto3_s = median([b["import_s"] for b in baseline if "import_s" in b])
    rows: dict[str, Any] = {}
    extras = {"aws_xray_sdk.core": "imported by Powertools Tracer when tracing is on (it is off here, as locally)"}
    for module, why in extras.items():
        runs = [_run({"mode": "import", "module": module}, env) for _ in range(repeats)]
        seconds = median([r["import_s"] for r in runs if "import_s" in r])
        rows[f"import {module}"] = {
            "import_ms": round(seconds * 1000, 1),
            "import_x": round(seconds / boto3_s, 2),
            "note": why,
        }
    for path in sorted((ROOT / "functions").glob("*/handler.py")):
        group = path.parent.name
        if time.monotonic() > deadline:
            rows[group] = {"skipped": "time budget"}
            continue
        runs, what = [], ""
        for _ in range(repeats):
            what, events = _events_for(ctx, group)  # fresh per run: a statuses run needs its own message
            runs.append(_run({"mode": "handler", "path": str(Path(path)), "events": events or []}, env))
        good = [r for r in runs if "import_s" in r]
        row: dict[str, Any] = {"event": what, "runs": len(good)}
        if not good:
            row["error"] = runs[0].get("error")
        else:
            row["import_ms"] = round(median([r["import_s"] for r in good]) * 1000, 1)
            row["import_x"] = round(median([r["import_s"] for r in good]) / boto3_s, 2)
            row["modules_loaded"] = int(median([r["modules"] for r in good]))
            if "first_s" in good[0]:
                first = median([r["first_s"] for r in good])
                row["first_invocation_ms"] = round(first * 1000, 1)
                row["first_invocation_x"] = round(first / boto3_s, 2)
                row["second_invocation_ms"] = round(median([r["second_s"] for r in good]) * 1000, 1)
                row["import_plus_first_x"] = round((median([r["import_s"] for r in good]) + first) / boto3_s, 2)
                row["statuses_seen"] = sorted({str(r.get("first_status")) for r in good})
        rows[group] = row
    return {"repeats": repeats, "import_boto3_ms": round(boto3_s * 1000, 1), "handlers": rows}
