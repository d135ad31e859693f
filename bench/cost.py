"""The AWS cost of one million sends with their status events, from measured counts × prices.py.

Everything counted is measured by the bench (requests by service and operation, DynamoDB request
units from real item sizes, EventBridge entries, Lambda invocations and CPU time, worker CPU time).
What cannot be measured on a laptop is an assumption, named here with its reason, and shown in every
line's formula: Lambda memory and architecture (as infra/ deploys them), how long AWS takes to answer a
call (Lambda bills that wait), the bytes of Lambda's own log lines, the Fargate task shape and target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.prices import price

MILLION = 1_000_000
LAMBDA_FULL_VCPU_MB = 1769  # Lambda allocates one full vCPU at 1,769 MB, proportionally below


@dataclass(frozen=True)
class Assumptions:
    """What a laptop cannot measure. Memory, architecture and the worker's shape mirror infra/ (read
    there on 2026-11-24: infra/stacks/api.py API_MEMORY_MIB and WORKER_FUNCTION_MEMORY_MIB,
    infra/components/function.py ARCHITECTURE, infra/config.py worker_cpu/worker_memory_mib,
    infra/components/worker.py's 60 % CPU scaling target); change them here if infra changes."""

    lambda_memory_mb: dict[str, int] = field(default_factory=lambda: {"messages": 1024})
    default_lambda_memory_mb: int = 512
    """Queue consumers and schedules: 512 MB; HTTP functions: 1,024 MB."""
    lambda_arch: str = "arm64"
    aws_latency_ms: dict[str, float] = field(
        default_factory=lambda: {
            # In-region round trips a Lambda waits for (typical medians; moto's are not AWS's).
            "dynamodb:GetItem": 4.0,
            "dynamodb:Query": 6.0,
            "dynamodb:PutItem": 6.0,
            "dynamodb:UpdateItem": 6.0,
            "dynamodb:TransactWriteItems": 15.0,
            "sqs:SendMessage": 8.0,
            "sqs:GetQueueUrl": 8.0,
            "events:PutEvents": 12.0,
        }
    )
    default_latency_ms: float = 8.0
    log_bytes_per_invocation: int = 400
    """Lambda's START, END and REPORT lines; the code logs nothing at INFO on the happy path."""
    fargate_vcpu: float = 0.5
    fargate_gb: float = 1.0
    fargate_arch: str = "arm64"
    fargate_utilisation: float = 0.6
    """The worker service scales out at 60 % CPU."""

    def memory_mb(self, function: str) -> int:
        return self.lambda_memory_mb.get(function, self.default_lambda_memory_mb)

    def task_hour(self) -> float:
        return self.fargate_vcpu * price("fargate", f"vcpu_hour_{self.fargate_arch}") + self.fargate_gb * price(
            "fargate", f"gb_hour_{self.fargate_arch}"
        )


@dataclass(frozen=True)
class PerSend:
    """What one accepted send costs in counted units, over its whole life."""

    api_requests: float
    lambda_invocations: dict[str, float]
    lambda_cpu_s: dict[str, float]
    lambda_aws_calls: dict[str, dict[str, float]]
    dynamodb_wru: float
    dynamodb_rru: float
    sqs_fifo_requests: float
    sqs_standard_requests: float
    """Includes EventBridge's own deliveries to the rules' queues (entries × rules)."""
    eventbridge_entries: float
    worker_cpu_s: float
    webhook_posts: float | None = None
    """None: no webhook dispatcher in this build."""


@dataclass(frozen=True)
class Line:
    item: str
    formula: str
    usd: float


def _money(value: float) -> str:
    return f"${value:,.2f}"


def lambda_seconds(cpu_s: float, calls: dict[str, float], a: Assumptions, memory_mb: int) -> tuple[float, float]:
    """(billed seconds, of which waiting on AWS) for one send's share of a function."""
    slowdown = max(1.0, LAMBDA_FULL_VCPU_MB / memory_mb)
    wait = sum(count * a.aws_latency_ms.get(op, a.default_latency_ms) for op, count in calls.items()) / 1000
    return cpu_s * slowdown + wait, wait


