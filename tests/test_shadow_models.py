"""Shadow models (challengers) in the scoring UDF, with real ONNX models from a real registry:
they score the same batch as the serving model and never change its decisions; one that
raises in onnxruntime, gives NaN or runs late is left out of that batch's `shadow_scores`,
counted, while the others and the serving model go on; one that fails verification is
refused as a current model would be; shadows hot-swap with the pointer.

The end-to-end proof on the mini-cluster (the decision log of a running job, no alert) is
tests/test_hot_swap.py."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyflink.fn_execution.metrics.process.metric_impl import GenericMetricGroup
from pyflink.table.udf import FunctionContext
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from bench.shadows_job import SHADOWS, publish_bench_registry
from contracts.model import MODEL_FILE
from flink_job.features import FEATURE_NAMES, feature_schema_hash
from model_export.export import to_onnx
from model_export.registry import Registry
from tests.test_registry import write_model
from tests.test_rules_scoring import Counted
from udfs.metrics import REFUSALS, SHADOW_FAILURES, SHADOW_SKIPS, SWAPS
from udfs.model import ModelSource, load_model
from udfs.scoring import ScoreTransactions
from udfs.serving import ModelServer
from udfs.shadows import ShadowScorer

WIDTH = len(FEATURE_NAMES)
LOW = -5.0  # intercept: every transaction scores sigmoid(-5) = 0.0067, below 0.5
HIGH = 50.0  # every transaction scores 1.0


def _slow_model(directory: Path, version: str) -> Path:
    """A real model slow enough to overrun any shadow budget: a 4 x 1024 perceptron (about
    0.16 ms a row here, 0.8 s for 5,000 rows), its manifest the job's."""
    write_model(directory, version)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(64, WIDTH)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration does not converge
        network = MLPClassifier(hidden_layer_sizes=(1024,) * 4, max_iter=1, random_state=0)
        pipeline = Pipeline([("classifier", network)]).fit(features, np.arange(64) % 2)
    onnx_bytes = to_onnx(pipeline, WIDTH)
    data = json.loads((directory / "manifest.json").read_text())
    data["onnx_sha256"] = hashlib.sha256(onnx_bytes).hexdigest()
    (directory / MODEL_FILE).write_bytes(onnx_bytes)
    (directory / "manifest.json").write_text(json.dumps(data))
    return directory


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Model directories by version: the serving model scores low; the shadows score 1.0,
    NaN, raise in onnxruntime (an ONNX graph of 5 inputs), run slowly, or fail verification
    (another feature schema)."""
    base = tmp_path_factory.mktemp("models")
    return {
        "m-low": write_model(base / "m-low", "m-low", intercept=LOW),
        "m-one": write_model(base / "m-one", "m-one", intercept=HIGH),
        "m-nan": write_model(base / "m-nan", "m-nan", intercept=float("nan")),
        "m-raise": write_model(base / "m-raise", "m-raise", width=5),
        "m-slow": _slow_model(base / "m-slow", "m-slow"),
        "m-foreign": write_model(base / "m-foreign", "m-foreign", schema_hash="0" * 64),
        "m-two": write_model(base / "m-two", "m-two", intercept=HIGH),
    }


def registry_with(tmp_path: Path, models: dict[str, Path], current: str, *shadows: str) -> Registry:
    registry = Registry(str(tmp_path / "registry"))
    for version in (current, *shadows):
        registry.publish_dir(models[version])
    registry.promote(current)
    for version in shadows:
        registry.add_shadow(version, max_shadows=len(shadows))
    return registry


class Scorer:
    """The job's scoring UDF, opened on a registry, with its metric counters readable."""

    def __init__(self, root: str, max_shadows: int = 2, budget_ms: int = 5_000) -> None:
        features = (tuple(FEATURE_NAMES), feature_schema_hash())
        self.udf = ScoreTransactions(root, features, 60_000, None, shadows=(max_shadows, budget_ms))
        self.udf.open(FunctionContext(GenericMetricGroup(None, None), {}))
        self.udf._counters = {name: Counted() for name in self.udf._counters}
        self.udf._scored = Counted()

    def eval(self, rows: int) -> pd.DataFrame:
        vectors = pd.Series([np.zeros(WIDTH, "<f4").tobytes()] * rows)
        decisions: pd.DataFrame = self.udf.eval(vectors)
        return decisions

    def count(self, name: str) -> int:
        """A counter after the batches so far (the UDF counts a batch's shadow failures
        when it scores the next one: one empty batch brings them in)."""
        self.eval(0)
        return int(self.udf._counters[name].count)

    def close(self) -> None:
        self.udf.close()


