"""What an idle session worker asks AWS for, per hour: `python -m bench.idle [seconds]` (default 90).

The real `SessionWorker.run`, on moto in process (every resource provisioned from the topology, as the
integration tests do), holding every shard and with nothing to do. Every botocore call is counted by
operation (`bench.counting`). The worker's first seconds (acquiring the shards, resolving the queue URLs,
the first sweep of each shard) are a start-up cost, not an hourly one, so counting starts only after
`--warmup` seconds (default 25: past one whole long poll and a few lease heartbeats); the steady count
is then scaled to an hour (count / seconds × 3600). The start-up calls are printed apart.

moto's ReceiveMessage honours WaitTimeSeconds (it waits for a message or the end of the wait), so the
receives counted are what SQS would bill.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

import boto3
from moto import mock_aws

from bench.counting import RECORDER, by_operation


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
    idle = by_operation(calls).get("idle", {})
    return {
        "seconds": round(elapsed, 1),
        "held_shards": held,
        "startup_calls": by_operation(startup).get("startup", {}),
        "idle_calls": idle,
        "per_hour": {name: round(count / elapsed * 3600) for name, count in idle.items()},
        "per_hour_total": round(sum(idle.values()) / elapsed * 3600),
        "receive_waits": sorted({c.params.get("WaitTimeSeconds") for c in calls if c.operation == "ReceiveMessage"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("seconds", nargs="?", type=float, default=90.0)
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
