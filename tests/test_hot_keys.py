"""A busy terminal (a payment gateway with thousands of transactions a month) and a busy
card (a card-testing bot, a corporate card) keep all but their recent hours in map state,
read an hour at a time at their window edges (io.fraudstream.features.TerminalState,
CardState): their features are still exactly the oracle's, in the batch engine and
streaming on RocksDB, labels included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES
from model_export.feature_table import compute_features, flink_environment
from tests.feature_oracle import oracle_features
from tests.test_features import assert_features_equal

HOT = "term_gateway"
BOT = "card_bot"
TRANSACTIONS = 3_000  # over 40 days: the gateway 2.5 an hour, the bot 1 (128 kept in a head)


@pytest.fixture(scope="module")
def hot_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2026-10-01T00:00:00Z")
    offsets = np.sort(rng.integers(0, 40 * 24 * 3600 * 1000, size=TRANSACTIONS))
    rows, labels = [], []
    for i, offset in enumerate(offsets):
        at = start + pd.Timedelta(milliseconds=int(offset))
        row = {
            "transaction_id": f"t{i}",
            "event_time": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "card_id": (card := BOT if rng.random() < 0.4 else f"card_{rng.integers(0, 400)}"),
            # the bot also tries hundreds of shops: more terminals than a card's head keeps
            "terminal_id": HOT
            if rng.random() < 0.8
            else f"term_{rng.integers(0, 400 if card == BOT else 20)}",
            "amount": float(rng.integers(100, 20_000)) / 100 if rng.random() < 0.8 else 1.0,
            "lat": 48.0 + float(rng.random()),
            "lon": 2.0 + float(rng.random()),
            "currency": "EUR",
        }
        rows.append(json.dumps(row))
        if rng.random() < 0.03:  # a fraud, reported within the label delay or after it
            reported = at + pd.Timedelta(hours=float(rng.integers(1, 12 * 24)))
            labels.append(
                json.dumps(
                    {
                        **{k: row[k] for k in ("transaction_id", "event_time", "card_id")},
                        "terminal_id": row["terminal_id"],
                        "label": "fraud",
                        "source": "chargeback",
                        "reported_at": reported.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    }
                )
            )
    folder = tmp_path_factory.mktemp("hot")
    (folder / "t.jsonl").write_text("\n".join(rows) + "\n")
    (folder / "labels.jsonl").write_text("\n".join(labels) + "\n")
    return folder / "t.jsonl", folder / "labels.jsonl"


@pytest.fixture(scope="module")
def expected(hot_files: tuple[Path, Path]) -> pd.DataFrame:
    transactions, labels = hot_files
    t = pd.read_json(transactions, lines=True, dtype={"transaction_id": str})
    lab = pd.read_json(labels, lines=True, dtype={"transaction_id": str}, convert_dates=False)
    return oracle_features(t, lab).set_index("transaction_id")


def test_a_busy_terminal_and_card_give_the_oracle_features_in_batch(
    hot_files: tuple[Path, Path], expected: pd.DataFrame
) -> None:
    transactions, labels = hot_files
    actual = compute_features(transactions, labels=labels).set_index("transaction_id")
    assert (actual["terminal_fraud_risk_30d"] > 0).sum() > 100  # the labels did count
    assert_features_equal(actual, expected)


def test_a_busy_terminal_and_card_give_the_oracle_features_streaming_on_rocksdb(
    hot_files: tuple[Path, Path], expected: pd.DataFrame
) -> None:
    transactions, labels = hot_files
    t_env, view = flink_environment(transactions, True, 300_000, labels)
    t_env.get_config().set("state.backend.type", "rocksdb")
    columns = ", ".join(FEATURE_NAMES)
    actual: pd.DataFrame = t_env.sql_query(
        f"SELECT transaction_id, late, {columns} FROM {view}"
    ).to_pandas()
    actual = actual.set_index("transaction_id").astype(dict.fromkeys(FEATURE_NAMES, "float64"))
    assert not actual["late"].any()
    assert (actual["terminal_txn_count_30d"] > 1000).any()
    assert (actual["card_txn_count_30d"] > 700).any()
    assert_features_equal(actual, expected)
