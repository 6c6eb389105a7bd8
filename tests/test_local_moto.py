"""The local Kinesis (local/aws/moto_server.py) keeps moto's answers while doing constant work
per call: records come back once each, in order, from wherever an iterator points."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.aws import LocalAws

STREAM = "moto-check"


@pytest.fixture(scope="module")
def kinesis() -> Iterator[Any]:
    with LocalAws(streams=(STREAM,)) as aws:
        yield aws.client("kinesis")


def _iterator(kinesis: Any, kind: str, **at: str) -> str:
    shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    return str(
        kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType=kind, **at)[
            "ShardIterator"
        ]
    )


def _put(kinesis: Any, values: range) -> list[str]:
    response = kinesis.put_records(
        StreamName=STREAM,
        Records=[{"Data": str(v).encode(), "PartitionKey": str(v)} for v in values],
    )
    return [entry["SequenceNumber"] for entry in response["Records"]]


def _read_all(kinesis: Any, iterator: str, limit: int = 7) -> list[str]:
    values: list[str] = []
    while True:
        response = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        values += [r["Data"].decode() for r in response["Records"]]
        iterator = response["NextShardIterator"]
        if not response["Records"]:
            return values


def test_records_are_read_once_each_in_order_from_any_iterator(kinesis: Any) -> None:
    first = _put(kinesis, range(0, 20))
    latest = _iterator(kinesis, "LATEST")
    second = _put(kinesis, range(20, 30))

    assert [int(s) for s in first + second] == sorted(int(s) for s in first + second)
    assert _read_all(kinesis, _iterator(kinesis, "TRIM_HORIZON")) == [str(v) for v in range(30)]
    assert _read_all(kinesis, latest) == [str(v) for v in range(20, 30)]
    after = _iterator(kinesis, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=first[9])
    assert _read_all(kinesis, after) == [str(v) for v in range(10, 30)]
    at = _iterator(kinesis, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=second[0])
    assert _read_all(kinesis, at) == [str(v) for v in range(20, 30)]


def test_managed_flink_applications_are_created_ready_described_and_deleted() -> None:
    """Kinesis Analytics v2 as local/aws/moto_server.py completes it for Terraform: a created
    application is READY with epoch timestamps (which the SDK parses), its property groups
    come back as written, DeleteApplication removes it and an unknown one is not found."""
    with LocalAws(streams=()) as aws:
        client = aws.client("kinesisanalyticsv2")
        created = client.create_application(
            ApplicationName="detector",
            RuntimeEnvironment="FLINK-1_20",
            ServiceExecutionRole="arn:aws:iam::123456789012:role/flink",
            ApplicationConfiguration={
                "EnvironmentProperties": {
                    "PropertyGroups": [
                        {"PropertyGroupId": "FraudDetection", "PropertyMap": {"a": "1"}}
                    ]
                }
            },
        )["ApplicationDetail"]
        assert created["ApplicationStatus"] == "READY"
        detail = client.describe_application(ApplicationName="detector")["ApplicationDetail"]
        assert detail["CreateTimestamp"] == created["CreateTimestamp"]
        groups = detail["ApplicationConfigurationDescription"]["EnvironmentPropertyDescriptions"]
        assert groups["PropertyGroupDescriptions"] == [
            {"PropertyGroupId": "FraudDetection", "PropertyMap": {"a": "1"}}
        ]
        client.delete_application(
            ApplicationName="detector", CreateTimestamp=created["CreateTimestamp"]
        )
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.describe_application(ApplicationName="detector")
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.delete_application(
                ApplicationName="detector", CreateTimestamp=created["CreateTimestamp"]
            )
