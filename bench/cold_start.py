"""Cold start: the import and first invocations of every functions/*/handler.py, in fresh interpreters.

Each figure is the median of `repeats` fresh processes, reported as a ratio to `import boto3` measured
the same way, so machines of different speeds give comparable figures. First invocations hit the
bench's moto server with genuine events (API Gateway v2, SQS, Scheduler), so they include what a
real first request pays: building clients, the first GetItems of an empty auth cache, GetQueueUrl.

`measure_deployed` (below; alone: `python -m bench.cold_start`) imports what Lambda imports instead: the
staged layers and function assets, read-only, with the runtime's Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.apigw import fifo_sqs_message, http_event, send_event
from bench.backend import drain
from bench.machine import ROOT
from bench.stats import median


def _run(spec: dict[str, Any], env: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.cold_child", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no answer within {timeout:g} s"}
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_profile(path: Path, env: dict[str, str], top: int = 8) -> dict[str, float]:
    """Where a handler's import time goes: `python -X importtime`, self time summed by top-level package."""
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "bench.cold_child",
            json.dumps({"mode": "handler", "path": str(path)}),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|", 2))
            package = name.split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(self_us) / 1000
        except ValueError:
            continue
    ranked = sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return {name: round(ms, 1) for name, ms in ranked}


def _http_events(ctx: Any, group: str) -> list[dict[str, Any]] | None:
    from bzapper.topology import TOPOLOGY

    auth = {"Authorization": f"Bearer {ctx.account['api_key']}"}
    if group == "messages":
        return [send_event(ctx.account["api_key"], ctx.account["instance_id"]) for _ in range(2)]
    routes = [route for route in TOPOLOGY.routes if route.group == group and not getattr(route, "streaming", False)]
    if not routes:
        return None
    route = next((r for r in routes if r.method == "GET" and "{" not in r.path), routes[0])
    path = route.path.replace("{phone}", "+5511988888888")
    path = re.sub(r"\{(\w+)\}", lambda match: f"bench_{match.group(1)}", path)
    return [http_event(route.method, path, headers=auth if route.auth else None) for _ in range(2)]


def _statuses_events(ctx: Any) -> list[dict[str, Any]]:
    from bzapper.domain.model import StatusReport
    from bzapper_dev.local.lambda_context import LocalLambdaContext
    from bzapper_dev.local.lambda_events import sqs_event

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


def _webhooks_exist() -> bool:
    import importlib.util

    return importlib.util.find_spec("bzapper.services.webhooks") is not None


def _one_record(ctx: Any, body: dict[str, Any], group: str, sequence: int) -> dict[str, Any]:
    from bzapper_dev.local.lambda_events import sqs_event

    arn = f"arn:aws:sqs:{ctx.settings.region}:123456789012:bench-queue.fifo"
    return sqs_event(
        [fifo_sqs_message(body, group=group, dedupe=f"{group}:{sequence}", sequence=sequence)], arn, "us-east-1"
    )


_HOOKS: dict[str, Any] = {}


def _subscriber(ctx: Any) -> dict[str, Any]:
    """An account of its own with one webhook on a loopback receiver (its deliveries are the cold runs')."""
    if not _HOOKS:
        from bench.life import Receiver
        from bzapper.bootstrap import services
        from bzapper.services.accounts import create_test_account
        from bzapper.services.webhooks import create_webhook

        account = create_test_account(services(), name="Cold", locale="en", credits=100)
        principal = services().accounts.principal_for(account["api_key"])
        receiver = Receiver()
        create_webhook(services(), principal, receiver.url, None, "bench cold start")
        _HOOKS.update(account=account, receiver=receiver)
    return _HOOKS


def _bus_event(ctx: Any, sequence: int) -> dict[str, Any]:
    """What a bus rule puts in its queue: the EventBridge envelope, our event in `detail`."""
    from bzapper.domain.clock import now_ms
    from bzapper.domain.events import envelope

    account = _subscriber(ctx)["account"]
    at = now_ms()
    event = envelope(
        "message.sent",
        at_ms=at,
        account_id=account["account_id"],
        instance_id=account["instance_id"],
        livemode=False,
        data={"message_id": f"msg_cold{at}{sequence}", "status": "sent", "to": "+5511988888888"},
        identity=("message.sent", str(at), str(sequence), str(time.perf_counter())),
    )
    body = {
        "version": "0",
        "id": f"cold-{at}-{sequence}",
        "detail-type": event["type"],
        "source": "bzapper",
        "account": "123456789012",
        "time": event["created"],
        "region": "us-east-1",
        "resources": [],
        "detail": event,
    }
    return _one_record(ctx, body, "bench", sequence)


