"""Export a fitted scikit-learn pipeline to ONNX and prove the two agree."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.pipeline import Pipeline

from contracts.model import INPUT_NAME, PROBABILITY_OUTPUT

PARITY_TOLERANCE = 1e-5
ONNX_OPSET = 17


class ParityError(RuntimeError):
    """ONNX and scikit-learn disagree beyond the tolerance: the export is not trusted."""


def to_onnx(pipeline: Pipeline, n_features: int) -> bytes:
    """The whole pipeline (preprocessing included) as ONNX bytes, probabilities as a tensor."""
    classifier = pipeline.steps[-1][1]
    model = convert_sklearn(
        pipeline,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        options={id(classifier): {"zipmap": False}},
        target_opset={"": ONNX_OPSET, "ai.onnx.ml": 3},
    )
    data: bytes = model.SerializeToString()
    return data


def onnx_probabilities(onnx_bytes: bytes, features: NDArray[Any]) -> NDArray[np.float64]:
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    matrix = np.ascontiguousarray(features, dtype=np.float32)
    (probabilities,) = session.run([PROBABILITY_OUTPUT], {INPUT_NAME: matrix})
    return np.asarray(probabilities, dtype=np.float64)[:, 1]


def check_parity(pipeline: Pipeline, onnx_bytes: bytes, features: NDArray[Any]) -> float:
    """Max |p_sklearn - p_onnx| over `features`; raises ParityError above the tolerance."""
    matrix = np.asarray(features, dtype=np.float32)
    expected = pipeline.predict_proba(matrix)[:, 1]
    actual = onnx_probabilities(onnx_bytes, matrix)
    difference = float(np.max(np.abs(expected - actual))) if len(matrix) else 0.0
    if difference >= PARITY_TOLERANCE:
        raise ParityError(
            f"ONNX and scikit-learn probabilities differ by up to {difference:.2e} "
            f"(tolerance {PARITY_TOLERANCE:.0e}); the model is not exported"
        )
    return difference
