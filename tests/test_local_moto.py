"""The local Kinesis (local/aws/moto_server.py) keeps moto's answers while doing constant work
per call: records come back once each, in order, from wherever an iterator points."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from local.aws import ACCESS_KEY, REGION, SECRET_KEY, LocalAws

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


def test_an_iterator_at_a_timestamp_in_milliseconds_starts_there(kinesis: Any) -> None:
    """The job's Kinesis consumer (AWS SDK v1, CBOR off) starts at LATEST through
    AT_TIMESTAMP with the time in epoch milliseconds; read as seconds it was a server error."""
    before = _put(kinesis, range(100, 103))
    shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    stored = kinesis.get_records(
        ShardIterator=_iterator(kinesis, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=before[-1])
    )["Records"][0]["ApproximateArrivalTimestamp"]
    after_ms = int(stored.timestamp() * 1000) + 1000
    time.sleep(1.1)  # arrival times are stored to the microsecond
    after = _put(kinesis, range(103, 105))
    body = {
        "StreamName": STREAM,
        "ShardId": shard,
        "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": after_ms,  # as the SDK v1 sends it: a number, in milliseconds
    }
    request = AWSRequest(
        method="POST",
        url=kinesis.meta.endpoint_url + "/",
        data=json.dumps(body),
        headers={
            "X-Amz-Target": "Kinesis_20131202.GetShardIterator",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "kinesis", REGION).add_auth(request)
    answer = requests.post(request.url, data=request.body, headers=dict(request.headers))
    assert answer.status_code == 200, answer.text
    values = _read_all(kinesis, answer.json()["ShardIterator"])
    assert values == ["103", "104"] and len(after) == 2


def test_managed_flink_applications_are_created_ready_described_and_deleted() -> None:
    """Kinesis Analytics v2 as local/aws/moto_server.py completes it for Terraform: a created
    application is READY with epoch timestamps (which the SDK parses) and its name, its
    property groups come back as written, DeleteApplication removes it and an unknown one is
    not found."""
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
        assert created["ApplicationName"] == "detector"
        detail = client.describe_application(ApplicationName="detector")["ApplicationDetail"]
        assert detail["ApplicationName"] == "detector"  # Terraform reads the name back
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


def cbor_cloudwatch(aws: LocalAws, models: Path) -> Any:
    """A CloudWatch client that speaks Smithy RPC v2 CBOR, as the Terraform provider's SDK
    does: botocore's own model of the service with CBOR as its only protocol (botocore
    itself prefers the JSON protocol when a service offers both)."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = loader.load_service_model("cloudwatch", "service-2")
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    folder = models / "cloudwatch" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    loader.search_paths.insert(0, str(models))
    return session.create_client(
        "cloudwatch",
        endpoint_url=aws.endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def test_cloudwatch_answers_the_providers_cbor_protocol(tmp_path: Path) -> None:
    """The alarms and dashboard calls of `terraform apply`, refresh and destroy round-trip in
    Smithy RPC v2 CBOR (`POST /service/GraniteServiceVersion20100801/operation/<Op>`), with
    CBOR errors the SDK reads (moto 5.2.5 answered every one of them 404)."""
    with LocalAws(streams=()) as aws:
        cloudwatch = cbor_cloudwatch(aws, tmp_path)
        sent: list[tuple[str, bytes]] = []
        cloudwatch.meta.events.register(
            "before-send.cloudwatch",
            lambda request, **_: sent.append((request.url, request.headers["smithy-protocol"])),
        )
        cloudwatch.put_metric_alarm(
            AlarmName="dead-letters",
            Namespace="fraud",
            MetricName="DeadLetters",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0.0,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "Environment", "Value": "moto"}],
        )
        cloudwatch.put_metric_alarm(  # a Metrics Insights alarm, as the API's two are
            AlarmName="labels-per-analyst",
            EvaluationPeriods=1,
            Threshold=50.0,
            ComparisonOperator="GreaterThanThreshold",
            Metrics=[
                {
                    "Id": "labels",
                    "Expression": 'SELECT MAX(FraudLabels) FROM "fraud-api" GROUP BY Analyst',
                    "Period": 300,
                    "ReturnData": True,
                }
            ],
        )
        alarms = cloudwatch.describe_alarms(AlarmNames=["dead-letters", "labels-per-analyst"])
        assert [a["AlarmName"] for a in alarms["MetricAlarms"]] == [
            "dead-letters",
            "labels-per-analyst",
        ]
        first = alarms["MetricAlarms"][0]
        assert first["Threshold"] == 0.0 and first["EvaluationPeriods"] == 1
        assert alarms["MetricAlarms"][1]["Metrics"][0]["Id"] == "labels"
        tags = cloudwatch.list_tags_for_resource(ResourceARN=first["AlarmArn"])["Tags"]
        assert tags == [{"Key": "Environment", "Value": "moto"}]

        body = json.dumps({"widgets": [{"type": "text", "properties": {"markdown": "x"}}]})
        cloudwatch.put_dashboard(DashboardName="fraud", DashboardBody=body)
        dashboard = cloudwatch.get_dashboard(DashboardName="fraud")
        assert json.loads(dashboard["DashboardBody"]) == json.loads(body)
        headers = dashboard["ResponseMetadata"]["HTTPHeaders"]
        assert headers["smithy-protocol"] == "rpc-v2-cbor"
        assert headers["content-type"] == "application/cbor"

        cloudwatch.delete_alarms(AlarmNames=["dead-letters", "labels-per-analyst"])
        cloudwatch.delete_dashboards(DashboardNames=["fraud"])
        assert cloudwatch.describe_alarms()["MetricAlarms"] == []
        with pytest.raises(ClientError) as missing:
            cloudwatch.get_dashboard(DashboardName="fraud")
        assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    prefix = f"{aws.endpoint}/service/GraniteServiceVersion20100801/operation/"
    assert sent[0] == (prefix + "PutMetricAlarm", b"rpc-v2-cbor")
    assert {url.removeprefix(prefix) for url, _ in sent} >= {
        "DescribeAlarms",
        "DeleteAlarms",
        "PutDashboard",
        "GetDashboard",
        "DeleteDashboards",
        "ListTagsForResource",
    }
