"""Reasons for an alert: which features drove the score, in words an analyst reads.

Model-agnostic occlusion: for each feature, the score is recomputed with that feature set
to its baseline (the median over legitimate training transactions, from the manifest).
The drop in score is the feature's contribution; the largest positive drops, in order,
are the alert's reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from udfs.model import ScoringModel

MAX_REASONS = 3


def reason_code(feature: str) -> str:
    """An alert's machine-readable reason: the name of the feature that drove the score,
    upper-cased (Alert v1 `reason_codes`)."""
    return feature.upper()


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    contribution: float


def _phrase(name: str, value: float, baseline: float) -> str:
    if name == "amount":
        return f"amount {value:,.2f} is high (typical {baseline:,.2f})"
    if name == "amount_over_card_avg_30d":
        return f"amount is {value:.1f}× the card's 30-day average (typical {baseline:.1f}×)"
    if name == "card_secs_since_prev":
        return f"only {value:,.0f} s since the card's previous payment (typical {baseline:,.0f} s)"
    if name.startswith("card_txn_count_"):
        window = name.removeprefix("card_txn_count_")
        return f"{value:.0f} payments on the card in the last {window} (typical {baseline:.0f})"
    if name.startswith("card_avg_amount_"):
        window = name.removeprefix("card_avg_amount_")
        return (
            f"card's average amount over the last {window} is {value:,.2f} "
            f"(typical {baseline:,.2f})"
        )
    return f"{name} is {value:.3g} (typical {baseline:.3g})"


def explain(model: ScoringModel, features: NDArray[np.float64]) -> list[Reason]:
    """Up to MAX_REASONS reasons for one transaction's feature vector, most important first."""
    return explain_rows(model, np.asarray(features).reshape(1, -1))[0]


def explain_rows(model: ScoringModel, rows: NDArray[np.floating[Any]]) -> list[list[Reason]]:
    """Reasons for each row of an [n, n_features] matrix, with one ONNX call for all of
    them: every row and its occluded variants are scored together. A feature already at
    its baseline contributes exactly nothing, so its variant (the row itself) is not scored."""
    count, width = rows.shape
    if count == 0:  # most batches: no alert
        return []
    rows = np.asarray(rows, dtype=np.float32)  # what the model sees
    names = model.manifest.feature_names
    baseline = np.array([model.manifest.baseline[n] for n in names], dtype=np.float32)
    which, feature = np.nonzero(rows != baseline)
    variants = rows[which]
    variants[np.arange(len(which)), feature] = baseline[feature]
    scores = model.score(np.vstack([rows, variants]))
    drops = np.zeros((count, width), dtype=np.float64)
    drops[which, feature] = scores[which] - scores[count:]
    return [_reasons(names, rows[i], baseline, drops[i]) for i in range(count)]


def _reasons(
    names: tuple[str, ...],
    row: NDArray[np.float32],
    baseline: NDArray[np.float32],
    drops: NDArray[np.float64],
) -> list[Reason]:
    order = [i for i in np.argsort(-drops, kind="stable") if drops[i] > 1e-6][:MAX_REASONS]
    if not order:  # the score does not hinge on any single feature: name the most unusual
        order = [int(np.argmax(np.abs(row - baseline) / (np.abs(baseline) + 1.0)))]
    return [
        Reason(
            code=reason_code(names[i]),
            text=_phrase(names[i], float(row[i]), float(baseline[i])),
            contribution=float(drops[i]),
        )
        for i in order
    ]