def per_million(send: PerSend, a: Assumptions | None = None, sends: int = MILLION) -> list[Line]:
    a = a or Assumptions()
    m = sends / MILLION
    lines = []
    api = send.api_requests * m * price("api_gateway_http", "requests_per_million")
    lines.append(Line("API Gateway HTTP API", f"{send.api_requests:g} req/send × {sends:,} × $1.00/M", api))

    invocations = sum(send.lambda_invocations.values())
    requests = invocations * m * price("lambda", "requests_per_million")
    detail = " + ".join(f"{v:g} {k}" for k, v in send.lambda_invocations.items())
    lines.append(Line("Lambda requests", f"({detail}) invocations/send × {sends:,} × $0.20/M", requests))

    gb_s_price = price("lambda", f"gb_second_{a.lambda_arch}")
    for function, cpu_s in send.lambda_cpu_s.items():
        memory = a.memory_mb(function)
        gb = memory / 1024
        seconds, wait = lambda_seconds(cpu_s, send.lambda_aws_calls.get(function, {}), a, memory)
        usd = seconds * gb * sends * gb_s_price
        stretch = f" × {LAMBDA_FULL_VCPU_MB}/{memory}" if memory < LAMBDA_FULL_VCPU_MB else ""
        lines.append(
            Line(
                f"Lambda duration: {function}",
                f"({cpu_s * 1000:.1f} ms CPU{stretch} + {wait * 1000:.0f} ms AWS wait)"
                f" × {gb:g} GB × {sends:,} × ${gb_s_price}/GB-s ({a.lambda_arch})",
                usd,
            )
        )

    wru = send.dynamodb_wru * m * price("dynamodb_on_demand", "write_request_units_per_million")
    lines.append(Line("DynamoDB writes (on-demand)", f"{send.dynamodb_wru:g} WRU/send × {sends:,} × $0.625/M", wru))
    rru = send.dynamodb_rru * m * price("dynamodb_on_demand", "read_request_units_per_million")
    lines.append(Line("DynamoDB reads (on-demand)", f"{send.dynamodb_rru:g} RRU/send × {sends:,} × $0.125/M", rru))

    fifo = send.sqs_fifo_requests * m * price("sqs", "fifo_requests_per_million")
    lines.append(Line("SQS FIFO requests", f"{send.sqs_fifo_requests:g} req/send × {sends:,} × $0.50/M", fifo))
    standard = send.sqs_standard_requests * m * price("sqs", "standard_requests_per_million")
    lines.append(
        Line("SQS standard requests", f"{send.sqs_standard_requests:g} req/send × {sends:,} × $0.40/M", standard)
    )

    events = send.eventbridge_entries * m * price("eventbridge", "custom_events_per_million")
    lines.append(
        Line("EventBridge PutEvents", f"{send.eventbridge_entries:g} events/send × {sends:,} × $1.00/M", events)
    )

    log_gb = invocations * a.log_bytes_per_invocation * sends / 1e9
    logs = log_gb * price("cloudwatch_logs", "ingestion_per_gb")
    lines.append(
        Line(
            "CloudWatch Logs ingestion (estimate)",
            f"{invocations:g} invocations/send × {a.log_bytes_per_invocation} B × {sends:,}"
            f" = {log_gb:.2f} GB × $0.50/GB",
            logs,
        )
    )

    task_hour = a.task_hour()
    task_hours = send.worker_cpu_s * sends / 3600 / (a.fargate_vcpu * a.fargate_utilisation)
    lines.append(
        Line(
            "Fargate workers (marginal)",
            f"{send.worker_cpu_s * 1000:.1f} ms CPU/send × {sends:,}"
            f" / ({a.fargate_vcpu:g} vCPU × {a.fargate_utilisation:.0%})"
            f" = {task_hours:,.1f} task-h × ${task_hour:.5f}/task-h",
            task_hours * task_hour,
        )
    )
    if send.webhook_posts is None:
        lines.append(Line("Webhook delivery (rule → SQS → dispatcher)", "n/a (not built yet)", 0.0))
    return lines


