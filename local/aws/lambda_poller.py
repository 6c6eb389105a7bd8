"""A local Kinesis event-source mapping: reads a stream and invokes a real Lambda handler.
(The fan-out's resources: local.aws.fanout_resources; its environment:
local.aws.fanout_environment; a demo of the fan-out on it: local.demo.fanout.)

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
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.alert_fanout import handler as fanout_handler
from lambdas.alert_fanout.config import FanoutConfig
from local.aws import REGION, LocalAws
from local.aws.fanout_environment import apply_function_environment
from local.aws.fanout_environment import function_environment as function_environment
from local.aws.fanout_resources import ON_FAILURE_QUEUE, FanoutSummary, read_fanout_summary
from local.aws.fanout_resources import provision_fanout as provision_fanout
from local.aws.fanout_resources import sent_emails as sent_emails

Handler = Callable[[dict[str, Any], Any], Any]
ACCOUNT = "123456789012"
FUNCTION_NAME = "fraud-alert-fanout"


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


def run_fanout(
    aws: LocalAws, config: FanoutConfig, queue_url: str, batch_size: int, timeout_s: float
) -> tuple[LambdaPoller, PollerStats]:
    """The fan-out's real handler over the alerts stream until it is idle, fed by the mapping
    with `batch_size`, with its metrics and info logs off (nobody reads them here)."""
    poller = LambdaPoller(
        aws,
        settings=MappingSettings(batch_size=batch_size),
        environment={
            **function_environment(config, queue_url),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        },
    )
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's EMF metric lines
        stats = poller.run_until_idle(timeout_s=timeout_s)
    return poller, stats


def stats_lines(stats: PollerStats, summary: FanoutSummary) -> list[str]:
    """What the mapping did and what the fan-out's effects are, for people."""
    processed = (
        f"records processed     {stats.records_processed} "
        f"({stats.records_delivered} deliveries, {stats.invocations} invocations, "
        f"{stats.retries} retries, {stats.bisections} bisections)"
    )
    return [processed, *summary.lines(stats.records_to_on_failure)]
