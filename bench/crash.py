"""Crash cost: what a kill -9 of the session worker costs one number's backlog.

    .venv/bin/python -m bench.crash [--sends 60] [--kill-after 1] [--repeats 1] [--json out.json]
    make bench-crash

One booted `bzapper dev` (bench/stack.py: its own process tree, a free port), then rounds in pairs:

- calm: `sends` text messages from the stack's one number to one recipient, posted by 4 clients as fast as
  the API accepts them; the drain is the time from the first POST to the last arrival at the recipient
  (the sandbox network's own `received_at`, read through GET /sandbox/contacts/{phone}/messages);
- crash: the same, and `kill_after` s after the first POST the session worker process (worker.pid) gets
  SIGKILL; the local runtime restarts it at once with the same worker id, so it takes its leases back at
  once: what is left is what the dead worker's jobs cost (the FIFO group they block).

The crash cost is the crash drain minus the calm drain of the same pair (the same stack, minutes apart).
Each round has a recipient of its own, so "exactly once" is checked on what that contact received (a body
twice is a duplicate). The outbox sweeper's re-sends in each round are counted from the stack's log
("outbox re-sent N messages"); the sweep runs every `--sweep-seconds` (5 s here, 60 s by default in `bzapper
dev`, so that a re-send shows in the round that caused it) with the default grace (30 s).
Every wait is bounded; only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 4
DRAIN_TIMEOUT_S = 300.0
SETTLE_TIMEOUT_S = 180.0
MESSAGES_TABLE = "bzapper-local-messages"
RESENT = re.compile(rb"outbox re-sent (\d+) messages")
STAMP = re.compile(rb'"timestamp":"([^"]+)"')


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _sweeps(log: bytes) -> list[tuple[int, int]]:
    """(epoch ms, messages re-sent) of each outbox sweep that re-sent something: Powertools' JSON lines."""
    found = []
    for line in log.splitlines():
        count, stamp = RESENT.search(line), STAMP.search(line)
        if count and stamp:
            at = datetime.strptime(stamp.group(1).decode(), "%Y-%m-%d %H:%M:%S,%f%z")
            found.append((int(at.timestamp() * 1000), int(count.group(1))))
    return found


def _moto(stack: Any, service: str) -> Any:
    import boto3

    from bzapper_dev.local.dev import LOCAL_AWS

    # The stack's own moto credentials: the harness's environment has none (DevStack strips AWS_*).
    session = boto3.session.Session(
        aws_access_key_id=LOCAL_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS["AWS_SECRET_ACCESS_KEY"],
        region_name=LOCAL_AWS["AWS_REGION"],
    )
    return session.client(service, endpoint_url=stack.moto_url)


def _outbox_state(stack: Any, message_ids: list[str]) -> dict[str, tuple[bool, int]]:
    """message id → (still waiting for a worker: `outbox_due` set, times the outbox re-sent it)."""
    dynamodb = _moto(stack, "dynamodb")
    found = {}
    for start in range(0, len(message_ids), 100):
        keys = [{"message_id": {"S": message_id}} for message_id in message_ids[start : start + 100]]
        request = {
            MESSAGES_TABLE: {
                "Keys": keys,
                "ProjectionExpression": "message_id, outbox_due, outbox_attempts",
                "ConsistentRead": True,
            }
        }
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(MESSAGES_TABLE, []):
                attempts = int(item.get("outbox_attempts", {}).get("N", "0"))
                found[item["message_id"]["S"]] = ("outbox_due" in item, attempts)
            request = answer.get("UnprocessedKeys") or {}
    return found


