"""`make demo`: the whole fraud pipeline on this machine, no AWS account needed.

1. start a local AWS (moto server on loopback) with the streams;
2. take the committed sample (or simulate a new data set with --simulate-days);
3. train and export the model on the job's own features (reused when nothing changed);
4. start the Flink job (local mini-cluster, the real Kinesis connector);
5. replay the transactions, plus a few malformed records, into Kinesis at --rate;
   while it runs, analysts put a card on a list and publish a rule on it through the API
   (four eyes), and a shadow rule (local.demo.rules);
6. read alerts and dead letters back, archive what the streams carried to the local S3
   as Firehose would (local.aws.archive), the decision log among them, and print a summary
   (decisions logged = transactions scored, and what each rule matched and alerted);
   then serve the analyst console and API over them (until Ctrl-C in a terminal);
7. shut everything down — also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws, aws_env
from local.aws.api_resources import LOCAL_RULES_ROOT
from local.aws.fanout_resources import provision_fanout
from local.aws.lambda_poller import run_fanout, stats_lines
from local.console.server import running as console_running
from local.console.server import serve_demo
from local.demo.rules import RuleCount, RulesStep, rule_counts, watched_card
from local.flink.running import RunningPipeline, wait_for, wait_quiet
from local.traffic.latency import LatencySplit, latency_samples, split_cold_start
from local.traffic.replay import Record, ReplayResult, read_records
from model_export.cached import trained_model

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "sample_transactions.jsonl"
BUILD = ROOT / "build"
RULES_POLL_MS = 2000  # the demo job's rules.poll_interval_ms
RULES_AT = 0.25  # the rules are published this far into the replay


def malformed_records() -> list[Record]:
    """Bad and hostile input the job must dead-letter with a reason, never crash on, and
    never let move event time for others."""
    good = {
        "transaction_id": "bad-0",
        "event_time": "2026-10-05T10:00:00.000Z",
        "card_id": "card_bad",
        "terminal_id": "term_bad",
        "amount": 12.5,
        "currency": "EUR",
    }
    variants: list[dict[str, Any]] = [
        {"amount": -3.0},
        {"amount": "twelve"},
        {"currency": "euro"},
        {"event_time": "05/10/2026 10:00"},
        {"event_time": "2026-10-05T10:00:00+02:00"},
        {"card_id": "4111 1111 1111 1111"},
        {"terminal_id": "card-4111111111111111"},
        {"card_id": None},
        {"terminal_id": 42},
        {"event_time": "2099-01-01T00:00:00.000Z"},  # would blind the detector if trusted
    ]
    records: list[Record] = ["this is not json", "[1, 2, 3]"]
    for index, change in enumerate(variants, start=1):
        records.append(json.dumps({**good, "transaction_id": f"bad-{index}", **change}))
    records.append(json.dumps(good).replace("12.5", "1e400"))  # Infinity once parsed
    records.append(b'{"transaction_id": "bad-bytes", "card_id": "\xff\xfe"}')  # not UTF-8
    return records


def mix(records: Sequence[Record], extra: Sequence[Record], seed: int = 11) -> list[Record]:
    rng = random.Random(seed)
    mixed = list(records)
    for record in extra:
        mixed.insert(rng.randrange(len(mixed) + 1), record)
    return mixed


def data_file(args: argparse.Namespace) -> Path:
    if not args.simulate_days:
        return Path(args.data)
    from sample_data.simulate import main as simulate

    out = BUILD / f"simulated-{args.simulate_days}d.jsonl"
    simulate(["--out", str(out), "--days", str(args.simulate_days), "--seed", "7"])
    return out


@dataclass
class Summary:
    sent: int
    scored: int
    alerts: int
    deadlettered: int
    precision: float
    recall: float
    latency: LatencySplit
    replay_rate: float
    fanout: list[str] = field(default_factory=list)
    decisions: int = 0  # distinct decision_ids in the local decision log
    decision_rows: int = 0  # rows delivered, redeliveries included
    rules: list[str] = field(default_factory=list)

    def render(self) -> str:
        return "\n".join(
            [
                "",
                "── fraud-stream demo summary ─────────────────────────────",
                f"transactions in        {self.sent:>8}   ({self.replay_rate:,.0f}/s offered)",
                f"scored                 {self.scored:>8}   (Flink metric transactions_scored)",
                f"decisions logged       {self.decisions:>8}   "
                f"({self.decision_rows} rows in the decision log; "
                f"{'= scored' if self.decisions == self.scored else '!= scored'})",
                f"alerts                 {self.alerts:>8}",
                f"dead-lettered          {self.deadlettered:>8}",
                f"alert precision        {self.precision:>8.3f}   (vs the simulator's labels)",
                f"alert recall           {self.recall:>8.3f}",
                *latency_lines(self.latency),
                *(f"fan-out: {line}" for line in self.fanout),
                *self.rules,
                "──────────────────────────────────────────────────────────",
            ]
        )


def latency_lines(latency: LatencySplit) -> list[str]:
    """The steady state as the demo's latency; the cold start (the job's first seconds:
    class loading, JIT, the Python worker's first bundles) on lines of its own."""
    steady, cold, window = latency.steady, latency.cold, f"{latency.cold_s:g} s"
    return [
        f"latency put→alert p50  {steady.p50_ms:>8.0f} ms   "
        f"(steady state: {steady.count} alerts put after the first {window})",
        f"latency put→alert p99  {steady.p99_ms:>8.0f} ms",
        f"cold start p50         {cold.p50_ms:>8.0f} ms   "
        f"({cold.count} alerts put in the first {window}: JIT, Python worker start)",
        f"cold start p99         {cold.p99_ms:>8.0f} ms   (max {cold.max_ms:.0f} ms)",
        f"first alert            {latency.first_alert_s * 1000:>8.0f} ms   "
        f"after the first put (its own latency {latency.first_alert_latency_ms:.0f} ms)",
    ]


