"""One feature layout (contracts/features.py) drives both engines: adding a window is a
change in one place (plus a model trained on it), the Java aggregates take their windows and
ROW fields from it, and the schema hash models carry covers all of it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import flink_job.features as job_features
from contracts.features import DAY, DEFAULT_LAYOUT, FEATURE_NAMES, FeatureLayout, Window
from flink_job.features import ENGINE_REVISION, feature_schema_hash, features
from model_export.feature_table import compute_features
from tests.feature_oracle import oracle_features
from tests.test_features import assert_features_equal

ROOT = Path(__file__).resolve().parent.parent
JAVA_FEATURES = ROOT / "flink_job/src/main/java/io/fraudstream/features"
LABELS = ROOT / "sample_data" / "sample_labels.jsonl"
THREE_DAYS = Window("3d", 3 * DAY)
WITH_3D = dataclasses.replace(
    DEFAULT_LAYOUT, card_windows=(*DEFAULT_LAYOUT.card_windows, THREE_DAYS)
)
BOUND_MS = 5 * 60_000
DAYS = 12  # a part of the sample keeps the two Flink runs short

# sha256 of the Java sources that compute the features, per ENGINE_REVISION. A change to them
# fails here until it is classified: if it can change any feature's value, bump
# flink_job.features.ENGINE_REVISION (models must be retrained); either way pin the new hash.
JAVA_SOURCES_SHA256 = {2: "b67efb519940fd681ee342341c0cf1083f468a77c319c203afce1cbf8205e05b"}


def test_a_card_window_added_in_the_layout_gives_stream_equal_batch_equal_oracle_features(
    sample_path: Path, tmp_path: Path
) -> None:
    lines = [
        line
        for line in sample_path.read_text().splitlines()
        if json.loads(line)["event_time"] < f"2026-10-{DAYS + 1:02d}"
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    names = [f.name for f in features(WITH_3D)]
    added = ["card_txn_count_3d", "card_sum_amount_3d", "card_avg_amount_3d", "card_max_amount_3d"]
    assert set(added) <= set(names) and not set(added) & {f.name for f in features()}

    def run(streaming: bool) -> pd.DataFrame:
        frame = compute_features(
            path, streaming=streaming, lateness_ms=BOUND_MS, labels=LABELS, layout=WITH_3D
        )
        return frame.set_index("transaction_id")

    streamed, batch = run(streaming=True), run(streaming=False)
    assert len(streamed) == len(lines) and list(streamed.columns[-len(names) :]) == names
    assert_features_equal(streamed, batch, names)
    transactions = pd.read_json(path, lines=True, dtype={"transaction_id": str})
    labels = pd.read_json(LABELS, lines=True, dtype={"transaction_id": str}, convert_dates=False)
    expected = oracle_features(transactions, labels, layout=WITH_3D).set_index("transaction_id")
    assert_features_equal(streamed, expected, names)
    assert (streamed["card_txn_count_3d"] > streamed["card_txn_count_1d"]).any()


def test_the_schema_hash_covers_the_layout_both_engines_read() -> None:
    default = feature_schema_hash()
    assert feature_schema_hash(WITH_3D) != default
    assert feature_schema_hash(dataclasses.replace(DEFAULT_LAYOUT, small_amount=4.0)) != default
    recent = dataclasses.replace(DEFAULT_LAYOUT, terminal_recent_window=Window("2h", 7_200_000))
    assert feature_schema_hash(recent) != default


def test_the_schema_hash_covers_the_java_engine_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    default = feature_schema_hash()
    monkeypatch.setattr(job_features, "ENGINE_REVISION", ENGINE_REVISION + 1)
    assert job_features.feature_schema_hash() != default


def test_a_layout_refuses_windows_it_cannot_name_apart() -> None:
    with pytest.raises(ValueError, match="distinct names"):
        FeatureLayout(card_windows=(*DEFAULT_LAYOUT.card_windows, Window("1h", 3_600_000)))


def java_feature_sources_sha256() -> str:
    digest = hashlib.sha256()
    for path in sorted(JAVA_FEATURES.rglob("*.java")):
        name = path.relative_to(JAVA_FEATURES).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_the_java_feature_code_is_pinned_to_the_engine_revision() -> None:
    assert java_feature_sources_sha256() == JAVA_SOURCES_SHA256.get(ENGINE_REVISION), (
        "the Java feature code changed: if any feature's value can change, bump "
        "flink_job.features.ENGINE_REVISION (models are then retrained); then pin "
        f"{java_feature_sources_sha256()} for it in tests/test_feature_layout.py"
    )


def test_the_contract_s_feature_names_are_the_job_s() -> None:
    """contracts.features.FEATURE_NAMES, which the API reads, is what the job computes."""
    assert FEATURE_NAMES == job_features.FEATURE_NAMES