class Round:
    def __init__(self, stack: Any, recipient: str, sends: int) -> None:
        self.stack = stack
        self.recipient = recipient
        self.sends = sends
        self.auth = {"Authorization": f"Bearer {stack.key}"}
        self.message_ids: list[str] = []

    def received(self) -> list[dict[str, Any]]:
        import httpx

        url = f"{self.stack.base_url}/sandbox/contacts/{quote(self.recipient, safe='')}/messages"
        answer = httpx.get(url, headers=self.auth, timeout=30)
        answer.raise_for_status()
        return list(answer.json()["data"])

    def run(self, tag: str, kill_after: float | None) -> dict[str, Any]:
        import httpx

        log = self.stack.home / "dev.log"
        log_from = log.stat().st_size
        bodies = [f"{tag} {index}" for index in range(self.sends)]
        client = httpx.Client(base_url=self.stack.base_url, headers=self.auth, timeout=30)
        first_post_ms: list[int] = []
        killed: dict[str, Any] = {}

        def post(body: str) -> int:
            first_post_ms.append(int(time.time() * 1000))
            answer = client.post(
                "/messages/text", json={"instance_id": self.stack.instance_id, "to": self.recipient, "body": body}
            )
            if answer.status_code == 202:
                self.message_ids.append(answer.json()["message_id"])
            return answer.status_code

        killer = None
        if kill_after is not None:
            killer = threading.Thread(target=self._kill, args=(kill_after, first_post_ms, killed), daemon=True)
            killer.start()
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            codes = list(pool.map(post, bodies))
        accepted_s = time.monotonic() - started
        client.close()
        if killer is not None:
            killer.join(timeout=60)
        rejected = [code for code in codes if code != 202]

        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            received = self.received()
            if {item["message"].get("body") for item in received} >= set(bodies) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # a duplicate that is still on its way shows now, or not at all in this round
        received = self.received()
        seen = [item["message"].get("body") for item in received]
        start_ms = min(first_post_ms)
        arrivals = [_ms(item["received_at"]) for item in received]
        complete = set(seen) >= set(bodies)
        # The round ends when every message is recorded as taken by a worker (its `sending` report applied):
        # until then the outbox may still re-send it, and the next round must not inherit that.
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while any(waiting for waiting, _ in _outbox_state(self.stack, self.message_ids).values()):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        recorded_s = round(time.time() - start_ms / 1000, 1)
        result = {
            "round": tag,
            "sends": self.sends,
            "rejected": len(rejected),
            "accepted_s": round(accepted_s, 2),
            "drain_s": round((max(arrivals) - start_ms) / 1000, 2) if complete and arrivals else None,
            "received": len(seen),
            "duplicates": len(seen) - len(set(seen)),
            "missing": len(set(bodies) - set(seen)),
            "all_taken_recorded_s": recorded_s,  # a bound: polled after the drain
            "outbox_sweeps": [
                (round((at - start_ms) / 1000, 1), n) for at, n in _sweeps(log.read_bytes()[log_from:])
            ],  # (s after the first send, messages re-sent): this round's or an earlier round's messages
        }
        if kill_after is not None:
            result.update(
                killed_at_s=round((killed.get("at_ms", start_ms) - start_ms) / 1000, 2),
                restarted_after_s=killed.get("restarted_s"),
                jobs_in_hand_at_kill=killed.get("in_hand"),
            )
        return result

    def outbox_resent(self) -> int:
        """Re-sends of this round's messages by the outbox, whenever they happened."""
        return sum(attempts for _, attempts in _outbox_state(self.stack, self.message_ids).values())

    def _in_flight(self) -> int:
        """Jobs received and not yet deleted: read just after the kill, those the dead worker held."""
        sqs = _moto(self.stack, "sqs")
        urls = sqs.list_queues(QueueNamePrefix="bzapper-local-shard-").get("QueueUrls", [])
        attribute = "ApproximateNumberOfMessagesNotVisible"
        return sum(
            int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"][attribute])
            for url in urls
            if not url.endswith("-dlq.fifo")
        )

    def _kill(self, after: float, first_post_ms: list[int], killed: dict[str, Any]) -> None:
        while not first_post_ms:
            time.sleep(0.01)
        time.sleep(max(0.0, first_post_ms[0] / 1000 + after - time.time()))
        pid_file = self.stack.state_dir / "worker.pid"
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGKILL)
        at = time.monotonic()
        killed["at_ms"] = int(time.time() * 1000)
        try:
            killed["in_hand"] = self._in_flight()
        except Exception as error:  # a diagnostic: the measure goes on without it
            print(f"jobs in hand at the kill not read: {error}", file=sys.stderr)
        deadline = at + 60
        while time.monotonic() < deadline:
            text = pid_file.read_text().strip() if pid_file.exists() else ""
            if text and int(text) != pid:
                killed["restarted_s"] = round(time.monotonic() - at, 2)
                return
            time.sleep(0.05)


def measure(
    sends: int, kill_after: float, repeats: int, sweep_seconds: float, keep: bool = False
) -> list[dict[str, Any]]:
    from bench.stack import DevStack

    home = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    stack = DevStack(home, dict(os.environ))
    # DevStack keeps none of the harness's BZ_ settings: the sweep's cadence is the one this bench sets.
    stack.env["BZ_LOCAL_SCHEDULE_SECONDS"] = str(sweep_seconds)
    stack.start()
    pairs = []
    try:
        for repeat in range(repeats):
            # A recipient per round (an ordinary contact of the sandbox network), so each round's view is its own.
            calm = Round(stack, f"+5511966{repeat:02d}0001", sends)
            calm_result = calm.run(f"calm-{repeat}", None)
            crash = Round(stack, f"+5511966{repeat:02d}0002", sends)
            crash_result = crash.run(f"crash-{repeat}", kill_after)
            calm_result["outbox_resent"] = calm.outbox_resent()
            crash_result["outbox_resent"] = crash.outbox_resent()
            cost = (
                round(crash_result["drain_s"] - calm_result["drain_s"], 2)
                if crash_result["drain_s"] is not None and calm_result["drain_s"] is not None
                else None
            )
            pairs.append({"calm": calm_result, "crash": crash_result, "crash_cost_s": cost})
            _print_pair(repeat, pairs[-1])
    finally:
        stack.stop()
    if keep:
        print(f"the stack's state and logs (dev.log, .bzapper/worker.log): {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)  # kept (with its logs) when a round raised
    return pairs


def _print_pair(repeat: int, pair: dict[str, Any]) -> None:
    for name in ("calm", "crash"):
        row = pair[name]
        extra = ""
        if name == "crash":
            extra = (
                f"; killed at {row['killed_at_s']} s holding {row['jobs_in_hand_at_kill']} jobs,"
                f" restarted after {row['restarted_after_s']} s"
            )
        print(
            f"pair {repeat} {name:<5}  drain {row['drain_s']} s  received {row['received']}/{row['sends']}"
            f"  duplicates {row['duplicates']}  missing {row['missing']}  outbox re-sends {row['outbox_resent']}"
            f"  (accepted in {row['accepted_s']} s, all taken recorded by {row['all_taken_recorded_s']} s"
            f", sweeps {row['outbox_sweeps']}{extra})",
            flush=True,
        )
    print(f"pair {repeat} crash cost: {pair['crash_cost_s']} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=60, help="sends to one number per round (60)")
    parser.add_argument("--kill-after", type=float, default=1.0, help="seconds after the first send (1)")
    parser.add_argument("--repeats", type=int, default=1, help="calm/crash pairs on the same stack (1)")
    parser.add_argument("--sweep-seconds", type=float, default=5.0, help="the outbox sweep's cadence (5)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the stack's temp dir and its logs")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    pairs = measure(args.sends, args.kill_after, args.repeats, args.sweep_seconds, args.keep)
    if args.json:
        args.json.write_text(json.dumps(pairs, indent=2) + "\n")


if __name__ == "__main__":
    main()
