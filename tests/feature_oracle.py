"""An independent, plain pandas implementation of the job's features: the tests' oracle.

It shares no code with flink_job.features: window widths are written out again here."""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOWS_MS = {"1h": 3_600_000, "1d": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}
CAP_S = 30 * 24 * 3600.0


def oracle_features(transactions: pd.DataFrame) -> pd.DataFrame:
    """Features per transaction from (transaction_id, card_id, event_time, amount)."""
    frame = transactions[["transaction_id", "card_id", "event_time", "amount"]].copy()
    frame["ms"] = pd.to_datetime(frame["event_time"], utc=True).astype("int64") // 1_000_000
    rows = []
    for _, card in frame.groupby("card_id", sort=False):
        card = card.sort_values(["ms", "transaction_id"], kind="stable")
        ms = card["ms"].to_numpy()
        amounts = card["amount"].to_numpy(dtype=float)
        for i, (tx, t, amount) in enumerate(zip(card["transaction_id"], ms, amounts, strict=True)):
            row: dict[str, object] = {"transaction_id": tx, "amount": amount}
            upper = np.searchsorted(ms, t, side="right")  # ties with t are included
            for name, width in WINDOWS_MS.items():
                lower = np.searchsorted(ms, t - width, side="right")  # t - w excluded
                window = amounts[lower:upper]
                row[f"card_txn_count_{name}"] = float(len(window))
                row[f"card_avg_amount_{name}"] = float(window.mean())
            row["card_secs_since_prev"] = (
                min(float((t - ms[i - 1]) // 1000), CAP_S) if i > 0 else CAP_S
            )
            row["amount_over_card_avg_30d"] = amount / row["card_avg_amount_30d"]  # type: ignore[operator]
            rows.append(row)
    return pd.DataFrame(rows)
