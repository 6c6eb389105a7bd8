"""Replay a transactions file into Kinesis at a fixed rate, like a payment switch would.

    python -m local.traffic.replay --stream fraud-stream-dev-transactions --rate 50 --last 500
    python -m local.traffic.replay sample_data/sample_transactions.jsonl --stream transactions \
        --endpoint http://127.0.0.1:5000 --no-shift

Fields outside Transaction v1 (the simulator's `label`, `scenario`) are not sent. By default
the times are shifted so that the file's latest `event_time` is now, keeping every gap: the
committed sample ends weeks ago, and a deployed job dead-letters what is older than its
`transactions.max_age_ms` (7 days on AWS). Records go out in file order (the sample's is
event-time order, so the job sees no late records). `--endpoint` points boto3 elsewhere
(moto, LocalStack); without it the usual AWS credentials, region and `AWS_ENDPOINT_URL` apply.
The time of each put is kept, so that end-to-end latency can be measured against alerts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from contracts.transaction import TRANSACTION_V1

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "sample_transactions.jsonl"
CONTRACT_FIELDS = frozenset(TRANSACTION_V1.names())
#: transactions.max_age_ms as Terraform deploys it (infra/terraform/variables.tf)
DEPLOYED_MAX_AGE = timedelta(days=7)
# A record as sent: text (JSON lines) or, for hostile input such as invalid UTF-8, bytes.
Record = str | bytes
R = TypeVar("R", bound=Record)
MAX_BATCH = 500  # PutRecords limit
TICK_S = 0.05


def read_records(path: Path) -> list[str]:
    """Raw lines of a JSON-lines file, contract fields only for JSON objects; other
    lines (malformed on purpose) are sent as they are."""
    records = []
    for line in path.read_text().splitlines():
        if line.strip():
            records.append(contract_only(line))
    return records


def contract_only(line: str) -> str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return line
    if not isinstance(value, dict):
        return line
    return json.dumps({k: v for k, v in value.items() if k in CONTRACT_FIELDS})


def _data(record: Record) -> bytes:
    return record if isinstance(record, bytes) else record.encode()


def partition_key(record: Record) -> str:
    try:
        value = json.loads(record)
        return str(value.get("card_id") or "unknown") if isinstance(value, dict) else "malformed"
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "malformed"


def transaction_id(record: Record) -> str | None:
    try:
        value = json.loads(record)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return (
        str(value["transaction_id"])
        if isinstance(value, dict) and "transaction_id" in value
        else None
    )


@dataclass
class ReplayResult:
    sent: int = 0
    failed: int = 0
    put_times: dict[str, float] = field(default_factory=dict)  # transaction_id -> epoch s
    seconds: float = 0.0


def paced(records: Sequence[R], rate: float, tick_s: float = TICK_S) -> Iterator[list[R]]:
    """`records` in PutRecords-sized batches, each tick's yielded `tick_s` after the last's
    so that about `rate` records a second go out."""
    per_tick = max(1, round(rate * tick_s))
    start = time.monotonic()
    for tick, offset in enumerate(range(0, len(records), per_tick)):
        delay = start + tick * tick_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        chunk = list(records[offset : offset + per_tick])
        for batch_start in range(0, len(chunk), MAX_BATCH):
            yield chunk[batch_start : batch_start + MAX_BATCH]


def replay(
    kinesis: Any, stream: str, records: Iterable[Record], rate: float, progress: bool = True
) -> ReplayResult:
    """Put every record at about `rate` records/s; retry throttled ones until accepted."""
    pending = list(records)
    result = ReplayResult()
    began = time.monotonic()
    with tqdm(total=len(pending), unit="tx", disable=not progress, desc="replay") as bar:
        for batch in paced(pending, rate):
            _put_all(kinesis, stream, batch, result)
            bar.update(len(batch))
    result.seconds = time.monotonic() - began
    return result


def _put_all(kinesis: Any, stream: str, batch: list[Record], result: ReplayResult) -> None:
    for _attempt in range(10):
        now = time.time()
        response = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": _data(r), "PartitionKey": partition_key(r)} for r in batch],
        )
        retry = []
        for record, entry in zip(batch, response["Records"], strict=True):
            if "ErrorCode" in entry:
                retry.append(record)
                continue
            result.sent += 1
            tx = transaction_id(record)
            if tx is not None:
                result.put_times.setdefault(tx, now)
        if not retry:
            return
        batch = retry
        time.sleep(0.1)
    result.failed += len(batch)


def parse_time(text: str) -> datetime:
    """An RFC 3339 UTC time as the contract writes it (`...Z`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_time(moment: datetime) -> str:
    """Millisecond RFC 3339 in UTC with `Z`, as the sample and the simulator write it."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def event_time(record: Record) -> datetime | None:
    """The record's event_time, or None for records that have none readable (kept as sent)."""
    try:
        value = json.loads(record)
        return parse_time(value["event_time"]) if isinstance(value, dict) else None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        return None


def shift_to(records: Sequence[str], latest: datetime) -> list[str]:
    """`records` with every readable event_time moved by the same amount, so that the latest
    one is `latest`; records without one are left as they are."""
    times = [event_time(r) for r in records]
    known = [t for t in times if t is not None]
    if not known:
        return list(records)
    whole_ms = latest.replace(microsecond=latest.microsecond // 1000 * 1000)
    delta = whole_ms - max(known)  # whole milliseconds: the written gaps stay exact
    shifted = []
    for record, moment in zip(records, times, strict=True):
        if moment is None:
            shifted.append(record)
            continue
        value = json.loads(record)
        value["event_time"] = format_time(moment + delta)
        shifted.append(json.dumps(value))
    return shifted


def older_than(records: Sequence[Record], age: timedelta, now: datetime) -> int:
    """How many records a job with this maximum age would dead-letter on arrival now."""
    return sum(1 for r in records if (t := event_time(r)) is not None and t < now - age)


def kinesis_client(endpoint: str | None, region: str | None) -> Any:
    """boto3's Kinesis client, pointed at `endpoint` when given."""
    return boto3.client("kinesis", endpoint_url=endpoint, region_name=region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "file", nargs="?", type=Path, default=SAMPLE, help="JSON lines (default: the sample)"
    )
    parser.add_argument("--stream", required=True, help="Kinesis stream to put the records on")
    parser.add_argument("--rate", type=float, default=100.0, help="records per second")
    parser.add_argument("--last", type=int, default=None, help="only the file's last N records")
    parser.add_argument(
        "--no-shift", action="store_true", help="send event_time as written in the file"
    )
    parser.add_argument("--endpoint", default=None, help="AWS endpoint URL (moto, LocalStack)")
    parser.add_argument("--region", default=None, help="AWS region (default: boto3's)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.rate <= 0 or (args.last is not None and args.last <= 0):
        parser.error("--rate and --last must be positive")
    try:
        records = read_records(args.file)
    except (OSError, UnicodeDecodeError) as error:
        print(f"replay: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    if args.last is not None:
        records = records[-args.last :]
    now = datetime.now(UTC)
    if not args.no_shift:
        records = shift_to(records, now)
    stale = older_than(records, DEPLOYED_MAX_AGE, now)
    if stale:
        print(
            f"replay: {stale} of {len(records)} records are older than "
            f"{DEPLOYED_MAX_AGE.days} days: a deployed job dead-letters them "
            "(transactions.max_age_ms); --last N sends only the newest",
            file=sys.stderr,
        )
    try:
        result = replay(
            kinesis_client(args.endpoint, args.region),
            args.stream,
            records,
            args.rate,
            not args.quiet,
        )
    except (BotoCoreError, ClientError) as error:
        print(f"replay: {error}", file=sys.stderr)
        return 1
    print(
        f"replay: {result.sent} records put on {args.stream} in {result.seconds:.1f} s"
        f" ({result.sent / max(result.seconds, 1e-9):,.0f}/s), {result.failed} failed"
    )
    return 1 if result.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
