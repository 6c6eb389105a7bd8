"""The job's Python UDF: vectorized ONNX scoring of every transaction, with the reasons of
the ones that alert.

Scoring is a pandas (Arrow-batched) UDF: one JVM↔Python crossing per batch, not per row.
Its one argument is each transaction's feature vector, packed in the JVM as little-endian
float32 in the job's feature order (flink_job.decide.feature_vector_sql): one Arrow column
instead of one per feature, which cost the JVM more than the model cost Python.
It returns one decision per row, ROW(score, threshold, model_version, reasons, codes, ...,
shadow_scores), so that the threshold, version and reasons that decided a transaction
travel with its score (a model swap between two batches cannot mix them). Reasons are
computed in the same batch for the rows at or above the threshold only (one ONNX call for
all of them); other rows' reasons are NULL.

Hot swap (udfs.serving): a background thread checks the model's pointer (the registry's
current.json, or a model directory's manifest) every `model.poll_interval_ms`; a new
version is loaded and verified there, then used from the next batch on. Scoring never waits
on S3. A version that fails verification (feature schema mismatch, files that do not belong
together) is refused: the old model stays, the reason is logged once, `models_refused`
counts it. A version S3 cannot deliver now is retried with backoff (`model_fetch_failures`).
The last verified model is cached on local disk; a worker that starts while S3 is
unreachable scores with it (`model_cache_starts`).

Shadow models (the registry pointer's `shadows`, at most `model.max_shadows`) score the
same feature matrix in the same batch, each on its own thread beside the serving model,
waited for at most `model.shadow_budget_ms` once the decision is ready (udfs.shadows):
their scores are returned as `shadow_scores` (version -> score, NULL when none scored the
batch), never read by the decision; a shadow that fails, gives NaN or runs late leaves its
scores null, counted.

Metrics are registered in the group Managed Flink forwards to CloudWatch (udfs.metrics).

The job builds the UDF (score_udf) and hands it what it needs: the feature names and schema
hash a model must match, the poll interval, the S3 endpoint. Nothing here reads the job's
configuration or imports the job.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from contracts.model import MAX_SHADOWS
from contracts.rules import rule_code
from contracts.transaction import TRANSACTION_V1
from rules.artefacts import scoring_schema
from udfs.metrics import RULE_FAILURES, SCORED, cloudwatch_group
from udfs.model import ModelSource, ScoringModel
from udfs.reasons import explain_rows
from udfs.rulesets import (
    RULE_COUNTS,
    ActiveRules,
    RuleServer,
    RuleSource,
    decide_with_rules,
    rule_table,
)
from udfs.serving import COUNTS, ModelCache, ModelServer, default_cache_dir
from udfs.shadows import SHADOW_COUNTS, ShadowScorer

# how long a batch's decision waits for the shadow models once it is ready, at most (ms;
# a shadow later than that is dropped for the batch and paused: udfs.shadows)
DEFAULT_SHADOW_BUDGET_MS = 50

DECISION_TYPE = DataTypes.ROW(
    [
        DataTypes.FIELD("score", DataTypes.DOUBLE()),
        DataTypes.FIELD("threshold", DataTypes.DOUBLE()),
        DataTypes.FIELD("model_version", DataTypes.STRING()),
        DataTypes.FIELD("reasons", DataTypes.ARRAY(DataTypes.STRING())),
        DataTypes.FIELD("codes", DataTypes.ARRAY(DataTypes.STRING())),
        DataTypes.FIELD("contributions", DataTypes.ARRAY(DataTypes.DOUBLE())),
        DataTypes.FIELD("alerted", DataTypes.BOOLEAN()),
        DataTypes.FIELD("severity", DataTypes.STRING()),
        DataTypes.FIELD("ruleset_version", DataTypes.STRING()),
        DataTypes.FIELD("rule_hits", DataTypes.ARRAY(DataTypes.STRING())),
        DataTypes.FIELD("shadow_rule_hits", DataTypes.ARRAY(DataTypes.STRING())),
        DataTypes.FIELD("shadow_scores", DataTypes.MAP(DataTypes.STRING(), DataTypes.DOUBLE())),
    ]
)
# The Transaction v1 fields a rule may read, in the order the job passes them after the
# feature vector (flink_job.decide.scored_sql).
TRANSACTION_INPUTS = tuple(
    name for name, spec in scoring_schema(()).fields.items() if spec.origin == TRANSACTION_V1.title
)
VECTOR_DTYPE = np.dtype("<f4")

log = logging.getLogger(__name__)


def decide(
    model: ScoringModel,
    matrix: NDArray[np.floating[Any]],
    rules: ActiveRules | None = None,
    transactions: Mapping[str, pd.Series] | None = None,
    shadow_scores: list[dict[str, float] | None] | None = None,
) -> pd.DataFrame:
    """One decision per row of a feature matrix (the fields of DECISION_TYPE, in order):
    the model's score, then the rules in force (udfs.rulesets) over the same batch, reading
    the `transactions` fields (TRANSACTION_INPUTS). An alert's reasons are its rules' (in
    the order they are decided, RULE_<name>, contribution 0) then, when the score reached
    the threshold, the model's. `shadow_scores` (udfs.shadows) are passed through: nothing
    here reads them."""
    scores = model.score(matrix)
    table = None
    if rules is not None and rules.rules:
        names = model.manifest.feature_names
        table = rule_table(rules, names, matrix, scores, transactions or {})
    outcome = decide_with_rules(scores, model.threshold, rules, table)
    explained = np.flatnonzero(outcome.alerted & (scores >= model.threshold))
    reasons = np.full(len(scores), None, dtype=object)
    codes = np.full(len(scores), None, dtype=object)
    contributions = np.full(len(scores), None, dtype=object)
    for row, why in zip(explained, explain_rows(model, matrix[explained]), strict=True):
        reasons[row] = [r.text for r in why]
        codes[row] = [r.code for r in why]
        contributions[row] = [r.contribution for r in why]
    for row in np.flatnonzero(outcome.alerted):
        matched = outcome.reasons[row]
        if matched:
            reasons[row] = [f"matched rule {n}" for n in matched] + (reasons[row] or [])
            codes[row] = [rule_code(n) for n in matched] + (codes[row] or [])
            contributions[row] = [0.0] * len(matched) + (contributions[row] or [])
    version = rules.version if rules is not None else None
    return pd.DataFrame(
        {
            "score": scores,
            "threshold": np.full(len(scores), model.threshold),
            "model_version": np.full(len(scores), model.version, dtype=object),
            "reasons": reasons,
            "codes": codes,
            "contributions": contributions,
            "alerted": outcome.alerted,
            "severity": outcome.severity,
            "ruleset_version": np.full(len(scores), version, dtype=object),
            "rule_hits": outcome.hits,
            "shadow_rule_hits": outcome.shadow_hits,
            "shadow_scores": pd.Series(
                shadow_scores if shadow_scores is not None else [None] * len(scores),
                dtype=object,
            ),
        }
    )


def feature_matrix(vectors: pd.Series, width: int) -> NDArray[np.float32]:
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
            "the feature names it gave the scoring UDF disagree"
        )
    return np.frombuffer(packed, dtype=VECTOR_DTYPE).reshape(len(vectors), width)


class ScoreTransactions(ScalarFunction):  # type: ignore[misc]
    """Vectorized: packed feature vectors and the TRANSACTION_INPUTS columns in, one
    decision (DECISION_TYPE) per row out."""

    def __init__(
        self,
        model_path: str,
        features: tuple[tuple[str, ...], str],
        poll_interval_ms: int,
        endpoint: str | None,
        cache_dir: str | None = None,
        rules: tuple[str, int] = ("", 5000),
        shadows: tuple[int, int] = (MAX_SHADOWS, DEFAULT_SHADOW_BUDGET_MS),
    ) -> None:
        self._model_path = model_path
        self._feature_names, self._schema_hash = features
        self._poll_interval_s = poll_interval_ms / 1000.0
        self._endpoint = endpoint
        self._cache_dir = cache_dir
        self._rules_path, self._rules_poll_ms = rules
        self._max_shadows, self._shadow_budget_ms = shadows
        self._server: ModelServer | None = None
        self._shadows: ShadowScorer | None = None
        self._rules: RuleServer | None = None
        self._failed_rules: str | None = None  # the rule set version whose failure was logged
        self._scored: Any = None
        self._counters: dict[str, Any] = {}

    def is_deterministic(self) -> bool:
        # The score depends on the model loaded at the time (models are swapped). Saying
        # so also stops the planner from copying this call into every expression that
        # reads the decision, which would score each transaction several times.
        return False

    def open(self, function_context: FunctionContext) -> None:
        source = ModelSource(
            self._model_path, self._feature_names, self._schema_hash, self._endpoint
        )
        cache = None
        if self._model_path.startswith("s3://"):  # a local directory needs no cache
            cache_dir = Path(self._cache_dir) if self._cache_dir else None
            cache = ModelCache(cache_dir or default_cache_dir(self._model_path))
        self._server = ModelServer(
            source, cache, self._poll_interval_s, max_shadows=self._max_shadows
        ).start()
        self._shadows = ShadowScorer(self._shadow_budget_ms / 1000.0)
        log.info("scoring with model %s from %s", self._server.model.version, self._model_path)
        if self._rules_path:
            cached = None
            rules_cache = None
            if self._rules_path.startswith("s3://"):  # like the model: a local copy
                rules_cache = default_cache_dir(self._rules_path)
                cached = RuleSource(str(rules_cache), self._feature_names)
            rule_source = RuleSource(
                self._rules_path, self._feature_names, self._endpoint, rules_cache
            )
            poll_s = self._rules_poll_ms / 1000.0
            self._rules = RuleServer(rule_source, poll_s, cached).start()
        metrics = cloudwatch_group(function_context.get_metric_group())
        self._scored = metrics.counter(SCORED)
        counted = (*COUNTS, *RULE_COUNTS, *SHADOW_COUNTS)
        self._counters = {name: metrics.counter(name) for name in counted}
        self._counters[RULE_FAILURES] = metrics.counter(RULE_FAILURES)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._rules is not None:
            self._rules.stop()
        if self._shadows is not None:
            self._shadows.close()

    def _count_model_events(self) -> None:
        """The background polls' events, counted here: PyFlink counts on this thread only."""
        assert self._server is not None, "open() starts the model server"
        for server in (self._server, self._rules, self._shadows):
            if server is not None:
                for name, count in server.drain_counts().items():
                    self._counters[name].inc(count)

    def eval(self, vectors: pd.Series, *transactions: pd.Series) -> pd.DataFrame:
        assert self._server is not None and self._shadows is not None, "open() starts them"
        self._count_model_events()
        matrix = feature_matrix(vectors, len(self._feature_names))
        model, shadows = self._server.model, self._server.shadows
        started = self._shadows.start(shadows, matrix)  # on their threads, beside the model
        rules = self._rules.rules if self._rules is not None else None
        fields = dict(zip(TRANSACTION_INPUTS, transactions, strict=False))
        try:
            decisions = decide(model, matrix, rules, fields)
        except Exception as error:  # a rule must never fail scoring: decide by the model
            if rules is None:
                raise
            self._counters[RULE_FAILURES].inc(len(vectors))
            if self._failed_rules != rules.version:
                self._failed_rules = rules.version
                log.exception("rules %s failed on a batch: %s", rules.version, error)
            decisions = decide(model, matrix)
        if shadows:
            collected = self._shadows.collect(started, len(matrix))
            decisions["shadow_scores"] = pd.Series(collected, dtype=object)
        self._scored.inc(len(decisions))
        return decisions


