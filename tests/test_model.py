"""Training exports a model that ONNX Runtime scores exactly like scikit-learn; the job
refuses a model that does not fit its features; reasons name what drove a score."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from sklearn.pipeline import Pipeline

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from model_export.export import PARITY_TOLERANCE
from udfs.model import ModelError, ScoringModel, load_model
from udfs.reasons import explain
from udfs.scoring import decide, feature_matrix


def _load(directory: Path) -> Any:
    return load_model(str(directory), FEATURE_NAMES, feature_schema_hash())


def _baseline(model: ScoringModel) -> NDArray[np.float64]:
    """Every feature at its typical value (the manifest's medians of legitimate rows)."""
    return np.array([model.manifest.baseline[n] for n in FEATURE_NAMES])


def test_manifest_carries_what_the_job_and_the_team_need(trained_model: dict[str, Any]) -> None:
    manifest = trained_model["manifest"]
    assert manifest["feature_names"] == list(FEATURE_NAMES)
    assert manifest["feature_schema_hash"] == feature_schema_hash()
    assert 0.0 < manifest["threshold"] < 1.0
    assert manifest["metrics"]["onnx_max_abs_difference"] < PARITY_TOLERANCE
    for key in ("version", "onnx_sha256", "training_window", "baseline", "threshold_policy"):
        assert manifest[key]


def test_model_separates_fraud_from_legit_on_held_out_days(trained_model: dict[str, Any]) -> None:
    test = trained_model["manifest"]["metrics"]["test"]
    # Card features alone cannot see compromised terminals (about half of the sample's
    # frauds): terminal features come with the feature engine. Chance would be AUC 0.5
    # and average precision 0.06. The protocol (model_export.evaluate) trains on 14 days,
    # leaves a 7-day label gap and drops cards already known to be compromised from the
    # test days, so the test set is small (about 700 rows, 40 frauds) and harder.
    assert test["roc_auc"] > 0.65
    assert test["average_precision"] > 0.3
    assert test["precision"] > 0.5 and test["recall"] > 0.3


def test_a_high_amount_scores_above_the_threshold_and_amount_leads_the_reasons(
    trained_model: dict[str, Any],
) -> None:
    model = _load(trained_model["dir"])
    baseline = _baseline(model)
    suspicious = _suspicious(model, 900.0)
    scores = model.score(np.vstack([baseline, suspicious]))
    assert scores[0] < model.threshold <= scores[1]
    reasons = explain(model, suspicious)
    assert reasons and reasons[0].code in {"AMOUNT", "AMOUNT_OVER_CARD_AVG_30D"}
    assert all(r.contribution > 0 for r in reasons)


def _suspicious(model: ScoringModel, amount: float) -> NDArray[np.float64]:
    """A typical card's payment of `amount`, with the windowed averages (which include the
    payment itself) consistent with it, as the job would compute them."""
    baseline = _baseline(model)
    suspicious = baseline.copy()
    index = {n: i for i, n in enumerate(FEATURE_NAMES)}
    suspicious[index["amount"]] = amount
    for name in FEATURE_NAMES:
        if name.startswith("card_avg_amount_"):
            count = baseline[index[name.replace("avg_amount", "txn_count")]]
            suspicious[index[name]] = (baseline[index[name]] * (count - 1) + amount) / count
    suspicious[index["amount_over_card_avg_30d"]] = (
        amount / suspicious[index["card_avg_amount_30d"]]
    )
    return suspicious


def test_decisions_carry_score_threshold_and_version(trained_model: dict[str, Any]) -> None:
    model = _load(trained_model["dir"])
    typical = _baseline(model).astype("<f4")
    vectors = pd.Series([typical.tobytes()] * 3)
    decisions = decide(model, feature_matrix(vectors, len(model.manifest.feature_names)))
    assert list(decisions.columns) == [
        "score",
        "threshold",
        "model_version",
        "reasons",
        "codes",
        "contributions",
        "alerted",
        "severity",
        "ruleset_version",
        "rule_hits",
        "shadow_rule_hits",
        "shadow_scores",
    ]
    assert decisions["shadow_scores"].isna().all()  # no shadow model: NULL, never {}
    assert decisions["score"].between(0.0, 1.0).all()
    assert (decisions["threshold"] == model.threshold).all()
    assert (decisions["model_version"] == model.version).all()


def test_only_decisions_that_alert_carry_reasons_and_they_are_each_rows_own(
    trained_model: dict[str, Any],
) -> None:
    model = _load(trained_model["dir"])
    typical = _baseline(model)
    matrix = np.vstack([typical, _suspicious(model, 900.0), typical, _suspicious(model, 1500.0)])
    decisions = decide(model, matrix)
    alerted = (decisions["score"] >= model.threshold).tolist()
    assert alerted == [False, True, False, True]
    assert decisions["reasons"].isna().tolist() == [True, False, True, False]
    for row in (1, 3):  # the batched reasons are the ones of the row alone
        alone = explain(model, matrix[row])
        assert decisions["codes"][row] == [r.code for r in alone]
        assert decisions["reasons"][row] == [r.text for r in alone]
        assert decisions["contributions"][row] == pytest.approx([r.contribution for r in alone])


def test_each_reason_is_the_score_drop_of_setting_that_feature_to_its_baseline(
    trained_model: dict[str, Any],
) -> None:
    model = _load(trained_model["dir"])
    suspicious = _suspicious(model, 1200.0)  # most features at their baseline, some not
    baseline = _baseline(model)
    (score,) = model.score(suspicious.reshape(1, -1))
    drops = {}
    for i, name in enumerate(FEATURE_NAMES):  # one occluded variant at a time
        variant = suspicious.copy()
        variant[i] = baseline[i]
        drops[name.upper()] = score - model.score(variant.reshape(1, -1))[0]
    reasons = explain(model, suspicious)
    expected = sorted((c for c in drops if drops[c] > 1e-6), key=lambda c: -drops[c])[:3]
    assert [r.code for r in reasons] == expected
    assert [r.contribution for r in reasons] == pytest.approx([drops[c] for c in expected])


def _copy(trained_model: dict[str, Any], tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(trained_model["dir"], target)
    return target


def test_model_trained_on_other_features_is_refused(
    trained_model: dict[str, Any], tmp_path: Path
) -> None:
    directory = _copy(trained_model, tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["feature_schema_hash"] = "0" * 64
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="feature definitions changed: retrain"):
        _load(directory)


def test_model_file_that_does_not_match_its_manifest_is_refused(
    trained_model: dict[str, Any], tmp_path: Path
) -> None:
    directory = _copy(trained_model, tmp_path)
    (directory / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="do not belong together"):
        _load(directory)


def test_missing_model_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model_export\.train"):
        _load(tmp_path)


def test_manifest_records_the_candidates_and_the_chosen_one(trained_model: dict[str, Any]) -> None:
    manifest = trained_model["manifest"]
    candidates = manifest["metrics"]["candidates"]
    assert set(candidates) == {"logistic_regression", "random_forest", "gradient_boosted_trees"}
    chosen = max(candidates, key=lambda n: candidates[n]["validation_average_precision"])
    assert manifest["candidate"] == chosen  # chosen on validation days, not on the test days
    assert (trained_model["dir"] / "model.tar.gz").exists()


def test_parity_check_fails_loudly() -> None:
    from sklearn.linear_model import LogisticRegression

    from model_export.export import ParityError, check_parity, to_onnx

    rng = np.random.default_rng(1)
    features = rng.normal(size=(100, 3)).astype(np.float32)
    labels = np.arange(100) % 2
    first = Pipeline([("classifier", LogisticRegression())]).fit(features, labels)
    other = Pipeline([("classifier", LogisticRegression())]).fit(features, 1 - labels)
    assert check_parity(first, to_onnx(first, 3), features) < PARITY_TOLERANCE
    with pytest.raises(ParityError, match="not exported"):
        check_parity(first, to_onnx(other, 3), features)
