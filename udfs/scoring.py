"""The job's Python UDFs: vectorized ONNX scoring for every transaction, reasons for alerts.

Scoring is a pandas (Arrow-batched) UDF: one JVM↔Python crossing per batch, not per row.
It returns "score|threshold|model_version" so that the threshold and version that decided
a transaction travel with its score (a model swap between two calls cannot mix them).

Hot swap: before scoring a batch, the scorer checks the model's pointer (the registry's
current.json, or a model directory's manifest) at most every `model.poll_interval_ms`.
A new version is loaded and verified, then used from the next batch on; a version that
fails verification (feature schema mismatch, files that do not belong together) is
refused: the old model stays, the reason is logged once, `models_refused` counts it.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyflink.common import Row
from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from udfs.model import ModelError, ModelSource, ScoringModel
from udfs.reasons import explain

DECISION_SEPARATOR = "|"
DEFAULT_POLL_INTERVAL_MS = 30_000

log = logging.getLogger(__name__)


def model_settings(
    poll_interval_ms: int | None = None, endpoint: str | None = None
) -> tuple[int, str | None]:
    """Poll interval and S3 endpoint for the UDFs, resolved where the job is built (the
    client), since UDF workers do not see the job's configuration. Explicit arguments win;
    else the job's properties file (flink_job.config.load_config); the endpoint may also
    come from $AWS_ENDPOINT_URL (the local demo sets it)."""
    from flink_job.config import ConfigError, load_config

    try:
        config = load_config()
        poll, configured = config.model_poll_interval_ms, config.aws_endpoint
    except ConfigError:
        poll, configured = DEFAULT_POLL_INTERVAL_MS, ""
    resolved = endpoint or os.environ.get("AWS_ENDPOINT_URL") or configured or None
    return poll_interval_ms or poll, resolved


def _source(model_path: str, endpoint: str | None) -> ModelSource:
    return ModelSource(model_path, FEATURE_NAMES, feature_schema_hash(), endpoint)


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

    def __init__(self, model_path: str, poll_interval_ms: int, endpoint: str | None) -> None:
        self._model_path = model_path
        self._poll_interval_s = poll_interval_ms / 1000.0
        self._endpoint = endpoint
        self._source: ModelSource | None = None
        self._model: ScoringModel | None = None
        self._checked_at = 0.0
        self._refused: set[str] = set()
        self._scored: Any = None
        self._swaps: Any = None
        self._refusals: Any = None

    def is_deterministic(self) -> bool:
        # The score depends on the model loaded at the time (models are swapped). Saying
        # so also stops the planner from copying this call into every expression that
        # reads the decision, which would score each transaction several times.
        return False

    def open(self, function_context: FunctionContext) -> None:
        self._source = _source(self._model_path, self._endpoint)
        self._model = self._source.load_current()
        self._checked_at = time.monotonic()
        log.info("scoring with model %s from %s", self._model.version, self._model_path)
        metrics = function_context.get_metric_group()
        self._scored = metrics.counter("transactions_scored")
        self._swaps = metrics.counter("model_swaps")
        self._refusals = metrics.counter("models_refused")

    def refresh(self) -> None:
        """Swap to the pointer's version if it changed and passes verification."""
        assert self._source is not None and self._model is not None, "open() loads the model"
        now = time.monotonic()
        if now - self._checked_at < self._poll_interval_s:
            return
        self._checked_at = now
        try:
            version = self._source.current_version()
        except ModelError as error:
            log.warning("model pointer unreadable, keeping %s: %s", self._model.version, error)
            return
        if version == self._model.version or version in self._refused:
            return
        try:
            model = self._source.load_version(version)
        except ModelError as error:
            self._refused.add(version)
            self._refusals.inc()
            log.error("model %s refused, keeping %s: %s", version, self._model.version, error)
            return
        log.warning("model swapped: %s -> %s", self._model.version, model.version)
        self._model = model
        self._swaps.inc()

    def eval(self, *columns: pd.Series | float) -> pd.Series:
        self.refresh()
        assert self._model is not None, "open() loads the model"
        matrix = feature_matrix(columns)
        scores = self._model.score(matrix)
        self._scored.inc(len(scores))
        return pd.Series(format_decisions(scores, self._model))


class ExplainAlert(ScalarFunction):  # type: ignore[misc]
    """Per alert (rare): the reasons and reason codes, from the model that scored it."""

    def __init__(self, model_path: str, endpoint: str | None) -> None:
        self._model_path = model_path
        self._endpoint = endpoint
        self._source: ModelSource | None = None
        self._models: dict[str, ScoringModel] = {}

    def open(self, function_context: FunctionContext) -> None:
        self._source = _source(self._model_path, self._endpoint)
        model = self._source.load_current()
        self._models[model.version] = model

    def _model_for(self, version: str) -> ScoringModel:
        """The version that scored the alert (registry versions are immutable)."""
        assert self._source is not None, "open() creates the source"
        if version not in self._models:
            try:
                self._models[version] = self._source.load_version(version)
            except ModelError as error:
                log.warning("reasons for %s use another model: %s", version, error)
        return self._models.get(version) or next(reversed(self._models.values()))

    def eval(self, model_version: str, *features: float) -> Row:
        reasons = explain(self._model_for(model_version), np.array(features, dtype=np.float64))
        return Row([r.text for r in reasons], [r.code for r in reasons])


def score_udf(
    model_path: str, poll_interval_ms: int | None = None, endpoint: str | None = None
) -> Any:
    poll, s3_endpoint = model_settings(poll_interval_ms, endpoint)
    scorer = ScoreTransactions(model_path, poll, s3_endpoint)
    return udf(scorer, result_type=DataTypes.STRING(), func_type="pandas")


def explain_udf(model_path: str, endpoint: str | None = None) -> Any:
    result = DataTypes.ROW(
        [
            DataTypes.FIELD("reasons", DataTypes.ARRAY(DataTypes.STRING())),
            DataTypes.FIELD("codes", DataTypes.ARRAY(DataTypes.STRING())),
        ]
    )
    return udf(ExplainAlert(model_path, model_settings(None, endpoint)[1]), result_type=result)
