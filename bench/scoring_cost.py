"""Scoring cost: microseconds per event for the ONNX model by batch size (one core)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from udfs.model import load_model

BATCH_SIZES = (1, 10, 100, 1_000, 5_000)


@dataclass(frozen=True)
class ScoringCost:
    batch_size: int
    microseconds_per_event: float


def measure(model_path: str, repeats: int = 5, events: int = 20_000) -> list[ScoringCost]:
    model = load_model(model_path, FEATURE_NAMES, feature_schema_hash())
    rng = np.random.default_rng(3)
    baseline = np.array([model.manifest.baseline[n] for n in FEATURE_NAMES])
    matrix = baseline * rng.lognormal(0.0, 0.5, size=(events, len(FEATURE_NAMES)))
    results = []
    for size in BATCH_SIZES:
        batches = [matrix[i : i + size] for i in range(0, min(events, size * 2_000), size)]
        timings = []
        for _ in range(repeats):
            began = time.perf_counter()
            for batch in batches:
                model.score(batch)
            timings.append((time.perf_counter() - began) / sum(len(b) for b in batches))
        results.append(ScoringCost(size, float(np.median(timings)) * 1e6))
    return results
