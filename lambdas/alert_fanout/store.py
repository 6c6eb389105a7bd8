"""The DynamoDB alert store read by the analyst API.

One item per alert, key `alert_id`; `day` and `card_id` feed the `gsi_day` and `gsi_card`
indexes (sort key `detected_at`). `day` is the UTC date of the transaction's `event_time`
(fixed per transaction, as the lake's `dt`). The item is created once with status `new`
(`attribute_not_exists`), so neither a redelivery nor a replay of the job (which stamps a new
`detected_at`) rewrites it or resets an analyst's verdict: the first delivery's values stay.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from .alert import Alert

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUSES = ("new", "confirmed_fraud", "legitimate")
_serializer = TypeSerializer()


def to_attribute_values(document: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready dict as DynamoDB attribute values (floats become exact decimals)."""
    exact = json.loads(json.dumps(document), parse_float=Decimal)
    return {name: _serializer.serialize(value) for name, value in exact.items()}


def alert_item(alert: Alert) -> dict[str, Any]:
    record = alert.to_record()
    record.pop("schema")
    return {
        **record,
        "day": f"{alert.happened:%Y-%m-%d}",
        "status": "new",
        "schema_version": 1,
    }


class AlertStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def put_new(self, alert: Alert) -> bool:
        """Store the alert with status `new`; False when it was already stored."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=to_attribute_values(alert_item(alert)),
                ConditionExpression="attribute_not_exists(alert_id)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
