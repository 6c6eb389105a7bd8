"""A local Kinesis event-source mapping: reads a stream and invokes a real Lambda handler.

It keeps Lambda's contract for Kinesis so that the handler cannot tell the difference:

- shards read one batch at a time from TRIM_HORIZON or LATEST, up to `batch_size` records;
- the event shape of Lambda's Kinesis event (`Records[].kinesis.data` base64, ...);
- `ReportBatchItemFailures`: the batch is retried from the lowest failed sequence number
  (the checkpoint); records before it are done; an empty, unknown or missing identifier
  fails the whole batch, as in Lambda;
- a function error (the handler raises) bisects the batch when `bisect_on_error` is set;
- after `maximum_retry_attempts` retries at the same checkpoint, or when a record is older
  than `maximum_record_age_s`, the remaining records go to the on-failure SQS queue in the
  shape of Lambda's invocation record (`KinesisBatchInfo`), and the shard moves on.

Emulator choices, where AWS documents no exact rule: the retry count restarts when the
checkpoint advances, and a bisected half keeps its parent's retry count.

    python -m local.lambda_poller   # a self-contained demo of the alert fan-out on moto
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import time
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.alert_fanout import handler as fanout_handler
from lambdas.alert_fanout.config import FanoutConfig
from local.aws import REGION, LocalAws, aws_env

Handler = Callable[[dict[str, Any], Any], Any]
ACCOUNT = "123456789012"
FUNCTION_NAME = "fraud-alert-fanout"
ON_FAILURE_QUEUE = "fraud-alerts-fanout-dlq"


@dataclass(frozen=True)
class MappingSettings:
    """The event-source mapping's settings that the fan-out expects (see its README)."""

    stream: str = "alerts"
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    maximum_retry_attempts: int = 10
    bisect_on_error: bool = True
    maximum_record_age_s: int = -1
    report_batch_item_failures: bool = True
    on_failure_queue: str = ON_FAILURE_QUEUE
    retry_delay_s: float = 0.0


@dataclass
class PollerStats:
    batches_read: int = 0
    invocations: int = 0
    records_delivered: int = 0
    records_processed: int = 0
    retries: int = 0
    bisections: int = 0
    function_errors: int = 0
    records_to_on_failure: int = 0
    on_failure_messages: int = 0


@dataclass(frozen=True)
class FanoutSummary:
    """The fan-out's effects, read back from the local AWS."""

    alerts_stored: int
    lake_objects: int
    emails_sent: int
    alerts_held_for_next_email: int
    dead_letter_messages: int

    def lines(self, stats: PollerStats) -> list[str]:
        return [
            f"records processed     {stats.records_processed} "
            f"({stats.records_delivered} deliveries, {stats.invocations} invocations, "
            f"{stats.retries} retries, {stats.bisections} bisections)",
            f"alerts stored         {self.alerts_stored} in DynamoDB, "
            f"{self.lake_objects} objects in the S3 lake",
            f"e-mails sent          {self.emails_sent} (read from moto's SES); "
            f"{self.alerts_held_for_next_email} alerts held for their card's next e-mail",
            f"dead-lettered         {self.dead_letter_messages} SQS messages "
            f"({stats.records_to_on_failure} records after retries, the rest malformed)",
        ]


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    caught_up: bool = False


@dataclass(frozen=True)
class _Invocation:
    error: str | None
    failed_from: int | None  # index of the first record to retry; None when all succeeded


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "local"
    timeout_s: float = 60.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


