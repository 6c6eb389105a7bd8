"""The evaluation protocol and its metrics, the evaluation command on a file it has never
seen, and the training entry point in SageMaker script mode. A synthetic labelled feature
table stands in for Flink's, so these tests need no JVM."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from model_export import report as report_cli
from model_export import train
from model_export.evaluate import (
    Protocol,
    ThresholdPolicy,
    card_precision_at_k,
    known_compromised,
    recall_at_fpr,
    split,
)


def feature_table(days: int = 30, cards: int = 150, seed: int = 3) -> pd.DataFrame:
    """Labelled features where fraud shows in the amount and the card's 1 h count."""
    rng = np.random.default_rng(seed)
    n = days * cards // 2
    start = pd.Timestamp("2026-10-01")
    times = start + pd.to_timedelta(np.sort(rng.uniform(0, days * 86_400, n)), unit="s")
    label = (rng.random(n) < 0.05).astype(int)
    frame = pd.DataFrame(rng.gamma(2.0, 1.0, size=(n, len(FEATURE_NAMES))), columns=FEATURE_NAMES)
    frame["amount"] = rng.lognormal(3.5, 0.6, n) * np.where(label == 1, 6.0, 1.0)
    if "card_txn_count_1h" in frame.columns:
        frame["card_txn_count_1h"] += label * rng.integers(1, 5, n)
    frame["transaction_id"] = [f"t-{i}" for i in range(n)]
    frame["card_id"] = [f"card_{c:04d}" for c in rng.integers(0, cards, n)]
    frame["terminal_id"] = "term_1"
    frame["event_time"] = times.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
    frame["label"] = label
    scenarios = rng.choice(["high_amount", "card_testing"], n)
    frame["scenario"] = np.where(label == 1, scenarios, "legit")
    return frame


@pytest.fixture(scope="module")
def table_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("features") / "features.parquet"
    feature_table().to_parquet(path, index=False)
    return path


def test_protocol_defaults_leave_a_gap_before_the_test_days() -> None:
    protocol = Protocol.for_frame(feature_table(days=35))
    assert (protocol.train_days, protocol.validation_days, protocol.gap_days) == (14, 7, 7)
    assert protocol.test_start == pd.Timestamp("2026-10-29")
    assert "gap 7 d" in protocol.describe()


def test_cards_known_compromised_before_a_test_day_are_excluded_from_it() -> None:
    frame = pd.DataFrame(
        {
            "card_id": ["a", "a", "b", "b"],
            "event_time": ["2026-10-01 10:00:00", "2026-10-05 10:00:00"] * 2,
            "label": [1, 0, 0, 1],
        }
    )
    protocol = Protocol(pd.Timestamp("2026-10-01"), 1, 1, 1, 3)
    known = known_compromised(frame, None, gap_days=1)  # a: known from 2026-10-02 10:00
    data = split(frame, protocol, known)
    assert list(data.test["card_id"]) == ["b"] and data.excluded_test_rows == 1
    labels = pd.DataFrame(
        {"card_id": ["a"], "label": ["fraud"], "reported_at": ["2026-10-20T00:00:00Z"]}
    )
    late = split(frame, protocol, known_compromised(frame, labels, gap_days=1))
    assert late.excluded_test_rows == 0  # reported after the test day: still counted


def test_card_precision_at_k_per_day_drops_cards_found_earlier() -> None:
    frame = pd.DataFrame(
        {
            "card_id": ["a", "b", "c", "a", "b", "c"],
            "event_time": ["2026-10-01 10:00:00"] * 3 + ["2026-10-02 10:00:00"] * 3,
            "label": [1, 0, 0, 1, 0, 1],
        }
    )
    scores = np.array([0.9, 0.5, 0.1, 0.9, 0.5, 0.2])
    # Day 1: top-2 cards a (fraud), b → 1/2. Day 2: a was found, leaves; b, c → 1/2.
    assert card_precision_at_k(frame, scores, k=2) == pytest.approx(0.5)
    # Card a only counts once across days for k=1: day 1 → a (1), day 2 → b (0).
    assert card_precision_at_k(frame, scores, k=1) == pytest.approx(0.5)


def test_recall_at_one_percent_false_positive_rate() -> None:
    labels = np.array([0] * 100 + [1] * 4)
    scores = np.concatenate([np.linspace(0, 0.5, 100), [0.9, 0.8, 0.45, 0.3]])
    assert recall_at_fpr(labels, scores, 0.01) == pytest.approx(0.5)


def test_threshold_policies() -> None:
    labels = np.array([0, 0, 0, 1, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 0.9])
    assert ThresholdPolicy(target_precision=1.0).choose(labels, scores, 1) == pytest.approx(0.8)
    budget = ThresholdPolicy(alerts_per_day=1.5, target_precision=None)
    assert budget.choose(labels, scores, days=2) == pytest.approx(0.5)  # 3 alerts in 2 days


def test_evaluation_command_prints_the_table_and_writes_the_report(
    table_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.html"
    assert report_cli.main([str(table_path), "--report", str(report), "--cards-k", "20"]) == 0
    out = capsys.readouterr().out
    for name in ("logistic_regression", "random_forest", "gradient_boosted_trees", "CP@100"):
        assert name in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[-3:]}
    assert all(float(values[1]) > 0.3 for values in rows.values())  # AP, base rate 0.05
    page = report.read_text()
    assert page.count("<svg") >= 1 + 3 * 3  # PR curves; per model: scores, scenarios, features
    for caption in ("Precision-recall", "score distribution", "recall per fraud scenario"):
        assert caption in page
    assert "permutation importance" in page and "high_amount" in page


def test_training_runs_in_sagemaker_script_mode(
    table_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, model_dir = tmp_path / "train", tmp_path / "model"
    channel.mkdir()
    (channel / "features.parquet").write_bytes(table_path.read_bytes())
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(channel))
    monkeypatch.setenv("SM_MODEL_DIR", str(model_dir))
    # SageMaker passes hyperparameters as --name value, with the names as given.
    assert train.main(["--model", "gradient_boosted_trees", "--target_precision", "0.7"]) == 0
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["candidate"] == "gradient_boosted_trees"
    assert manifest["feature_schema_hash"] == feature_schema_hash()
    assert "0.7" in manifest["threshold_policy"]
    assert not (model_dir / "model.tar.gz").exists()  # SageMaker packs SM_MODEL_DIR itself


def test_local_training_packs_the_same_artefact_as_sagemaker(
    table_path: Path, tmp_path: Path
) -> None:
    manifest = train.train(table_path, tmp_path, protocol_args={"gap_days": 3})
    assert set(manifest["metrics"]["candidates"]) == {
        "logistic_regression",
        "random_forest",
        "gradient_boosted_trees",
    }
    with tarfile.open(tmp_path / "model.tar.gz") as archive:
        assert sorted(archive.getnames()) == ["manifest.json", "model.onnx"]
