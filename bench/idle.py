"""What an idle session worker asks AWS for, per hour: `python -m bench.idle [seconds]` (default 120).

The real `SessionWorker.run`, on moto in process (every resource provisioned from the topology, as the
integration tests do), holding every shard and with nothing to do. Every botocore call is counted by
operation (`bench.counting`). The worker's first seconds (acquiring the shards, resolving the queue URLs,
the first sweep of each shard) are a start-up cost, not an hourly one, so counting starts only after
`--warmup` seconds (default 25: past one whole long poll and a few lease heartbeats); the steady count
is then scaled to an hour (count / seconds × 3600): count a multiple of 20 s (the long poll) and of 120 s (the
open sweep) for exact figures, e.g. 120. The start-up calls are printed apart.

moto's ReceiveMessage honours WaitTimeSeconds (it waits for a message or the end of the wait), so the
receives counted are what SQS would bill.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from typing import Any

import boto3
from moto import mock_aws

from bench.counting import RECORDER, Call, by_operation


def count_idle(worker: Any, seconds: float, warmup: float) -> tuple[float, list[Call], list[Call], list[int]]:
    """Runs `worker` (a SessionWorker) on a thread: its first `warmup` seconds recorded apart ("startup"), then
    `seconds` recorded as "idle"; stops it. Answers the idle seconds, the idle calls, the start-up calls and the
    shards it held at the end.

    An idle worker's receives come one per queue every POLL_WAIT_SECONDS (20), all in step: count whole
    multiples of it after the warm-up, or the hourly figure says more (or less) than the truth."""
    stop = threading.Event()
    RECORDER.take()
    with RECORDER.recording("startup"):
        thread = threading.Thread(target=worker.run, args=(lambda: not stop.is_set(),), daemon=True)
        thread.start()
        time.sleep(warmup)
    startup = RECORDER.take()
    with RECORDER.recording("idle"):
        started = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
    calls = RECORDER.take()
    held = worker.keeper.held()
    stop.set()
    thread.join(timeout=60)
    return elapsed, calls, startup, held


def per_hour(calls: list[Call], elapsed: float) -> dict[str, int]:
    return {name: round(count / elapsed * 3600) for name, count in by_operation(calls).get("idle", {}).items()}


def measure(seconds: float, warmup: float) -> dict[str, object]:
    RECORDER.install()
    with mock_aws():
        from bzapper import bootstrap
        from bzapper.adapters.aws import clients
        from bzapper.config import settings
        from bzapper.worker.runner import SessionWorker
        from bzapper_dev.local.moto_fidelity import install as install_moto_fidelity
        from bzapper_dev.local.provision import provision

        install_moto_fidelity()
        for cached in (bootstrap.services, clients.client, clients.queue_url, clients.dynamodb_connection):
            cached.cache_clear()
        provision(boto3.session.Session(), settings())
        worker = SessionWorker(bootstrap.services(), {})
        elapsed, calls, startup, held = count_idle(worker, seconds, warmup)
    hourly = per_hour(calls, elapsed)
    return {
        "seconds": round(elapsed, 1),
        "held_shards": held,
        "startup_calls": by_operation(startup).get("startup", {}),
        "idle_calls": by_operation(calls).get("idle", {}),
        "per_hour": hourly,
        "per_hour_total": sum(hourly.values()),
        "receive_waits": sorted({c.params.get("WaitTimeSeconds") for c in calls if c.operation == "ReceiveMessage"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("seconds", nargs="?", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=25.0)
    args = parser.parse_args()
    # moto in process: no endpoint, dummy credentials, nothing real reachable.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "BZ_LOCAL_MODE"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's dummy credentials)
        BZ_STAGE="idle",
        POWERTOOLS_TRACE_DISABLED="true",
    )
    print(json.dumps(measure(args.seconds, args.warmup), indent=2))


if __name__ == "__main__":
    main()
