"""History on pairing on moto (docs/history.md): a worker's history parts through the real statuses consumer land
in the inbox marked imported (the real inbox handler shows them), without message events or usage; a part
delivered again and a live message also in the history change nothing; one instance.history_synced; and what
the import costs in DynamoDB requests."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from support.apigw import LambdaContext, call
from support.dynamo_calls import DynamoCalls
from support.reports import STATUS_QUEUE_ARN

from bzapper.adapters.aws.models import ConversationModel, MessageModel, UsageModel
from bzapper.adapters.aws.usage import counter_id, hour_of
from bzapper.domain import history
from bzapper.domain.inbox import inbound_message_id
from bzapper.services.inbox import record_inbound
from bzapper_dev.local.lambda_events import sqs_event

T0 = 1_790_000_000_000
OLD = T0 - 7 * 86_400_000


def _jid(n: int) -> str:
    return f"55119888800{n:02d}@s.whatsapp.net"


def _chunk(account, conversations: int, per: int, *, chunk_id: str = "chunk-0", final: bool = True) -> dict:
    return {
        "kind": "history",
        "instance_id": account.instance_id,
        "sync_id": "sync-1",
        "chunk_id": chunk_id,
        "final": final,
        "at": T0,
        "conversations": [
            {
                "chat_jid": _jid(c),
                "messages": [
                    {
                        "wa_message_id": f"H{c:02d}M{m:03d}",
                        "chat_jid": _jid(c),
                        "from_me": m % 2 == 1,
                        "sender": {"jid": _jid(c), "push_name": f"Contact {c}"},
                        "type": "text",
                        "content": {"body": f"old message {m} of {c}"},
                        "at": OLD + c * 3_600_000 + m * 1000,
                    }
                    for m in range(per)
                ],
            }
            for c in range(conversations)
        ],
    }


def _deliver(statuses_handler, account, chunk: dict) -> None:
    """The chunk cut as the worker cuts it, each part through the consumer as an SQS FIFO record."""
    for index, part in enumerate(history.split(chunk)):
        part.update(kind="history", account_id=account.account_id, livemode=False)
        record = {
            "MessageId": f"m-{part['part_id']}-{index}",
            "ReceiptHandle": f"rh-{index}",
            "Body": json.dumps(part),
            "Attributes": {"MessageGroupId": account.instance_id, "ApproximateReceiveCount": "1"},
        }
        answer = statuses_handler(sqs_event([record], STATUS_QUEUE_ARN, "us-east-1"), LambdaContext())
        assert answer == {"batchItemFailures": []}


def _get(api, account, path: str, **params):
    query = urlencode({"instance_id": account.instance_id, **params})
    return call(api, "GET", path, headers=account.auth, query=query)


def test_a_history_is_imported_once_with_one_history_synced(svc, account, inbox_api, statuses_handler, published):
    chunk = _chunk(account, conversations=3, per=4)

    _deliver(statuses_handler, account, chunk)

    status, _, page = _get(inbox_api, account, "/conversations", limit=50)
    assert status == 200 and {row["jid"] for row in page["data"]} == {_jid(0), _jid(1), _jid(2)}
    newest = next(row for row in page["data"] if row["jid"] == _jid(2))
    assert newest["last_message"]["text"] == "old message 3 of 2" and newest["unread_count"] == 0
    status, _, thread = _get(inbox_api, account, f"/conversations/{quote(_jid(1))}/messages")
    assert status == 200 and len(thread["data"]) == 4
    assert all(m["imported"] for m in thread["data"])
    assert {m["direction"] for m in thread["data"]} == {"inbound", "outbound"}
    assert [e["type"] for e in published.events] == ["instance.history_synced"]
    synced = published.events[0]
    assert synced["data"]["conversations"] == 3 and synced["data"]["messages"] == 12
    assert synced["instance_id"] == account.instance_id
    assert UsageModel.count(counter_id(account.account_id, False)) == 0  # no usage for old messages

    # The same chunk again (WhatsApp, or the sandbox, hands it twice): nothing new, the same event id.
    rows_before = [(r["jid"], r["last_message"]) for r in page["data"]]
    _deliver(statuses_handler, account, chunk)
    _, _, again = _get(inbox_api, account, "/conversations", limit=50)
    assert [(r["jid"], r["last_message"]) for r in again["data"]] == rows_before
    assert MessageModel.count() == 12
    assert [e["type"] for e in published.events] == ["instance.history_synced"] * 2
    assert published.events[0] == published.events[1]  # one id: delivered once per endpoint

    # A live message that is also in the history: one row, no message.received.
    live = {
        "kind": "inbound",
        "instance_id": account.instance_id,
        "account_id": account.account_id,
        "livemode": False,
        "wa_message_id": "H01M000",
        "chat_jid": _jid(1),
        "from_me": False,
        "sender": {"jid": _jid(1)},
        "type": "text",
        "content": {"body": "old message 0 of 1"},
        "at": T0 + 5,
    }
    record_inbound(svc, live)
    assert MessageModel.count() == 12
    assert [e["type"] for e in published.events] == ["instance.history_synced"] * 2
    assert MessageModel.get(inbound_message_id(account.instance_id, "H01M000")).imported is True


def test_a_message_that_came_live_first_stays_live_and_is_not_counted(
    svc, account, statuses_handler, published
) -> None:
    chunk = _chunk(account, conversations=1, per=2)
    first = dict(chunk["conversations"][0]["messages"][0])
    live = {**first, "kind": "inbound", "instance_id": account.instance_id, "account_id": account.account_id}
    record_inbound(svc, {**live, "livemode": False})
    _deliver(statuses_handler, account, chunk)
    assert not MessageModel.get(inbound_message_id(account.instance_id, first["wa_message_id"])).imported
    assert published.of_type("instance.history_synced")[0]["data"]["messages"] == 1
    usage = UsageModel.get(counter_id(account.account_id, False), f"{hour_of(OLD)}#{account.instance_id}")
    assert usage.inbound == 1  # the live one only


def test_what_a_history_costs_in_dynamodb_requests(svc, account, statuses_handler, published, monkeypatch) -> None:
    """N messages in C conversations, one part (at most 100 messages): 2 BatchGetItem (messages, conversations),
    1 UpdateItem for the tally, C UpdateItem (one per conversation), ceil(N / 25) BatchWriteItem; the final part
    one UpdateItem more. A live message costs a TransactWriteItems of 3 items (billed twice each) per message."""
    svc.instances.get(account.instance_id)  # the instance cache warm, as in a running consumer
    chunk = _chunk(account, conversations=4, per=25)  # 100 messages: one part
    calls = DynamoCalls(monkeypatch)
    _deliver(statuses_handler, account, chunk)
    counted = {name: calls.names.count(name) for name in set(calls.names)}
    writes = {
        k: v for k, v in counted.items() if k in ("BatchWriteItem", "UpdateItem", "PutItem", "TransactWriteItems")
    }
    assert writes == {"BatchWriteItem": 4, "UpdateItem": 1 + 4 + 1}
    assert counted.get("BatchGetItem") == 2
    assert MessageModel.count() == 100
    assert ConversationModel.count(account.instance_id) == 5  # 4 conversations and the sync's tally item
