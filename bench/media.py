"""Media on the local stack: upload throughput (POST /media, and the pre-signed upload straight to S3) and
the time from a 10 MB image send to `sent`, by media id and by URL. Prints a table; `--json PATH` keeps it.

    .venv/bin/python -m bench.media [--rounds 5] [--json bench/media-results.json]

One booted `bzapper dev` (moto, the API, the pollers, a worker with the sandbox engine), driven over HTTP
like a customer. The sandbox engine records the media dict and never downloads the bytes; the worker's
read of the same 10 MB from S3 (MediaStore.read, what the whatsmeow engine does) is measured apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from bench.stack import DevStack
from bench.stats import median, summary_ms

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.media import file_server, jpeg, pad  # noqa: E402 - test helpers, on the path just above


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class Client:
    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {stack.key}"

    def upload(self, data: bytes) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        answer = self.http.post(f"{self.stack.base_url}/media", files={"file": ("bench.jpg", data, "image/jpeg")})
        elapsed = time.perf_counter() - started
        assert answer.status_code == 201, answer.text
        return elapsed, answer.json()

    def presigned(self, data: bytes) -> tuple[float, float, dict[str, Any]]:
        started = self.http.post(f"{self.stack.base_url}/media/uploads").json()
        form = started["upload"]
        began = time.perf_counter()
        stored = requests.post(form["url"], data=form["fields"], files={"file": ("big.jpg", data)}, timeout=120)
        to_s3 = time.perf_counter() - began
        assert stored.status_code in (200, 201, 204), stored.text
        began = time.perf_counter()
        completed = self.http.post(f"{self.stack.base_url}/media/uploads/{started['media_id']}/complete", json={})
        complete = time.perf_counter() - began
        assert completed.status_code == 200, completed.text
        return to_s3, complete, completed.json()

    def send_image_until_sent(self, **source: str) -> dict[str, float]:
        """Seconds from the request to `sent`: as the client saw it (polling every 20 ms) and as recorded."""
        body = {"instance_id": self.stack.instance_id, "to": "+5511988888888", **source}
        wall = time.time()
        began = time.perf_counter()
        answer = self.http.post(f"{self.stack.base_url}/messages/image", json=body)
        accepted_s = time.perf_counter() - began
        assert answer.status_code == 202, answer.text
        message_id = answer.json()["message_id"]
        while True:
            message = self.http.get(f"{self.stack.base_url}/messages/{message_id}").json()
            if message["status"] in ("sent", "delivered", "read"):
                break
            assert message["status"] not in ("failed", "expired", "canceled"), message
            time.sleep(0.02)
        observed = time.perf_counter() - began
        history = {change["status"]: _at(change["at"]) for change in message["history"]}
        return {
            "accepted_s": accepted_s,
            "observed_s": observed,
            "recorded_s": history["sent"] - wall,  # the worker's `sent` time, from the client's clock (one host)
            "queued_to_sent_s": history["sent"] - history["queued"],
        }


def _mb_per_s(size: int, seconds: list[float]) -> float:
    return round(size / MiB / median(seconds), 1)


def run(rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {"rounds": rounds}
    with tempfile.TemporaryDirectory(prefix="bz-bench-media-") as home:
        stack = DevStack(Path(home), dict(os.environ)).start()
        try:
            client = Client(stack)
            client.upload(jpeg())  # warm: imports, connections, the first S3 put
            uploads = {}
            for size in (256 * 1024, MiB, 4 * MiB):
                data = pad(jpeg(), size)
                times = [client.upload(data)[0] for _ in range(rounds)]
                uploads[f"{size // 1024} KiB"] = {"mb_per_s": _mb_per_s(size, times), **summary_ms(times)}
            results["post_media"] = uploads

            ten = pad(jpeg(), 10 * MiB)
            presigned = [client.presigned(ten) for _ in range(rounds)]
            results["presigned_10MiB"] = {
                "to_s3_mb_per_s": _mb_per_s(10 * MiB, [p[0] for p in presigned]),
                "complete": summary_ms([p[1] for p in presigned]),
                "end_to_end_mb_per_s": _mb_per_s(10 * MiB, [p[0] + p[1] for p in presigned]),
            }
            media_id = presigned[-1][2]["media_id"]

            by_id = [client.send_image_until_sent(media_id=media_id) for _ in range(rounds)]
            results["send_10MB_image_by_id"] = _send_summary(by_id)
            with file_server({"/big.jpg": (ten, "image/jpeg")}) as server:
                by_url = [client.send_image_until_sent(url=f"{server.url}/big.jpg") for _ in range(rounds)]
            results["send_10MB_image_by_url"] = _send_summary(by_url)

            # The store as the worker builds it: the stack's endpoint, credentials and stage.
            os.environ.update({k: v for k, v in stack.values.items() if k.startswith("AWS_")} | {"BZ_STAGE": "local"})
            from bzapper.adapters.aws.media import MediaStore
            from bzapper.config import reset_settings

            reset_settings()

            store = MediaStore()
            media = store.describe(stack.account_id, False, media_id)
            assert media is not None
            reads = []
            for _ in range(rounds):
                began = time.perf_counter()
                assert len(store.read(media)) == 10 * MiB
                reads.append(time.perf_counter() - began)
            results["worker_read_10MiB"] = {"mb_per_s": _mb_per_s(10 * MiB, reads), **summary_ms(reads)}
        finally:
            stack.stop()
    return results


def _send_summary(samples: list[dict[str, float]]) -> dict[str, Any]:
    return {name: summary_ms([sample[name] for sample in samples]) for name in samples[0]}


def table(results: dict[str, Any]) -> str:
    lines = [f"media on the local stack ({results['rounds']} rounds each, medians)"]
    for size, row in results["post_media"].items():
        lines.append(f"  POST /media {size:>9}: {row['mb_per_s']:>6} MB/s  ({row['p50_ms']} ms)")
    pre = results["presigned_10MiB"]
    lines.append(
        f"  pre-signed 10 MiB: {pre['to_s3_mb_per_s']} MB/s to S3, complete {pre['complete']['p50_ms']} ms, "
        f"{pre['end_to_end_mb_per_s']} MB/s in all"
    )
    for name in ("send_10MB_image_by_id", "send_10MB_image_by_url"):
        row = results[name]
        lines.append(
            f"  {name}: accepted {row['accepted_s']['p50_ms']} ms, sent after {row['recorded_s']['p50_ms']} ms "
            f"(recorded; {row['observed_s']['p50_ms']} ms observed by polling), queued→sent "
            f"{row['queued_to_sent_s']['p50_ms']} ms"
        )
    read = results["worker_read_10MiB"]
    lines.append(f"  worker read of 10 MiB (MediaStore.read): {read['mb_per_s']} MB/s ({read['p50_ms']} ms)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = run(args.rounds)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
