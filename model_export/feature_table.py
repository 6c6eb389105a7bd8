"""Turn a transactions file into a feature table with the job's own feature views.

Flink runs the very views the streaming job runs (flink_job.pipeline.register_feature_views)
over the file, in batch mode by default, so training features equal serving features by
construction. `--streaming` runs the streaming engine instead (the tests compare the two).

    python -m model_export.feature_table sample_data/sample_transactions.jsonl \\
        build/features.parquet
    # a date range of the S3 archive, terminal risks from its labels (model_export.archive)
    python -m model_export.feature_table --archive s3://bucket --from 2026-10-01 \\
        --to 2026-11-04 build/features.parquet
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
from pyflink.table import EnvironmentSettings, TableEnvironment

from contracts.features import DEFAULT_LAYOUT, FeatureLayout
from flink_job.features import (
    DEFAULT_LABEL_DELAY_MS,
    FEATURE_NAMES,
    feature_job_parameters,
    features,
)
from flink_job.main import CONNECTOR_JAR, put_jar_on_gateway_classpath
from flink_job.parsing import ArrivalRules, label_times_sql, rowtime_sql
from flink_job.pipeline import register_feature_views, register_java_functions
from flink_job.rest import FlinkRestReader as FlinkRest
from flink_job.rest import free_port
from flink_job.sql import EPOCH_SQL, interval_sql
from flink_job.tables import label_columns_sql
from model_export import archive as archive_reader

KEY_COLUMNS = ("transaction_id", "card_id", "terminal_id", "event_time", "late")
PROGRESS_EVERY_S = 2.0
SOURCE_TABLE = "transactions_file"


def _as_json_lines(path: Path, workdir: Path) -> Path:
    """The contract's files come as JSON lines, CSV or Parquet; Flink reads JSON lines."""
    if path.suffix in (".jsonl", ".json"):
        return path
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "records.jsonl"
    frame.to_json(out, orient="records", lines=True, date_format="iso")
    return out


def flink_environment(
    source: Path,
    streaming: bool = False,
    lateness_ms: int = 0,
    labels: Path | None = None,
    label_delay_ms: int = DEFAULT_LABEL_DELAY_MS,
    layout: FeatureLayout = DEFAULT_LAYOUT,
) -> tuple[TableEnvironment, str]:
    """A TableEnvironment over a JSON-lines file (and a Label v1 JSON-lines file) with the
    job's views registered; returns it and the name of the feature view. Streaming mode
    reads the files in their line order with a watermark `lateness_ms` behind the largest
    event time (transactions) and reported time (labels) seen, like the job on Kinesis."""
    # The terminal aggregate's accumulator is a class of the jar that generated code names:
    # the client compiles that code with the JVM's own class loader (flink_job.main).
    put_jar_on_gateway_classpath()
    settings = EnvironmentSettings.in_streaming_mode() if streaming else None
    t_env = TableEnvironment.create(settings or EnvironmentSettings.in_batch_mode())
    conf = t_env.get_config()
    conf.set("table.local-time-zone", "UTC")
    conf.set("parallelism.default", "1")
    conf.set("pipeline.jars", CONNECTOR_JAR.resolve().as_uri())  # the Java functions
    register_java_functions(t_env, layout)
    watermark = ""
    if streaming:
        conf.set("pipeline.auto-watermark-interval", "0 ms")  # a watermark after every record
        conf.set("execution.buffer-timeout", "0 ms")  # each record sent on as it is read
        for key, value in feature_job_parameters(lateness_ms).items():
            conf.set(key, value)
        watermark = f",\n  WATERMARK FOR et AS et - {interval_sql(lateness_ms)}"
    if streaming and labels is not None:  # one file read in one order: the arrival order
        arrivals = arrival_order(source, labels, label_delay_ms)
        _register_arrivals(t_env, arrivals, lateness_ms, label_delay_ms)
    else:
        t_env.execute_sql(
            f"""CREATE TABLE transactions_file (
  payload STRING,
  ingested_at AS CAST(NULL AS TIMESTAMP_LTZ(3)),
  et AS {rowtime_sql(ArrivalRules())}{watermark}
) WITH ('connector' = 'filesystem', 'path' = '{source.resolve()}', 'format' = 'raw')"""
        )
    if labels is not None and not streaming:
        columns = label_columns_sql(label_delay_ms, streaming)
        t_env.execute_sql(
            f"""CREATE TABLE labels_file (
  {columns}
) WITH ('connector' = 'filesystem', 'path' = '{labels.resolve()}', 'format' = 'raw')"""
        )
    view = register_feature_views(
        t_env,
        "transactions_file",
        streaming=streaming,
        labels="labels_file" if labels is not None else None,
        label_delay_ms=label_delay_ms,
        layout=layout,
    )
    return t_env, view


TRANSACTION_MARK, LABEL_MARK = "T", "L"


