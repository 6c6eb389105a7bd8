"""Build the job's state from the archive, so that a new or changed feature goes live warm
instead of after 30 days of warm-up.

The same job (same code, same statements, so the same operators: Flink names an operator by
its place in the graph, never by a stream's name) runs first over the archive, then on the
live streams from the state it built:

1. `load` reads a range of the archive (transactions and labels, model_export.archive) and
   puts it on the *bootstrap* streams: the labels first (a label waits in the terminal's
   state for its transaction, so replay speed cannot make one late), then the transactions
   in event-time order. What the live streams still hold is left out (by transaction id,
   and labels by their whole record): the live job reads that itself. If the archive's range
   ends before the oldest record of the live transactions stream, some transactions would
   be in neither, and `load` refuses.
2. The job runs with its sources and sinks on the bootstrap streams (nothing reaches the
   analysts) and `transactions.max_age_ms` at least the range's age; `wait` returns once
   every transaction put has its decision or dead letter, but the last `bound` of event time
   (held for the watermark: the live job decides them).
3. The job stops with a savepoint (a snapshot on Managed Flink), without draining.
4. The job starts on the live streams from that savepoint. Its Kinesis sources find no
   offsets of the live streams' shards in it and read them from their start
   (TRIM_HORIZON): every record the archive did not give them, once.

    python -m local.traffic.bootstrap load --archive s3://bucket \\
        --from 2026-10-01 --to 2026-11-04 \\
        --bootstrap-prefix fraud-stream-dev-bootstrap- --live-prefix fraud-stream-dev-
    python -m local.traffic.bootstrap wait --bootstrap-prefix fraud-stream-dev-bootstrap- \\
        --expect 123456

docs/deployment.md ("Bootstrapping the state from the archive") has the Managed Flink steps;
tests/test_bootstrap.py proves that a job bootstrapped from the archive and then fed the rest
live gives the features of one that saw everything live.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from local.aws import stream_records
from local.traffic.replay import replay
from model_export.archive import (
    LABELS,
    TRANSACTIONS,
    ArchiveError,
    ArchiveRange,
    add_arguments,
    from_arguments,
    json_records,
    read_kind,
    s3_client,
)

#: The suffixes of the job's five streams (infra/terraform: "${var.name}-<suffix>").
SOURCES = {"transactions": "transactions", "labels": "labels"}
SINKS = {"alerts": "alerts", "deadletter": "transactions-dlq", "decisions": "decisions"}


@dataclass(frozen=True)
class Streams:
    """The job's streams with a common name prefix (`fraud-stream-dev-`, or '' locally)."""

    prefix: str

    def name(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    @property
    def transactions(self) -> str:
        return self.name(SOURCES["transactions"])

    @property
    def labels(self) -> str:
        return self.name(SOURCES["labels"])

    def job_overrides(self) -> dict[str, str]:
        """The job's config fields (flink_job.config.JobConfig) that point it at these."""
        names = {**SOURCES, **SINKS}
        return {f"{key}_stream": self.name(suffix) for key, suffix in names.items()}

    def all(self) -> list[str]:
        return [self.name(s) for s in (*SOURCES.values(), *SINKS.values())]


@dataclass(frozen=True)
class Bootstrap:
    """What `load` puts on the bootstrap streams, in order."""

    transactions: list[str]
    labels: list[str]
    #: transactions the live streams hold, left to the live job
    on_live: int
    #: of `transactions`, those whose decision waits for the watermark past the range's end
    tail: int


def _event_time(line: str) -> str:
    value = json.loads(line).get("event_time")
    return value if isinstance(value, str) else ""


def _transaction_id(line: str) -> Any:
    return json.loads(line).get("transaction_id")


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def tail_count(transactions: Sequence[str], bound: timedelta) -> int:
    """Transactions within `bound` of the latest event time: the watermark has not passed
    them when the archive ends."""
    times = [t for t in (_instant(_event_time(line)) for line in transactions) if t]
    if not times:
        return 0
    latest = max(times)
    return sum(1 for t in times if t > latest - bound - timedelta(milliseconds=1))


def plan(
    archived: Sequence[str],
    archived_labels: Sequence[str],
    live: Sequence[str],
    live_labels: Sequence[str],
    bound: timedelta,
) -> Bootstrap:
    """The archive's records less what the live streams hold, in the order to put them."""
    live_ids = {_transaction_id(line) for line in live}
    transactions = [line for line in archived if _transaction_id(line) not in live_ids]
    if live and transactions and len(transactions) == len(archived):
        raise ArchiveError(
            "the archive's range ends before the oldest record on the live transactions "
            "stream: the transactions in between would be in neither. Extend --to to today."
        )
    live_label_records = {json.dumps(json.loads(x), sort_keys=True) for x in live_labels}
    labels = [
        line
        for line in archived_labels
        if json.dumps(json.loads(line), sort_keys=True) not in live_label_records
    ]
    return Bootstrap(
        transactions=sorted(transactions, key=_event_time),
        labels=sorted(labels, key=lambda line: str(json.loads(line).get("reported_at", ""))),
        on_live=len(archived) - len(transactions),
        tail=tail_count(transactions, bound),
    )


def _texts(kinesis: Any, stream: str) -> list[str]:
    return [bytes(r["Data"]).decode("utf-8", "replace") for r in stream_records(kinesis, stream)]


def load(
    s3: Any,
    kinesis: Any,
    archive: ArchiveRange,
    bootstrap: Streams,
    live: Streams,
    bound: timedelta,
    rate: float,
    progress: bool = True,
) -> Bootstrap:
    """Put the archive's range, less what the live streams hold, on the bootstrap streams."""
    archived = list(json_records(read_kind(s3, archive, TRANSACTIONS), TRANSACTIONS))
    if not archived:
        raise ArchiveError(f"no archived transactions in {archive.describe()}")
    labels = list(json_records(read_kind(s3, archive, LABELS), LABELS))
    result = plan(
        archived,
        labels,
        _texts(kinesis, live.transactions),
        _texts(kinesis, live.labels),
        bound,
    )
    replay(kinesis, bootstrap.labels, result.labels, rate, progress)
    replay(kinesis, bootstrap.transactions, result.transactions, rate, progress)
    return result


def outcomes(kinesis: Any, bootstrap: Streams) -> int:
    """Decisions and dead letters (but the running check's probe) the bootstrap job wrote."""
    decisions = sum(1 for _ in stream_records(kinesis, bootstrap.name(SINKS["decisions"])))
    dead = _texts(kinesis, bootstrap.name(SINKS["deadletter"]))
    return decisions + sum(1 for text in dead if "demo_probe" not in text)


def wait(
    count: Callable[[], int], expect: int, quiet_s: float, timeout_s: float, poll_s: float = 1.0
) -> int:
    """Until `count()` is at least `expect` and has not changed for `quiet_s`; the count.
    Raises TimeoutError naming both figures."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = count()
        if now != last:
            last, since = now, time.monotonic()
        elif now >= expect and time.monotonic() - since >= quiet_s:
            return now
        time.sleep(poll_s)
    raise TimeoutError(f"the bootstrap job wrote {last} outcomes of at least {expect} expected")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local.traffic.bootstrap", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    put = commands.add_parser("load", help="put an archive range on the bootstrap streams")
    add_arguments(put)
    put.add_argument("--live-prefix", required=True, help="the live streams' name prefix")
    put.add_argument("--rate", type=float, default=1_000.0, help="records per second")
    put.add_argument(
        "--bound-ms",
        type=int,
        default=0,
        help="the job's watermark.max_out_of_orderness_ms (for the count `wait` expects)",
    )
    settle = commands.add_parser("wait", help="wait until the bootstrap job has read it all")
    settle.add_argument("--expect", type=int, required=True, help="what `load` printed")
    settle.add_argument("--quiet-s", type=float, default=30.0)
    settle.add_argument("--timeout-s", type=float, default=6 * 3600.0)
    for command in (put, settle):
        command.add_argument("--bootstrap-prefix", required=True)
        command.add_argument("--endpoint", help="another Kinesis/S3 endpoint (moto)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    kinesis = boto3.client("kinesis", endpoint_url=args.endpoint)
    bootstrap = Streams(args.bootstrap_prefix)
    if args.command == "wait":
        count = wait(
            lambda: outcomes(kinesis, bootstrap), args.expect, args.quiet_s, args.timeout_s
        )
        print(f"{count} decisions and dead letters: stop the job with a savepoint now")
        return 0
    archive = from_arguments(parser, args)
    if archive is None:
        parser.error("load needs --archive, --from and --to")
    try:
        result = load(
            s3_client(args.endpoint),
            kinesis,
            archive,
            bootstrap,
            Streams(args.live_prefix),
            timedelta(milliseconds=args.bound_ms),
            args.rate,
        )
    except ArchiveError as error:
        print(f"bootstrap: {error}", file=sys.stderr)
        return 2
    print(
        f"put {len(result.labels)} labels and {len(result.transactions)} transactions "
        f"({result.on_live} left to the live streams); then run: python -m local.traffic.bootstrap "
        f"wait --bootstrap-prefix {args.bootstrap_prefix} "
        f"--expect {len(result.transactions) - result.tail}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
