"""The behavioural features: defined once, run by the streaming job and the training path.

Semantics (documented in the README): features of a transaction at event time t are computed
from the card's valid transactions with event time in the half-open window (t - w, t],
the current transaction included. Flink's RANGE frame is closed, [t - x, t], so x is w
minus one millisecond, the resolution of event time. Transactions with equal event times
are peers and see each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

SECONDS_CAP = 30 * 24 * 3600  # "no previous transaction within 30 days"


@dataclass(frozen=True)
class Window:
    name: str  # suffix used in feature names, e.g. "1h"
    millis: int

    def over(self, streaming: bool) -> str:
        """Window spec covering (t - w, t] at millisecond resolution.

        Streaming orders by the event-time attribute `et` with an interval frame; batch
        orders by `et_ms` (epoch milliseconds) with the same width as a number, because
        Flink 1.20's batch planner cannot compile interval frames over timestamps.
        """
        if streaming:
            frame = f"ORDER BY et RANGE BETWEEN {interval_sql(self.millis - 1)} PRECEDING"
        else:
            frame = f"ORDER BY et_ms RANGE BETWEEN {self.millis - 1} PRECEDING"
        return f"PARTITION BY card_id {frame} AND CURRENT ROW"


def interval_sql(millis: int) -> str:
    """A SQL day-to-second interval literal of exactly `millis` milliseconds."""
    days, rem = divmod(millis, 86_400_000)
    hours, rem = divmod(rem, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    seconds, ms = divmod(rem, 1000)
    literal = f"{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"
    return f"INTERVAL '{literal}' DAY(3) TO SECOND(3)"


CARD_WINDOWS: tuple[Window, ...] = (
    Window("1h", 3_600_000),
    Window("1d", 86_400_000),
    Window("7d", 7 * 86_400_000),
    Window("30d", 30 * 86_400_000),
)


@dataclass(frozen=True)
class Feature:
    name: str
    sql: str  # expression over the final feature view
    description: str


def _card_window_features(w: Window) -> tuple[Feature, ...]:
    return (
        Feature(
            f"card_txn_count_{w.name}",
            f"CAST(card_txn_count_{w.name} AS DOUBLE)",
            f"transactions of the card in the last {w.name}, this one included",
        ),
        Feature(
            f"card_avg_amount_{w.name}",
            f"card_avg_amount_{w.name}",
            f"average amount of the card's transactions in the last {w.name}",
        ),
    )


FEATURES: tuple[Feature, ...] = (
    Feature("amount", "amount", "the transaction's amount"),
    *(f for w in CARD_WINDOWS for f in _card_window_features(w)),
    Feature(
        "card_secs_since_prev",
        f"CAST(LEAST(COALESCE(card_secs_since_prev, {SECONDS_CAP}), {SECONDS_CAP}) AS DOUBLE)",
        "seconds since the card's previous transaction (capped at 30 days)",
    ),
    Feature(
        "amount_over_card_avg_30d",
        "amount / card_avg_amount_30d",
        "the amount divided by the card's 30-day average amount",
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


def feature_schema_hash() -> str:
    """Hash of the ordered feature names and their definitions; models carry it."""
    spec = [[f.name, f.sql] for f in FEATURES] + [[w.name, w.millis] for w in CARD_WINDOWS]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()


def card_window_view(source: str, w: Window, streaming: bool) -> str:
    """One OVER window per SELECT (a streaming restriction): count and average for w."""
    return f"""
SELECT *,
  COUNT(*) OVER win AS card_txn_count_{w.name},
  AVG(amount) OVER win AS card_avg_amount_{w.name}
FROM {source}
WINDOW win AS ({w.over(streaming)})"""


def previous_transaction_view(source: str, streaming: bool) -> str:
    """Seconds since the card's previous transaction (NULL when this is the first)."""
    return f"""
SELECT *,
  CASE WHEN COUNT(*) OVER last_two = 2
       THEN CAST(TIMESTAMPDIFF(SECOND, MIN(et) OVER last_two, et) AS DOUBLE)
  END AS card_secs_since_prev
FROM {source}
WINDOW last_two AS (PARTITION BY card_id ORDER BY {"et" if streaming else "et_ms"}
  ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"""


def feature_views(source: str, prefix: str, streaming: bool) -> list[tuple[str, str]]:
    """(view name, query) pairs computing every feature on top of `source`.

    `source` must have `card_id`, `amount` and `et` (the event-time attribute); in batch
    mode also `et_ms`, the event time in epoch milliseconds.
    The last view holds the source columns plus one column per feature name.
    """
    views: list[tuple[str, str]] = []
    current = source
    for w in CARD_WINDOWS:
        name = f"{prefix}_card_{w.name}"
        views.append((name, card_window_view(current, w, streaming)))
        current = name
    name = f"{prefix}_card_prev"
    views.append((name, previous_transaction_view(current, streaming)))
    return views


# Features that are transaction columns as they are; the feature views do not repeat them.
RAW_FEATURES = frozenset({"amount"})


def _derived(f: Feature) -> bool:
    return f.name not in RAW_FEATURES


def feature_columns_sql() -> str:
    """`expr AS name` for every derived feature, over the last feature view."""
    return ",\n  ".join(f"{f.sql} AS {f.name}" for f in FEATURES if _derived(f))


def isolated_feature_columns_sql() -> str:
    """Features of a transaction seen alone: used for events later than the watermark."""
    values = {
        "amount": "amount",
        "card_secs_since_prev": f"CAST({SECONDS_CAP} AS DOUBLE)",
        "amount_over_card_avg_30d": "CAST(1.0 AS DOUBLE)",
    }
    for w in CARD_WINDOWS:
        values[f"card_txn_count_{w.name}"] = "CAST(1.0 AS DOUBLE)"
        values[f"card_avg_amount_{w.name}"] = "amount"
    return ",\n  ".join(f"{values[f.name]} AS {f.name}" for f in FEATURES if _derived(f))
