"""model_export.compare on a decision log written by the real writer (local.aws.archive's
`deliver_decisions` into moto's S3) and labels in the archive (`deliver`): synthetic
decisions whose serving score (m-1) and shadow score (m-2, better by construction) are known,
so the test can say which decisions count, with which label, and what the metrics are.

Every non-alert of the data set stands for ten transactions of the same card, time, scores
and label, exactly one of which a 0.1 sample keeps: the sampled log re-weighted must give
the full log's counts exactly, and its metrics too."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    average_precision_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from contracts.decision import decision_id, kept, sample_weight
from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.aws.archive import deliver, deliver_decisions
from model_export.archive import LABELS, ArchiveRange
from model_export.compare import Comparison, compare, main
from model_export.evaluate import card_precision_at_k

FIRST = date(2026, 10, 1)
DAYS = 14
EVENTS_PER_DAY = 60
THRESHOLD = 0.5
RATE = 0.1
AS_OF = datetime(2026, 10, 20, tzinfo=UTC)  # with 7 days of delay: days up to 10-12 matured
MATURED_DAYS = 12
CARDS_K = 20  # of the day's 60 cards
FLIPPED = "tx-flipped"  # a chargeback, then an analyst's legit verdict before AS_OF
LATE = "tx-late"  # a fraud whose chargeback comes after AS_OF


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    event_time: datetime
    card_id: str
    fraud: bool  # the label in force at AS_OF
    serving: float
    shadow: float

    @property
    def alerted(self) -> bool:
        return self.serving >= THRESHOLD


def ten_ids(stem: str) -> list[str]:
    """Ten transaction ids of which exactly one is kept by a non-alert sample at RATE."""
    chosen: list[str] = []
    kept_one = False
    for n in range(1000):
        candidate = f"{stem}-{n}"
        keep = kept(decision_id(candidate), False, RATE)
        if keep and not kept_one:
            chosen.append(candidate)
            kept_one = True
        elif not keep and len(chosen) - kept_one < 9:
            chosen.append(candidate)
        if len(chosen) == 10 and kept_one:
            return chosen
    raise AssertionError("no ten ids found")


def population(shadow_better: bool = True, seed: int = 3) -> list[Transaction]:
    """Every scored transaction: per day, EVENTS_PER_DAY events on distinct cards, 8 %
    fraud; the serving score separates the classes weakly, the shadow's strongly (or the
    other way round); a non-alert event is ten transactions."""
    rng = random.Random(seed)
    out: list[Transaction] = []
    for day in range(DAYS):
        for n in range(EVENTS_PER_DAY):
            fraud = rng.random() < 0.08
            weak = min(1.0, 0.25 * fraud + 0.75 * rng.random())
            strong = min(1.0, 0.4 * fraud + 0.6 * rng.random())
            serving, shadow = (weak, strong) if shadow_better else (strong, weak)
            when = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(days=day, minutes=7 * n + 1)
            stem = f"tx-{day}-{n}"
            ids = [stem] if serving >= THRESHOLD else ten_ids(stem)
            out.extend(
                Transaction(i, when, f"card-{day % 3}-{n}", fraud, serving, shadow) for i in ids
            )
    when = datetime(2026, 10, 5, 12, tzinfo=UTC)
    out.append(Transaction(FLIPPED, when, "card-flipped", False, 0.9, 0.9))
    out.append(Transaction(LATE, when, "card-late", False, 0.9, 0.9))
    return out


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def record(t: Transaction, rate: float) -> str:
    """The Decision v1 record the job writes for `t` at sample rate `rate`."""
    alerted = t.alerted
    return json.dumps(
        {
            "schema": "decision.v1",
            "decision_id": decision_id(t.transaction_id),
            "transaction_id": t.transaction_id,
            "event_time": stamp(t.event_time),
            "card_id": t.card_id,
            "terminal_id": "term_00001",
            "amount": 20.0,
            "currency": "EUR",
            "merchant_category": None,
            "country": "FR",
            "channel": "pos",
            "features": dict.fromkeys(FEATURE_NAMES, 0.0),
            "model_version": "m-1",
            "score": t.serving,
            "threshold": THRESHOLD,
            "shadow_scores": {"m-2": t.shadow},
            "alerted": alerted,
            "severity": "high" if alerted else None,
            "reasons": ["amount far above the card's usual"] if alerted else None,
            "reason_codes": ["AMOUNT"] if alerted else None,
            "late": False,
            "ingested_at": stamp(t.event_time + timedelta(milliseconds=100)),
            "decided_at": stamp(t.event_time + timedelta(milliseconds=200)),
            "sample_weight": sample_weight(alerted, rate),
        }
    )


def decision_log(transactions: list[Transaction], rate: float) -> list[str]:
    return [
        record(t, rate)
        for t in transactions
        if kept(decision_id(t.transaction_id), t.alerted, rate)
    ]


def label_records(transactions: list[Transaction]) -> list[str]:
    """A chargeback two days after each fraud; FLIPPED's chargeback taken back by an analyst
    before AS_OF; LATE's chargeback reported after AS_OF."""

    def label(t: Transaction, verdict: str, source: str, reported: datetime) -> str:
        return json.dumps(
            {
                "transaction_id": t.transaction_id,
                "card_id": t.card_id,
                "terminal_id": "term_00001",
                "event_time": stamp(t.event_time),
                "label": verdict,
                "source": source,
                "reported_at": stamp(reported),
            }
        )

    out = [
        label(t, "fraud", "chargeback", t.event_time + timedelta(days=2))
        for t in transactions
        if t.fraud
    ]
    by_id = {t.transaction_id: t for t in transactions}
    flipped, late = by_id[FLIPPED], by_id[LATE]
    out.append(label(flipped, "fraud", "chargeback", flipped.event_time + timedelta(days=2)))
    out.append(label(flipped, "legit", "analyst", flipped.event_time + timedelta(days=3)))
    out.append(label(late, "fraud", "chargeback", AS_OF + timedelta(hours=1)))
    return out


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=()) as local:
        yield local


