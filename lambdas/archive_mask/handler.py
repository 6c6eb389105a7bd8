"""Kinesis Data Firehose record transformation in front of the transaction and label archive.

Firehose reads the raw `transactions` and `labels` streams, which may carry what the job
rejects, card numbers included. Before Firehose converts a record to Parquet, this Lambda
applies the project's one card-number rule (`contracts.card_number`): in a JSON record every
string (or integer) that holds a card number is masked; text that is not JSON is masked as
raw text (it then fails the Parquet conversion and lands, masked, under the error prefix).
A record without a card number passes byte for byte. Every record comes back `Ok`: nothing
is dropped, so the archive keeps every record the streams carried.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from contracts.card_number import MASK, contains_card_number, mask_card_numbers


def holds_card_number(value: Any) -> bool:
    if isinstance(value, str):
        return contains_card_number(value)
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return contains_card_number(str(value))
    if isinstance(value, list):
        return any(holds_card_number(item) for item in value)
    if isinstance(value, dict):
        return any(holds_card_number(k) or holds_card_number(v) for k, v in value.items())
    return False


def masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_card_numbers(value) if contains_card_number(value) else value
    if isinstance(value, int) and not isinstance(value, bool):
        return MASK if contains_card_number(str(value)) else value
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, dict):
        return {masked(k): masked(v) for k, v in value.items()}
    return value


def scrub(data: bytes) -> bytes:
    """The record as the archive may keep it."""
    text = data.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except ValueError:
        masked_text = mask_card_numbers(text)
        return data if masked_text == text else masked_text.encode()
    if not holds_card_number(document):
        return data
    return json.dumps(masked(document), ensure_ascii=False, separators=(",", ":")).encode()


def transform(record: dict[str, Any]) -> dict[str, Any]:
    data = scrub(base64.b64decode(record["data"]))
    return {
        "recordId": record["recordId"],
        "result": "Ok",
        "data": base64.b64encode(data).decode(),
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Firehose's transformation contract: the same record ids, each with a result."""
    return {"records": [transform(record) for record in event["records"]]}