@pytest.fixture
def scorers() -> Iterator[list[Scorer]]:
    opened: list[Scorer] = []
    yield opened
    for scorer in opened:
        scorer.close()


def test_a_shadow_that_scores_every_transaction_1_changes_no_decision_and_is_recorded_for_each(
    tmp_path: Path, models: dict[str, Path], scorers: list[Scorer]
) -> None:
    alone = Scorer(str(registry_with(tmp_path / "alone", models, "m-low").root))
    shadowed = Scorer(str(registry_with(tmp_path / "with", models, "m-low", "m-one").root))
    scorers.extend((alone, shadowed))

    without, with_shadow = alone.eval(500), shadowed.eval(500)

    assert not with_shadow["alerted"].any()  # 1.0 from the shadow, no alert
    assert with_shadow["score"].max() < 0.01 and (with_shadow["model_version"] == "m-low").all()
    assert list(with_shadow["shadow_scores"]) == [{"m-one": 1.0}] * 500
    assert without["shadow_scores"].isna().all()  # no shadow: null
    decision = [c for c in with_shadow.columns if c != "shadow_scores"]
    pd.testing.assert_frame_equal(with_shadow[decision], without[decision])


def test_shadows_that_raise_or_give_nan_are_left_out_counted_and_the_others_kept(
    tmp_path: Path,
    models: dict[str, Path],
    scorers: list[Scorer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = registry_with(tmp_path, models, "m-low", "m-raise", "m-nan", "m-one").root
    scorer = Scorer(str(root), max_shadows=3)
    scorers.append(scorer)

    with caplog.at_level(logging.ERROR, logger="udfs.shadows"):
        first, second = scorer.eval(300), scorer.eval(200)

    for decisions in (first, second):
        assert list(decisions["shadow_scores"]) == [{"m-one": 1.0}] * len(decisions)
        assert not decisions["alerted"].any() and decisions["score"].max() < 0.01
    assert scorer.count(SHADOW_FAILURES) == 2 * (300 + 200)  # two shadows, every row
    assert scorer.count(SHADOW_SKIPS) == 0
    assert caplog.text.count("shadow m-raise raised") == 1  # logged once per version
    assert caplog.text.count("shadow m-nan returned scores that are not in [0, 1]") == 1


def test_when_every_shadow_fails_the_shadow_scores_are_null(
    tmp_path: Path, models: dict[str, Path], scorers: list[Scorer]
) -> None:
    scorer = Scorer(str(registry_with(tmp_path, models, "m-low", "m-nan").root))
    scorers.append(scorer)
    decisions = scorer.eval(50)
    assert decisions["shadow_scores"].isna().all()
    assert (decisions["model_version"] == "m-low").all()


def test_a_slow_shadow_delays_the_decision_by_its_budget_at_most_and_is_skipped_a_while(
    tmp_path: Path, models: dict[str, Path], scorers: list[Scorer]
) -> None:
    rows = 5_000
    matrix = np.zeros((rows, WIDTH), np.float32)
    slow = load_model(str(models["m-slow"]), FEATURE_NAMES, feature_schema_hash())
    started = time.monotonic()
    slow.score(matrix)
    slow_s = time.monotonic() - started
    alone = Scorer(str(registry_with(tmp_path / "alone", models, "m-low").root))
    root = registry_with(tmp_path / "with", models, "m-low", "m-slow", "m-one").root
    budget_ms = 20
    scorer = Scorer(str(root), budget_ms=budget_ms)
    scorers.extend((alone, scorer))

    timings = []
    for one in (alone, scorer, scorer):
        started = time.monotonic()
        decisions = one.eval(rows)
        timings.append(time.monotonic() - started)
        if one is scorer:  # the slow shadow is left out, the other one kept
            assert list(decisions["shadow_scores"]) == [{"m-one": 1.0}] * rows
    serving_s, late_s, paused_s = timings
    print(
        f"{rows} rows: the slow shadow alone {slow_s * 1000:.0f} ms; the decision without "
        f"shadows {serving_s * 1000:.0f} ms, with them {late_s * 1000:.0f} ms (budget "
        f"{budget_ms} ms), then {paused_s * 1000:.0f} ms while it is paused"
    )
    assert slow_s > 0.2  # the shadow is slow indeed
    assert late_s < slow_s / 2  # the decision did not wait for it
    assert scorer.count(SHADOW_SKIPS) == 2 * rows  # late on the first batch, paused on the next
    assert scorer.count(SHADOW_FAILURES) == 0


def test_a_late_shadows_call_is_stopped_and_it_scores_again_after_its_pause(
    models: dict[str, Path],
) -> None:
    slow = load_model(str(models["m-slow"]), FEATURE_NAMES, feature_schema_hash())
    matrix = np.zeros((5_000, WIDTH), np.float32)
    began = time.monotonic()
    slow.score(matrix)
    slow_s = time.monotonic() - began
    scorer = ShadowScorer(budget_s=0.0, pause_s=0.1)
    try:
        late = time.monotonic()
        assert scorer.collect(scorer.start([slow], matrix), len(matrix)) == [None] * 5_000
        started: list[str] = []
        while not started and time.monotonic() - late < 10 * slow_s:
            time.sleep(0.02)
            started = scorer.start([slow], matrix)  # [] while its call runs or it is paused
        resumed_s = time.monotonic() - late
        scorer.budget_s = 60.0
        scores = scorer.collect(started, len(matrix))
    finally:
        scorer.close()
    print(f"the slow shadow takes {slow_s:.2f} s; told to stop, scored again {resumed_s:.2f} s on")
    assert started == ["m-slow"]
    assert resumed_s < slow_s / 2  # its late call was stopped, not run to its end
    assert all(row is not None and set(row) == {"m-slow"} for row in scores)
    assert scorer.drain_counts()[SHADOW_SKIPS] >= 2 * 5_000  # late, then skipped


def _server(registry: Registry, max_shadows: int = 2) -> ModelServer:
    source = ModelSource(registry.root, FEATURE_NAMES, feature_schema_hash())
    return ModelServer(source, None, 60.0, max_shadows=max_shadows)


def test_a_shadow_failing_verification_is_refused_counted_and_the_others_served(
    tmp_path: Path, models: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    registry = registry_with(tmp_path, models, "m-low", "m-foreign", "m-one", "m-two")
    # m-two's model.onnx is replaced after publishing: its sha256 no longer matches
    tampered = tmp_path / "registry" / "versions" / "m-two" / MODEL_FILE
    tampered.write_bytes(tampered.read_bytes() + b"\0")

    with caplog.at_level(logging.ERROR, logger="udfs.serving"):
        server = _server(registry, max_shadows=3)
    polls = [server.poll() for _ in range(3)]

    assert server.model.version == "m-low"
    assert [m.version for m in server.shadows] == ["m-one"]
    assert server.drain_counts() == {REFUSALS: 2}  # once each, not at every poll
    assert polls == [60.0] * 3  # a refusal is no fetch failure: no backoff
    assert "shadow model m-foreign refused" in caplog.text
    assert "feature definitions changed" in caplog.text and "do not belong together" in caplog.text


def test_shadows_hot_swap_with_the_pointer_and_a_promoted_one_serves(
    tmp_path: Path, models: dict[str, Path]
) -> None:
    registry = registry_with(tmp_path, models, "m-low", "m-one")
    registry.publish_dir(models["m-two"])
    server = _server(registry)
    assert [m.version for m in server.shadows] == ["m-one"]

    registry.add_shadow("m-two")
    server.poll()
    assert [m.version for m in server.shadows] == ["m-one", "m-two"]
    kept = server.shadows[0]
    registry.remove_shadow("m-one")
    server.poll()
    assert [m.version for m in server.shadows] == ["m-two"]
    registry.add_shadow("m-one")
    server.poll()
    assert server.shadows[1] is not kept  # loaded again: nothing held for a demoted shadow
    registry.promote("m-two")
    server.poll()
    assert server.model.version == "m-two" and [m.version for m in server.shadows] == ["m-one"]
    assert server.drain_counts() == {SWAPS: 1}  # shadows are no swaps of the serving model


def test_no_more_shadows_than_max_shadows_are_scored(
    tmp_path: Path, models: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    registry = registry_with(tmp_path, models, "m-low", "m-one", "m-two", "m-nan")
    with caplog.at_level(logging.WARNING, logger="udfs.serving"):
        assert [m.version for m in _server(registry).shadows] == ["m-one", "m-two"]
        assert _server(registry, max_shadows=0).shadows == ()
    assert "the pointer names 3 shadows, model.max_shadows is 2: not scoring m-nan" in caplog.text


def test_the_benchs_registry_serves_its_model_with_two_shadows_of_the_same_graph(
    tmp_path: Path, models: dict[str, Path]
) -> None:
    """bench.shadows_job measures what it says: the job it runs scores two shadows."""
    with_shadows = publish_bench_registry(models["m-low"], tmp_path / "with", SHADOWS)
    without = publish_bench_registry(models["m-low"], tmp_path / "without", 0)
    server = _server(with_shadows)
    assert server.model.version == "m-low" and _server(without).shadows == ()
    assert [m.version for m in server.shadows] == ["m-low-shadow-1", "m-low-shadow-2"]
    assert all(m.onnx_bytes == server.model.onnx_bytes for m in server.shadows)