class LambdaPoller:
    """Polls a Kinesis stream of a LocalAws and invokes `handler` like an event-source mapping."""

    def __init__(
        self,
        aws: LocalAws,
        handler: Handler | None = None,
        settings: MappingSettings | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.aws = aws
        self.settings = settings or MappingSettings()
        self.stats = PollerStats()
        self._handler = handler or fanout_handler.lambda_handler
        if environment is not None:
            apply_function_environment(aws, environment)
        self._kinesis = aws.client("kinesis")
        self._sqs = aws.client("sqs")
        summary = self._kinesis.describe_stream_summary(StreamName=self.settings.stream)
        self.stream_arn: str = summary["StreamDescriptionSummary"]["StreamARN"]
        self.on_failure_queue_url: str = self._sqs.create_queue(
            QueueName=self.settings.on_failure_queue
        )["QueueUrl"]
        self._shards = [self._open(shard["ShardId"]) for shard in self._list_shards()]

    def _list_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = self._kinesis.list_shards(StreamName=self.settings.stream)[
            "Shards"
        ]
        return shards

    def _open(self, shard_id: str) -> _Shard:
        iterator = self._kinesis.get_shard_iterator(
            StreamName=self.settings.stream,
            ShardId=shard_id,
            ShardIteratorType=self.settings.starting_position,
        )["ShardIterator"]
        return _Shard(shard_id, iterator)

    def poll_once(self) -> int:
        """Read and deliver one batch from every shard; the number of records read."""
        read = 0
        for shard in self._shards:
            if shard.iterator is None:
                continue
            response = self._kinesis.get_records(
                ShardIterator=shard.iterator, Limit=self.settings.batch_size
            )
            records = response["Records"]
            shard.iterator = response.get("NextShardIterator")
            shard.caught_up = not records and response.get("MillisBehindLatest", 0) == 0
            if records:
                self.stats.batches_read += 1
                read += len(records)
                self._deliver(shard, records, attempt=0)
        return read

    def run_until_idle(self, timeout_s: float = 60.0, idle_polls: int = 2) -> PollerStats:
        """Deliver until every shard is caught up `idle_polls` times in a row, or time out."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while quiet < idle_polls:
            if time.monotonic() > deadline:
                raise TimeoutError(f"stream {self.settings.stream} not drained in {timeout_s}s")
            read = self.poll_once()
            caught_up = all(shard.caught_up or shard.iterator is None for shard in self._shards)
            quiet = quiet + 1 if read == 0 and caught_up else 0
        return self.stats

    def _deliver(self, shard: _Shard, records: list[dict[str, Any]], attempt: int) -> None:
        """One batch to its end: processed, or sent to the on-failure destination."""
        records = self._without_expired(shard, records)
        while records:
            outcome = self._invoke(shard, records)
            if outcome.error is not None and self.settings.bisect_on_error and len(records) > 1:
                self.stats.bisections += 1
                middle = len(records) // 2
                self._deliver(shard, records[:middle], attempt)
                self._deliver(shard, records[middle:], attempt)
                return
            failed_from = 0 if outcome.error is not None else outcome.failed_from
            if failed_from is None:
                self.stats.records_processed += len(records)
                return
            self.stats.records_processed += failed_from
            attempt = 0 if failed_from > 0 else attempt
            records = records[failed_from:]
            if attempt >= self.settings.maximum_retry_attempts:
                reason = outcome.error or "records reported in batchItemFailures"
                self._send_to_on_failure(shard, records, "RetryAttemptsExhausted", reason, attempt)
                return
            attempt += 1
            self.stats.retries += 1
            time.sleep(self.settings.retry_delay_s)
            records = self._without_expired(shard, records)

    def _invoke(self, shard: _Shard, records: Sequence[dict[str, Any]]) -> _Invocation:
        self.stats.invocations += 1
        self.stats.records_delivered += len(records)
        event = kinesis_event(records, shard.shard_id, self.stream_arn)
        try:
            response = self._handler(event, LocalLambdaContext())
        except Exception as error:
            self.stats.function_errors += 1
            return _Invocation(error=f"{type(error).__name__}: {error}", failed_from=None)
        if not self.settings.report_batch_item_failures:
            return _Invocation(error=None, failed_from=None)
        return _Invocation(error=None, failed_from=first_failed_index(response, records))

    def _without_expired(
        self, shard: _Shard, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Records younger than the maximum record age; older ones go to the destination."""
        if self.settings.maximum_record_age_s < 0:
            return records
        oldest = datetime.now(UTC) - timedelta(seconds=self.settings.maximum_record_age_s)
        expired = [r for r in records if r["ApproximateArrivalTimestamp"] < oldest]
        if expired:
            self._send_to_on_failure(
                shard, expired, "RecordAgeExceeded", "record older than the maximum age", 0
            )
        return [r for r in records if r["ApproximateArrivalTimestamp"] >= oldest]

    def _send_to_on_failure(
        self,
        shard: _Shard,
        records: Sequence[dict[str, Any]],
        condition: str,
        reason: str,
        attempts: int,
    ) -> None:
        message = on_failure_record(
            records, shard.shard_id, self.stream_arn, condition, reason, attempts + 1
        )
        self._sqs.send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(message))
        self.stats.on_failure_messages += 1
        self.stats.records_to_on_failure += len(records)

    def summary(self, config: FanoutConfig) -> FanoutSummary:
        """Effects read back from moto; dead letters from the mapping's and the handler's queue."""
        queues = {
            self.on_failure_queue_url,
            config.deadletter_queue_url or self.on_failure_queue_url,
        }
        return read_fanout_summary(self.aws, config, sorted(queues))


