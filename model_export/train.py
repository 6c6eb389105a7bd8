"""Train the fraud model on the job's own features, export it to ONNX, write its manifest.

One entry point, two places:

    # laptop: a labelled transactions file (jsonl/csv/parquet) or a labelled feature table
    python -m model_export.train sample_data/sample_transactions.jsonl build/model
    # laptop: production history, a date range of the S3 archive (model_export.archive)
    python -m model_export.train --archive s3://bucket --from 2026-10-01 --to 2026-11-04 build/model
    # SageMaker script mode: reads SM_CHANNEL_TRAIN, writes SM_MODEL_DIR, hyperparameters
    # arrive as --name value arguments (model_export.sagemaker launches it)
    python -m model_export.train --model best --target_precision 0.8

Both write `model.onnx` and `manifest.json`; SageMaker packs SM_MODEL_DIR into
`model.tar.gz`, and locally the same archive is written next to them.

Protocol (model_export.evaluate): train days, validation days, a gap for label delay, test
days. Each candidate (model_export.candidates) is fitted on the training days; its
threshold is chosen on the validation days by the stated policy (a target precision, or
a daily alert budget); `--model best` keeps the candidate with the highest validation
average precision (never the test days: they only report). The chosen pipeline is
exported with skl2onnx and must agree with scikit-learn on the test days (check_parity).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from contracts.model import MANIFEST_FILE, MODEL_FILE
from flink_job.features import FEATURE_NAMES, feature_schema_hash
from model_export import archive as archive_reader
from model_export.candidates import CANDIDATES
from model_export.dataset import TrainingDataError, labelled_features
from model_export.evaluate import (
    Protocol,
    Result,
    ThresholdPolicy,
    check_trainable,
    fit_candidate,
    known_compromised,
    matrix,
    split,
)
from model_export.export import check_parity, to_onnx
from model_export.histograms import HISTOGRAMS_KEY, training_histograms

TARBALL = "model.tar.gz"


def train(
    transactions: Path | pd.DataFrame,
    out: Path,
    target_precision: float = 0.8,
    seed: int = 7,
    model: str = "best",
    alerts_per_day: float | None = None,
    protocol_args: dict[str, Any] | None = None,
    tarball: bool = True,
) -> dict[str, Any]:
    frame = (
        transactions
        if isinstance(transactions, pd.DataFrame)  # archive_features, or one's own
        else labelled_features(transactions)
    )
    protocol = Protocol.for_frame(frame, **(protocol_args or {}))
    known = known_compromised(frame, None, protocol.gap_days)
    data = split(frame, protocol, known)
    check_trainable(data)
    policy = ThresholdPolicy(target_precision, alerts_per_day)
    names = list(CANDIDATES) if model == "best" else [model]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise TrainingDataError(
            f"unknown model {unknown[0]!r}; choose best or {', '.join(CANDIDATES)}"
        )
    results = [fit_candidate(n, data, protocol, policy, seed) for n in names]
    chosen = max(results, key=lambda r: r.validation_average_precision)
    onnx_bytes = to_onnx(chosen.pipeline, len(FEATURE_NAMES))
    parity = check_parity(chosen.pipeline, onnx_bytes, matrix(data.test))
    manifest = _manifest(chosen, results, data.train, protocol, policy, onnx_bytes, parity)
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_FILE).write_bytes(onnx_bytes)
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    if tarball:
        from model_export.registry import model_tarball

        (out / TARBALL).write_bytes(model_tarball(out))
    return manifest


def _manifest(
    chosen: Result,
    results: list[Result],
    train_rows: pd.DataFrame,
    protocol: Protocol,
    policy: ThresholdPolicy,
    onnx_bytes: bytes,
    parity: float,
) -> dict[str, Any]:
    legit = train_rows[train_rows["label"] == 0]
    classifier = chosen.pipeline.steps[-1][1]
    return {
        "version": _version(onnx_bytes),
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model_type": f"{type(classifier).__name__} in a scikit-learn Pipeline",
        "candidate": chosen.name,
        "feature_names": list(FEATURE_NAMES),
        "feature_schema_hash": feature_schema_hash(),
        "threshold": chosen.threshold,
        "threshold_policy": policy.describe(),
        "baseline": {n: float(legit[n].median()) for n in FEATURE_NAMES},
        HISTOGRAMS_KEY: training_histograms(train_rows, FEATURE_NAMES),
        "training_window": {
            "protocol": protocol.describe(),
            "train": _window(train_rows),
            "validation_from": str(protocol.validation_start.date()),
            "test_from": str(protocol.test_start.date()),
            "test_to": str((protocol.end - pd.Timedelta(days=1)).date()),
        },
        "metrics": {
            "test": chosen.test,
            "validation_average_precision": chosen.validation_average_precision,
            "candidates": {
                r.name: {**r.test, "validation_average_precision": r.validation_average_precision}
                for r in results
            },
            "onnx_max_abs_difference": parity,
        },
        "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
    }


def _window(frame: pd.DataFrame) -> dict[str, str]:
    return {"from": str(frame["event_time"].min()), "to": str(frame["event_time"].max())}


def _version(onnx_bytes: bytes) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"m-{stamp}-{hashlib.sha256(onnx_bytes).hexdigest()[:7]}"


def _single_file(directory: Path) -> Path:
    files = sorted(
        p for p in directory.iterdir() if p.suffix in (".parquet", ".jsonl", ".json", ".csv")
    )
    if len(files) != 1:
        raise TrainingDataError(
            f"the train channel {directory} must hold one data file, has {files}"
        )
    return files[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transactions", type=Path, nargs="?", help="default: $SM_CHANNEL_TRAIN")
    parser.add_argument("out", type=Path, nargs="?", help="default: $SM_MODEL_DIR")
    parser.add_argument("--model", default="best", help=f"best or one of {', '.join(CANDIDATES)}")
    parser.add_argument("--target-precision", "--target_precision", type=float, default=0.8)
    parser.add_argument("--alerts-per-day", "--alerts_per_day", type=float, default=None)
    parser.add_argument("--train-days", "--train_days", type=int)
    parser.add_argument("--validation-days", "--validation_days", type=int)
    parser.add_argument("--gap-days", "--gap_days", type=int)
    parser.add_argument("--test-days", "--test_days", type=int)
    parser.add_argument("--seed", type=int, default=7)
    archive_reader.add_arguments(parser)
    args = parser.parse_args(argv)
    channel, model_dir = os.environ.get("SM_CHANNEL_TRAIN"), os.environ.get("SM_MODEL_DIR")
    archive = archive_reader.from_arguments(parser, args)
    if archive is not None:  # with --archive the one path given is OUT
        if args.out is not None:
            parser.error("with --archive give only OUT (the archive replaces TRANSACTIONS)")
        args.out, args.transactions = args.transactions, None
    transactions: Path | pd.DataFrame | None = args.transactions
    if transactions is None and channel:
        try:
            transactions = _single_file(Path(channel))
        except TrainingDataError as error:
            parser.error(str(error))
    out = args.out or (Path(model_dir) if model_dir else None)
    if archive is not None and out is not None:
        from model_export.feature_table import archive_features  # Flink: not in SageMaker

        try:
            transactions = archive_features(archive)
        except archive_reader.ArchiveError as error:
            parser.error(str(error))
    if transactions is None or out is None:
        parser.error(
            "give TRANSACTIONS and OUT, or run where SM_CHANNEL_TRAIN/SM_MODEL_DIR are set"
        )
    try:
        manifest = train(
            transactions,
            out,
            args.target_precision,
            args.seed,
            model=args.model,
            alerts_per_day=args.alerts_per_day,
            protocol_args={
                "train_days": args.train_days,
                "validation_days": args.validation_days,
                "gap_days": args.gap_days,
                "test_days": args.test_days,
            },
            tarball=model_dir is None or out != Path(model_dir),  # SageMaker packs its own
        )
    except TrainingDataError as error:
        raise SystemExit(str(error)) from None
    test = manifest["metrics"]["test"]
    print(
        f"model {manifest['version']} ({manifest['candidate']}): threshold "
        f"{manifest['threshold']:.3f}, test AP {test.get('average_precision', float('nan')):.3f}, "
        f"precision {test['precision']:.3f}, recall {test['recall']:.3f}, "
        f"ONNX parity {manifest['metrics']['onnx_max_abs_difference']:.1e} → {out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
