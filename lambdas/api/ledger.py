"""The label ledger (DynamoDB table `fraud-label-ledger`): one entry per verdict an analyst
gave, what became of its label, and the counts that bound one analyst's influence.

Item: `actor` (the token's `sub`, partition key), `entry` (`<at>#<verdict_id>`, sort key),
`alert_id`, `terminal_id`, `label`, `at`, `verdict_id`, `state`:

- `held`: the label waits until `release_after` (sparse index `gsi_held`: `held`,
  `release_after`) for the scheduled release step (lambdas/api/release.py);
- `needs_confirmation`: past the analyst's budget for the terminal, only a second analyst's
  same label sends it;
- `confirmed`: a second analyst's same label sent it at once;
- `released`, `withdrawn`: sent after the hold; reversed or superseded before it;
- `no_label`: a note, or a label the stream already has.

An entry that asked for a label on its analyst's word alone carries `actor_terminal`
(`<actor>#<terminal_id>`, index `gsi_actor_terminal`): the per-terminal budget counts those.
Every count is a Query with `Select=COUNT` and a `Limit` of the bound: bounded reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .repository import from_attribute_values, iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HELD = "held"
NEEDS_CONFIRMATION = "needs_confirmation"
CONFIRMED = "confirmed"
RELEASED = "released"
WITHDRAWN = "withdrawn"
NO_LABEL = "no_label"
HELD_INDEX = "gsi_held"
ACTOR_TERMINAL_INDEX = "gsi_actor_terminal"


@dataclass(frozen=True)
class LedgerEntry:
    actor: str
    verdict_id: str
    at: str
    alert_id: str
    terminal_id: str
    label: str
    state: str
    release_after: str | None = None
    #: Whether the label was asked for on this analyst's word alone (counts in the budget).
    solo: bool = False

    @property
    def entry(self) -> str:
        return f"{self.at}#{self.verdict_id}"


class LabelLedger:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def verdicts_since(self, actor: str, since: datetime, bound: int) -> int:
        """The analyst's verdicts at or after `since`, counted up to `bound`."""
        return self._count(
            {
                "KeyConditionExpression": "actor = :actor AND #e >= :since",
                "ExpressionAttributeNames": {"#e": "entry"},
                "ExpressionAttributeValues": {
                    ":actor": {"S": actor},
                    ":since": {"S": iso(since)},
                },
            },
            bound,
        )

    def solo_labels_since(self, actor: str, terminal: str, since: datetime, bound: int) -> int:
        """Labels the analyst asked for alone on the terminal since `since`, up to `bound`."""
        return self._count(
            {
                "IndexName": ACTOR_TERMINAL_INDEX,
                "KeyConditionExpression": "actor_terminal = :key AND #e >= :since",
                "ExpressionAttributeNames": {"#e": "entry"},
                "ExpressionAttributeValues": {
                    ":key": {"S": f"{actor}#{terminal}"},
                    ":since": {"S": iso(since)},
                },
            },
            bound,
        )

    def _count(self, query: dict[str, Any], bound: int) -> int:
        if bound <= 0:
            return 0
        count = 0
        arguments: dict[str, Any] = {"TableName": self._table, "Select": "COUNT", **query}
        while count < bound:
            response = self._dynamodb.query(**arguments, Limit=bound - count)
            count += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            arguments["ExclusiveStartKey"] = last
        return count

    def add(self, entry: LedgerEntry) -> None:
        item: dict[str, Any] = {
            "actor": {"S": entry.actor},
            "entry": {"S": entry.entry},
            "verdict_id": {"S": entry.verdict_id},
            "at": {"S": entry.at},
            "alert_id": {"S": entry.alert_id},
            "terminal_id": {"S": entry.terminal_id},
            "label": {"S": entry.label},
            "state": {"S": entry.state},
        }
        if entry.state == HELD and entry.release_after is not None:
            item["held"] = {"S": HELD}
            item["release_after"] = {"S": entry.release_after}
        if entry.solo:
            item["actor_terminal"] = {"S": f"{entry.actor}#{entry.terminal_id}"}
        self._dynamodb.put_item(
            TableName=self._table,
            Item=item,
            ConditionExpression="attribute_not_exists(actor)",
        )

    def settle(self, actor: str, entry: str, state: str) -> None:
        """The entry's label was sent, or will never be: out of the held index."""
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"actor": {"S": actor}, "entry": {"S": entry}},
            UpdateExpression="SET #state = :state REMOVE held",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":state": {"S": state}},
        )

    def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Held entries whose release time has come, oldest first, at most `limit`."""
        response = self._dynamodb.query(
            TableName=self._table,
            IndexName=HELD_INDEX,
            KeyConditionExpression="held = :held AND release_after <= :now",
            ExpressionAttributeValues={":held": {"S": HELD}, ":now": {"S": iso(now)}},
            Limit=limit,
        )
        return [from_attribute_values(item) for item in response.get("Items", [])]