def first_failed_index(response: Any, records: Sequence[dict[str, Any]]) -> int | None:
    """Index of the batch's checkpoint after a partial-batch response; None if all succeeded.

    As in Lambda, a malformed response or an unknown/empty identifier fails the whole batch.
    """
    if response is None or (isinstance(response, dict) and "batchItemFailures" not in response):
        return None
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not isinstance(failures, list):
        return 0
    if not failures:
        return None
    positions = {record["SequenceNumber"]: index for index, record in enumerate(records)}
    indexes = [positions.get(str(failure.get("itemIdentifier") or "")) for failure in failures]
    if any(index is None for index in indexes):
        return 0
    return min(index for index in indexes if index is not None)


def kinesis_event(
    records: Sequence[dict[str, Any]], shard_id: str, stream_arn: str
) -> dict[str, Any]:
    """Lambda's Kinesis event for `records` as returned by GetRecords."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": record[
                        "ApproximateArrivalTimestamp"
                    ].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/{FUNCTION_NAME}",
                "awsRegion": REGION,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def on_failure_record(
    records: Sequence[dict[str, Any]],
    shard_id: str,
    stream_arn: str,
    condition: str,
    reason: str,
    invocations: int,
) -> dict[str, Any]:
    """Lambda's invocation record for a Kinesis batch it gave up on.

    Lambda sends only the batch's coordinates (`KinesisBatchInfo`); the records stay in the
    stream for their retention period and the per-record reason is in the function's log
    (key `sequence_number`). `localRecords` is this emulator's addition, so that a local run
    shows the payloads without reading the stream again; nothing in AWS sets it.
    """
    first, last = records[0], records[-1]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}",
            "condition": condition,
            "approximateInvokeCount": invocations,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": reason,
        },
        "version": "1.0",
        "timestamp": _iso(datetime.now(UTC)),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first["ApproximateArrivalTimestamp"]),
            "approximateArrivalOfLastRecord": _iso(last["ApproximateArrivalTimestamp"]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
        "localRecords": [
            {
                "sequenceNumber": record["SequenceNumber"],
                "partitionKey": record["PartitionKey"],
                "data": base64.b64encode(record["Data"]).decode("ascii"),
            }
            for record in records
        ],
    }


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- local resources and read-back --------------------------------------------------------


def provision_fanout(
    client: Callable[[str], Any], config: FanoutConfig, queue_name: str = ON_FAILURE_QUEUE
) -> str:
    """Create what the fan-out writes to (Terraform does in AWS); the dead-letter queue URL.

    `client` makes a boto3 client for a service name, e.g. `LocalAws.client`.
    """
    client("s3").create_bucket(Bucket=config.alerts_bucket)
    dynamodb = client("dynamodb")
    # the analyst API's indexes (lambdas/api/repository.py): by day, card, terminal, status
    by_day_and_card = [
        {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": key, "KeyType": "HASH"},
                {"AttributeName": "detected_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for name, key in (
            ("gsi_day", "day"),
            ("gsi_card", "card_id"),
            ("gsi_terminal", "terminal_id"),
            ("gsi_status", "status"),
        )
    ]
    dynamodb.create_table(
        TableName=config.alerts_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("alert_id", "day", "card_id", "detected_at", "terminal_id", "status")
        ],
        KeySchema=[{"AttributeName": "alert_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=by_day_and_card,
    )
    dynamodb.create_table(
        TableName=config.email_state_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "card_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "card_id", "KeyType": "HASH"}],
    )
    client("sesv2").create_email_identity(EmailIdentity=config.email_from)
    queue_url: str = client("sqs").create_queue(QueueName=queue_name)["QueueUrl"]
    return queue_url


def function_environment(config: FanoutConfig, deadletter_queue_url: str) -> dict[str, str]:
    """The Lambda function's environment variables for `config`."""
    return {
        "ALERTS_BUCKET": config.alerts_bucket,
        "ALERTS_PREFIX": config.lake_prefix,
        "ALERTS_TABLE": config.alerts_table,
        "EMAIL_STATE_TABLE": config.email_state_table,
        "EMAIL_FROM": config.email_from,
        "EMAIL_TO": ",".join(config.email_to),
        "EMAIL_MIN_SEVERITY": config.email_min_severity,
        "EMAIL_CARD_INTERVAL_SECONDS": str(config.email_card_interval_s),
        "CONSOLE_BASE_URL": config.console_base_url,
        "SES_TEMPLATE": config.ses_template,
        "EMAIL_RENDERING": config.email_rendering,
        "DEADLETTER_QUEUE_URL": deadletter_queue_url,
        "POWERTOOLS_METRICS_NAMESPACE": "FraudStream",
    }


def apply_function_environment(aws: LocalAws, environment: Mapping[str, str]) -> None:
    """Set the handler's environment in this process, as Lambda would, pointed at `aws`."""
    os.environ.update({**aws_env(aws.endpoint), **environment})
    fanout_handler.use_fanout(None)