@pytest.fixture(scope="module")
def transactions() -> list[Transaction]:
    return population()


def fill(aws: LocalAws, bucket: str, logs: list[list[str]], labels: list[str]) -> Any:
    """A bucket holding the decision logs (each one delivery) and the labels' archive."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    for log in logs:
        deliver_decisions(s3, bucket, log)
    deliver(s3, bucket, LABELS, labels)
    return s3


def window(bucket: str) -> ArchiveRange:
    return ArchiveRange(f"s3://{bucket}", FIRST, FIRST + timedelta(days=DAYS - 1))


def run(s3: Any, bucket: str, as_of: datetime = AS_OF) -> Comparison:
    return compare(window(bucket), window(bucket), as_of, 7, s3, cards_k=CARDS_K)


@pytest.fixture(scope="module")
def full(aws: LocalAws, transactions: list[Transaction]) -> Comparison:
    log = decision_log(transactions, 1.0)
    s3 = fill(aws, "full", [log], label_records(transactions))
    return run(s3, "full")


@pytest.fixture(scope="module")
def sampled(aws: LocalAws, transactions: list[Transaction]) -> Comparison:
    log = decision_log(transactions, RATE)
    s3 = fill(aws, "sampled", [log], label_records(transactions))
    return run(s3, "sampled")


def matured(transactions: list[Transaction]) -> list[Transaction]:
    return [t for t in transactions if t.event_time + timedelta(days=7) <= AS_OF]


def figures(result: Comparison, version: str) -> dict[str, Any]:
    found = next(v for v in result.versions if v.version == version)
    return {k: v for k, v in vars(found).items() if k != "decisions"}


def test_only_decisions_whose_labels_have_matured_count(
    full: Comparison, transactions: list[Transaction]
) -> None:
    ripe = matured(transactions)
    assert len(ripe) < len(transactions)  # the last two days have not matured
    assert full.logged == len(transactions)
    assert full.matured == len(ripe)
    assert full.days == MATURED_DAYS
    latest = max(t.event_time for t in ripe)
    assert (full.scored["event_time"].map(lambda s: s[:10]) <= latest.date().isoformat()).all()
    assert figures(full, "m-1")["transactions"] == len(ripe)


def test_the_label_is_the_one_in_force_at_as_of_and_none_is_legit(full: Comparison) -> None:
    labels = full.scored.set_index(["transaction_id", "version"])["label"]
    assert labels[(FLIPPED, "m-1")] == 0  # the analyst's later legit verdict wins
    assert labels[(LATE, "m-1")] == 0  # its chargeback was not reported by AS_OF
    assert full.scored["label"].isin([0, 1]).all()


def test_a_redelivered_decision_counts_once(
    aws: LocalAws, full: Comparison, transactions: list[Transaction]
) -> None:
    log = decision_log(transactions, 1.0)
    s3 = fill(aws, "twice", [log, log[: len(log) // 3]], label_records(transactions))
    twice = run(s3, "twice")
    assert twice.logged == len(transactions)
    assert twice.matured == full.matured
    assert [figures(twice, v) for v in ("m-1", "m-2")] == [figures(full, v) for v in ("m-1", "m-2")]


def test_a_sampled_log_reweighted_gives_the_full_logs_counts_and_metrics(
    full: Comparison, sampled: Comparison
) -> None:
    assert sampled.matured < full.matured / 5  # most non-alerts were not kept
    for version in ("m-1", "m-2"):
        small, whole = figures(sampled, version), figures(full, version)
        assert small["transactions"] == whole["transactions"]  # exactly
        assert small["frauds"] == whole["frauds"]
        assert small["alerts_per_day"] == whole["alerts_per_day"]
        names = ("precision_at_volume", "recall_at_volume", "roc_auc", "average_precision")
        for name in (*names, "card_precision_at_k"):
            assert small[name] == pytest.approx(whole[name], abs=1e-9), name


def test_the_metrics_are_sklearns_on_the_joined_frame(
    full: Comparison, transactions: list[Transaction]
) -> None:
    ripe = matured(transactions)
    labels = np.array([int(t.fraud) for t in ripe])
    serving = np.array([t.serving for t in ripe])
    shadow = np.array([t.shadow for t in ripe])
    current, challenger = figures(full, "m-1"), figures(full, "m-2")
    assert current["frauds"] == labels.sum()
    assert current["roc_auc"] == pytest.approx(roc_auc_score(labels, serving))
    assert current["average_precision"] == pytest.approx(average_precision_score(labels, serving))
    assert challenger["roc_auc"] == pytest.approx(roc_auc_score(labels, shadow))
    assert challenger["average_precision"] == pytest.approx(average_precision_score(labels, shadow))
    alerts = serving >= THRESHOLD
    assert current["precision_at_volume"] == pytest.approx(precision_score(labels, alerts))
    assert current["recall_at_volume"] == pytest.approx(recall_score(labels, alerts))
    assert current["alerts_per_day"] == pytest.approx(alerts.sum() / MATURED_DAYS)
    # the shadow at the serving model's volume: its top k of each day, k the day's alerts
    flagged = np.zeros(len(ripe), dtype=bool)
    days = np.array([t.event_time.date() for t in ripe])
    for day in set(days):
        rows = np.flatnonzero(days == day)
        k = int(alerts[rows].sum())
        flagged[rows[np.argsort(-shadow[rows], kind="stable")[:k]]] = True
    assert challenger["precision_at_volume"] == pytest.approx(precision_score(labels, flagged))
    assert challenger["recall_at_volume"] == pytest.approx(recall_score(labels, flagged))
    # card precision@k has no sklearn function: the one in model_export.evaluate, on the
    # frame the test builds itself
    frame = pd.DataFrame(
        {
            "card_id": [t.card_id for t in ripe],
            "event_time": [stamp(t.event_time) for t in ripe],
            "label": labels,
        }
    )
    for version, scores in (("m-1", serving), ("m-2", shadow)):
        expected = card_precision_at_k(frame, scores, CARDS_K)
        assert figures(full, version)["card_precision_at_k"] == pytest.approx(expected)
    assert challenger["card_precision_at_k"] > current["card_precision_at_k"]


def test_the_recommendation_names_the_better_model(
    aws: LocalAws, full: Comparison, sampled: Comparison
) -> None:
    for result in (full, sampled):
        assert result.recommendation.startswith("shadow m-2 beats current m-1 on AP by ")
        assert result.recommendation.endswith(
            f"over {MATURED_DAYS} matured days: consider promoting"
        )
    worse = population(shadow_better=False)
    s3 = fill(aws, "worse", [decision_log(worse, 1.0)], label_records(worse))
    assert run(s3, "worse").recommendation.startswith("current m-1 stays ahead")


def test_too_few_matured_frauds_make_no_recommendation(
    aws: LocalAws, transactions: list[Transaction]
) -> None:
    s3 = aws.client("s3")
    early = run(s3, "full", as_of=datetime(2026, 10, 9, tzinfo=UTC))  # one day matured
    assert early.days == 1
    assert early.labelled_frauds < 30
    assert early.recommendation == (
        f"not enough matured labels ({early.labelled_frauds} frauds < 30): no recommendation"
    )


@pytest.fixture
def local_env(aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def arguments(bucket: str, first: str = "2026-10-01", last: str = "2026-10-14") -> list[str]:
    """The command's arguments for `bucket`, ending in --as-of AS_OF."""
    root = f"s3://{bucket}"
    return [
        *("--decisions", root, "--archive", root, "--from", first, "--to", last),
        *("--cards-k", str(CARDS_K), "--as-of", "2026-10-20T00:00:00Z"),
    ]