def _delivery_events(ctx: Any) -> list[dict[str, Any]]:
    """Two genuine delivery jobs: fanned out by the real code, taken from the real queue."""
    from bzapper.adapters.aws.clients import queue_url
    from bzapper.bootstrap import services
    from bzapper.services.webhooks import fan_out
    from bzapper_dev.local.lambda_events import sqs_event

    url = queue_url(ctx.settings.queue("webhook-deliveries", fifo=False))
    drain(ctx.raw_sqs, url)
    events = []
    for sequence in range(2):
        detail = json.loads(_bus_event(ctx, sequence)["Records"][0]["body"])["detail"]
        fan_out(services(), detail)
        messages = ctx.raw_sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        arn = f"arn:aws:sqs:{ctx.settings.region}:123456789012:{ctx.settings.queue('webhook-deliveries', False)}"
        events.append(sqs_event(messages, arn, ctx.settings.region))
    return events


def _job_events(ctx: Any) -> list[dict[str, Any]]:
    """Two genuine jobs (what a shard queue carries) of messages committed for this run."""
    from bench.backend import job_body_of
    from bzapper_dev.local.lambda_context import LocalLambdaContext

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
    from bzapper.topology import TOPOLOGY
    from bzapper_dev.local.lambda_events import scheduled_event

    if group in TOPOLOGY.api_groups:
        if all(getattr(route, "streaming", False) for route in TOPOLOGY.routes if route.group == group):
            # A response stream lives until the client leaves (15 min at most): no first-call time.
            return "import only (a response stream: no bounded first call)", None
        events = _http_events(ctx, group)
        return (f"{events[0]['routeKey']}" if events else "n/a"), events
    consumer = next((c for c in TOPOLOGY.consumers if c.group == group), None)
    if consumer is not None:
        if group == "statuses":
            return "SQS batch of 1 status report", _statuses_events(ctx)
        if consumer.queue.startswith("shard-"):
            return f"SQS batch of 1 job ({consumer.queue}{' DLQ' if consumer.dead_letter else ''})", _job_events(ctx)
        if group == "webhook_dispatch" and _HOOKS:
            return "SQS batch of 1 delivery (POST to a loopback endpoint)", _delivery_events(ctx)
        if consumer.queue in {rule.queue for rule in getattr(TOPOLOGY, "rules", ())}:
            return f"SQS batch of 1 bus event ({consumer.queue})", [_bus_event(ctx, n) for n in range(2)]
        return "SQS batch of 1 record", [_one_record(ctx, {}, "bench", n) for n in range(2)]
    if any(schedule.group == group for schedule in TOPOLOGY.schedules):
        arn = f"arn:aws:scheduler:{ctx.settings.region}:123456789012:schedule/default/bench-{group}"
        return "Scheduler event", [scheduled_event(arn, ctx.settings.region) for _ in range(2)]
    return "import only (no event source in the topology)", None


def measure(ctx: Any, repeats: int, budget_s: float) -> dict[str, Any]:
    try:
        return _measure(ctx, repeats, budget_s)
    finally:
        if _HOOKS:
            _HOOKS["receiver"].close()
            _HOOKS.clear()


def _measure(ctx: Any, repeats: int, budget_s: float) -> dict[str, Any]:
    env = dict(os.environ)
    if _webhooks_exist():
        _subscriber(ctx)
    deadline = time.monotonic() + budget_s
    baseline = [_run({"mode": "import", "module": "boto3"}, env) for _ in range(repeats)]
    boto3_s = median([b["import_s"] for b in baseline if "import_s" in b])
    rows: dict[str, Any] = {}
    extras = {
        "aws_xray_sdk.core": "what Powertools' Tracer imports: loaded only when tracing is on (bzapper.lambda_entry)"
    }
    for module, why in extras.items():
        runs = [_run({"mode": "import", "module": module}, env) for _ in range(repeats)]
        seconds = median([r["import_s"] for r in runs if "import_s" in r])
        rows[f"import {module}"] = {
            "import_ms": round(seconds * 1000, 1),
            "import_x": round(seconds / boto3_s, 2),
            "note": why,
        }
    # The functions on a message's path first, so a budget cut falls on the others.
    hot = ("messages", "statuses", "event_log", "webhook_fanout", "webhook_dispatch")
    paths = sorted((ROOT / "functions").glob("*/handler.py"), key=lambda p: (p.parent.name not in hot, p.parent.name))
    for path in paths:
        group = path.parent.name
        if time.monotonic() > deadline:
            rows[group] = {"skipped": "time budget"}
            continue
        runs, what = [], ""
        for _ in range(repeats):
            what, events = _events_for(ctx, group)  # fresh per run: a statuses run needs its own message
            runs.append(_run({"mode": "handler", "path": str(Path(path)), "events": events or []}, env))
        good = [r for r in runs if "import_s" in r and "error" not in r]
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
    profiles = {
        group: import_profile(ROOT / "functions" / group / "handler.py", env)
        for group in ("messages", "statuses")
        if (ROOT / "functions" / group / "handler.py").exists() and time.monotonic() < deadline
    }
    return {
        "repeats": repeats,
        "import_boto3_ms": round(boto3_s * 1000, 1),
        "handlers": rows,
        "import_self_ms_by_package": profiles,
    }


