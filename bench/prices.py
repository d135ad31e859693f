"""AWS public list prices, us-east-1 (N. Virginia), on-demand, no free tier, no savings plans.

Source and date, honestly: these figures come from my own knowledge of AWS's public pricing pages as
of early 2025 (including DynamoDB's November 2024 on-demand price cut); they were written down on
2026-11-24 WITHOUT being fetched again that day. Check them against https://aws.amazon.com/pricing/
before quoting a cost to anyone; change them here, in this one file, and `make bench` recomputes.

Units are US dollars. Where AWS prices per million, the figure here is per million too.
"""

from __future__ import annotations

REGION = "us-east-1"
AS_OF = "early 2025 (from knowledge, not re-fetched; recorded 2026-11-24)"

PRICES: dict[str, dict[str, float | str]] = {
    "lambda": {
        "requests_per_million": 0.20,
        "gb_second_x86": 0.0000166667,  # first 6 billion GB-s per month tier
        "gb_second_arm64": 0.0000133334,
        "note": "duration billed per 1 ms; CPU is allocated in proportion to memory, 1 vCPU at 1,769 MB",
    },
    "api_gateway_http": {
        "requests_per_million": 1.00,  # first 300 million per month; metered in 512 KB increments
    },
    "dynamodb_on_demand": {
        "write_request_units_per_million": 0.625,
        "read_request_units_per_million": 0.125,
        "storage_gb_month": 0.25,
    },
    "sqs": {
        "standard_requests_per_million": 0.40,
        "fifo_requests_per_million": 0.50,  # each 64 KB chunk of a payload is one request; batches count once
    },
    "eventbridge": {
        "custom_events_per_million": 1.00,  # PutEvents: each 64 KB chunk of an entry is one event
    },
    "cloudwatch_logs": {
        "ingestion_per_gb": 0.50,  # standard log class
        "storage_gb_month": 0.03,
    },
    "fargate": {
        "vcpu_hour_x86": 0.04048,
        "gb_hour_x86": 0.004445,
        "vcpu_hour_arm64": 0.03238,
        "gb_hour_arm64": 0.00356,
    },
}


def price(service: str, item: str) -> float:
    value = PRICES[service][item]
    if not isinstance(value, float | int):
        raise TypeError(f"{service}.{item} is not a price")
    return float(value)
