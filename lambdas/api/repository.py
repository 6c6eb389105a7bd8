"""The alert store as the API reads and updates it (item layout: lambdas/alert_fanout/store.py).

Every read is a GetItem or a Query on an index (sort key `detected_at`), never a Scan:
`gsi_card` for a card, `gsi_terminal` for a terminal, `gsi_status` for a status, and without
those the three `gsi_status` partitions (new, confirmed_fraud, legitimate) merged: every
alert is in exactly one, so that is the whole store in detection order, three Queries a
page. (`gsi_day` is by the transaction's day, not the detection's: it cannot order a queue
by detection time.) Other filters are filter expressions on the chosen index. The cursor is
the (detected_at, alert_id) the last page ended at, base64url JSON, opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from lambdas.alert_fanout.store import STATUSES, to_attribute_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: filter name -> (index, its partition attribute); the first filter given picks the index.
INDEXES: tuple[tuple[str, str, str], ...] = (
    ("card_id", "gsi_card", "card_id"),
    ("terminal_id", "gsi_terminal", "terminal_id"),
    ("status", "gsi_status", "status"),
)
STATUS_INDEX = "gsi_status"
#: Query calls one listing request may make.
QUERIES_PER_REQUEST = 24
#: Items one listing request may read (DynamoDB's evaluated items, before filters): a
#: selective filter reads at most this many, then answers with a cursor to go on.
ITEMS_READ_PER_REQUEST = 1_200
#: Times before this are treated as this (no alert is older; keeps date arithmetic finite).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_ALERT_ID = re.compile(r"^[0-9a-f]{32}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
_deserializer = TypeDeserializer()


class CursorError(ValueError):
    """The cursor was not made by this API (or not for this listing)."""


class AlertNotFoundError(LookupError):
    pass


class RevisionConflictError(RuntimeError):
    """Another verdict was recorded since the alert was read."""


class AlertTooLargeError(RuntimeError):
    """DynamoDB refused the update: the item would pass its 400 KB limit."""


@dataclass(frozen=True)
class AlertFilters:
    status: str | None = None
    severity: str | None = None
    card_id: str | None = None
    terminal_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    min_score: float | None = None
    reason_code: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def iso(moment: datetime) -> str:
    """The store's timestamp text (the job's): milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as int or float, recursively."""
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else float(value)
        )
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(item) for item in value]
    return value


def from_attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    return {name: plain(_deserializer.deserialize(value)) for name, value in item.items()}


def encode_cursor(position: tuple[str, str]) -> str:
    document = {"t": position[0], "a": position[1]}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (detected_at, alert_id) the previous page ended at."""
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise CursorError("cursor is not one this API returned") from None
    if (
        not isinstance(document, dict)
        or not _TIMESTAMP.match(str(document.get("t")))
        or not _ALERT_ID.match(str(document.get("a")))
    ):
        raise CursorError("cursor is not one this API returned")
    return str(document["t"]), str(document["a"])


def _position(item: dict[str, Any]) -> tuple[str, str]:
    return (str(item["detected_at"]), str(item["alert_id"]))


def _partitions(filters: AlertFilters) -> tuple[str, str, list[str]]:
    """(index, its partition attribute, partitions to merge) for these filters."""
    for field, index, key in INDEXES:
        value = getattr(filters, field)
        if value is not None:
            return index, key, [value]
    return STATUS_INDEX, "status", list(STATUSES)


