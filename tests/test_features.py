"""The training path's features (Flink batch over a file, the job's own views) equal an
independent pandas oracle, and window edges follow the documented (t - w, t] rule.
Streaming against batch, and arrival order, are in test_features_streaming.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from model_export.feature_table import compute_features
from tests.feature_oracle import oracle_features

EXACT = re.compile(r"count|distinct|seen|is_|secs")


def _label(tx: str, at: str, reported: str, terminal: str = "term_1") -> str:
    return json.dumps(
        {
            "transaction_id": tx,
            "card_id": "card_edge",
            "terminal_id": terminal,
            "event_time": at,
            "label": "fraud",
            "source": "chargeback",
            "reported_at": reported,
        }
    )


LABELS = Path(__file__).resolve().parent.parent / "sample_data" / "sample_labels.jsonl"


@pytest.fixture(scope="module")
def sample_features(sample_path: Path) -> pd.DataFrame:
    return compute_features(sample_path, labels=LABELS)


def test_batch_features_equal_the_pandas_oracle_on_the_sample(
    sample_path: Path, sample_features: pd.DataFrame
) -> None:
    transactions = pd.read_json(sample_path, lines=True, dtype={"transaction_id": str})
    labels = pd.read_json(LABELS, lines=True, dtype={"transaction_id": str}, convert_dates=False)
    expected = oracle_features(transactions, labels).set_index("transaction_id").sort_index()
    actual = sample_features.set_index("transaction_id").sort_index()
    assert len(actual) == len(transactions)
    assert_features_equal(actual, expected)


def assert_features_equal(
    actual: pd.DataFrame, expected: pd.DataFrame, names: Iterable[str] = FEATURE_NAMES
) -> None:
    """Counts and flags exactly, other features within 1e-9 relative; rows by index."""
    assert sorted(actual.index) == sorted(expected.index)
    expected = expected.loc[actual.index]
    for name in names:
        if EXACT.search(name):
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
    monkeypatch.setattr(features, "MIN_STDDEV", 0.02)  # a feature's SQL
    assert features.feature_schema_hash() != before


def test_card_and_terminal_rules_on_a_handmade_history(tmp_path: Path) -> None:
    path = tmp_path / "rules.jsonl"
    paris, london = {"lat": 48.8566, "lon": 2.3522}, {"lat": 51.5074, "lon": -0.1278}
    rows = [
        ("a", "2026-10-03T01:00:00.000Z", 1.5, "card_x", "term_1", paris),  # Saturday night
        ("b", "2026-10-03T01:05:00.000Z", 2.5, "card_x", "term_2", london),  # 5 min later
        ("c", "2026-10-03T01:06:00.000Z", 900.0, "card_x", "term_1", {}),  # no position
        ("d", "2026-10-05T12:00:00.000Z", 40.0, "card_y", "term_1", {}),  # Monday noon
    ]
    path.write_text(
        "\n".join(
            json.dumps({**json.loads(_tx(tx, at, amount, card)), "terminal_id": term, **pos})
            for tx, at, amount, card, term, pos in rows
        )
    )
    f = compute_features(path).set_index("transaction_id")
    assert f.loc["a", "is_night"] == 1 and f.loc["a", "is_weekend"] == 1
    assert f.loc["d", "is_night"] == 0 and f.loc["d", "is_weekend"] == 0
    assert f.loc["b", "card_km_from_prev"] == pytest.approx(343.5, abs=1.0)
    assert f.loc["b", "card_kmh_from_prev"] == pytest.approx(343.5 * 12, rel=0.01)
    assert f.loc["c", "card_km_from_prev"] == 0 and f.loc["a", "card_kmh_from_prev"] == 0
    assert list(f.loc[["a", "b", "c"], "card_small_txn_count_10m"]) == [1, 2, 2]
    assert list(f.loc[["a", "b", "c"], "card_terminal_seen_30d"]) == [0, 0, 1]
    assert f.loc["c", "card_distinct_terminals_1d"] == 2
    assert f.loc["c", "card_max_amount_1h"] == 900 and f.loc["c", "card_sum_amount_1h"] == 904
    assert f.loc["c", "card_amount_zscore_30d"] > 1.4
    assert f.loc["d", "terminal_txn_count_7d"] == 3
    assert f.loc["c", "terminal_distinct_cards_1h"] == 1
    assert f.loc["d", "terminal_distinct_cards_1h"] == 1  # card_x was 2.5 days earlier


def test_terminal_risk_uses_labels_delay_days_old_and_reported_in_time(tmp_path: Path) -> None:
    transactions, labels = tmp_path / "t.jsonl", tmp_path / "l.jsonl"
    transactions.write_text(
        "\n".join(
            [
                _tx("a", "2026-10-01T10:00:00.000Z", 10.0),  # fraud, reported in time
                _tx("b", "2026-10-01T11:00:00.000Z", 10.0),  # fraud, reported too late
                _tx("c", "2026-10-01T12:00:00.000Z", 10.0),
                _tx("d", "2026-10-08T10:00:00.000Z", 10.0),  # exactly 7 days after a
                _tx("e", "2026-10-08T12:30:00.000Z", 10.0),
                _tx("f", "2026-10-09T10:00:00.000Z", 10.0),  # a's label is 1 d + 7 d old
            ]
        )
    )
    labels.write_text(
        "\n".join(
            [
                _label("a", "2026-10-01T10:00:00.000Z", "2026-10-03T00:00:00.000Z"),
                _label("b", "2026-10-01T11:00:00.000Z", "2026-10-09T00:00:00.000Z"),
                "not json",
            ]
        )
    )
    rows = compute_features(transactions, labels=labels).set_index("transaction_id")
    assert rows.loc["c", "terminal_fraud_risk_1d"] == 0  # nothing is 7 days old yet
    assert rows.loc["d", "terminal_fraud_risk_1d"] == 1.0  # (t-8d, t-7d] holds a only
    assert rows.loc["e", "terminal_fraud_risk_1d"] == pytest.approx(1 / 3)  # a, b, c
    assert rows.loc["f", "terminal_fraud_risk_1d"] == 0  # a left the 1-day window
    assert rows.loc["f", "terminal_fraud_risk_7d"] == pytest.approx(1 / 3)
    assert (compute_features(transactions)["terminal_fraud_risk_30d"] == 0).all()
