"""The archive's Firehose transformation: events of Firehose's documented shape, the demo's
malformed records and the sample's transactions; no card number comes out, nothing else
changes."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from contracts.card_number import MASK, contains_card_number
from infra.package import build_archive_mask_zip
from lambdas.archive_mask.handler import handler, scrub
from local.demo import malformed_records

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "sample_transactions.jsonl"


def firehose_event(*payloads: bytes) -> dict[str, Any]:
    """A Kinesis-source Firehose transformation event (AWS's documented shape)."""
    return {
        "invocationId": "invocation-1",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive",
        "sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/transactions",
        "region": "us-east-1",
        "records": [
            {
                "recordId": f"record-{index}",
                "approximateArrivalTimestamp": 1764460800000 + index,
                "data": base64.b64encode(payload).decode(),
                "kinesisRecordMetadata": {
                    "sequenceNumber": str(49_000 + index),
                    "subsequenceNumber": 0,
                    "partitionKey": "card",
                    "shardId": "shardId-000000000000",
                    "approximateArrivalTimestamp": 1764460800000 + index,
                },
            }
            for index, payload in enumerate(payloads)
        ],
    }


def test_records_without_card_numbers_pass_byte_for_byte() -> None:
    lines = SAMPLE.read_bytes().splitlines()[:200]
    assert all(scrub(line) == line for line in lines)


def test_a_card_number_in_a_field_is_masked_and_the_record_stays_json() -> None:
    record = {"transaction_id": "t-1", "card_id": "4111 1111 1111 1111", "amount": 12.5}
    out = json.loads(scrub(json.dumps(record).encode()))
    assert out == {**record, "card_id": MASK}


def test_a_card_number_written_as_a_json_number_is_masked() -> None:
    out = json.loads(scrub(b'{"transaction_id": "t-2", "card_id": 4111111111111111}'))
    assert out["card_id"] == MASK and out["transaction_id"] == "t-2"


def test_text_that_is_not_json_is_masked_as_text_and_other_bytes_pass_untouched() -> None:
    out = scrub(b"card 4111-1111-1111-1111 declined")
    assert not contains_card_number(out.decode()) and out.startswith(b"card ")
    assert scrub(b"\xff\xfe not json") == b"\xff\xfe not json"


def test_the_handler_answers_every_record_ok_with_its_id_and_no_card_number() -> None:
    payloads = [r if isinstance(r, bytes) else r.encode() for r in malformed_records()]
    payloads += SAMPLE.read_bytes().splitlines()[:5]
    event = firehose_event(*payloads)
    response = handler(event, None)
    records = response["records"]
    assert [r["recordId"] for r in records] == [r["recordId"] for r in event["records"]]
    assert {r["result"] for r in records} == {"Ok"}
    texts = [base64.b64decode(r["data"]).decode(errors="replace") for r in records]
    assert any(
        "4111" in base64.b64decode(r["data"]).decode(errors="replace") for r in event["records"]
    )
    assert not any(contains_card_number(text) for text in texts)


def test_the_zip_runs_the_handler_with_only_the_standard_library(tmp_path: Path) -> None:
    result = build_archive_mask_zip(tmp_path)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(result.path) as archive:
        archive.extractall(unpacked)
    event = json.dumps(firehose_event(b'{"card_id": "4111 1111 1111 1111"}'))
    script = (
        "import base64, json, sys\n"
        "from lambdas.archive_mask.handler import handler\n"
        "out = handler(json.loads(sys.stdin.read()), None)\n"
        "print(base64.b64decode(out['records'][0]['data']).decode())\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(unpacked)!r})\n" + script,
        ],
        input=event,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == {"card_id": MASK}
