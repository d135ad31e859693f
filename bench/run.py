"""`make bench` / `python -m bench`: every section in one run, a table on stdout, bench/results.json.

Sections, in order: the send path against its floor in-process (moto server started here), where a
send's time goes (cProfile, client construction), a message's whole life counted in-process, cold
starts in fresh interpreters, worker density, then a booted `bzapper dev`: end to end at a steady
load and the send path over HTTP against its floor. Finally the cost of a million sends.

Every loop is bounded in count and in time; only loopback addresses are used. A failing section is
reported as failed and the others still run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.machine import ROOT, Section, describe, load

FULL = {
    "send_rounds": 6,
    "send_per_round": 40,
    "send_budget_s": 120,
    "auth_requests": 200,
    "profile_sends": 40,
    "life_busy": 10,
    "life_quiet": 4,
    "idle_s": 40,  # two whole 20 s long polls of every queue (bench.idle.count_idle)
    "cold_repeats": 5,
    "cold_budget_s": 300,
    "density_steps": (10, 100, 1000),
    "density_settle_s": 7.0,
    # The local stack runs the whole life of a message (API, worker, every consumer, moto, the sandbox
    # network) on this machine: about 0.3 to 0.5 CPU-seconds per message across its processes with a webhook
    # subscriber and a stream open (the e2e section reports it, by process), so a steady load must stay under
    # what 2 cores shared with others finish. 0.5/s keeps the figures comparable with earlier runs.
    "e2e_rate": 0.5,
    "e2e_seconds": 40.0,
    "e2e_drain_s": 45.0,
    # One number's backlog: N sends at once to one recipient, then the time until all are read (the drain rate).
    "drain_sends": 30,
    "drain_timeout_s": 90.0,
    "http_rounds": 4,
    "http_per_round": 20,
    "http_budget_s": 90,
    "http_clients": 4,
    "http_concurrent_requests": 80,
}
QUICK = {
    **FULL,
    "send_rounds": 2,
    "send_per_round": 10,
    "profile_sends": 5,
    "auth_requests": 10,
    "life_busy": 4,
    "life_quiet": 1,
    "idle_s": 20,
    "cold_repeats": 1,
    "density_steps": (10,),
    "density_settle_s": 6.0,
    "e2e_rate": 2.0,
    "e2e_seconds": 3.0,
    "drain_sends": 5,
    "http_rounds": 2,
    "http_per_round": 5,
    "http_concurrent_requests": 20,
}


def _strip(value: Any) -> Any:
    """results.json keeps figures, not the raw call records."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("calls", "cpu_samples_s")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class _CountingSink(io.TextIOBase):
    """Takes what the code under test prints (Powertools' EMF metrics go to stdout) off the table."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self.lines += text.count("\n")
        return len(text)


APP_STDOUT = _CountingSink()


UNTIMED = {"connection_cost", "profile", "cost"}
"""Sections whose figures do not depend on a quiet moment: no waiting for the load to drop first."""


def _section(results: dict[str, Any], name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    print(f"… {name}", file=sys.stderr, flush=True)
    section = Section(name, settle_first=name not in UNTIMED)
    try:
        with section, contextlib.redirect_stdout(APP_STDOUT):
            value = fn(*args, **kwargs)
    except Exception as error:
        traceback.print_exc()
        results["sections"][name] = {"error": f"{type(error).__name__}: {error}", "load": section.info}
        return None
    results["sections"][name] = {**(value or {}), "load": section.info}
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks the harness, not the figures")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--skip", default="", help="comma-separated: send,auth,life,cold,density,stack")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, profile)")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}

    base_env = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("AWS_", "BZ_", "POWERTOOLS_")):
            del os.environ[name]
    started = time.monotonic()
    results: dict[str, Any] = {"machine": describe(), "load_at_start": load(), "config": cfg, "sections": {}}
    results["machine"]["in_process_backend"] = (
        "moto server (python -m moto.server) in its own process on 127.0.0.1, started by the bench: the handler"
        " pays botocore + loopback HTTP like on Lambda, and moto's own work stays out of the measured process"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bzapper-bench-"))

    from bench.backend import MotoServer, bench_environment

    moto = MotoServer(tmp)
    os.environ.update(bench_environment(moto.url))
    from bzapper.config import reset_settings

    reset_settings()  # bzapper reads its settings once: read them again, now that the environment is set
    from bench.counting import RECORDER

    RECORDER.install()  # before any botocore client exists

    from bench import auth, cold_start, cost, density, e2e, inproc, life, send_path
    from bench.report import render

    ctx = None
    try:
        ctx = inproc.create(moto.url)
        # The default plan admits 120 sends a minute per account: a product limit, not the system's.
        # The bench account is on the `scale` plan; the rate-limit update still happens on every send.
        ctx.services.accounts.update(ctx.account["account_id"], plan="scale")
        s = results["sections"]

        if "send" not in skip:
            _section(
                results,
                "send_in_process",
                send_path.in_process,
                ctx,
                cfg["send_rounds"],
                cfg["send_per_round"],
                cfg["send_budget_s"],
            )
            _section(results, "connection_cost", send_path.connection_cost)
            _section(results, "profile", send_path.profile_handler, ctx, cfg["profile_sends"], tmp)

        if "auth" not in skip:
            _section(results, "auth", auth.measure, ctx, cfg["auth_requests"])

        if "life" not in skip:

            def whole_life() -> dict[str, Any]:
                RECORDER.sizer = ctx.sizer()
                try:
                    cold = life.cold_send(ctx)
                    ctx.purge_jobs()
                    runner = life.Life(ctx)
                    runner.warm(budget_s=60)
                    busy = runner.busy(cfg["life_busy"], budget_s=150)
                    quiet = runner.quiet(cfg["life_quiet"], budget_s=120)
                    runner.close()
                    statuses = life.per_status(ctx)
                    idle = life.idle_worker(ctx, cfg["idle_s"])
                finally:
                    RECORDER.sizer = None
                return {"cold_send": cold, "busy": busy, "quiet": quiet, "per_status": statuses, "idle_worker": idle}

            _section(results, "life", whole_life)

        if "cold" not in skip:
            _section(results, "cold_start", cold_start.measure, ctx, cfg["cold_repeats"], cfg["cold_budget_s"])
            # What Lambda imports: the staged layers and function assets, read-only, with the runtime's Python.
            _section(results, "cold_start_deployed", cold_start.measure_deployed, cfg["cold_repeats"])

        if "density" not in skip:
            _section(results, "density", density.measure, ctx, cfg["density_steps"], cfg["density_settle_s"], tmp)

        if "stack" not in skip:
            _stack_sections(results, cfg, ctx, tmp, base_env, e2e, send_path)

        if "life" in s and "busy" in s["life"]:
            _section(results, "cost", cost.compute, s)
    finally:
        if ctx is not None:
            ctx.close()
        moto.stop()
        results["load_at_end"] = load()
        results["app_stdout"] = {"bytes": APP_STDOUT.bytes, "lines": APP_STDOUT.lines}
        results["wall_s"] = round(time.monotonic() - started, 1)
        args.output.write_text(json.dumps(_strip(results), indent=2) + "\n")
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(render(_strip(results)))
    print(f"\n({results['wall_s']} s; written to {args.output})")


def _stack_sections(
    results: dict[str, Any], cfg: dict[str, Any], ctx: Any, tmp: Path, base_env: dict, e2e: Any, send_path: Any
) -> None:
    import dataclasses

    from bench.backend import Floor
    from bench.stack import DevStack

    print("… booting bzapper dev", file=sys.stderr, flush=True)
    stack = DevStack(tmp / "stack", base_env)
    try:
        stack.start()
    except Exception as error:
        traceback.print_exc()
        results["sections"]["e2e"] = {"error": f"bzapper dev did not start: {error}"}
        return
    try:
        stack.client("dynamodb").update_item(
            TableName="bzapper-local-accounts",
            Key={"account_id": {"S": stack.account_id}},
            UpdateExpression="SET #plan = :plan",
            ExpressionAttributeNames={"#plan": "plan"},
            ExpressionAttributeValues={":plan": {"S": "scale"}},
        )
        results["stack"] = {"ready_s": round(stack.ready_s, 1)}
        _section(results, "e2e", e2e.steady, stack, cfg["e2e_rate"], cfg["e2e_seconds"], cfg["e2e_drain_s"])
        _section(results, "drain", e2e.drain, stack, cfg["drain_sends"], cfg["drain_timeout_s"])
        floor = Floor(
            stack.moto_url, dataclasses.replace(ctx.settings, stage="local"), ctx.floor.template, ctx.floor.body
        )
        _section(
            results,
            "send_http",
            send_path.over_http,
            stack.base_url,
            stack.key,
            stack.instance_id,
            floor,
            cfg["http_rounds"],
            cfg["http_per_round"],
            cfg["http_budget_s"],
            cfg["http_clients"],
            cfg["http_concurrent_requests"],
        )
        results["stack"]["rss_mb_after"] = stack.rss_mb()
    finally:
        results.setdefault("stack", {})["exit_code"] = stack.stop()


if __name__ == "__main__":
    main()
