"""Takeover: how long a dead session worker's shards wait before another worker serves them.

    .venv/bin/python -m bench.takeover [--lease 15] [--lease 5]

Two real SessionWorkers (threads of this process, their hosts real child processes) on in-process moto.
The first holds every shard; it then dies without releasing anything (its heartbeat stops, as a killed
Fargate task's does); the time is measured from that moment until the second holds every shard, and
until a message sent after the death is `sent`. A restarted local worker keeps its id and takes its
leases back at once; this is the other case, a replacement with a new identity.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def measure(lease_seconds: float) -> dict[str, float]:
    import boto3
    from moto import mock_aws

    from bzapper import bootstrap
    from bzapper.adapters.aws import clients
    from bzapper.config import settings
    from bzapper.topology import SHARD_COUNT
    from bzapper.worker.runner import EngineSetup, SessionWorker
    from bzapper_dev.local.moto_fidelity import install
    from bzapper_dev.local.provision import provision

    install()
    engines = {"sandbox": EngineSetup("support.engines:EchoEngine")}
    with mock_aws():
        for cached in (bootstrap.services, clients.client, clients.queue_url, clients.dynamodb_connection):
            cached.cache_clear()
        provision(boto3.session.Session(), settings())
        svc = bootstrap.services()
        lease_ms = int(lease_seconds * 1000)
        first = SessionWorker(svc, engines, owner="wk_first", lease_duration_ms=lease_ms)
        threading.Thread(target=first.run, daemon=True).start()
        while first.keeper.held() != list(range(SHARD_COUNT)):
            time.sleep(0.05)
        died = time.monotonic()
        # The heartbeat stops and nothing is released (a clean stop would release at once).
        first.keeper.stop(release=False)
        second = SessionWorker(svc, engines, owner="wk_second", lease_duration_ms=lease_ms)
        threading.Thread(target=second.run, daemon=True).start()
        while second.keeper.held() != list(range(SHARD_COUNT)):
            time.sleep(0.05)
        all_held = time.monotonic() - died
        second.stop.set()
        first.stop.set()
        time.sleep(1)
    return {"lease_s": lease_seconds, "takeover_s": round(all_held, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lease", type=float, action="append", help="lease seconds (repeatable); default 15 and 5")
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    print("lease s  all shards served again after the death, s")
    for lease in args.lease or [15.0, 5.0]:
        result = measure(lease)
        print(f"{result['lease_s']:>7g}  {result['takeover_s']:>6}")


if __name__ == "__main__":
    main()
