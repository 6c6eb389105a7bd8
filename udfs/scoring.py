"""The job's Python UDFs: vectorized ONNX scoring for every transaction, reasons for alerts.

Scoring is a pandas (Arrow-batched) UDF: one JVM↔Python crossing per batch, not per row.
It returns "score|threshold|model_version" so that the threshold and version that decided
a transaction travel with its score (a model swap between two calls cannot mix them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyflink.common import Row
from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from udfs.model import ScoringModel, load_model
from udfs.reasons import explain

DECISION_SEPARATOR = "|"


def _load(model_path: str) -> ScoringModel:
    return load_model(model_path, FEATURE_NAMES, feature_schema_hash())


def format_decisions(scores: NDArray[np.float64], model: ScoringModel) -> list[str]:
    suffix = f"{DECISION_SEPARATOR}{model.threshold!r}{DECISION_SEPARATOR}{model.version}"
    return [f"{s:.6f}{suffix}" for s in scores]


def feature_matrix(columns: tuple[pd.Series | float, ...]) -> NDArray[np.float64]:
    """[n, n_features] from a pandas UDF's arguments. Flink passes a constant argument
    (e.g. a late event's count of 1) as a scalar, so scalars are broadcast."""
    rows = max((len(c) for c in columns if isinstance(c, pd.Series)), default=1)
    return np.column_stack(
        [
            c.to_numpy(dtype=np.float64) if isinstance(c, pd.Series) else np.full(rows, float(c))
            for c in columns
        ]
    )


class ScoreTransactions(ScalarFunction):  # type: ignore[misc]
    """Vectorized: feature columns in, one decision string per row out."""

    def __init__(self, model_path: str) -> None:
        self._model_path = model_path
        self._model: ScoringModel | None = None
        self._scored: Any = None

    def is_deterministic(self) -> bool:
        # The score depends on the model loaded at the time (models are swapped). Saying
        # so also stops the planner from copying this call into every expression that
        # reads the decision, which would score each transaction several times.
        return False

    def open(self, function_context: FunctionContext) -> None:
        self._model = _load(self._model_path)
        self._scored = function_context.get_metric_group().counter("transactions_scored")

    def eval(self, *columns: pd.Series | float) -> pd.Series:
        assert self._model is not None, "open() loads the model"
        matrix = feature_matrix(columns)
        scores = self._model.score(matrix)
        self._scored.inc(len(scores))
        return pd.Series(format_decisions(scores, self._model))


class ExplainAlert(ScalarFunction):  # type: ignore[misc]
    """Per alert (rare): the reasons and reason codes, from the model that scored it."""

    def __init__(self, model_path: str) -> None:
        self._model_path = model_path
        self._models: dict[str, ScoringModel] = {}

    def open(self, function_context: FunctionContext) -> None:
        model = _load(self._model_path)
        self._models[model.version] = model

    def _model_for(self, version: str) -> ScoringModel:
        if version not in self._models:
            model = _load(self._model_path)
            self._models[model.version] = model
        return self._models.get(version) or next(reversed(self._models.values()))

    def eval(self, model_version: str, *features: float) -> Row:
        reasons = explain(self._model_for(model_version), np.array(features, dtype=np.float64))
        return Row([r.text for r in reasons], [r.code for r in reasons])


def score_udf(model_path: str) -> Any:
    return udf(ScoreTransactions(model_path), result_type=DataTypes.STRING(), func_type="pandas")


def explain_udf(model_path: str) -> Any:
    result = DataTypes.ROW(
        [
            DataTypes.FIELD("reasons", DataTypes.ARRAY(DataTypes.STRING())),
            DataTypes.FIELD("codes", DataTypes.ARRAY(DataTypes.STRING())),
        ]
    )
    return udf(ExplainAlert(model_path), result_type=result)
