"""Status reports as the statuses consumer receives them: genuine SQS FIFO events, one record per report."""

from __future__ import annotations

import json

from bzapper.domain.model import StatusReport
from bzapper_dev.local.lambda_events import sqs_event
from support.apigw import LambdaContext

STATUS_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo"


class CapturingPublisher:
    """Stands in for the bus: keeps what would have been published."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def publish(self, events: list[dict]) -> None:
        self.events.extend(events)

    def of_type(self, event_type: str) -> list[dict]:
        return [event for event in self.events if event["type"] == event_type]


def deliver(statuses_handler, *reports: StatusReport) -> None:
    """Each report through the consumer, in order; every record must be processed."""
    for index, report in enumerate(reports):
        record = {
            "MessageId": f"m-{report.wa_message_id}-{report.status}-{index}",
            "ReceiptHandle": f"rh-{index}",
            "Body": json.dumps(report.to_json()),
            "Attributes": {"MessageGroupId": report.wa_message_id, "ApproximateReceiveCount": "1"},
        }
        answer = statuses_handler(sqs_event([record], STATUS_QUEUE_ARN, "us-east-1"), LambdaContext())
        assert answer == {"batchItemFailures": []}
