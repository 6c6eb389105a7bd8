"""An independent, plain pandas implementation of the job's features: the tests' oracle.

It shares no code with flink_job.features: its rules are written out again here, as loops
over each transaction's history (slow and obvious on purpose). Only the layout (the windows,
their names and the small amount) comes from the one place both read: contracts/features.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from contracts.features import DEFAULT_LAYOUT, FeatureLayout

CAP_S = 30 * 24 * 3600.0


def _window(ms: np.ndarray, t: int, width: int) -> slice:
    """Rows with event time in (t - width, t] of a sorted time array; ties with t included."""
    return slice(np.searchsorted(ms, t - width, side="right"), np.searchsorted(ms, t, side="right"))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _card_features(card: pd.DataFrame, layout: FeatureLayout) -> list[dict[str, object]]:
    card = card.sort_values(["ms", "transaction_id"], kind="stable")
    ms = card["ms"].to_numpy()
    amounts = card["amount"].to_numpy(dtype=float)
    terminals = card["terminal_id"].to_numpy()
    lats, lons = card["lat"].to_numpy(dtype=float), card["lon"].to_numpy(dtype=float)
    rows = []
    for i in range(len(card)):
        t, amount = int(ms[i]), float(amounts[i])
        row: dict[str, object] = {"transaction_id": card["transaction_id"].iloc[i]}
        for w in layout.card_windows:
            name, window = w.name, amounts[_window(ms, t, w.millis)]
            row[f"card_txn_count_{name}"] = float(len(window))
            row[f"card_sum_amount_{name}"] = float(window.sum())
            row[f"card_avg_amount_{name}"] = float(window.mean())
            row[f"card_max_amount_{name}"] = float(window.max())
        distinct = layout.card_distinct_terminals_window
        used = terminals[_window(ms, t, distinct.millis)]
        row[f"card_distinct_terminals_{distinct.name}"] = float(len(set(used)))
        # previous: the last transaction with an earlier event time (peers share it)
        p = int(np.searchsorted(ms, t, side="left")) - 1
        secs = float((t - ms[p]) // 1000) if p >= 0 else CAP_S
        row["card_secs_since_prev"] = min(secs, CAP_S)
        profile = layout.card_profile_window
        month = amounts[_window(ms, t, profile.millis)]
        mean = float(month.mean())
        row[f"amount_over_card_avg_{profile.name}"] = amount / mean if mean > 0 else 1.0
        std = float(month.std())  # population standard deviation
        zscore = (amount - month.mean()) / std if std > 0.01 else 0.0
        row[f"card_amount_zscore_{profile.name}"] = zscore
        same = terminals[_window(ms, t, profile.millis)] == terminals[i]
        row[f"card_terminal_seen_{profile.name}"] = 1.0 if same.sum() > 1 else 0.0
        at = pd.Timestamp(t, unit="ms", tz="UTC")
        row["is_night"] = 1.0 if at.hour < 6 else 0.0
        row["is_weekend"] = 1.0 if at.dayofweek >= 5 else 0.0
        positions = [lats[i], lons[i]] + ([lats[p], lons[p]] if p >= 0 else [])
        if p >= 0 and not np.isnan(positions).any():
            km = _km(lats[p], lons[p], lats[i], lons[i])
            row["card_km_from_prev"] = km
            row["card_kmh_from_prev"] = km * 3600.0 / max(secs, 60.0)
        else:
            row["card_km_from_prev"] = row["card_kmh_from_prev"] = 0.0
        few = layout.card_small_window
        small = amounts[_window(ms, t, few.millis)] < layout.small_amount
        row[f"card_small_txn_count_{few.name}"] = float(small.sum())
        rows.append(row)
    return rows


DELAY_MS = 7 * 86_400_000


def _terminal_features(
    terminal: pd.DataFrame, frauds_ms: np.ndarray, delay_ms: int, layout: FeatureLayout
) -> list[dict[str, object]]:
    """`frauds_ms`: sorted event times of the terminal's fraud labels known in time."""
    terminal = terminal.sort_values(["ms", "transaction_id"], kind="stable")
    ms = terminal["ms"].to_numpy()
    cards = terminal["card_id"].to_numpy()
    rows = []
    for i in range(len(terminal)):
        t = int(ms[i])
        row: dict[str, object] = {"transaction_id": terminal["transaction_id"].iloc[i]}
        for w in layout.terminal_count_windows:
            window = _window(ms, t, w.millis)
            row[f"terminal_txn_count_{w.name}"] = float(window.stop - window.start)
        for w in layout.terminal_count_windows:  # frauds / transactions in (t - d - w, t - d]
            txns = _window(ms, t - delay_ms, w.millis)
            frauds = _window(frauds_ms, t - delay_ms, w.millis)
            n, f = txns.stop - txns.start, frauds.stop - frauds.start
            row[f"terminal_fraud_risk_{w.name}"] = min(f / n, 1.0) if n else 0.0
        recent = layout.terminal_recent_window
        seen = cards[_window(ms, t, recent.millis)]
        row[f"terminal_distinct_cards_{recent.name}"] = float(len(set(seen)))
        rows.append(row)
    return rows


def _ms(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).astype("int64") // 1_000_000


def oracle_features(
    transactions: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    delay_ms: int = DELAY_MS,
    layout: FeatureLayout = DEFAULT_LAYOUT,
) -> pd.DataFrame:
    """Features per transaction from Transaction v1 rows (lat/lon optional) and Label v1
    rows. A transaction (terminal, card, event time among `transactions`) counts as a fraud
    when, of its labels reported by its time + delay, the one reported last (a fraud on a
    tie) says fraud."""
    usable: dict[str, np.ndarray] = {}
    if labels is not None:
        s, reported = _ms(labels["event_time"]), _ms(labels["reported_at"])
        known_in_time = labels[reported <= s + delay_ms].assign(
            ms=s, reported_ms=reported, fraud=labels["label"] == "fraud"
        )
        # only labels of transactions there were; of each transaction's labels, the one
        # reported last is in force (a fraud wins a tie): count it if it says fraud
        known = transactions.assign(ms=_ms(transactions["event_time"]))
        keys = ["terminal_id", "card_id", "ms"]
        in_force = (
            known_in_time.merge(known[keys].drop_duplicates(), on=keys)
            .sort_values(["reported_ms", "fraud"], kind="stable")
            .drop_duplicates(keys, keep="last")
        )
        frauds = in_force[in_force["fraud"]]
        for terminal_id, group in frauds.groupby("terminal_id"):
            usable[str(terminal_id)] = np.sort(group["ms"].to_numpy())
    frame = transactions.copy()
    for column in ("lat", "lon"):
        if column not in frame.columns:
            frame[column] = np.nan
    frame["ms"] = _ms(frame["event_time"])
    frame["amount"] = frame["amount"].astype(float)
    card_rows = [r for _, card in frame.groupby("card_id") for r in _card_features(card, layout)]
    none = np.array([], dtype=np.int64)
    terminal_rows = [
        r
        for terminal_id, t in frame.groupby("terminal_id")
        for r in _terminal_features(t, usable.get(str(terminal_id), none), delay_ms, layout)
    ]
    result = pd.DataFrame(card_rows).merge(pd.DataFrame(terminal_rows), on="transaction_id")
    result = result.merge(frame[["transaction_id", "amount"]], on="transaction_id")
    return result
