"""Training data: labelled features of a transactions file or a feature table, computed by
the job's own feature views (model_export.feature_table; a date range of the S3 archive:
feature_table.archive_features).

Used by training (model_export.train), the evaluation report (model_export.report) and the
SageMaker launcher, which all sit above it. Flink is imported only when features are
computed: the SageMaker container gets a feature table and has no Flink."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flink_job.features import FEATURE_NAMES


class TrainingDataError(ValueError):
    """The data cannot be trained on; the message says what is missing."""


def read_table(path: Path, *, typed: bool = True) -> pd.DataFrame:
    """A JSON-lines, CSV or Parquet file (sample_data.formats.read_frame: the simulator's
    column types when `typed`). Imported here, not at load: the SageMaker container gets
    feature tables only and ships no sample_data."""
    from sample_data.formats import read_frame

    return read_frame(path, typed=typed)


def read_labels(path: Path) -> pd.DataFrame:
    """transaction_id, label (0/1) and scenario from a labelled transactions file."""
    frame = read_table(path)
    if "label" not in frame.columns:
        raise TrainingDataError(
            f"{path} has no `label` column: training needs labelled transactions"
        )
    columns = ["transaction_id", "label"] + (["scenario"] if "scenario" in frame.columns else [])
    labels = frame[columns].copy()
    labels["transaction_id"] = labels["transaction_id"].astype(str)
    labels["label"] = labels["label"].astype(int)
    return labels


def is_feature_table(path: Path) -> bool:
    if path.suffix != ".parquet":
        return False
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    return {*FEATURE_NAMES, "label", "card_id", "event_time"} <= names


def labelled_features(transactions: Path) -> pd.DataFrame:
    """The job's features of every valid transaction with its label. A Parquet feature
    table (every feature, label, card_id, event_time) is used as is: that is what the
    SageMaker container gets, as it has no Flink."""
    if is_feature_table(transactions):
        return pd.read_parquet(transactions)
    from model_export.feature_table import compute_features  # Flink: not in SageMaker

    features = compute_features(transactions)
    return features.merge(read_labels(transactions), on="transaction_id", how="inner")