def test_the_command_prints_the_table_and_writes_the_html_report(
    full: Comparison, local_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "compare.html"
    assert main([*arguments("full"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert full.recommendation in printed
    page = out.read_text()
    assert "<pre>version" in page
    for version in ("m-1", "m-2"):
        assert f"\n{version} " in page
    assert "<svg" in page and full.recommendation in page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            arguments("full", "2026-11-01", "2026-11-02"),
            "no decisions in s3://full from 2026-11-01",
        ),
        (arguments("no-such-bucket"), "--decisions: the bucket s3://no-such-bucket does not exist"),
        (
            [*arguments("full")[:-1], "2026-10-02T00:00:00Z"],
            "has matured by 2026-10-02T00:00:00+00:00",
        ),
    ],
)
def test_bad_input_exits_saying_what_to_fix(
    full: Comparison,
    local_env: None,
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--out", str(tmp_path / "r.html")])
    assert exited.value.code == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_a_malformed_as_of_is_a_usage_error(
    local_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*arguments("full")[:-1], "yesterday"])
    assert exited.value.code == 2
    assert "--as-of 'yesterday' is not an ISO 8601 instant" in capsys.readouterr().err


def without_shadow(line: str, drop: bool) -> str:
    """The decision with no shadow score when `drop` (shadow_scores null)."""
    document = json.loads(line)
    if drop:
        document["shadow_scores"] = None
    return json.dumps(document)


def test_a_shadow_is_judged_on_the_decisions_it_scored_and_none_means_nothing_to_compare(
    aws: LocalAws, full: Comparison, transactions: list[Transaction]
) -> None:
    log = decision_log(transactions, 1.0)
    labels = label_records(transactions)
    even = [without_shadow(line, json.loads(line)["event_time"][9] in "02468") for line in log]
    part = run(fill(aws, "part-shadow", [even], labels), "part-shadow")
    scored = sum(1 for t in matured(transactions) if t.event_time.day % 2)
    assert 0 < scored < full.matured
    assert figures(part, "m-2")["transactions"] == scored
    assert figures(part, "m-1") == figures(full, "m-1")
    bare = [without_shadow(line, True) for line in log]
    alone = run(fill(aws, "no-shadow", [bare], labels), "no-shadow")
    assert [v.version for v in alone.versions] == ["m-1"]
    assert (
        alone.recommendation == "no shadow model in the log beside current m-1: nothing to compare"
    )