class AlertRepository:
    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table: str,
        lookback: timedelta = timedelta(days=90),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._lookback = lookback
        self._now = now

    # --- reads ---------------------------------------------------------------------

    def get(self, alert_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key={"alert_id": {"S": alert_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return from_attribute_values(item) if item else None

    def card_alerts(self, card_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The card's most recent alerts, newest first."""
        response = self._dynamodb.query(
            TableName=self._table,
            IndexName="gsi_card",
            KeyConditionExpression="card_id = :card",
            ExpressionAttributeValues={":card": {"S": card_id}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_attribute_values(item) for item in response.get("Items", [])]

    def detected_since(
        self, since: datetime, attributes: tuple[str, ...], per_status: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The alerts detected at or after `since`, newest first, only `attributes` of each,
        reading at most `per_status` of each status: (alerts, the time they are complete
        from: None when the whole window was read). When a status has more, the figures
        cover only the alerts after the newest point where a status was cut off."""
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        found: list[dict[str, Any]] = []
        cut: list[str] = []
        for status in STATUSES:
            arguments: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "#s = :s AND #t >= :since",
                "ExpressionAttributeNames": {"#s": "status", "#t": "detected_at", **names},
                "ExpressionAttributeValues": {":s": {"S": status}, ":since": {"S": iso(since)}},
                "ProjectionExpression": ", ".join(names),
                "ScanIndexForward": False,
            }
            read: list[dict[str, Any]] = []
            while len(read) < per_status:
                response = self._dynamodb.query(**arguments, Limit=per_status - len(read))
                read.extend(from_attribute_values(item) for item in response.get("Items", []))
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                arguments["ExclusiveStartKey"] = last
            else:
                cut.append(str(read[-1]["detected_at"]))
            found.extend(read)
        if not cut:
            return found, None
        complete_from = max(cut)
        return [a for a in found if str(a["detected_at"]) >= complete_from], complete_from

    def page(self, filters: AlertFilters, limit: int, cursor: str | None = None) -> Page:
        """Up to `limit` alerts matching `filters`, newest first, and where to go on.

        Order is (detected_at, alert_id) descending. Each partition of the chosen index
        (one, or the three statuses) is read from the cursor on until it has `limit`
        matches or ends; the partitions are merged. A partition that stopped early (the
        per-request read budget) is a frontier: only alerts after it are returned."""
        start, end = self._range(filters)
        after = decode_cursor(cursor) if cursor is not None else None
        index, key, partitions = _partitions(filters)
        found: list[dict[str, Any]] = []
        frontiers: list[tuple[str, str]] = []
        calls = max(QUERIES_PER_REQUEST // len(partitions), 1)
        budget = max(ITEMS_READ_PER_REQUEST // len(partitions), limit + 1)
        for partition in partitions:
            items, frontier = self._read(
                index, key, partition, filters, start, end, after, limit, calls, budget
            )
            found.extend(items)
            if frontier is not None:
                frontiers.append(frontier)
        found.sort(key=_position, reverse=True)
        frontier = max(frontiers, default=None)
        if frontier is not None:
            found = [item for item in found if _position(item) > frontier]
        if len(found) > limit or (len(found) == limit and frontier is not None):
            page = found[:limit]
            return Page(page, encode_cursor(_position(page[-1])))
        if frontier is not None:
            return Page(found, encode_cursor(frontier))
        return Page(found, None)

    def _range(self, filters: AlertFilters) -> tuple[datetime, datetime]:
        now = self._now()
        end = max(min(filters.end or now, now + timedelta(days=1)), EARLIEST)
        start = max(filters.start or end - self._lookback, EARLIEST)
        return start, end

    def _read(
        self,
        index: str,
        key: str,
        partition: str,
        filters: AlertFilters,
        start: datetime,
        end: datetime,
        after: tuple[str, str] | None,
        limit: int,
        calls: int,
        budget: int,
    ) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """Matches after the cursor, up to `limit` + 1 (more than a page says "more"), and
        the frontier when the budget (`calls` Queries, `budget` items read) ran out before
        the partition did."""
        condition, names, values = _filter_expression(filters, skip=key)
        upper = iso(end) if after is None else min(iso(end), after[0])
        if iso(start) > upper:  # DynamoDB refuses a BETWEEN whose bounds are reversed
            return [], None
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk AND #t BETWEEN :start AND :end",
            "ExpressionAttributeNames": {"#pk": key, "#t": "detected_at", **names},
            "ExpressionAttributeValues": {
                ":pk": {"S": partition},
                ":start": {"S": iso(start)},
                ":end": {"S": upper},
                **values,
            },
            "ScanIndexForward": False,
            "Limit": min(max(limit + 1, 25), 500),
        }
        if condition:
            arguments["FilterExpression"] = condition
        found: list[dict[str, Any]] = []
        last: dict[str, Any] = {}
        page_size = arguments["Limit"]
        for _ in range(calls):
            arguments["Limit"] = min(page_size, budget)
            response = self._dynamodb.query(**arguments)
            budget -= int(response.get("ScannedCount", 0))
            for raw in response.get("Items", []):
                item = from_attribute_values(raw)
                if after is None or _position(item) < after:
                    found.append(item)
            last = dict(response.get("LastEvaluatedKey") or {})
            if not last or len(found) > limit:
                return found, None
            if budget <= 0:
                break
            arguments["ExclusiveStartKey"] = last
        return found, (last["detected_at"]["S"], last["alert_id"]["S"])

    # --- verdicts ------------------------------------------------------------------

    def record_verdict(
        self,
        alert_id: str,
        verdict: dict[str, Any],
        status: str,
        expected_revision: int,
        pending: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Set status and verdict, append it to the history and set (or remove) the held
        label, if nobody changed the verdict since."""
        condition = "attribute_exists(alert_id) AND " + (
            "attribute_not_exists(verdict)"
            if expected_revision == 0
            else "verdict.revision = :expected"
        )
        values = to_attribute_values(
            {
                ":status": status,
                ":verdict": verdict,
                ":history": [verdict],
                ":empty": [],
                ":at": verdict["at"],
                **({":expected": expected_revision} if expected_revision else {}),
                **({":pending": pending} if pending is not None else {}),
            }
        )
        try:
            response = self._dynamodb.update_item(
                TableName=self._table,
                Key={"alert_id": {"S": alert_id}},
                UpdateExpression=(
                    "SET #status = :status, verdict = :verdict, "
                    "verdicts = list_append(if_not_exists(verdicts, :empty), :history), "
                    "reviewed_at = if_not_exists(reviewed_at, :at)"
                    + (", pending_label = :pending" if pending is not None else "")
                    + ("" if pending is not None else " REMOVE pending_label")
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                raise RevisionConflictError(alert_id) from None
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code == "ValidationException" and "size" in message.lower():
                raise AlertTooLargeError(alert_id) from None
            raise
        return from_attribute_values(response["Attributes"])

    def mark_label_written(self, alert_id: str, label: str, verdict_id: str) -> dict[str, Any]:
        """Remember which label the stream last received for this alert and drop the held
        label it was, unless another verdict replaced it meanwhile; the alert after."""
        try:
            response = self._dynamodb.update_item(
                TableName=self._table,
                Key={"alert_id": {"S": alert_id}},
                UpdateExpression="SET label_written = :label REMOVE pending_label",
                ConditionExpression="pending_label.verdict_id = :verdict",
                ExpressionAttributeValues={
                    ":label": {"S": label},
                    ":verdict": {"S": verdict_id},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            response = self._dynamodb.update_item(  # replaced meanwhile: the stream has it
                TableName=self._table,
                Key={"alert_id": {"S": alert_id}},
                UpdateExpression="SET label_written = :label",
                ExpressionAttributeValues={":label": {"S": label}},
                ReturnValues="ALL_NEW",
            )
        return from_attribute_values(response["Attributes"])


def _filter_expression(
    filters: AlertFilters, skip: str
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The filters the index does not serve, as a FilterExpression."""
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field in ("status", "severity", "card_id", "terminal_id"):
        value = getattr(filters, field)
        if value is not None and field != skip:
            parts.append(f"#f_{field} = :f_{field}")
            names[f"#f_{field}"] = field
            values[f":f_{field}"] = {"S": value}
    if filters.min_score is not None:
        parts.append("#f_score >= :f_score")
        names["#f_score"] = "score"
        values[":f_score"] = {"N": format(Decimal(repr(float(filters.min_score))), "f")}
    if filters.reason_code is not None:
        parts.append("contains(#f_codes, :f_code)")
        names["#f_codes"] = "reason_codes"
        values[":f_code"] = {"S": filters.reason_code}
    return " AND ".join(parts), names, values