def score_udf(
    model_path: str,
    feature_names: tuple[str, ...],
    schema_hash: str,
    poll_interval_ms: int,
    endpoint: str | None = None,
    cache_dir: str | None = None,
    rules: tuple[str, int] = ("", 5000),
    shadows: tuple[int, int] = (MAX_SHADOWS, DEFAULT_SHADOW_BUDGET_MS),
) -> Any:
    """The scoring UDF, built by the job: a model is used only when its manifest has these
    `feature_names` and `schema_hash`; `poll_interval_ms` and the S3 `endpoint` (None: AWS)
    come from the job's configuration. `cache_dir` holds the last verified model of an
    s3:// location (default: udfs.serving.default_cache_dir, under the worker's temporary
    directory). `rules` is the rule registry's root (`rules.path`; empty: no rules) and how
    often it is polled (`rules.poll_interval_ms`). `shadows` is how many shadow models it
    scores at most (`model.max_shadows`) and each one's time budget per batch in ms
    (`model.shadow_budget_ms`). Its arguments: the packed feature vector, then the
    TRANSACTION_INPUTS columns."""
    features = (tuple(feature_names), schema_hash)
    scorer = ScoreTransactions(
        model_path, features, poll_interval_ms, endpoint, cache_dir, rules, shadows
    )
    return udf(scorer, result_type=DECISION_TYPE, func_type="pandas")
