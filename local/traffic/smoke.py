"""`make smoke` / `python -m local.traffic.smoke --outputs build/outputs.json`: is a
deployment alive from the first transaction to the analyst's screen?

Given the deployment's Terraform outputs (`terraform output -json` saved to a file), it

1. puts the committed sample's newest `--count` transactions (300 by default: 13 frauds of
   four scenarios among them), times shifted to now (local.traffic.replay), on the
   transactions stream;
2. waits for their alerts on the alerts stream (read from LATEST, taken before the first put);
3. then, for every alert it read, the item in the DynamoDB alert table and the object in the
   S3 lake (the fan-out's key, lambdas/alert_fanout/lake.py);
4. one e-mail: SES's sending statistics (delivery attempts) grow after the first put;
5. the alert through the HTTP API, `GET /alerts/{alert_id}` with `--token` (an analyst's
   Cognito ID token, e.g. from the signed-in console; or `$FRAUD_API_TOKEN`).

It prints one line per check and exits 0 when everything arrived, 1 naming what did not
(2 for unusable arguments). The job must be running with a model promoted; e-mails need the
SES identities verified (infra/README.md, "From an empty account to the first alert").
Against moto or LocalStack, `--endpoint` points boto3 there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.alert_fanout.alert import MalformedAlertError, parse_alert
from lambdas.alert_fanout.lake import lake_key
from local.traffic.replay import SAMPLE, read_records, replay, shift_to

TOKEN_ENV = "FRAUD_API_TOKEN"
POLL_S = 0.25  # Kinesis allows 5 GetRecords a second per shard
SETTLE_S = 15.0  # alerts stop being awaited this long after the last one, once one came
Clients = Callable[[str], Any]
T = TypeVar("T")


class OutputsError(ValueError):
    """The Terraform outputs lack what the smoke test needs."""


@dataclass(frozen=True)
class Deployment:
    """What the smoke test reads from `terraform output -json`."""

    transactions_stream: str
    alerts_stream: str
    alerts_table: str
    lake_bucket: str
    lake_prefix: str
    api_endpoint: str | None

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> Deployment:
        """From `terraform output -json` ({name: {"value": v, ...}}) or plain {name: v}."""
        values = {
            name: entry["value"] if isinstance(entry, dict) and "value" in entry else entry
            for name, entry in outputs.items()
        }
        needed = ("stream_names", "alerts_table", "alerts_lake_bucket")
        missing = [name for name in needed if not values.get(name)]
        if missing:
            raise OutputsError(f"terraform outputs lack {', '.join(missing)}")
        streams = values["stream_names"]
        if not isinstance(streams, dict) or not {"transactions", "alerts"} <= set(streams):
            raise OutputsError("stream_names must name the transactions and alerts streams")
        return cls(
            transactions_stream=str(streams["transactions"]),
            alerts_stream=str(streams["alerts"]),
            alerts_table=str(values["alerts_table"]),
            lake_bucket=str(values["alerts_lake_bucket"]),
            lake_prefix=str(values.get("alerts_lake_prefix") or "alerts/"),
            api_endpoint=str(values["api_endpoint"]) if values.get("api_endpoint") else None,
        )


@dataclass(frozen=True)
class Check:
    name: str
    arrived: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.arrived else 'MISSING'} {self.name:<16} {self.detail}"


@dataclass
class SmokeReport:
    sent: int = 0
    frauds_sent: int = 0
    checks: list[Check] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.checks if not c.arrived]

    def render(self) -> str:
        head = f"smoke: {self.sent} transactions put ({self.frauds_sent} frauds among them)"
        tail = (
            "smoke: everything arrived"
            if not self.missing
            else f"smoke: did not arrive: {', '.join(self.missing)}"
        )
        return "\n".join([head, *(c.line() for c in self.checks), tail])


def smoke_records(count: int, now: datetime, path: Path = SAMPLE) -> tuple[list[str], set[str]]:
    """The file's newest `count` transactions (contract fields only) shifted so that the
    newest is `now`, and the ids of the frauds among them (the simulator's labels)."""
    labelled = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    chosen = labelled[-count:]
    frauds = {str(r["transaction_id"]) for r in chosen if r.get("label") == 1}
    return shift_to(read_records(path)[-count:], now), frauds


class AlertWatch:
    """Alerts arriving on a stream after it was opened (LATEST on every shard), paced
    within Kinesis' per-shard read limit."""

    def __init__(self, kinesis: Any, stream: str) -> None:
        self._kinesis = kinesis
        shards = kinesis.list_shards(StreamName=stream)["Shards"]
        self._iterators: dict[str, str | None] = {
            shard["ShardId"]: kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }

    def poll(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for shard, iterator in self._iterators.items():
            if iterator is None:
                continue
            try:
                response = self._kinesis.get_records(ShardIterator=iterator, Limit=1000)
            except ClientError as error:
                if error.response["Error"]["Code"] == "ProvisionedThroughputExceededException":
                    continue  # read again at the next poll
                raise
            self._iterators[shard] = response.get("NextShardIterator")
            for record in response["Records"]:
                try:
                    document = json.loads(record["Data"])
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue
                if isinstance(document, dict):
                    found.append(document)
        return found


def sent_email_count(ses: Any) -> int:
    """Delivery attempts in SES's sending statistics (the last two weeks, summed)."""
    points = ses.get_send_statistics().get("SendDataPoints", [])
    return sum(int(p.get("DeliveryAttempts", 0)) for p in points)


def poll(fetch: Callable[[], T], done: Callable[[T], bool], deadline: float, every_s: float) -> T:
    """`fetch()` every `every_s` until `done` holds of its value or the deadline; the last."""
    while True:
        value = fetch()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(every_s)


def await_alerts(
    watch: AlertWatch, sent: set[str], frauds: set[str], deadline: float
) -> dict[str, dict[str, Any]]:
    """Alerts of the sent transactions, by alert_id: until every fraud has one, or once one
    came and nothing new for SETTLE_S, or the deadline."""
    alerts: dict[str, dict[str, Any]] = {}
    last_new = time.monotonic()
    while time.monotonic() < deadline:
        for alert in watch.poll():
            if str(alert.get("transaction_id")) in sent and "alert_id" in alert:
                if alert["alert_id"] not in alerts:
                    last_new = time.monotonic()
                alerts[str(alert["alert_id"])] = alert
        alerted = {str(a["transaction_id"]) for a in alerts.values()}
        if frauds and frauds <= alerted:
            break
        if alerts and time.monotonic() - last_new >= SETTLE_S:
            break
        time.sleep(POLL_S)
    return alerts


def stored(dynamodb: Any, table: str, alert_ids: Sequence[str]) -> set[str]:
    found = set()
    for alert_id in alert_ids:
        item = dynamodb.get_item(TableName=table, Key={"alert_id": {"S": alert_id}})
        if "Item" in item:
            found.add(alert_id)
    return found


def in_lake(s3: Any, deployment: Deployment, alerts: Mapping[str, dict[str, Any]]) -> set[str]:
    found = set()
    for alert_id, document in alerts.items():
        try:
            key = lake_key(parse_alert(json.dumps(document)), deployment.lake_prefix)
        except MalformedAlertError:
            continue
        try:
            s3.head_object(Bucket=deployment.lake_bucket, Key=key)
        except ClientError:
            continue
        found.add(alert_id)
    return found


def api_alert(endpoint: str, alert_id: str, token: str) -> tuple[bool, str]:
    """GET {endpoint}/alerts/{alert_id} with the token: (the alert came back, what happened)."""
    url = f"{endpoint.rstrip('/')}/alerts/{urllib.parse.quote(alert_id, safe='')}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            document = json.load(response)
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code} from {url}"
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as error:
        return False, f"{url}: {error}"
    alert = document.get("alert") if isinstance(document, dict) else None  # AlertDetailResponse
    found = isinstance(alert, dict) and alert.get("alert_id") == alert_id
    return found, f"GET /alerts/{alert_id} -> {'the alert' if found else 'another document'}"


def run_smoke(
    deployment: Deployment,
    clients: Clients,
    token: str | None,
    count: int = 300,
    rate: float = 50.0,
    timeout_s: float = 600.0,
    progress: bool = True,
) -> SmokeReport:
    report = SmokeReport()
    deadline = time.monotonic() + timeout_s
    kinesis, ses = clients("kinesis"), clients("ses")
    emails_before = sent_email_count(ses)
    watch = AlertWatch(kinesis, deployment.alerts_stream)
    records, frauds = smoke_records(count, datetime.now(UTC))
    sent = replay(kinesis, deployment.transactions_stream, records, rate, progress)
    report.sent, report.frauds_sent = sent.sent, len(frauds)
    ids = set(sent.put_times)

    alerts = await_alerts(watch, ids, frauds, deadline)
    alerted_frauds = {str(a["transaction_id"]) for a in alerts.values()} & frauds
    report.checks.append(
        Check(
            "alerts",
            bool(alerts),
            f"{len(alerts)} on {deployment.alerts_stream}, "
            f"{len(alerted_frauds)} of the {len(frauds)} frauds",
        )
    )
    alert_ids = sorted(alerts)
    dynamodb, s3 = clients("dynamodb"), clients("s3")

    def every_alert(found: set[str]) -> bool:
        return len(found) == len(alert_ids)

    items = poll(
        lambda: stored(dynamodb, deployment.alerts_table, alert_ids), every_alert, deadline, 1.0
    )
    objects = poll(lambda: in_lake(s3, deployment, alerts), every_alert, deadline, 1.0)
    report.checks.append(
        Check(
            "dynamodb items",
            bool(alert_ids) and len(items) == len(alert_ids),
            f"{len(items)} of {len(alert_ids)} alerts in {deployment.alerts_table}",
        )
    )
    report.checks.append(
        Check(
            "lake objects",
            bool(alert_ids) and len(objects) == len(alert_ids),
            f"{len(objects)} of {len(alert_ids)} alerts in "
            f"s3://{deployment.lake_bucket}/{deployment.lake_prefix}",
        )
    )
    emails = poll(lambda: sent_email_count(ses), lambda n: n > emails_before, deadline, 5.0)
    report.checks.append(
        Check(
            "e-mail", emails > emails_before, f"SES delivery attempts {emails_before} -> {emails}"
        )
    )
    report.checks.append(api_check(deployment, token, sorted(items), deadline))
    return report


def api_check(
    deployment: Deployment, token: str | None, alert_ids: list[str], deadline: float
) -> Check:
    """The first stored alert through the API, asked until it answers with it."""
    endpoint = deployment.api_endpoint
    if endpoint is None:
        return Check("api", False, "terraform outputs have no api_endpoint")
    if not token:
        return Check("api", False, f"no token: pass --token or set {TOKEN_ENV}")
    if not alert_ids:
        return Check("api", False, "no stored alert to ask the API for")
    found, detail = poll(
        lambda: api_alert(endpoint, alert_ids[0], token), lambda o: o[0], deadline, 2.0
    )
    return Check("api", found, detail)


def boto3_clients(endpoint: str | None, region: str | None) -> Clients:
    def client(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, endpoint_url=endpoint, region_name=region
        )

    return client


def main(argv: list[str] | None = None, clients: Clients | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--outputs", type=Path, required=True, help="`terraform output -json` saved to a file"
    )
    parser.add_argument("--token", default=None, help=f"API bearer token (or ${TOKEN_ENV})")
    parser.add_argument("--count", type=int, default=300, help="transactions to put")
    parser.add_argument("--rate", type=float, default=50.0, help="transactions per second")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait in all")
    parser.add_argument("--endpoint", default=None, help="AWS endpoint URL (moto, LocalStack)")
    parser.add_argument("--region", default=None, help="AWS region (default: boto3's)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.count <= 0 or args.rate <= 0 or args.timeout <= 0:
        parser.error("--count, --rate and --timeout must be positive")
    try:
        deployment = Deployment.from_outputs(json.loads(args.outputs.read_text()))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, OutputsError) as error:
        print(f"smoke: {args.outputs}: {error}", file=sys.stderr)
        return 2
    token = args.token or os.environ.get(TOKEN_ENV)
    try:
        report = run_smoke(
            deployment,
            clients or boto3_clients(args.endpoint, args.region),
            token,
            args.count,
            args.rate,
            args.timeout,
            not args.quiet,
        )
    except (BotoCoreError, ClientError) as error:
        print(f"smoke: AWS refused: {error}", file=sys.stderr)
        return 1
    print(report.render())
    return 0 if not report.missing else 1


if __name__ == "__main__":
    raise SystemExit(main())
