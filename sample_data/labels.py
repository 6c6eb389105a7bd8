"""Label v1 records (delayed chargebacks) derived from simulated transactions.

python -m sample_data.labels --transactions sample_transactions.jsonl --out labels.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.label import LABEL_V1
from sample_data.batch import MS_PER_DAY
from sample_data.formats import FORMATS, read_frame, to_jsonl
from sample_data.records import rfc3339_utc

#: Label v1 field order (contracts/label.py): a chargeback carries the required fields only.
LABEL_COLUMNS: tuple[str, ...] = LABEL_V1.required_names()
CHARGEBACK = "chargeback"
MIN_DELAY_DAYS = 1
MAX_DELAY_DAYS = 30


def derive_labels(
    transactions: pd.DataFrame,
    *,
    seed: int,
    fraud_only: bool = False,
    min_delay_days: int = MIN_DELAY_DAYS,
    max_delay_days: int = MAX_DELAY_DAYS,
) -> pd.DataFrame:
    """One Label v1 record per transaction (or per fraud), reported a random 1-30 days later.

    ``transactions`` needs transaction_id, card_id, terminal_id, event_time and label (0/1).
    Records are in the order they would be reported (reported_at, then transaction_id).
    """
    if not 0 <= min_delay_days <= max_delay_days:
        raise ValueError("delays need 0 <= min_delay_days <= max_delay_days")
    rows = transactions[transactions["label"] == 1] if fraud_only else transactions
    rng = np.random.default_rng(seed)
    delay_ms = rng.integers(
        min_delay_days * MS_PER_DAY, max_delay_days * MS_PER_DAY, size=len(rows), endpoint=True
    )
    reported_ms = _epoch_ms(rows["event_time"]) + delay_ms
    labels = pd.DataFrame(
        {
            "transaction_id": rows["transaction_id"].to_numpy(dtype=object),
            "card_id": rows["card_id"].to_numpy(dtype=object),
            "terminal_id": rows["terminal_id"].to_numpy(dtype=object),
            "event_time": rows["event_time"].to_numpy(dtype=object),
            "label": np.where(rows["label"].to_numpy() == 1, "fraud", "legit").astype(object),
            "source": CHARGEBACK,
            "reported_at": rfc3339_utc(reported_ms),
            "_reported_ms": reported_ms,
        }
    )
    labels = labels.sort_values(["_reported_ms", "transaction_id"], kind="stable")
    return labels.drop(columns="_reported_ms").reset_index(drop=True)


def write_labels_jsonl(labels: pd.DataFrame, path: Path) -> None:
    """Label v1 records as JSON lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_jsonl(labels[list(LABEL_COLUMNS)]), encoding="utf-8")


def _epoch_ms(event_time: pd.Series[str]) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    parsed = pd.to_datetime(event_time, utc=True, format="ISO8601")
    return np.asarray(
        (parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1), dtype=np.int64
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sample_data.labels",
        description=(
            "Derive Label v1 records (source 'chargeback', reported 1-30 days after the "
            "transaction, seeded) from simulated transactions and write them as JSON lines."
        ),
    )
    parser.add_argument(
        "--transactions", type=Path, required=True, help="simulated transactions file"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="format of --transactions (default: extension)",
    )
    parser.add_argument("--out", type=Path, required=True, help="labels output (.jsonl)")
    parser.add_argument(
        "--seed", type=int, default=7, help="random seed for the reporting delays (default: 7)"
    )
    parser.add_argument(
        "--fraud-only", action="store_true", help="only label fraud (default: every transaction)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    transactions = read_frame(args.transactions, args.format)
    labels = derive_labels(transactions, seed=args.seed, fraud_only=args.fraud_only)
    write_labels_jsonl(labels, args.out)
    frauds = int((labels["label"] == "fraud").sum())
    print(f"{args.out}: {len(labels):,} labels ({frauds:,} fraud)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
