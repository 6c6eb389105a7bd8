"""Change requests on rules and lists (DynamoDB table `fraud-rule-changes`), like the label
ledger: one item per request, what became of it, and the per-analyst count that bounds one
account.

Item: `change_id` (partition key), `status` (`pending` / `applied` / `rejected`),
`requested_at`, `requested_by` (the token's `sub`), `change` (the whole Change as JSON,
lambdas/api/models.py). Index `gsi_status` (`status`, `requested_at`) lists requests of a
status newest first; `gsi_requester` (`requested_by`, `requested_at`, keys only) counts an
analyst's requests of the last 24 hours with `Select=COUNT` and a `Limit` of the quota. A
decision is recorded only while the item is still pending (a condition), so two admins
deciding at once cannot both succeed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .repository import iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PENDING, APPLIED, REJECTED = "pending", "applied", "rejected"
STATUS_INDEX = "gsi_status"
REQUESTER_INDEX = "gsi_requester"
#: Requests one listing returns (newest first).
PAGE = 100


class ChangeConflictError(RuntimeError):
    """The change was decided meanwhile: 409."""


class ChangeStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def add(self, change: dict[str, Any]) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item=_item(change),
            ConditionExpression="attribute_not_exists(change_id)",
        )

    def get(self, change_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key={"change_id": {"S": change_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return json.loads(item["change"]["S"]) if item else None

    def decide(self, change: dict[str, Any]) -> None:
        """Record the decided `change` if it is still pending; ChangeConflictError if not."""
        item = _item(change)
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"change_id": item["change_id"]},
                UpdateExpression="SET #status = :status, #change = :change",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status", "#change": "change"},
                ExpressionAttributeValues={
                    ":status": item["status"],
                    ":change": item["change"],
                    ":pending": {"S": PENDING},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ChangeConflictError(change["change_id"]) from None
            raise

    def by_status(self, status: str, limit: int = PAGE) -> list[dict[str, Any]]:
        response = self._dynamodb.query(
            TableName=self._table,
            IndexName=STATUS_INDEX,
            KeyConditionExpression="#status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [json.loads(item["change"]["S"]) for item in response.get("Items", [])]

    def requests_since(self, actor: str, since: datetime, bound: int) -> int:
        """The analyst's requests at or after `since`, counted up to `bound`."""
        count = 0
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": REQUESTER_INDEX,
            "Select": "COUNT",
            "KeyConditionExpression": "requested_by = :actor AND requested_at >= :since",
            "ExpressionAttributeValues": {":actor": {"S": actor}, ":since": {"S": iso(since)}},
        }
        while count < bound:
            response = self._dynamodb.query(**arguments, Limit=bound - count)
            count += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            arguments["ExclusiveStartKey"] = last
        return count


def _item(change: dict[str, Any]) -> dict[str, Any]:
    return {
        "change_id": {"S": change["change_id"]},
        "status": {"S": change["status"]},
        "requested_at": {"S": change["requested_at"]},
        "requested_by": {"S": change["requested_by"]},
        "change": {"S": json.dumps(change, separators=(",", ":"), sort_keys=True)},
    }