def _event_time(line: str, field: str) -> str | None:
    try:
        value = json.loads(line).get(field)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _arrives_at(label: str, label_delay_ms: int) -> str:
    """When the file path delivers a label: half a delay after its transaction, as an RFC
    3339 string that sorts with the transactions' (unreadable labels first: refused anyway)."""
    at = _event_time(label, "event_time")
    if at is None:
        return ""
    try:
        moment = pd.Timestamp(at) + pd.Timedelta(milliseconds=label_delay_ms // 2)
    except (ValueError, TypeError):
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def arrival_order(transactions: Path, labels: Path, label_delay_ms: int) -> Path:
    """Both files as one, in a replay's order: the transactions in their line order, each
    label before the first transaction stamped half a label delay or more after the label's
    transaction. Each line is marked T or L.

    Streaming, features depend on arrival order. The job's two streams are two sources, and
    so are the two kinds of lines here: after the one file is read, transactions and labels
    take separate paths to the terminal aggregate and can overtake each other by a few
    hundred lines at file speed (on Kinesis, by milliseconds). Half a delay after its
    transaction, a label is far from both the transaction it needs to find and the first
    transaction it counts for (at the delay), so that race cannot change a feature; whether
    it counts is decided by its timestamps alone (reported by its transaction + the delay),
    as in batch. Written beside `transactions`' copy in the caller's temporary folder."""
    dated = sorted(
        (_arrives_at(line, label_delay_ms), line)
        for line in labels.read_text().splitlines()
        if line.strip()
    )
    out = transactions.parent / "arrivals.jsonl"
    pending = 0
    with out.open("w") as f:
        for line in transactions.read_text().splitlines():
            if not line.strip():
                continue
            at = _event_time(line, "event_time")
            while at is not None and pending < len(dated) and dated[pending][0] <= at:
                f.write(f"{LABEL_MARK}{dated[pending][1]}\n")
                pending += 1
            f.write(f"{TRANSACTION_MARK}{line}\n")
        for _, label in dated[pending:]:
            f.write(f"{LABEL_MARK}{label}\n")
    return out


def _register_arrivals(
    t_env: TableEnvironment, arrivals: Path, lateness_ms: int, label_delay_ms: int
) -> None:
    """`transactions_file` and `labels_file` as views over one marked file (arrival_order)."""
    payload = "SUBSTR(line, 2)"
    is_transaction = f"SUBSTR(line, 1, 1) = '{TRANSACTION_MARK}'"
    event_time = rowtime_sql(ArrivalRules(), payload)
    rowtime = f"CASE WHEN {is_transaction} THEN {event_time} ELSE {EPOCH_SQL} END"
    t_env.execute_sql(
        f"""CREATE TABLE arrivals_file (
  line STRING,
  et AS {rowtime},
  WATERMARK FOR et AS et - {interval_sql(lateness_ms)}
) WITH ('connector' = 'filesystem', 'path' = '{arrivals.resolve()}', 'format' = 'raw')"""
    )
    t_env.execute_sql(
        "CREATE TEMPORARY VIEW transactions_file AS SELECT "
        f"{payload} AS payload, CAST(NULL AS TIMESTAMP_LTZ(3)) AS ingested_at, et "
        f"FROM arrivals_file WHERE {is_transaction}"
    )
    usable, reported = label_times_sql(interval_sql(label_delay_ms))
    t_env.execute_sql(
        f"CREATE TEMPORARY VIEW labels_file AS SELECT payload, {usable} AS et, "
        f"{reported} AS reported FROM (SELECT {payload} AS payload FROM arrivals_file "
        f"WHERE SUBSTR(line, 1, 1) = '{LABEL_MARK}')"
    )


def batch_environment(source: Path) -> tuple[TableEnvironment, str]:  # tests/test_validation
    """flink_environment in batch mode: the training path."""
    return flink_environment(source, streaming=False)


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def compute_features(
    transactions: Path,
    streaming: bool = False,
    lateness_ms: int = 0,
    progress: bool = False,
    labels: Path | None = None,
    label_delay_ms: int = DEFAULT_LABEL_DELAY_MS,
    layout: FeatureLayout = DEFAULT_LAYOUT,
) -> pd.DataFrame:
    """One row per valid transaction: its keys and every feature of `layout` (the job's by
    default), in order. Without `labels` the terminal fraud risks are 0, as in a job whose
    labels stream is empty."""
    with tempfile.TemporaryDirectory() as tmp:
        source = _as_json_lines(transactions, Path(tmp))
        label_lines = _as_json_lines(labels, Path(tmp) / "labels") if labels else None
        total = _count_lines(source) if progress else 0
        t_env, view = flink_environment(
            source, streaming, lateness_ms, label_lines, label_delay_ms, layout
        )
        rest_port = free_port()
        t_env.get_config().set("rest.port", str(rest_port))
        t_env.get_config().set("rest.bind-address", "127.0.0.1")
        names = [f.name for f in features(layout)]
        columns = ", ".join(names)
        table = t_env.sql_query(
            "SELECT transaction_id, card_id, terminal_id, "
            f"CAST(et AS STRING) AS event_time, late, {columns} FROM {view}"
        )
        # Arrow batches rather than a py4j round trip per row; one call plans and runs the
        # query on this thread (see flink_job.pipeline.execute_statements).
        with Progress(FlinkRest(rest_port), total, enabled=progress):
            frame = table.to_pandas()
    types = dict.fromkeys(names, "float64") | {"late": bool}
    frame = frame[[*KEY_COLUMNS, *names]].astype(types)
    frame = frame.sort_values(["event_time", "transaction_id"], kind="stable")
    result: pd.DataFrame = frame.reset_index(drop=True)
    return result


class Progress:
    """Prints the records Flink has read so far, from its REST API, every few seconds.

    Runs on its own thread, which only speaks HTTP: the planning thread stays the only one
    using py4j (see flink_job.pipeline.execute_statements)."""

    def __init__(self, rest: FlinkRest, total: int, enabled: bool = True) -> None:
        self._rest, self._total, self._enabled = rest, total, enabled
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feature-progress", daemon=True)
        self._started = time.monotonic()

    def __enter__(self) -> Progress:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, error: type[BaseException] | None, *rest: object) -> None:
        if self._enabled:
            self._done.set()
            self._thread.join()
            if error is None:
                self._print(self._total, final=True)

    def _run(self) -> None:
        while not self._done.wait(PROGRESS_EVERY_S):
            try:
                read = self._rest.records_read(SOURCE_TABLE)
            except (OSError, KeyError, IndexError, ValueError):
                continue  # the job is not submitted yet, or already gone
            self._print(read)

    def _print(self, read: int, final: bool = False) -> None:
        elapsed = time.monotonic() - self._started
        share = f" ({100 * read / self._total:.0f}%)" if self._total else ""
        end = "\n" if final else ""
        line = f"\r  {read:,} of {self._total:,} records read{share}, {elapsed:.0f} s"
        print(line, end=end, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "transactions", type=Path, help="Transaction v1: JSON lines, CSV, Parquet (or OUT)"
    )
    parser.add_argument("out", type=Path, nargs="?", help="Parquet file to write")
    parser.add_argument(
        "--labels",
        type=Path,
        help="Label v1 file (JSON lines, CSV, Parquet) for the terminal fraud risks; "
        "without it they are 0",
    )
    parser.add_argument(
        "--label-delay-ms",
        type=int,
        default=DEFAULT_LABEL_DELAY_MS,
        help="the job's labels.delay_ms (default: %(default)s, 7 days)",
    )
    parser.add_argument(
        "--streaming",
        action="store_true",
        help="run Flink's streaming engine over the file instead of batch",
    )
    archive_reader.add_arguments(parser)
    args = parser.parse_args(argv)
    archive = archive_reader.from_arguments(parser, args)
    if archive is not None:
        return _archive_main(parser, args, archive)
    if args.out is None:
        parser.error("give TRANSACTIONS and OUT, or --archive … OUT")
    mode = "streaming" if args.streaming else "batch"
    print(f"computing features of {args.transactions} with Flink ({mode})…", file=sys.stderr)
    frame = compute_features(
        args.transactions,
        streaming=args.streaming,
        progress=True,
        labels=args.labels,
        label_delay_ms=args.label_delay_ms,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(args.out, index=False)
    print(f"wrote {len(frame)} rows × {len(FEATURE_NAMES)} features to {args.out}", file=sys.stderr)
    return 0


def archive_features(archive: archive_reader.ArchiveRange, s3: Any | None = None) -> pd.DataFrame:
    """The job's features of a date range of archived transactions, terminal risks from the
    archived labels as the job counts them, each row with its training label (its latest
    verdict; unlabelled is legit: model_export.archive)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = archive_reader.fetch(archive, Path(tmp), s3)
        print(
            f"archive: {files.transaction_count} transactions, {files.label_count} labels "
            f"from {archive.describe()}",
            file=sys.stderr,
        )
        labels = files.labels if files.label_count else None
        features = compute_features(files.transactions, labels=labels)
    frame = features.merge(files.verdicts, on="transaction_id", how="left")
    frame["label"] = frame["label"].fillna(0).astype(int)
    return frame


def _archive_main(parser: argparse.ArgumentParser, args: argparse.Namespace, archive: Any) -> int:
    """Features of a date range of the archive, with each transaction's training label."""
    if args.out is not None or args.labels is not None or args.streaming:
        parser.error("with --archive give only OUT (the archive holds the labels)")
    out: Path = args.transactions
    try:
        frame = archive_features(archive)
    except RuntimeError as error:
        parser.error(str(error))
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, index=False)
    print(
        f"wrote {len(frame)} labelled rows × {len(FEATURE_NAMES)} features to {out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
