"""Training histograms of the features and the population stability index (PSI) between two
histograms: numpy only, so training (SageMaker's container too) writes them into the manifest
and model_export.drift compares the decision log's features against them.

A feature's bins: edges at the training deciles and its maximum (repeated edges merged); a value
falls in bin i when i edges are below it, so bin i ends at edge i included and the last bin holds
what lies above anything seen in training (numpy's searchsorted on the left; the SQL of
model_export.drift counts the same way); null, NaN and infinities count as missing. A feature
constant in training thus still shows a rise (not a fall below its one value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

HISTOGRAMS_KEY = "feature_histograms"
QUANTILES = tuple(q / 10 for q in range(1, 11))  # deciles and the maximum: at most 11 bins
SHARE_FLOOR = 1e-4


class DriftError(ValueError):
    """The histograms or the log cannot be compared: says what is missing."""


@dataclass(frozen=True)
class Histogram:
    """A feature's bins: `edges` ascending, `shares` one per bin (len(edges) + 1), `missing`
    the share of null or NaN values; shares and missing sum to 1."""

    edges: tuple[float, ...]
    shares: tuple[float, ...]
    missing: float

    def to_json(self) -> dict[str, Any]:
        return {"edges": list(self.edges), "shares": list(self.shares), "missing": self.missing}

    @staticmethod
    def from_json(name: str, data: Any) -> Histogram:
        try:
            edges = tuple(float(e) for e in data["edges"])
            shares = tuple(float(s) for s in data["shares"])
            missing = float(data["missing"])
        except (KeyError, TypeError, ValueError) as error:
            raise DriftError(f"{HISTOGRAMS_KEY}.{name}: not edges/shares/missing") from error
        if len(shares) != len(edges) + 1 or list(edges) != sorted(set(edges)):
            raise DriftError(f"{HISTOGRAMS_KEY}.{name}: needs ascending edges and one more share")
        if not all(math.isfinite(v) for v in (*edges, *shares, missing)):
            raise DriftError(f"{HISTOGRAMS_KEY}.{name}: holds a non-finite number")
        return Histogram(edges, shares, missing)

    def bins(self) -> int:
        return len(self.shares)


def histogram(values: Sequence[float] | np.ndarray[Any, Any], edges: Sequence[float]) -> Histogram:
    """The shares of `values` in the bins `edges` make (null/NaN/inf: missing)."""
    array = np.asarray(values, dtype=np.float64)
    present = array[np.isfinite(array)]
    total = max(len(array), 1)
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
    shares = tuple(float(c) / total for c in counts)
    return Histogram(tuple(float(e) for e in edges), shares, (len(array) - len(present)) / total)


def training_histogram(values: Sequence[float] | np.ndarray[Any, Any]) -> Histogram:
    """The training side: edges at the deciles and the maximum of the finite values, repeated
    ones merged."""
    array = np.asarray(values, dtype=np.float64)
    present = array[np.isfinite(array)]
    edges = sorted({float(e) for e in np.quantile(present, QUANTILES)}) if len(present) else []
    return histogram(array, edges)


def training_histograms(rows: pd.DataFrame, features: Sequence[str]) -> dict[str, Any]:
    """The manifest's `feature_histograms`: every feature's training histogram as JSON."""
    return {name: training_histogram(rows[name].to_numpy()).to_json() for name in features}


def manifest_histograms(manifest: Mapping[str, Any]) -> dict[str, Histogram]:
    data = manifest.get(HISTOGRAMS_KEY)
    if not isinstance(data, dict) or not data:
        raise DriftError(
            f"model {manifest.get('version', '?')} has no {HISTOGRAMS_KEY} in its manifest "
            "(trained before training kept them): retrain it to watch its drift"
        )
    return {str(name): Histogram.from_json(str(name), value) for name, value in data.items()}


def psi(training: Histogram, live: Histogram) -> float:
    """The population stability index of `live` against `training` (missing is a bin)."""
    if training.edges != live.edges:
        raise DriftError("the two histograms have different bins")
    expected = np.maximum(np.array([*training.shares, training.missing]), SHARE_FLOOR)
    actual = np.maximum(np.array([*live.shares, live.missing]), SHARE_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
