"""The scoring UDF gets each transaction's features as one packed vector (the Java
feature_vector): what it unpacks is every feature, in the model's order, as float32."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flink_job.decide import feature_vector_sql
from flink_job.features import FEATURE_NAMES
from model_export.feature_table import batch_environment
from udfs.scoring import feature_matrix


def test_packed_vectors_unpack_to_every_feature_in_order(sample_path: Path, tmp_path: Path) -> None:
    head = tmp_path / "head.jsonl"
    head.write_text("".join(sample_path.read_text().splitlines(keepends=True)[:300]))
    t_env, view = batch_environment(head)
    columns = ", ".join(FEATURE_NAMES)
    frame = t_env.sql_query(
        f"SELECT {feature_vector_sql()} AS vector, {columns} FROM {view}"
    ).to_pandas()
    assert len(frame) > 200
    unpacked = feature_matrix(frame["vector"], len(FEATURE_NAMES))
    expected = frame[list(FEATURE_NAMES)].to_numpy(dtype=np.float32)
    np.testing.assert_array_equal(unpacked, expected)


def test_a_null_feature_arrives_as_nan(sample_path: Path) -> None:
    t_env, _ = batch_environment(sample_path)
    (vector,) = t_env.sql_query(
        "SELECT feature_vector(1.5, CAST(NULL AS DOUBLE), -2.0)"
    ).to_pandas()["EXPR$0"]
    row = feature_matrix(pd.Series([vector]), width=3)[0]
    assert row[0] == 1.5 and math.isnan(row[1]) and row[2] == -2.0


def test_vectors_of_the_wrong_width_are_refused_with_what_to_fix() -> None:
    vectors = pd.Series([np.zeros(3, dtype="<f4").tobytes()] * 2)
    with pytest.raises(
        ValueError,
        match="feature_vector call and the feature names it gave the scoring UDF disagree",
    ):
        feature_matrix(vectors, width=4)
    with pytest.raises(ValueError, match="not NULL"):
        feature_matrix(pd.Series([None]), width=3)
