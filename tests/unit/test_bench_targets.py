"""The bench's targets table reads each figure from its section, and says "missing" (never "met") when a section
failed or was skipped."""

from __future__ import annotations

from bench.targets import evaluate


def _by_figure(sections: dict) -> dict[str, dict]:
    return {row["figure"]: row for row in evaluate(sections)}


def test_a_run_without_sections_meets_nothing() -> None:
    assert {row["met"] for row in evaluate({})} == {None}
    assert all(row["measured"].startswith("missing") for row in evaluate({"life": {"error": "boom"}}))


def test_each_figure_is_judged_against_its_target() -> None:
    sections = {
        "send_in_process": {
            "ratio": {"throughput_x": 0.8},
            "handler": {"per_second": 80},
            "floor": {"per_second": 100},
        },
        "life": {
            "busy": {"dynamodb_units_per_message": {"wru": 20.0, "gsi_wru": 5.0}},
            "quiet": {"dynamodb_units_per_message": {"wru": 21.0, "gsi_wru": 5.0}},
            "idle_worker": {"requests_per_hour": {"sqs:ReceiveMessage": 400, "dynamodb:Scan": 1}},
        },
        "cold_start_deployed": {
            "python": "3.12",
            "bytecode": True,
            "handlers": {"messages": {"import_x": 2.9}, "webhooks": {"import_x": 3.1}, "statuses": {"import_x": 1.4}},
        },
        "e2e": {"stack_cpu_s_per_message": 0.19},
        "drain": {"messages_per_second": 4.9},
    }
    rows = _by_figure(sections)
    met = {figure: row["met"] for figure, row in rows.items()}
    assert met["send path in-process vs its floor, throughput"] is True
    assert met["DynamoDB write units per message life (table + GSI)"] is False  # quiet is 26
    assert met["an idle worker, requests per hour"] is False  # under 500, but it scans
    assert met["HTTP handler cold import ÷ import boto3 (deployed tree)"] is False
    assert "webhooks 3.10x" in rows["HTTP handler cold import ÷ import boto3 (deployed tree)"]["measured"]
    assert met["queue/event consumer cold import ÷ import boto3"] is True
    assert met["the local stack: CPU per message life"] is True
    assert met["the local stack: one number drains"] is False
    assert met["AWS cost per 1M sends with their whole life"] is None