def fraud_ids(data: Path) -> set[str]:
    """The transaction ids the data set labels fraud."""
    labels = pd.read_json(data, lines=True, dtype={"transaction_id": str})
    return set(labels.loc[labels["label"] == 1, "transaction_id"])


def summarise(
    data: Path,
    sent: ReplayResult,
    alerts: list[Any],
    deadletters: int,
    scored: int,
    breakdown: bool = False,
) -> Summary:
    frauds = fraud_ids(data)
    alerted = {a.record["transaction_id"] for a in alerts}
    hits = len(alerted & frauds)
    started_at = min(sent.put_times.values(), default=math.nan)
    latency = split_cold_start(latency_samples(alerts, sent.put_times), started_at)
    if breakdown:
        _print_latency_breakdown(alerts, sent)
    return Summary(
        sent=sent.sent,
        scored=scored,
        alerts=len(alerted),
        deadlettered=deadletters,
        precision=hits / max(len(alerted), 1),
        recall=hits / max(len(frauds), 1),
        latency=latency,
        replay_rate=sent.sent / max(sent.seconds, 1e-9),
    )


def _print_latency_breakdown(alerts: list[Any], sent: ReplayResult) -> None:
    def epoch(text: str) -> float:
        return pd.Timestamp(text).timestamp()

    rows = [
        (
            epoch(a.record["ingested_at"]) - sent.put_times[a.record["transaction_id"]],
            epoch(a.record["detected_at"]) - epoch(a.record["ingested_at"]),
            a.read_at - epoch(a.record["detected_at"]),
        )
        for a in alerts
        if a.record["transaction_id"] in sent.put_times
    ]
    parts = np.array(rows) * 1000
    names = ("put→ingested", "ingested→detected", "detected→read")
    for name, column in zip(names, parts.T, strict=True):
        p50, p99 = np.percentile(column, [50, 99])
        print(f"{name:>20}: p50 {p50:8.0f} ms  p99 {p99:8.0f} ms")


