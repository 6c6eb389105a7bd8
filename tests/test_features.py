"""The training path's features (Flink batch over a file, the job's own views) equal an
independent pandas oracle, and window edges follow the documented (t - w, t] rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from model_export.feature_table import compute_features
from tests.feature_oracle import oracle_features


@pytest.fixture(scope="module")
def sample_features(sample_path: Path) -> pd.DataFrame:
    return compute_features(sample_path)


def test_batch_features_equal_the_pandas_oracle_on_the_sample(
    sample_path: Path, sample_features: pd.DataFrame
) -> None:
    transactions = pd.read_json(sample_path, lines=True, dtype={"transaction_id": str})
    expected = oracle_features(transactions).set_index("transaction_id").sort_index()
    actual = sample_features.set_index("transaction_id").sort_index()
    assert len(actual) == len(transactions)
    for name in FEATURE_NAMES:
        if name.startswith("card_txn_count"):
            assert (actual[name] == expected[name]).all(), name
        else:
            np.testing.assert_allclose(actual[name], expected[name], rtol=1e-9, err_msg=name)


def test_every_feature_is_finite(sample_features: pd.DataFrame) -> None:
    assert np.isfinite(sample_features[list(FEATURE_NAMES)].to_numpy()).all()


def _tx(tx: str, at: str, amount: float, card: str = "card_edge") -> str:
    return json.dumps(
        {
            "transaction_id": tx,
            "event_time": at,
            "card_id": card,
            "terminal_id": "term_1",
            "amount": amount,
            "currency": "EUR",
        }
    )


def test_window_excludes_a_transaction_exactly_one_window_width_earlier(tmp_path: Path) -> None:
    path = tmp_path / "edge.jsonl"
    path.write_text(
        "\n".join(
            [
                _tx("a", "2026-10-01T10:00:00.000Z", 10.0),
                _tx("b", "2026-10-01T10:59:59.999Z", 20.0),
                _tx("c", "2026-10-01T11:00:00.000Z", 30.0),
            ]
        )
    )
    rows = compute_features(path).set_index("transaction_id")
    assert rows.loc["b", "card_txn_count_1h"] == 2  # a is 59:59.999 earlier: inside
    assert rows.loc["c", "card_txn_count_1h"] == 2  # a is exactly 1 h earlier: outside
    assert rows.loc["c", "card_avg_amount_1h"] == pytest.approx(25.0)
    assert rows.loc["c", "card_txn_count_1d"] == 3
    assert rows.loc["a", "card_secs_since_prev"] == 30 * 24 * 3600
    assert rows.loc["c", "card_secs_since_prev"] == 0  # 1 ms earlier, whole seconds


def test_schema_hash_changes_when_a_definition_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    import flink_job.features as features

    before = feature_schema_hash()
    changed = features.Feature("amount", "amount * 2", "doubled")
    monkeypatch.setattr(features, "FEATURES", (changed, *features.FEATURES[1:]))
    assert features.feature_schema_hash() != before
