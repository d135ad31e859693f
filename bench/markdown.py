"""`python -m bench.markdown [bench/results.json]`: the cost lines as Markdown, for docs/cost.md.

The figures in the docs come from a results file through this, never by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.machine import ROOT


def cost_tables(results: dict[str, Any]) -> str:
    cost = results["sections"]["cost"]
    out = []
    for scenario, title in (
        ("busy", "Busy (10 messages in flight, batches of 10)"),
        ("quiet", "Quiet (one message at a time)"),
    ):
        out += [f"### {title}", "", "| line | formula | USD |", "| --- | --- | ---: |"]
        for line in cost[scenario]:
            out.append(f"| {line['item']} | {line['formula']} | {line['usd']:,.2f} |")
        out += [f"| **total** | | **{cost[f'{scenario}_total']:,.2f}** |", ""]
    out += ["### Fixed, per worker and month", "", "| line | formula | USD |", "| --- | --- | ---: |"]
    for line in cost["fixed_monthly"]:
        out.append(f"| {line['item']} | {line['formula']} | {line['usd']:,.2f} |")
    return "\n".join(out) + "\n"


def inputs_table(results: dict[str, Any]) -> str:
    cost = results["sections"]["cost"]
    busy, quiet = cost["busy_inputs"], cost["quiet_inputs"]
    rows = [
        ("API requests", busy["api_requests"], quiet["api_requests"]),
        *[
            (f"Lambda invocations: {name}", value, quiet["lambda_invocations"].get(name))
            for name, value in busy["lambda_invocations"].items()
        ],
        *[
            (f"Lambda CPU ms: {name}", round(value * 1000, 1), round(quiet["lambda_cpu_s"].get(name, 0) * 1000, 1))
            for name, value in busy["lambda_cpu_s"].items()
        ],
        ("DynamoDB WRU (table + GSI)", busy["dynamodb_wru"], quiet["dynamodb_wru"]),
        ("DynamoDB RRU", busy["dynamodb_rru"], quiet["dynamodb_rru"]),
        ("SQS FIFO requests", busy["sqs_fifo_requests"], quiet["sqs_fifo_requests"]),
        (
            "SQS standard requests (incl. EventBridge → queue)",
            busy["sqs_standard_requests"],
            quiet["sqs_standard_requests"],
        ),
        ("EventBridge events", busy["eventbridge_entries"], quiet["eventbridge_entries"]),
        ("webhook POSTs", busy.get("webhook_posts"), quiet.get("webhook_posts")),
        ("worker CPU ms", round(busy["worker_cpu_s"] * 1000, 1), round(quiet["worker_cpu_s"] * 1000, 1)),
    ]
    out = ["| per send | busy | quiet |", "| --- | ---: | ---: |"]
    out += [f"| {name} | {b} | {q} |" for name, b, q in rows]
    return "\n".join(out) + "\n"


def main() -> None:
    """`--recost` recomputes the cost section with the current bench/cost.py and prices.py first."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = Path(args[0]) if args else ROOT / "bench" / "results.json"
    results = json.loads(path.read_text())
    if "--recost" in sys.argv:
        from bench.cost import compute

        load = results["sections"].get("cost", {}).get("load")
        results["sections"]["cost"] = {**compute(results["sections"]), **({"load": load} if load else {})}
        path.write_text(json.dumps(results, indent=2) + "\n")
    print(inputs_table(results))
    print(cost_tables(results))


if __name__ == "__main__":
    main()
