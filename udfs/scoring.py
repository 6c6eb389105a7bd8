"""The job's Python UDF: vectorized ONNX scoring of every transaction, with the reasons of
the ones that alert.

Scoring is a pandas (Arrow-batched) UDF: one JVM↔Python crossing per batch, not per row.
Its one argument is each transaction's feature vector, packed in the JVM as little-endian
float32 in FEATURE_NAMES order (flink_job.pipeline.feature_vector_sql): one Arrow column
instead of one per feature, which cost the JVM more than the model cost Python.
It returns one decision per row, ROW(score, threshold, model_version, reasons, codes), so
that the threshold, version and reasons that decided a transaction travel with its score
(a model swap between two batches cannot mix them). Reasons are computed in the same batch
for the rows at or above the threshold only (one ONNX call for all of them); other rows'
reasons are NULL.

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
from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from udfs.model import ModelError, ModelSource, ScoringModel
from udfs.reasons import explain_rows

DECISION_TYPE = DataTypes.ROW(
    [
        DataTypes.FIELD("score", DataTypes.DOUBLE()),
        DataTypes.FIELD("threshold", DataTypes.DOUBLE()),
        DataTypes.FIELD("model_version", DataTypes.STRING()),
        DataTypes.FIELD("reasons", DataTypes.ARRAY(DataTypes.STRING())),
        DataTypes.FIELD("codes", DataTypes.ARRAY(DataTypes.STRING())),
    ]
)
DEFAULT_POLL_INTERVAL_MS = 30_000
VECTOR_DTYPE = np.dtype("<f4")

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


def decide(model: ScoringModel, matrix: NDArray[np.floating[Any]]) -> pd.DataFrame:
    """One decision per row of a feature matrix (the fields of DECISION_TYPE, in order)."""
    scores = model.score(matrix)
    alerted = np.flatnonzero(scores >= model.threshold)
    reasons = np.full(len(scores), None, dtype=object)
    codes = np.full(len(scores), None, dtype=object)
    for row, why in zip(alerted, explain_rows(model, matrix[alerted]), strict=True):
        reasons[row] = [r.text for r in why]
        codes[row] = [r.code for r in why]
    return pd.DataFrame(
        {
            "score": scores,
            "threshold": np.full(len(scores), model.threshold),
            "model_version": np.full(len(scores), model.version, dtype=object),
            "reasons": reasons,
            "codes": codes,
        }
    )


def feature_matrix(vectors: pd.Series, width: int = len(FEATURE_NAMES)) -> NDArray[np.float32]:
    """[n, width] float32 from a batch of packed feature vectors (io.fraudstream.scoring.
    FeatureVector: `width` little-endian float32 each)."""
    size = width * VECTOR_DTYPE.itemsize
    try:
        packed = b"".join(vectors)
    except TypeError as error:  # a NULL or non-binary value
        raise ValueError(f"feature vectors must be bytes, not NULL: {error}") from error
    if len(packed) != size * len(vectors):
        raise ValueError(
            f"feature vectors must be {width} float32 ({size} bytes) each; the batch of "
            f"{len(vectors)} holds {len(packed)} bytes: the job's feature_vector call and "
            "FEATURE_NAMES disagree"
        )
    return np.frombuffer(packed, dtype=VECTOR_DTYPE).reshape(len(vectors), width)


class ScoreTransactions(ScalarFunction):  # type: ignore[misc]
    """Vectorized: packed feature vectors in, one decision (DECISION_TYPE) per row out."""

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

    def eval(self, vectors: pd.Series) -> pd.DataFrame:
        self.refresh()
        assert self._model is not None, "open() loads the model"
        decisions = decide(self._model, feature_matrix(vectors))
        self._scored.inc(len(decisions))
        return decisions


def score_udf(
    model_path: str, poll_interval_ms: int | None = None, endpoint: str | None = None
) -> Any:
    poll, s3_endpoint = model_settings(poll_interval_ms, endpoint)
    scorer = ScoreTransactions(model_path, poll, s3_endpoint)
    return udf(scorer, result_type=DECISION_TYPE, func_type="pandas")
