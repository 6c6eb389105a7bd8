"""Zero-amount authorisations (account verification, a classic card-testing probe) are valid
transactions: the features see them, count them as small payments, and stay finite even for
a card that has made nothing else."""

from __future__ import annotations

import json
import math
from pathlib import Path

from flink_job.features import FEATURE_NAMES
from model_export.feature_table import compute_features


def _transaction(index: int, amount: float, minute: int) -> str:
    return json.dumps(
        {
            "transaction_id": f"z-{index}",
            "event_time": f"2026-11-02T10:{minute:02d}:00.000Z",
            "card_id": "card_probe",
            "terminal_id": "term_probe",
            "amount": amount,
            "currency": "EUR",
        }
    )


def test_zero_amount_verifications_are_counted_and_every_feature_stays_finite(
    tmp_path: Path,
) -> None:
    path = tmp_path / "probes.jsonl"
    amounts = [0, 0.0, 0, 49.9]
    path.write_text("\n".join(_transaction(i, a, i) for i, a in enumerate(amounts)) + "\n")
    features = compute_features(path).set_index("transaction_id")
    assert list(features.index.sort_values()) == ["z-0", "z-1", "z-2", "z-3"]
    for name in FEATURE_NAMES:
        assert all(math.isfinite(v) for v in features[name]), name
    assert features.loc["z-2", "amount_over_card_avg_30d"] == 1.0  # only zeros so far
    assert features.loc["z-2", "card_small_txn_count_10m"] == 3  # the probes, this one included
    assert features.loc["z-3", "amount_over_card_avg_30d"] == 4.0  # 49.9 / (49.9 / 4)