def fixed_monthly(idle_requests_per_hour: dict[str, float], a: Assumptions | None = None) -> list[Line]:
    """What one always-on worker costs a month before any send (730 h)."""
    a = a or Assumptions()
    hours = 730
    lines = [
        Line(
            "Fargate: one worker task",
            f"{hours} h × ({a.fargate_vcpu:g} vCPU × ${price('fargate', f'vcpu_hour_{a.fargate_arch}')}"
            f" + {a.fargate_gb:g} GB × ${price('fargate', f'gb_hour_{a.fargate_arch}')}) ({a.fargate_arch})",
            hours * a.task_hour(),
        )
    ]
    sqs = sum(count for op, count in idle_requests_per_hour.items() if op.startswith("sqs:"))
    lines.append(
        Line(
            "SQS: the idle worker's polling",
            f"{sqs:,.0f} req/h × {hours} h × $0.50/M",
            sqs * hours / MILLION * price("sqs", "fifo_requests_per_million"),
        )
    )
    return lines


def per_send_from(life: dict[str, Any], send_cpu_s: float | None) -> PerSend:
    """Builds the counted inputs from a life scenario (see bench.life) and the send path's CPU time.

    Every Lambda in the scenario counts: messages (component "api"), and each queue consumer, whose
    component is its group's name."""
    counts = life["requests_per_message"]
    units = life["dynamodb_units_per_message"]
    cpu = dict(life["cpu_ms_per_message"])
    invocations = life["invocations_per_message"]
    functions = [name for name in invocations if invocations[name]]
    lambda_cpu = {name: cpu.get(name, 0.0) / 1000 for name in functions}
    if send_cpu_s is not None:
        lambda_cpu["messages"] = send_cpu_s  # the timed section's median, not the counting run's
    sqs = life["sqs_requests_per_message"]
    return PerSend(
        api_requests=1.0,
        lambda_invocations={name: invocations[name] for name in functions},
        lambda_cpu_s=lambda_cpu,
        lambda_aws_calls={name: counts.get("api" if name == "messages" else name, {}) for name in functions},
        dynamodb_wru=round(units["wru"] + units["gsi_wru"], 3),
        dynamodb_rru=units["rru"],
        sqs_fifo_requests=sqs.get("fifo", 0.0),
        sqs_standard_requests=round(
            sqs.get("standard", 0.0) + life.get("eventbridge_target_sends_per_message", 0.0), 3
        ),
        eventbridge_entries=life["eventbridge_entries_per_message"],
        worker_cpu_s=cpu["worker"] / 1000,
        webhook_posts=life.get("webhook_posts_per_message") if "webhook_dispatch" in invocations else None,
    )


def total(lines: list[Line]) -> float:
    return sum(line.usd for line in lines)


def as_json(lines: list[Line]) -> list[dict[str, Any]]:
    return [{"item": line.item, "formula": line.formula, "usd": round(line.usd, 4)} for line in lines]


def compute(sections: dict[str, Any]) -> dict[str, Any]:
    """The cost section of results.json from its send and life sections (recomputable: bench.markdown)."""
    from bench.prices import AS_OF, REGION

    send_cpu = sections.get("send_in_process", {}).get("handler", {}).get("cpu_p50_ms")
    emf = emf_bytes()
    assumptions = Assumptions(log_bytes_per_invocation=400 + emf)
    out: dict[str, Any] = {
        "region": REGION,
        "prices_as_of": AS_OF,
        "assumptions": assumptions.__dict__,
        "log_bytes": {"lambda_platform_lines_assumed": 400, "emf_metrics_measured": emf},
    }
    for scenario in ("busy", "quiet"):
        per_send = per_send_from(sections["life"][scenario], send_cpu / 1000 if send_cpu else None)
        lines = per_million(per_send, assumptions)
        out[f"{scenario}_inputs"] = per_send.__dict__
        out[scenario] = as_json(lines)
        out[f"{scenario}_total"] = round(total(lines), 2)
    idle = sections["life"].get("idle_worker", {}).get("requests_per_hour", {})
    out["fixed_monthly"] = as_json(fixed_monthly(idle, assumptions))
    return out


def emf_bytes() -> int:
    """One invocation's EMF document (the business metric the code counts, plus Powertools' envelope),
    as `log_metrics` prints it to the function's log on AWS: serialised by Powertools itself."""
    import json

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics(namespace="bzapper", service="bzapper")
    # Powertools shares one metric set between instances: what the handlers under test counted (never
    # flushed in local mode) would otherwise swell the document.
    metrics.clear_metrics()
    metrics.add_metric(name="SendsAccepted", unit=MetricUnit.Count, value=1)
    document = json.dumps(metrics.serialize_metric_set(), separators=(",", ":"))
    metrics.clear_metrics()
    return len(document.encode()) + 1
