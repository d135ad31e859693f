"""`make bench` keeps working as the code changes: its quick mode runs the sections that drive the services and the
handlers directly (the send path, authentication, the whole life of a message), and none may fail. Figures are
never asserted here (timings belong to the bench, not to tests): only that each section produced them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("bench_harness")]

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_sections_that_call_the_code_run_without_error(tmp_path: Path):
    output = tmp_path / "results.json"
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--skip", "cold,density,stack", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    sections = json.loads(output.read_text())["sections"]
    failed = {name: section["error"] for name, section in sections.items() if "error" in section}
    assert failed == {}, finished.stderr[-3000:]
    assert {"send_in_process", "auth", "life"} <= set(sections)
    # The targets' table reads every figure these sections measure (none of them "missing").
    targets = finished.stdout[finished.stdout.index("TARGETS") :]
    for figure in ("send path in-process", "DynamoDB write units", "an idle worker"):
        [row] = [line for line in targets.splitlines() if figure in line]
        assert "missing" not in row, row