def run(args: argparse.Namespace) -> Summary:
    data = data_file(args)
    model_dir = BUILD / "model"
    records = read_records(data)
    bad = malformed_records()
    with LocalAws() as aws:
        print(f"local AWS: moto on {aws.endpoint}")
        # Before the first Flink call: the JVM that PyFlink starts inherits this environment.
        os.environ.update(aws_env(aws.endpoint))
        trained_model(data, model_dir)
        fanout_config = FanoutConfig()
        queue_url = provision_fanout(aws.client, fanout_config)
        mixed = mix(records, bad)
        rules_at = RULES_AT * len(mixed) / args.rate
        with (
            console_running(aws.endpoint, alerts_table=fanout_config.alerts_table) as console,
            RunningPipeline(
                aws,
                str(model_dir),
                rules_path=LOCAL_RULES_ROOT,
                rules_poll_interval_ms=RULES_POLL_MS,
            ) as pipeline,
        ):
            print("job: running; replaying …")
            card = watched_card(mixed, len(mixed) // 2, fraud_ids(data))
            step = RulesStep(console, card, delay_s=rules_at)
            step.warm()
            step.start()
            sent = pipeline.send(mixed, args.rate)
            step.join()
            wait_for(lambda: len(pipeline.deadletter_records()) >= len(bad), 60, "dead letters")
            wait_quiet(pipeline.alerts, quiet_s=3.0, timeout_s=60)
            # Flink's REST API refreshes its metric store when asked: poll, do not read once.
            with contextlib.suppress(TimeoutError):
                wait_for(lambda: pipeline.scored() >= len(records), 30, "every transaction scored")
            scored = pipeline.scored()
            alerts = pipeline.alerts.received
            deadletters = len(pipeline.deadletter_records())
        fanout = fan_out(aws, fanout_config, queue_url)
        insights_page(aws, fanout_config)
        archive_history(aws, data)
        summary = summarise(data, sent, alerts, deadletters, scored, args.latency_breakdown)
        summary.fanout = fanout
        summary.decisions, summary.decision_rows = decision_log(aws, data)
        summary.rules = rules_lines(aws, data, step, min(sent.put_times.values(), default=0.0))
        print(summary.render())
        # The analyst console and API over these alerts; until Ctrl-C in a terminal.
        serve_demo(aws.endpoint, fanout_config.alerts_table)
    return summary


def insights_page(aws: LocalAws, config: FanoutConfig) -> None:
    """The QuickSight dashboard's figures from the lake the fan-out wrote (local.insights)."""
    from local.insights.report import write_insights

    out = BUILD / "insights" / "index.html"
    insights = write_insights(aws.client("s3"), config.alerts_bucket, config.lake_prefix, out)
    alerts = sum(insights.results["alerts_by_hour"].column("alert_count"))
    print(f"insights: {alerts} alerts from {insights.objects} lake objects -> {out}")


def archive_history(aws: LocalAws, data: Path) -> None:
    """The transaction and label archive (local.aws.archive), as Firehose fills it on AWS."""
    from local.aws.archive import ARCHIVE_BUCKET, archive_demo

    transactions, labels = archive_demo(aws, data)
    print(
        f"archive: {transactions.records} transactions, {labels.records} labels in "
        f"s3://{ARCHIVE_BUCKET}/ ({len(transactions.partitions)} days, "
        f"{sum(transactions.errors.values())} records under errors/)"
    )
    # The data set's days (a hostile record may sit in a partition of its own, e.g. 2099).
    days = pd.read_json(data, lines=True, dtype={"event_time": str})["event_time"].str[:10]
    print(
        f"  retrain from it: AWS_ENDPOINT_URL={aws.endpoint} python -m model_export.train "
        f"--archive s3://{ARCHIVE_BUCKET} --from {days.min()} --to {days.max()} "
        "build/model-archive"
    )


def decision_log(aws: LocalAws, data: Path) -> tuple[int, int]:
    """The decisions stream into the local decision log (local.aws.archive), read back over the
    data set's days by the de-duplicating reader: (decisions, rows delivered). Prints the
    bytes a decision takes on the stream (JSON) and in Parquet (all in one object, as
    Firehose's 128 MB buffers write them; the demo's own objects hold a partition-hour
    each, a few records)."""
    from local.aws import read_stream
    from local.aws.archive import ARCHIVE_BUCKET, deliver_decisions, ensure_bucket, parquet_size
    from model_export.decision_log import read_counts

    records = [r["Data"] for r in read_stream(aws, "decisions")]
    s3 = aws.client("s3")
    ensure_bucket(s3, ARCHIVE_BUCKET)
    deliver_decisions(s3, ARCHIVE_BUCKET, records)
    if records:
        json_bytes = sum(len(r) for r in records) / len(records)
        parquet_bytes = parquet_size(records) / len(records)
        print(
            f"decision log: {json_bytes:,.0f} bytes per decision on the stream (JSON), "
            f"{parquet_bytes:,.0f} in Parquet (Snappy, {len(records)} in one object)"
        )
    window = demo_window(data)
    counts = read_counts(window, aws.client("s3"))
    print(f"decision log: s3://{ARCHIVE_BUCKET}/decisions/: {counts.render()}")
    return counts.decisions, counts.copies


def rules_lines(aws: LocalAws, data: Path, step: RulesStep, started_at: float) -> list[str]:
    """What the rules published during the replay did, from the decision log."""
    from model_export.decision_log import read_log

    if step.problems or step.published_at is None:
        return [f"rules: not published: {'; '.join(step.problems) or 'still running'}"]
    counts: list[RuleCount] = read_log(demo_window(data), rule_counts, aws.client("s3"))
    at = step.published_at - started_at
    return [
        f"rules: {step.card} listed and rule set {step.ruleset_version} approved "
        f"{at:.1f} s into the replay (job polls every {RULES_POLL_MS / 1000:g} s)",
        *(f"  {count.render()}" for count in counts),
    ]


def demo_window(data: Path) -> Any:
    """The decision log's range over the data set's days."""
    from datetime import date

    from local.aws.archive import ARCHIVE_BUCKET
    from model_export.archive import ArchiveRange

    days = pd.read_json(data, lines=True, dtype={"event_time": str})["event_time"].str[:10]
    return ArchiveRange(
        f"s3://{ARCHIVE_BUCKET}", date.fromisoformat(days.min()), date.fromisoformat(days.max())
    )


def fan_out(aws: LocalAws, config: FanoutConfig, queue_url: str) -> list[str]:
    """The alert fan-out Lambda's real handler, fed like the Kinesis event-source mapping."""
    print("fan-out: delivering alerts to S3, DynamoDB and SES …")
    poller, stats = run_fanout(aws, config, queue_url, batch_size=100, timeout_s=120)
    return stats_lines(stats, poller.summary(replace(config, deadletter_queue_url=queue_url)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data", default=str(SAMPLE), help="labelled transactions (.jsonl)")
    parser.add_argument("--rate", type=float, default=500.0, help="transactions per second")
    parser.add_argument(
        "--simulate-days", type=int, default=0, help="simulate a new data set of N days"
    )
    parser.add_argument(
        "--latency-breakdown",
        action="store_true",
        help="also print put→ingested→detected→read latency percentiles",
    )
    args = parser.parse_args(argv)
    try:
        run(args)
    except KeyboardInterrupt:
        print("\ninterrupted: everything was shut down", file=sys.stderr)
        return 130
    return 0
