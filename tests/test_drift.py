"""Feature drift (model_export.drift) against the training histograms the manifest keeps
(model_export.histograms): the job's own features of the committed sample, computed by the
batch feature table, written as a decision log by the real writer into moto's S3 and read back
with DuckDB. A replay of the same traffic stays below the alarm; the same replay with every
amount tripled sets off the amount features and leaves the ratios and counts alone."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from contracts.decision import decision_id
from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.aws.archive import deliver_decisions
from model_export.archive import ArchiveRange
from model_export.drift import ALARM_PSI, drift, histogram_sql, main, read_drift
from model_export.histograms import (
    HISTOGRAMS_KEY,
    DriftError,
    Histogram,
    histogram,
    manifest_histograms,
    psi,
    training_histogram,
    training_histograms,
)

BUCKET = "drift-log"
AMOUNT_FEATURES = ("amount", "card_max_amount_1d", "card_sum_amount_7d", "card_avg_amount_30d")
UNMOVED_FEATURES = ("amount_over_card_avg_30d", "card_txn_count_1d", "is_night")


TRIPLED = "x3-"  # the tripled replay's ids: its own cards, terminals and transactions


def with_tripled(source: Path, target: Path) -> Path:
    """The sample, and after it the same traffic with every amount tripled on cards and
    terminals of its own (features are per card and per terminal, so one run of the feature
    views computes both replays without either touching the other)."""
    with source.open() as lines, target.open("w") as out:
        for line in lines:
            out.write(line)
            record = json.loads(line)
            record["amount"] = round(float(record["amount"]) * 3, 2)
            for key in ("transaction_id", "card_id", "terminal_id"):
                record[key] = TRIPLED + str(record[key])
            out.write(json.dumps(record) + "\n")
    return target


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=()) as local:
        yield local


@pytest.fixture(scope="module")
def features(sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample's features, and the same traffic's with every amount tripled."""
    from model_export.feature_table import compute_features

    directory = tmp_path_factory.mktemp("drift")
    both = compute_features(with_tripled(sample_path, directory / "both.jsonl"))
    replayed = both["transaction_id"].str.startswith(TRIPLED)
    return {"same": both[~replayed], "tripled": both[replayed]}


def decision_records(frame: pd.DataFrame) -> list[str]:
    """Decision v1 records of the frame's rows (the features as the model saw them)."""
    records = []
    for row in frame.to_dict("records"):
        values = {n: None if math.isnan(float(row[n])) else float(row[n]) for n in FEATURE_NAMES}
        moment = pd.Timestamp(row["event_time"]).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        records.append(
            json.dumps(
                {
                    "schema": "decision.v1",
                    "decision_id": decision_id(str(row["transaction_id"])),
                    "transaction_id": str(row["transaction_id"]),
                    "event_time": moment,
                    "card_id": str(row["card_id"]),
                    "terminal_id": str(row["terminal_id"]),
                    "amount": values["amount"],
                    "currency": "EUR",
                    "merchant_category": None,
                    "country": "FR",
                    "channel": "pos",
                    "features": values,
                    "model_version": "m-1",
                    "score": 0.01,
                    "threshold": 0.5,
                    "shadow_scores": None,
                    "alerted": False,
                    "severity": None,
                    "reasons": None,
                    "reason_codes": None,
                    "late": False,
                    "ingested_at": moment,
                    "decided_at": moment,
                    "sample_weight": 1.0,
                }
            )
        )
    return records


def logged(aws: LocalAws, bucket: str, frame: pd.DataFrame) -> ArchiveRange:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    deliver_decisions(s3, bucket, decision_records(frame))
    days = pd.to_datetime(frame["event_time"])
    return ArchiveRange(f"s3://{bucket}", days.min().date(), days.max().date())


def test_the_sql_bins_a_value_as_numpy_does_nulls_nans_and_edges_included() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.lognormal(3, 1, 500), [np.nan] * 7, [0.0] * 40])
    edges = training_histogram(values).edges
    values = np.concatenate([values, np.array(edges)])  # a value on every edge
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE decisions (features MAP(VARCHAR, DOUBLE), sample_weight DOUBLE)"
    )
    connection.executemany(
        "INSERT INTO decisions VALUES (map(['x'], [?]), 1.0)",
        [(None if np.isnan(v) else float(v),) for v in values],
    )
    expected = histogram(values, edges)
    rows = connection.execute(histogram_sql({"x": expected})).fetchall()
    weights = {int(b): float(w) for _, b, w in rows}
    total = len(values)
    assert weights.get(-1, 0.0) / total == pytest.approx(expected.missing)
    for index, share in enumerate(expected.shares):
        assert weights.get(index, 0.0) / total == pytest.approx(share), index


