"""Champion against challengers: the serving model and each shadow on the decision log.

How the serving model and every shadow model scored the same traffic, judged by the labels
that have matured since:

    python -m model_export.compare --decisions s3://bucket --archive s3://bucket \\
        --from 2026-10-01 --to 2026-10-21 [--as-of 2026-11-15T00:00:00Z] \\
        [--label-delay-days 7] [--cards-k 100] [--out build/compare.html]

The decisions are the log's (model_export.decision_log: one row per `decision_id`); each
counts `sample_weight` times, so sampled non-alerts re-weight to every decision. A decision
counts only once it has matured, its event time plus the label delay not after `--as-of`
(default now); its label is the one in force at `--as-of` (model_export.archive: the latest
reported by then, chargebacks and analyst verdicts alike) and no label is legit, as training
takes it. The labels are read from the archive's days of the same range (a label sits in its
transaction's day).

Per model version (the serving model's, and each shadow's found in `shadow_scores`), over the
decisions it scored: transactions and frauds (weighted), ROC AUC and average precision
(weighted, model_export.evaluate), card precision@100 per day (`--cards-k`;
model_export.evaluate, on the logged decisions: a card ranks by its highest logged score),
precision and recall at the serving model's alert volume (per day, the version's top k by
score, k the serving model's alerts that day; weighted, the row across the k-th weight counted
in part), and alerts per day at the serving threshold each decision carries (a shadow's own
threshold is not in the log). Null shadow scores (a shadow that failed) are left out of that
shadow's figures; its `transactions` says how many it scored. When the serving version
changed within the range, each version is judged on its own decisions: choose a range after
the change to compare like with like. It prints the table and a one-line recommendation
(none under 30 labelled frauds: matured decisions labelled fraud, not weighted) and writes an
HTML report with the plots of model_export.report.
"""

from __future__ import annotations

import argparse
import html
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from model_export.archive import (
    LABELS,
    ArchiveError,
    ArchiveRange,
    add_arguments,
    from_arguments,
    read_kind,
    s3_client,
    transaction_labels,
)
from model_export.decision_log import DECISIONS, VIEW, read_log
from model_export.evaluate import card_precision_at_k, event_days, ranking_metrics
from model_export.report import bars, class_histogram, pr_plot, write_page

MIN_FRAUDS = 30  # fewer labelled frauds than this, and no recommendation is made
CARDS_K = 100  # k of card precision@k
CURRENT, SHADOW, EARLIER = "current", "shadow", "earlier"

#: One row per (decision, model version that scored it): the serving model's score and each
#: shadow's, with what the decision says of the transaction.
SCORES_SQL = f"""
WITH decided AS (
    SELECT decision_id, transaction_id, event_time, card_id, alerted, sample_weight,
           threshold, model_version, score, shadow_scores
    FROM {VIEW}
)
SELECT decision_id, transaction_id, event_time, card_id, alerted, sample_weight, threshold,
       model_version AS version, score, true AS serving
FROM decided
UNION ALL
SELECT decision_id, transaction_id, event_time, card_id, alerted, sample_weight, threshold,
       shadow.key AS version, shadow.value AS score, false AS serving
FROM (SELECT *, unnest(map_entries(shadow_scores)) AS shadow FROM decided
      WHERE shadow_scores IS NOT NULL)
"""


@dataclass(frozen=True)
class VersionMetrics:
    """One model version's figures over the matured decisions it scored."""

    version: str
    role: str  # current (served the latest decision), earlier (served before), shadow
    decisions: int  # logged rows
    transactions: float  # weighted
    frauds: float  # weighted
    roc_auc: float
    average_precision: float
    card_precision_at_k: float  # per day, averaged (model_export.evaluate)
    precision_at_volume: float
    recall_at_volume: float
    alerts_per_day: float


@dataclass(frozen=True)
class Comparison:
    as_of: datetime
    label_delay_days: int
    logged: int  # decisions in the range
    matured: int  # decisions whose label has matured
    days: int  # days with a matured decision
    labelled_frauds: int  # matured decisions labelled fraud (rows, not weighted)
    cards_k: int
    versions: list[VersionMetrics]
    recommendation: str
    #: the joined frame: one row per (decision, version) with `label`
    scored: pd.DataFrame