def sent_emails(aws: LocalAws) -> list[dict[str, Any]]:
    """The e-mails moto's SES accepted (`/moto-api/data.json`: id, subject, body, ...)."""
    with urllib.request.urlopen(f"{aws.endpoint}/moto-api/data.json", timeout=10) as response:
        models = json.load(response)
    messages: list[dict[str, Any]] = models.get("ses", {}).get("Message", [])
    return messages


def read_fanout_summary(
    aws: LocalAws, config: FanoutConfig, queue_urls: Sequence[str]
) -> FanoutSummary:
    dynamodb = aws.client("dynamodb")
    stored = dynamodb.scan(TableName=config.alerts_table, Select="COUNT")["Count"]
    held = dynamodb.scan(
        TableName=config.alerts_table,
        Select="COUNT",
        FilterExpression="email_status = :pending",
        ExpressionAttributeValues={":pending": {"S": "pending"}},
    )["Count"]
    pages = aws.client("s3").get_paginator("list_objects_v2")
    objects = sum(
        page.get("KeyCount", 0)
        for page in pages.paginate(Bucket=config.alerts_bucket, Prefix=config.lake_prefix)
    )
    sqs = aws.client("sqs")
    dead_letters = sum(
        int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        for url in queue_urls
    )
    return FanoutSummary(
        alerts_stored=int(stored),
        lake_objects=int(objects),
        emails_sent=len(sent_emails(aws)),
        alerts_held_for_next_email=int(held),
        dead_letter_messages=dead_letters,
    )


# --- demo alerts --------------------------------------------------------------------------


def example_alert(
    transaction_id: str,
    card_id: str,
    severity: str = "high",
    detected_at: datetime | None = None,
    amount: float = 812.5,
) -> dict[str, Any]:
    """An Alert v1 as the Flink job writes it (README, "Contracts")."""
    digest = hashlib.sha256(f"alert.v1:{transaction_id}".encode()).hexdigest()
    detected = detected_at or datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    score = {"low": 0.5, "medium": 0.7, "high": 0.93}[severity]
    return {
        "schema": "alert.v1",
        "alert_id": digest[:32],
        "transaction_id": transaction_id,
        "event_time": _iso(detected - timedelta(milliseconds=180)),
        "card_id": card_id,
        "terminal_id": f"term_{int(digest[32:40], 16) % 100:05d}",
        "amount": amount,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "FR",
        "channel": "pos",
        "score": score,
        "threshold": 0.41,
        "severity": severity,
        "model_version": "m-20261128-1200-3f2a9c1",
        "reasons": ["amount is 8.2 times the card's 30-day average", "new terminal for this card"],
        "reason_codes": ["AMOUNT_VS_CARD_AVG_30D", "NEW_TERMINAL"],
        "features": {"card_txn_count_1h": 3.0, "card_amount_avg_30d": 99.1},
        "late": False,
        "ingested_at": _iso(detected - timedelta(milliseconds=80)),
        "detected_at": _iso(detected),
    }


def demo_alerts(count: int, cards: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    return [
        example_alert(
            f"t-{index:06d}",
            f"card_{rng.randrange(cards):06d}",
            severity=rng.choice(("low", "medium", "high", "high")),
            detected_at=start + timedelta(seconds=7 * index),
            amount=round(rng.uniform(20, 2000), 2),
        )
        for index in range(count)
    ]


def put_alerts(
    aws: LocalAws, alerts: Sequence[dict[str, Any] | str], stream: str = "alerts"
) -> None:
    kinesis = aws.client("kinesis")
    for alert in alerts:
        data = alert if isinstance(alert, str) else json.dumps(alert, ensure_ascii=False)
        key = alert["card_id"] if isinstance(alert, dict) else "malformed"
        kinesis.put_record(StreamName=stream, Data=data.encode(), PartitionKey=key)


def main() -> None:
    config = FanoutConfig()
    with LocalAws() as aws:
        queue_url = provision_fanout(aws.client, config)
        put_alerts(aws, [*demo_alerts(40, cards=25), '{"schema": "alert.v1", "amount": -1}'])
        poller = LambdaPoller(
            aws,
            settings=MappingSettings(batch_size=10),
            environment={
                **function_environment(config, queue_url),
                "POWERTOOLS_METRICS_DISABLED": "true",
            },
        )
        stats = poller.run_until_idle(timeout_s=120)
        summary = poller.summary(replace(config, deadletter_queue_url=queue_url))
        print("\n".join(summary.lines(stats)))
        print(json.dumps(asdict(stats)))


if __name__ == "__main__":
    main()