def test_psi_is_zero_for_the_same_distribution_and_grows_with_the_shift() -> None:
    rng = np.random.default_rng(9)
    train = rng.normal(100, 20, 20_000)
    base = training_histogram(train)
    same = histogram(rng.normal(100, 20, 20_000), base.edges)
    shifted = histogram(rng.normal(110, 20, 20_000), base.edges)
    moved = histogram(rng.normal(130, 20, 20_000), base.edges)
    assert psi(base, same) < 0.01
    assert psi(base, same) < psi(base, shifted) < psi(base, moved)
    assert psi(base, moved) > ALARM_PSI


def test_a_constant_feature_has_one_edge_and_no_drift_when_it_stays_constant() -> None:
    base = training_histogram([0.0] * 100)
    assert base.edges == (0.0,)
    assert psi(base, histogram([0.0] * 50, base.edges)) == pytest.approx(0.0)
    assert psi(base, histogram([1.0] * 50, base.edges)) > ALARM_PSI


def test_a_manifest_without_histograms_says_to_retrain() -> None:
    with pytest.raises(DriftError, match="retrain"):
        manifest_histograms({"version": "m-old", "feature_names": ["amount"]})
    with pytest.raises(DriftError, match="ascending"):
        manifest_histograms(
            {HISTOGRAMS_KEY: {"amount": {"edges": [2, 1], "shares": [1, 0, 0], "missing": 0}}}
        )


def test_training_keeps_every_features_histogram_in_the_manifest(
    trained_model: dict[str, Any],
) -> None:
    histograms = manifest_histograms(trained_model["manifest"])
    assert tuple(histograms) == FEATURE_NAMES
    for name, hist in histograms.items():
        assert isinstance(hist, Histogram)
        assert sum(hist.shares) + hist.missing == pytest.approx(1.0), name
    written = json.loads((Path(trained_model["dir"]) / "manifest.json").read_text())
    assert written[HISTOGRAMS_KEY] == trained_model["manifest"][HISTOGRAMS_KEY]


def baseline(features: dict[str, Any]) -> dict[str, Any]:
    """A manifest whose training histograms are the sample's own features."""
    return {
        "version": "m-sample",
        HISTOGRAMS_KEY: training_histograms(features["same"], FEATURE_NAMES),
    }


def test_the_same_traffic_replayed_does_not_drift(features: dict[str, Any]) -> None:
    same = features["same"]
    connection = duckdb.connect()
    keys = ", ".join(f"'{name}'" for name in FEATURE_NAMES)
    values = ", ".join(f'"{name}"' for name in FEATURE_NAMES)
    connection.register("same", same)
    connection.execute(
        f"CREATE VIEW decisions AS SELECT map([{keys}], [{values}]) AS features, "
        "1.0 AS sample_weight FROM same"
    )
    found = drift(connection, manifest_histograms(baseline(features)))
    assert len(found) == len(FEATURE_NAMES)
    assert all(d.level == "stable" and d.psi < 0.01 for d in found), found[:3]


def test_amounts_tripled_drift_the_amount_features_and_not_the_ratios(
    aws: LocalAws, features: dict[str, Any]
) -> None:
    window = logged(aws, "drift-tripled", features["tripled"])
    found = {d.feature: d for d in read_drift(window, baseline(features), aws.client("s3"))}
    for name in AMOUNT_FEATURES:
        assert found[name].psi > ALARM_PSI and found[name].level == "drifted", found[name]
    for name in UNMOVED_FEATURES:
        assert found[name].psi < 0.1, found[name]


def test_the_command_exits_3_naming_the_drifted_features(
    aws: LocalAws,
    features: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = logged(aws, BUCKET, features["tripled"].head(400))
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(baseline(features)))
    first, last = window.start.isoformat(), window.end.isoformat()
    arguments = ["--decisions", f"s3://{BUCKET}", "--from", first, "--to", last]
    assert main([*arguments, "--manifest", str(path)]) == 3
    out = capsys.readouterr()
    assert "drifted (PSI > 0.2): " in out.err and "amount" in out.err
    assert out.out.splitlines()[2].split()[2] == "drifted"


def test_a_manifest_without_histograms_stops_the_command_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": "m-old"}))
    arguments = ["--decisions", "s3://nowhere", "--from", "2026-10-01", "--to", "2026-10-02"]
    with pytest.raises(SystemExit) as exited:
        main([*arguments, "--manifest", str(path)])
    assert exited.value.code == 2
    assert "m-old has no feature_histograms" in capsys.readouterr().err