def read_scores(decisions: ArchiveRange, s3: Any) -> pd.DataFrame:
    """Every (decision, version, score) of the range of the decision log."""

    def query(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        frame: pd.DataFrame = connection.execute(SCORES_SQL).df()
        return frame

    return read_log(decisions, query, s3)


def joined(scores: pd.DataFrame, labels: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """The scores with `label` (1 fraud, 0 legit or none), the label in force at `as_of`."""
    in_force = transaction_labels(labels, as_of).rename(columns={"label": "fraud"})
    frame = scores.merge(in_force, on="transaction_id", how="left")
    frame["label"] = frame.pop("fraud").fillna(0).astype(int)
    return frame


def matured(scores: pd.DataFrame, as_of: datetime, delay: timedelta) -> pd.Series:
    """Whether each decision's label has matured: event time + delay <= as_of."""
    times = pd.to_datetime(scores["event_time"], utc=True, format="ISO8601")
    return times + delay <= pd.Timestamp(as_of)


def at_alert_volume(frame: pd.DataFrame) -> tuple[float, float]:
    """Precision and recall (weighted) of a version's top k per day, k the serving model's
    alerts that day among these decisions; the row across the k-th weight counts in part."""
    true_positives = flagged = 0.0
    for _, day in frame.groupby(event_days(frame).to_numpy(), sort=True):
        k = float(day.loc[day["alerted"], "sample_weight"].sum())
        ranked = day.sort_values("score", ascending=False, kind="stable")
        weights = ranked["sample_weight"].to_numpy(dtype=float)
        before = np.cumsum(weights) - weights
        share = np.clip(k - before, 0.0, weights)
        true_positives += float(np.sum(share * ranked["label"].to_numpy()))
        flagged += float(share.sum())
    frauds = float(np.sum(frame["sample_weight"] * frame["label"]))
    return true_positives / flagged if flagged else 0.0, (
        true_positives / frauds if frauds else 0.0
    )


def version_metrics(
    frame: pd.DataFrame, version: str, role: str, cards_k: int = CARDS_K
) -> VersionMetrics:
    """The figures of one version over its rows of the joined frame."""
    labels = frame["label"].to_numpy()
    scores = frame["score"].to_numpy(dtype=float)
    weights = frame["sample_weight"].to_numpy(dtype=float)
    ranking = ranking_metrics(labels, scores, weights)
    precision, recall = at_alert_volume(frame)
    days = event_days(frame).nunique()
    alerts = float(weights[scores >= frame["threshold"].to_numpy(dtype=float)].sum())
    return VersionMetrics(
        version=version,
        role=role,
        decisions=len(frame),
        transactions=float(weights.sum()),
        frauds=float(np.sum(weights * labels)),
        roc_auc=ranking.get("roc_auc", float("nan")),
        average_precision=ranking.get("average_precision", float("nan")),
        card_precision_at_k=card_precision_at_k(frame, scores, cards_k),
        precision_at_volume=precision,
        recall_at_volume=recall,
        alerts_per_day=alerts / days if days else 0.0,
    )


def roles(scored: pd.DataFrame) -> dict[str, str]:
    """Each version's role: the serving version of the latest decision is current."""
    serving = scored[scored["serving"]]
    latest = serving.sort_values("event_time", kind="stable")["version"].iloc[-1]
    found: dict[str, str] = {}
    for version in sorted(scored["version"].unique()):
        was_serving = bool((serving["version"] == version).any())
        found[version] = CURRENT if version == latest else EARLIER if was_serving else SHADOW
    return found


def recommend(
    versions: list[VersionMetrics], labelled_frauds: int, days: int, cards_k: int = CARDS_K
) -> str:
    """One plain line: promote the best shadow, keep the current model, or too early to say."""
    if labelled_frauds < MIN_FRAUDS:
        return (
            f"not enough matured labels ({labelled_frauds} frauds < {MIN_FRAUDS}): "
            "no recommendation"
        )
    current = next(v for v in versions if v.role == CURRENT)
    shadows = [v for v in versions if v.role == SHADOW and not np.isnan(v.average_precision)]
    if not shadows:
        return f"no shadow model in the log beside current {current.version}: nothing to compare"
    best = max(shadows, key=lambda v: (v.average_precision, v.card_precision_at_k))
    ap = best.average_precision - current.average_precision
    cp = best.card_precision_at_k - current.card_precision_at_k
    over = f"over {days} matured days"
    if ap > 0 and cp >= 0:
        return (
            f"shadow {best.version} beats current {current.version} on AP by {ap:.2f} and "
            f"card precision@{cards_k} by {cp:.2f} {over}: consider promoting"
        )
    return (
        f"current {current.version} stays ahead: the best shadow {best.version} differs on AP "
        f"by {ap:+.2f} and card precision@{cards_k} by {cp:+.2f} {over}: keep {current.version}"
    )


def compare(
    decisions: ArchiveRange,
    archive: ArchiveRange,
    as_of: datetime,
    label_delay_days: int = 7,
    s3: Any | None = None,
    cards_k: int = CARDS_K,
) -> Comparison:
    """Read the range's decisions and labels and compare the versions (ArchiveError when
    there is nothing to compare, saying what to change)."""
    client = s3 or s3_client()
    for option, root in (("--decisions", decisions), ("--archive", archive)):
        check_bucket(client, option, root)
    scores = read_scores(decisions, client)
    logged = int(scores.loc[scores["serving"], "decision_id"].nunique())
    if not logged:
        raise ArchiveError(
            f"no decisions in {decisions.describe()} (looked under "
            f"s3://{decisions.bucket}/{decisions.prefix}{DECISIONS}/dt=…/): check --decisions, "
            "--from and --to"
        )
    scores = scores[scores["score"].notna()].drop_duplicates(["decision_id", "version"])
    delay = timedelta(days=label_delay_days)
    ripe = scores[matured(scores, as_of, delay).to_numpy()]
    if ripe.empty:
        raise ArchiveError(
            f"none of the {logged} decisions in {decisions.describe()} has matured by "
            f"{as_of.isoformat()} with a {label_delay_days}-day label delay: move --from and "
            "--to earlier, --as-of later or --label-delay-days lower"
        )
    labels = read_kind(client, archive, LABELS)
    scored = joined(ripe.reset_index(drop=True), labels, as_of)
    serving = scored[scored["serving"]]
    days = int(event_days(serving).nunique())
    labelled_frauds = int(serving["label"].sum())
    versions = [
        version_metrics(scored[scored["version"] == version], version, role, cards_k)
        for version, role in roles(scored).items()
    ]
    order = {CURRENT: 0, SHADOW: 1, EARLIER: 2}
    versions.sort(key=lambda v: (order[v.role], v.version))
    return Comparison(
        as_of=as_of,
        label_delay_days=label_delay_days,
        logged=logged,
        matured=len(serving),
        days=days,
        labelled_frauds=labelled_frauds,
        versions=versions,
        recommendation=recommend(versions, labelled_frauds, days, cards_k),
        cards_k=cards_k,
        scored=scored,
    )


def check_bucket(s3: Any, option: str, root: ArchiveRange) -> None:
    """ArchiveError naming the option when its bucket cannot be read."""
    try:
        s3.head_bucket(Bucket=root.bucket)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        missing = code in ("404", "NoSuchBucket", "NotFound")
        why = "does not exist" if missing else f"cannot be read ({code})"
        raise ArchiveError(f"{option}: the bucket s3://{root.bucket} {why}") from error
    except BotoCoreError as error:
        raise ArchiveError(f"{option}: s3://{root.bucket} cannot be reached: {error}") from error


def table(versions: list[VersionMetrics], cards_k: int = CARDS_K) -> str:
    head = (
        f"{'version':<22}{'role':<9}{'transactions':>13}{'frauds':>9}{'ROC AUC':>9}{'AP':>7}"
        f"{f'CP@{cards_k}':>8}{'prec@vol':>10}{'rec@vol':>9}{'alerts/day':>11}"
    )
    lines = [head, "-" * len(head)]
    for v in versions:
        lines.append(
            f"{v.version:<22}{v.role:<9}{v.transactions:>13,.0f}{v.frauds:>9,.0f}"
            f"{v.roc_auc:>9.3f}{v.average_precision:>7.3f}{v.card_precision_at_k:>8.3f}"
            f"{v.precision_at_volume:>10.3f}{v.recall_at_volume:>9.3f}{v.alerts_per_day:>11.1f}"
        )
    return "\n".join(lines)


def summary(result: Comparison) -> str:
    return (
        f"as of {result.as_of.isoformat()}, label delay {result.label_delay_days} d: "
        f"{result.matured} of {result.logged} logged decisions matured over {result.days} days, "
        f"{result.labelled_frauds} labelled frauds"
    )


def write_report(path: Path, result: Comparison, source: str) -> None:
    """The HTML report: the table, the recommendation, and the plots of each version."""
    by_version = {v: rows for v, rows in result.scored.groupby("version", sort=False)}
    curves = []
    for v in result.versions:
        rows = by_version[v.version]
        if rows["label"].nunique() == 2:
            curves.append(
                (
                    v.version,
                    rows["label"].to_numpy(),
                    rows["score"].to_numpy(dtype=float),
                    rows["sample_weight"].to_numpy(dtype=float),
                )
            )
    sections = [
        f"<h1>Champion and challengers: {html.escape(source)}</h1>",
        f"<p>{html.escape(summary(result))}.</p>",
        f"<pre>{html.escape(table(result.versions, result.cards_k))}</pre>",
        f"<p><strong>{html.escape(result.recommendation)}</strong></p>",
        pr_plot(curves, "Precision-recall on the matured decisions (weighted)"),
        bars(
            {v.version: v.average_precision for v in result.versions},
            "Average precision per version",
            "average precision",
        ),
        bars(
            {v.version: v.card_precision_at_k for v in result.versions},
            f"Card precision@{result.cards_k} per day, averaged",
            f"card precision@{result.cards_k}",
        ),
    ]
    for v in result.versions:
        rows = by_version[v.version]
        sections.append(f"<h2>{html.escape(v.version)} ({v.role})</h2>")
        sections.append(
            class_histogram(
                v.version,
                rows["score"].to_numpy(dtype=float),
                rows["label"].to_numpy(),
                float(rows["threshold"].median()),
                weights=rows["sample_weight"].to_numpy(dtype=float),
            )
        )
    write_page(path, "Champion and challengers", sections)


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 instant; without an offset it is UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--decisions",
        metavar="S3_URI",
        required=True,
        help="the decision log's bucket, s3://bucket[/prefix]",
    )
    add_arguments(parser, "labels archive and range (the decision log's days too)")
    parser.add_argument("--as-of", help="ISO 8601 instant the labels are read at (default now)")
    parser.add_argument(
        "--label-delay-days", type=int, default=7, help="days before a label counts (default 7)"
    )
    parser.add_argument("--cards-k", type=int, default=CARDS_K, help="k of card precision@k")
    parser.add_argument(
        "--out", type=Path, default=Path("build/compare.html"), help="the HTML report"
    )
    args = parser.parse_args(argv)
    archive = from_arguments(parser, args)
    if archive is None:
        parser.error("--archive, --from and --to are required")
    if args.cards_k < 1:
        parser.error("--cards-k is 1 or more")
    if args.label_delay_days < 0:
        parser.error("--label-delay-days is a number of days, 0 or more")
    try:
        as_of = parse_as_of(args.as_of) if args.as_of else datetime.now(UTC)
    except ValueError:
        parser.error(f"--as-of {args.as_of!r} is not an ISO 8601 instant (2026-11-15T00:00:00Z)")
    try:
        decisions = ArchiveRange(args.decisions, archive.start, archive.end)
        result = compare(decisions, archive, as_of, args.label_delay_days, cards_k=args.cards_k)
    except ArchiveError as error:
        parser.exit(1, f"{parser.prog}: {error}\n")
    print(f"{decisions.describe()}: {summary(result)}")
    print(table(result.versions, result.cards_k))
    print(result.recommendation)
    write_report(args.out, result, decisions.describe())
    print(f"report: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
