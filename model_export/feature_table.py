"""Turn a transactions file into a feature table with the job's own feature views.

Flink runs the very views the streaming job runs (flink_job.pipeline.register_feature_views)
in batch mode over the file, so training features equal serving features by construction.

    python -m model_export.feature_table sample_data/sample_transactions.jsonl \\
        build/features.parquet
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
from pyflink.table import EnvironmentSettings, TableEnvironment

from flink_job.features import FEATURE_NAMES
from flink_job.parsing import rowtime_sql
from flink_job.pipeline import register_feature_views

KEY_COLUMNS = ("transaction_id", "card_id", "terminal_id", "event_time", "late")


def _as_json_lines(path: Path, workdir: Path) -> Path:
    """The contract's files come as JSON lines, CSV or Parquet; Flink reads JSON lines."""
    if path.suffix in (".jsonl", ".json"):
        return path
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    out = workdir / "transactions.jsonl"
    frame.to_json(out, orient="records", lines=True, date_format="iso")
    return out


def batch_environment(source: Path) -> tuple[TableEnvironment, str]:
    """A batch TableEnvironment over a JSON-lines file with the job's views registered;
    returns it and the name of the feature view."""
    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    conf = t_env.get_config()
    conf.set("table.local-time-zone", "UTC")
    conf.set("parallelism.default", "1")
    t_env.execute_sql(
        f"""CREATE TABLE transactions_file (
  payload STRING,
  ingested_at AS CAST(NULL AS TIMESTAMP_LTZ(3)),
  et AS {rowtime_sql()}
) WITH ('connector' = 'filesystem', 'path' = '{source.resolve()}', 'format' = 'raw')"""
    )
    return t_env, register_feature_views(t_env, "transactions_file", streaming=False)


def compute_features(transactions: Path) -> pd.DataFrame:
    """One row per valid transaction: its keys and every feature, in the job's order."""
    with tempfile.TemporaryDirectory() as tmp:
        t_env, view = batch_environment(_as_json_lines(transactions, Path(tmp)))
        columns = ", ".join(FEATURE_NAMES)
        table = t_env.sql_query(
            "SELECT transaction_id, card_id, terminal_id, "
            f"CAST(et AS STRING) AS event_time, late, {columns} FROM {view}"
        )
        frame = table.to_pandas()
    frame = frame.sort_values(["event_time", "transaction_id"], kind="stable")
    result: pd.DataFrame = frame.reset_index(drop=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transactions", type=Path, help="JSON lines, CSV or Parquet file")
    parser.add_argument("out", type=Path, help="Parquet file to write")
    args = parser.parse_args(argv)
    print(f"computing features of {args.transactions} with Flink (batch)…", file=sys.stderr)
    frame = compute_features(args.transactions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(args.out, index=False)
    print(f"wrote {len(frame)} rows × {len(FEATURE_NAMES)} features to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
