"""What the figures were measured on, and how busy the machine was while they were."""

from __future__ import annotations

import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    head = ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (ROOT / ".git" / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return None


def _dirty_code() -> list[str]:
    """Uncommitted changes to the measured code (others share this working tree): listed, not hidden."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", "layers", "dev", "functions", "worker"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line[3:] for line in out.splitlines() if line.strip()]


def describe() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "moto": _version("moto"),
        "boto3": _version("boto3"),
        "botocore": _version("botocore"),
        "pynamodb": _version("pynamodb"),
        "fastapi": _version("fastapi"),
        "aws_lambda_powertools": _version("aws-lambda-powertools"),
        "commit": _git_commit(),
        "uncommitted_code_changes": _dirty_code(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def settle(max_wait: float = 5.0, threshold: float | None = None) -> dict[str, float]:
    """Wait (bounded) for the 1-minute load to fall under `threshold` (default: 0.75 per core).

    Other people's test runs share this machine: a section measured under load says so in the
    results instead of pretending; this only gives a busy moment a chance to pass first.
    """
    limit = threshold if threshold is not None else 0.75 * (os.cpu_count() or 1)
    started = time.monotonic()
    while os.getloadavg()[0] > limit and time.monotonic() - started < max_wait:
        time.sleep(1.0)
    return {"load_1m": load(), "waited_s": round(time.monotonic() - started, 1)}


class Section:
    """Records load before and after a section, and its wall time."""

    def __init__(self, name: str, settle_first: bool = True) -> None:
        self.name = name
        self.settle_first = settle_first
        self.info: dict[str, Any] = {}

    def __enter__(self) -> Section:
        before = settle() if self.settle_first else {"load_1m": load(), "waited_s": 0.0}
        self.info = {"load_before": before["load_1m"], "settle_wait_s": before["waited_s"]}
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.info["load_after"] = load()
        self.info["wall_s"] = round(time.monotonic() - self._started, 1)
        cores = os.cpu_count() or 1
        self.info["noisy"] = max(self.info["load_before"], self.info["load_after"]) > cores
