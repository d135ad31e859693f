"""The performance targets (issue #20) read off one run's results: each figure, its target, and whether it is met.

Every figure here comes from a section of the same run; a section that failed or was skipped shows as missing,
never as met.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bzapper.topology import TOPOLOGY


@dataclass(frozen=True)
class Target:
    figure: str
    target: str
    read: Callable[[dict[str, Any]], tuple[str, bool] | None]
    """From the sections: (the figure as printed, whether the target is met); None when the run lacks it."""


def _get(sections: dict[str, Any], *path: str) -> Any:
    value: Any = sections
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _imports(sections: dict[str, Any], http: bool) -> dict[str, float] | None:
    handlers = _get(sections, "cold_start_deployed", "handlers")
    if not handlers:
        return None
    api = set(TOPOLOGY.api_groups)
    return {name: row["import_x"] for name, row in handlers.items() if (name in api) == http and "import_x" in row}


def _cold(http: bool, bound: float) -> Callable[[dict[str, Any]], tuple[str, bool] | None]:
    def read(sections: dict[str, Any]) -> tuple[str, bool] | None:
        ratios = _imports(sections, http)
        if not ratios:
            return None
        worst = max(ratios, key=lambda name: ratios[name])
        return f"worst {worst} {ratios[worst]:.2f}x ({len(ratios)} functions)", ratios[worst] <= bound

    return read


def _bytecode(sections: dict[str, Any]) -> tuple[str, bool] | None:
    deployed = sections.get("cold_start_deployed")
    if not deployed or "bytecode" not in deployed:
        return None
    python = deployed.get("python")
    return f"{'compiled' if deployed['bytecode'] else 'none'} (Python {python})", bool(deployed["bytecode"])


def _send(sections: dict[str, Any]) -> tuple[str, bool] | None:
    ratio = _get(sections, "send_in_process", "ratio")
    if not ratio:
        return None
    handler = _get(sections, "send_in_process", "handler", "per_second")
    floor = _get(sections, "send_in_process", "floor", "per_second")
    return f"{handler} vs {floor} sends/s ({ratio['throughput_x']:.2f}x)", ratio["throughput_x"] >= 0.8


def _units(sections: dict[str, Any]) -> tuple[str, bool] | None:
    figures = []
    worst = 0.0
    for scenario in ("busy", "quiet"):
        units = _get(sections, "life", scenario, "dynamodb_units_per_message")
        if not units:
            return None
        total = units["wru"] + units.get("gsi_wru", 0.0)
        worst = max(worst, total)
        figures.append(f"{scenario} {units['wru']:g} + {units.get('gsi_wru', 0.0):g} GSI")
    return "; ".join(figures), worst <= 25


def _cost(sections: dict[str, Any]) -> tuple[str, bool] | None:
    cost = sections.get("cost") or {}
    if "busy_total" not in cost:
        return None
    return f"${cost['busy_total']:.2f} busy / ${cost['quiet_total']:.2f} quiet", max(
        cost["busy_total"], cost["quiet_total"]
    ) <= 25


def _idle(sections: dict[str, Any]) -> tuple[str, bool] | None:
    per_hour = _get(sections, "life", "idle_worker", "requests_per_hour")
    if per_hour is None:
        return None
    total = sum(per_hour.values())
    scans = per_hour.get("dynamodb:Scan", 0)
    lookups = per_hour.get("sqs:GetQueueUrl", 0)
    parts = ", ".join(f"{name} {count:,}" for name, count in sorted(per_hour.items()))
    return f"{total:,}/hour ({parts})", total <= 500 and scans == 0 and lookups == 0


def _local_cpu(sections: dict[str, Any]) -> tuple[str, bool] | None:
    cpu = _get(sections, "e2e", "stack_cpu_s_per_message")
    if cpu is None:
        return None
    return f"{cpu:.3f} CPU-s", cpu <= 0.2


def _drain(sections: dict[str, Any]) -> tuple[str, bool] | None:
    rate = _get(sections, "drain", "messages_per_second")
    if rate is None:
        return None
    return f"{rate:.1f} messages/s", rate >= 5


TARGETS = (
    Target("HTTP handler cold import ÷ import boto3 (deployed tree)", "≤ 3.0x every HTTP function", _cold(True, 3.0)),
    Target("queue/event consumer cold import ÷ import boto3", "≤ 1.5x", _cold(False, 1.5)),
    Target("the Lambda layer's bytecode", "compiled by the runtime's Python", _bytecode),
    Target("send path in-process vs its floor, throughput", "≥ 0.8x the floor", _send),
    Target("DynamoDB write units per message life (table + GSI)", "≤ 25 in all", _units),
    Target("AWS cost per 1M sends with their whole life", "≤ $25", _cost),
    Target("an idle worker, requests per hour", "≤ 500, no Scan, no GetQueueUrl", _idle),
    Target("the local stack: CPU per message life", "≤ 0.2 CPU-s", _local_cpu),
    Target("the local stack: one number drains", "≥ 5 messages/s", _drain),
)


def evaluate(sections: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for target in TARGETS:
        try:
            read = target.read(sections)
        except (KeyError, TypeError, ValueError):
            read = None
        rows.append(
            {
                "figure": target.figure,
                "target": target.target,
                "measured": read[0] if read else "missing (section failed or skipped)",
                "met": read[1] if read else None,
            }
        )
    return rows