# --- Cold starts of what is deployed -------------------------------------------------------------------
# The measurement above runs the handlers from this checkout in the dev virtualenv (its Python, writable
# caches). This one imports what a Lambda function gets: the layers as infra/bundling.py stages them (the
# dependencies built for this machine's platform, since Lambda's arm64 wheels do not load here; same
# requirements, same bytecode step) and the function's asset, copied into a read-only tree, with the
# runtime's Python (bundling.LAMBDA_PYTHON), no site-packages, no bytecode writes, and Lambda's search
# path: the function's directory, then /opt/python. `import boto3` is measured in the same tree.

DEPLOYED_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "BZ_STAGE": "bench",
    "POWERTOOLS_SERVICE_NAME": "bzapper",
}


def _host_platform() -> str:
    import platform

    return f"manylinux2014_{platform.machine()}"


def deployed_tree(tmp: Path, checkout: Path = ROOT, bytecode: bool = True) -> Path:
    """`tmp/opt/python` (both layers, as Lambda extracts them) and `tmp/task/<group>/`, made read-only.

    `checkout`: whose `layers/core/bzapper` and `functions/` to stage (another worktree, to compare a
    commit with this one); `bytecode=False`: the layers as they were before they shipped any (every
    import compiles, and cannot keep the result).
    """
    import shutil
    import stat

    from infra import bundling

    skip = shutil.ignore_patterns("__pycache__", "*.pyc") if not bytecode else None
    opt = tmp / "opt"
    deps = bundling.dependencies_layer(platform=_host_platform())
    shutil.copytree(deps / "python", opt / "python", ignore=skip)
    core = bundling.core_layer(checkout / "layers" / "core" / "bzapper")
    shutil.copytree(core / "python", opt / "python", dirs_exist_ok=True, ignore=skip)
    for handler in sorted((checkout / "functions").glob("*/handler.py")):
        group = handler.parent.name
        shutil.copytree(bundling.function_asset(group, checkout / "functions"), tmp / "task" / group, ignore=skip)
    for path in [tmp, *tmp.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return tmp


def _tree_files(tree: Path) -> int:
    return sum(1 for _ in tree.rglob("*"))


def _deployed_run(tree: Path, spec: dict[str, Any], group: str, tracing: bool, importtime: bool = False) -> Any:
    from infra import bundling

    task = tree / "task" / group
    env = {
        **DEPLOYED_ENV,
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_LAMBDA_FUNCTION_NAME": f"bzapper-bench-{group}",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    spec = {**spec, "sys_path": [str(task), str(tree / "opt" / "python")]}
    # -S: no site-packages of this machine's interpreter; -B: never write bytecode (the tree is read-only
    # on Lambda; we run as whoever we are, so the flag is what enforces it here); -E: no PYTHON* variables.
    command = [bundling.lambda_python(), "-S", "-B", "-E", *(("-X", "importtime") if importtime else ())]
    done = subprocess.run(
        [*command, str(ROOT / "bench" / "cold_child.py"), json.dumps(spec)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if importtime:
        return done.stderr
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


HEAVY = ("fastapi", "pydantic", "stripe", "emoji", "aws_xray_sdk", "s3transfer", "babel", "phonenumbers")


def _self_ms_by_package(stderr: str, top: int = 10) -> dict[str, float]:
    by_package: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|", 2))
        except ValueError:
            continue
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(self_us) / 1000
    ranked = sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return {name: round(ms, 1) for name, ms in ranked}


def measure_deployed(
    repeats: int, checkout: Path = ROOT, bytecode: bool = True, tracing: bool = False, profile: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Each function's handler import, median of `repeats` fresh interpreters, ÷ `import boto3` in the same tree.

    Runs are interleaved (`repeats` rounds of every function, each after one `import boto3`, whose median over
    all of them is the baseline), so a noisy moment hits the baseline and the functions alike.
    """
    import tempfile

    from infra import bundling

    with tempfile.TemporaryDirectory(prefix="bzapper-cold-") as tmp:
        tree = deployed_tree(Path(tmp) / "tree", checkout, bytecode)
        files_before = _tree_files(tree)
        groups = sorted(path.name for path in (tree / "task").iterdir())
        boto3_runs: list[float] = []
        runs: dict[str, list[dict[str, Any]]] = {group: [] for group in groups}
        for _ in range(repeats):
            for group in groups:
                # One `import boto3` right before each handler: the baseline sees the same moments as they do.
                baseline = _deployed_run(tree, {"mode": "import", "module": "boto3"}, group, tracing)
                if "import_s" in baseline:
                    boto3_runs.append(baseline["import_s"])
                spec = {"mode": "handler", "path": str(tree / "task" / group / "handler.py"), "watch": list(HEAVY)}
                runs[group].append(_deployed_run(tree, spec, group, tracing))
        boto3_s = median(boto3_runs)
        rows: dict[str, Any] = {}
        for group, results in runs.items():
            good = [r for r in results if "import_s" in r]
            if not good:
                rows[group] = {"error": results[0].get("error")}
                continue
            seconds = median([r["import_s"] for r in good])
            rows[group] = {
                "import_ms": round(seconds * 1000, 1),
                "import_x": round(seconds / boto3_s, 2),
                "modules_loaded": int(median([r["modules"] for r in good])),
                "heavy_loaded": good[0].get("loaded", []),
            }
        profiles = {
            group: _self_ms_by_package(
                _deployed_run(
                    tree,
                    {"mode": "handler", "path": str(tree / "task" / group / "handler.py")},
                    group,
                    tracing,
                    importtime=True,
                )
            )
            for group in profile
            if group in groups
        }
        written = _tree_files(tree) - files_before
        for path in [tree, *tree.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)  # so the temporary directory can be removed
    return {
        "python": bundling.LAMBDA_PYTHON,
        "bytecode": bytecode,
        "tracing": tracing,
        "repeats": repeats,
        "import_boto3_ms": round(boto3_s * 1000, 1),
        "files_written_into_the_tree": written,
        "handlers": rows,
        "import_self_ms_by_package": profiles,
    }


def render_deployed(result: dict[str, Any]) -> str:
    lines = [
        f"COLD START, deployed tree (python {result['python']}, read-only, bytecode "
        f"{'shipped' if result['bytecode'] else 'none'}, tracing {'on' if result['tracing'] else 'off'}; "
        f"median of {result['repeats']})",
        f"  import boto3 = {result['import_boto3_ms']} ms = 1.0x; files written into the tree: "
        f"{result['files_written_into_the_tree']}",
        f"  {'function':<18} {'import ms':>10} {'x boto3':>8} {'modules':>8}  heavy modules loaded",
    ]
    for group, row in result["handlers"].items():
        if "error" in row:
            lines.append(f"  {group:<18} error: {row['error']}")
            continue
        lines.append(
            f"  {group:<18} {row['import_ms']:>10} {row['import_x']:>7}x {row['modules_loaded']:>8}  "
            f"{', '.join(row['heavy_loaded']) or '-'}"
        )
    for group, by_package in result["import_self_ms_by_package"].items():
        listed = ", ".join(f"{name} {ms}" for name, ms in by_package.items())
        lines.append(f"  {group} import, self ms by package: {listed}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.cold_start`: the deployed-tree cold starts alone (no moto, no other section)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=main.__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="whose core package and functions to stage")
    parser.add_argument("--no-bytecode", action="store_true", help="the layers without their bytecode (before #20)")
    parser.add_argument("--tracing", action="store_true", help="POWERTOOLS_TRACE_DISABLED=false (X-Ray on)")
    parser.add_argument("--profile", default="messages,statuses", help="comma-separated groups to -X importtime")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = measure_deployed(
        args.repeats,
        args.checkout.resolve(),
        bytecode=not args.no_bytecode,
        tracing=args.tracing,
        profile=tuple(name for name in args.profile.split(",") if name),
    )
    print(render_deployed(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
