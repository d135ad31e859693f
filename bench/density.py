"""Worker density: resident memory of one session worker (its supervisor process and its host processes)
as the instances it serves grow.

The worker here is the real one (`python -m bzapper.worker`, what Fargate runs) with the sandbox
engine, against the bench's moto server (its own stage, so only these instances exist) and the
bench's sandbox network. Instances are written straight into the instances table as connected
sandbox instances; the worker opens them at its next sweep of its shards (every 2 s here). RSS is
read from /proc, for the supervisor and for each host child.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.backend import EndpointSession, bench_environment
from bench.dynamo_units import item_size, read_units

STAGE = "bench-density"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return found


def tree_rss_kb(pid: int) -> tuple[int, int, int]:
    """(supervisor RSS, RSS of all its hosts, number of hosts)."""
    hosts = children(pid)
    return rss_kb(pid), sum(rss_kb(child) for child in hosts), len(hosts)


def _sample(pid: int, count: int = 5, every: float = 0.2) -> tuple[int, int, int]:
    values = []
    for _ in range(count):
        values.append(tree_rss_kb(pid))
        time.sleep(every)
    values.sort(key=lambda value: value[0] + value[1])
    return values[len(values) // 2]


def _instance_items(start: int, stop: int, account_id: str) -> list[dict[str, Any]]:
    from bzapper.adapters.aws.models import InstanceModel
    from bzapper.domain.ids import new_id

    now = int(time.time() * 1000)
    items = []
    for index in range(start, stop):
        model = InstanceModel(
            new_id("inst"),
            account_id=account_id,
            livemode=False,
            engine="sandbox",
            shard=index % 4,
            name=f"Density {index}",
            status="connected",
            phone=f"+55119{index:08d}",
            created_at=now,
            updated_at=now,
        )
        items.append(model.serialize())
    return items


def measure(ctx: Any, steps: tuple[int, ...], settle_s: float, state_dir: Path) -> dict[str, Any]:
    from bzapper_dev.local.processes import spawn, stop_process
    from bzapper_dev.local.provision import provision

    current = dataclasses.replace(ctx.settings, stage=STAGE)
    provision(EndpointSession(ctx.moto_url), current)
    table = current.table("instances")
    env = {
        **os.environ,
        **bench_environment(ctx.moto_url, STAGE),
        "BZ_SANDBOX_URL": ctx.network_url,
        "BZ_OPEN_SWEEP_SECONDS": "2",
    }
    env.pop("BZ_WORKER_PARENT_PID", None)
    with open(state_dir / "density-worker.log", "ab") as log:
        worker = spawn([sys.executable, "-m", "bzapper.worker"], env, log)
        try:
            ids: list[str] = []

            def grow_to(target: int) -> None:
                items = _instance_items(len(ids), target, "acct_bench_density")
                for start in range(0, len(items), 25):
                    ctx.raw_ddb.batch_write_item(
                        RequestItems={table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
                    )
                ids.extend(item["instance_id"]["S"] for item in items)
                time.sleep(settle_s)  # > the worker's sweep (2 s) plus the opening of the new sessions
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited with {worker.returncode}; see density-worker.log")

            # The baseline holds one instance: every code path (receipt polling, its HTTP client) has
            # run once, so what grows after it is what more instances cost.
            grow_to(1)
            base_supervisor, base_hosts, _ = _sample(worker.pid)
            base = base_supervisor + base_hosts
            rows = []
            previous = (1, base)
            for target in steps:
                grow_to(target)
                supervisor, hosts_rss, hosts = _sample(worker.pid)
                rss = supervisor + hosts_rss
                table_bytes = sum(item_size(item) for item in _scan(ctx.raw_ddb, table))
                poll_body = json.dumps({"instance_ids": ids, "max_events": 100, "visibility_timeout": 5.0})
                rows.append(
                    {
                        "instances": target,
                        "rss_mb": round(rss / 1024, 1),
                        "supervisor_mb": round(supervisor / 1024, 1),
                        "hosts": hosts,
                        "hosts_mb": round(hosts_rss / 1024, 1),
                        "delta_over_one_kb": rss - base,
                        "kb_per_instance": round((rss - base) / (target - 1), 2) if target > 1 else None,
                        "kb_per_instance_since_previous": round((rss - previous[1]) / (target - previous[0]), 2)
                        if target > previous[0]
                        else None,
                        "receipt_poll_body_kb": round(len(poll_body) / 1024, 1),
                        "shard_sweep_query_rru": read_units(table_bytes, consistent=False),
                    }
                )
                previous = (target, rss)
        finally:
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(15)
                except subprocess.TimeoutExpired:
                    stop_process(worker)
    return {
        "one_instance_rss_mb": round(base / 1024, 1),
        "rows": rows,
        "holds_per_instance": "in the supervisor: the instance's record and its place on a host; in its host: "
        "a session (its sink) in the sandbox engine, which polls the network for all of its sessions at once "
        "(one HTTP client per host, no socket or thread per instance); 50 sessions per host by default",
    }


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    items, start = [], None
    for _ in range(1000):
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return items
