"""The behavioural features: defined once, run by the streaming job and the training path.

Semantics (documented in docs/features.md): features of a transaction at event
time t are computed from valid transactions with event time in the half-open window
(t - w, t], the current transaction included, at millisecond resolution. Streaming, a
transaction is scored on arrival with the transactions of its card and terminal that
arrived before it (a late arrival counts for the later ones; the earlier are not rescored);
batch (the training path) reads in event-time order and equal event times are peers that
see each other. For input in event-time order without equal milliseconds within a key the
two are the same.

Card and terminal aggregates each come from one Java aggregate function in the connector
jar (io.fraudstream.features.CardFeatures, TerminalFeatures) over the key's whole history,
UNBOUNDED PRECEDING: Flink keeps one compact accumulator per key, which evicts what
left the longest window (plus the out-of-order bound: OUT_OF_ORDER_PARAMETER).
Each returns a ROW that the next view spreads into columns, so the
last view holds one row per transaction with every aggregate. Features are expressions
over that last view.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

SECONDS_CAP = 30 * 24 * 3600  # "no previous transaction within 30 days"
SMALL_AMOUNT = 5.0  # card testing: payments below this amount
NIGHT_END_HOUR = 6  # night: 00:00 to 05:59 UTC
MIN_TRAVEL_SECONDS = 60  # implied speed uses at least one minute between payments
EARTH_RADIUS_KM = 6371.0
MIN_STDDEV = 0.01  # below this 30-day standard deviation the z-score is 0
NO_POSITION = -999.0  # stands for a missing lat/lon inside window aggregates


@dataclass(frozen=True)
class Window:
    name: str  # suffix used in feature names, e.g. "1h"
    millis: int


MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
W10M, W1H, W1D, W7D, W30D = (
    Window("10m", 10 * MINUTE),
    Window("1h", HOUR),
    Window("1d", DAY),
    Window("7d", 7 * DAY),
    Window("30d", 30 * DAY),
)
CARD_WINDOWS: tuple[Window, ...] = (W10M, W1H, W1D, W7D, W30D)
TERMINAL_COUNT_WINDOWS: tuple[Window, ...] = (W1D, W7D, W30D)


DEFAULT_LABEL_DELAY_MS = 7 * DAY  # labels count for a terminal's risk this long after
RISK_WINDOWS: tuple[Window, ...] = (W1D, W7D, W30D)


# The job parameter (pipeline.global-job-parameters) that tells the Java aggregates the
# out-of-order bound: keys keep their entries this much longer than their longest window.
OUT_OF_ORDER_PARAMETER = "features.max-out-of-orderness-ms"
ARRIVAL_COLUMN = "pt"  # streaming: the processing-time attribute the aggregates order by


def feature_job_parameters(max_out_of_orderness_ms: int) -> dict[str, str]:
    """The Flink settings the feature aggregates read (the environment sets them)."""
    return {"pipeline.global-job-parameters": f"{OUT_OF_ORDER_PARAMETER}:{max_out_of_orderness_ms}"}


@dataclass(frozen=True)
class KeyedAggregate:
    """A Java aggregate function over a key's whole history, returning a ROW whose fields
    the next view spreads into columns.

    Streaming: `f(args) OVER (PARTITION BY key ORDER BY pt ROWS BETWEEN UNBOUNDED PRECEDING
    AND CURRENT ROW)`, pt the arrival: Flink keeps the accumulator per key and emits each
    row as it arrives, never waiting for a watermark. Batch: ORDER BY the event time with
    RANGE, all peers of a millisecond accumulated before any is emitted. The function
    windows by event time itself, so both give the same features for in-order input."""

    name: str  # view name suffix; the ROW column is `{name}_agg`
    function: str  # SQL name, registered by flink_job.pipeline.register_java_functions
    java_class: str
    partition: str
    arguments: str
    columns: tuple[tuple[str, str], ...]  # (column, expression over the ROW `agg` and the row)

    def queries(self, source: str, aggregated: str, streaming: bool) -> tuple[str, str]:
        """The aggregate view over `source` (to be named `aggregated`) and the view
        spreading its ROW into columns."""
        order, frame = (ARRIVAL_COLUMN, "ROWS") if streaming else ("et_ms", "RANGE")
        over = (
            f"PARTITION BY {self.partition} ORDER BY {order} "
            f"{frame} BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
        )
        row = f"{self.name}_agg"
        call = f"{self.function}({self.arguments}) OVER ({over})"
        aggregate = f"SELECT *, {call} AS {row} FROM {source}"
        columns = ",\n  ".join(
            f"{expr.replace('agg.', f'v.{row}.')} AS {col}" for col, expr in self.columns
        )
        return aggregate, f"SELECT v.*,\n  {columns}\nFROM {aggregated} AS v"


def _card_columns() -> tuple[tuple[str, str], ...]:
    columns = [
        (f"card_{stat}_{w.name}", f"agg.{stat}_{w.name}")
        for w in CARD_WINDOWS
        for stat in ("n", "sum", "max")
    ]
    columns += [
        ("card_small_n_10m", "agg.small_n_10m"),
        ("card_sumsq_30d", "agg.sumsq_30d"),
        ("card_terminals_1d", "agg.terminals_1d"),
        # 2 when the card used this row's terminal at least twice in 30 days (this one
        # included), else 1: the aggregate returns the hashes of the terminals used twice.
        (
            "card_terminal_n_30d",
            "CASE WHEN ARRAY_CONTAINS(agg.repeat_terminals_30d, key_hash(terminal_id)) "
            "THEN 2 ELSE 1 END",
        ),
        ("card_prev_n", "agg.prev_n"),
        ("card_prev_et", "agg.prev_et"),
        ("card_prev_lat", "agg.prev_lat"),
        ("card_prev_lon", "agg.prev_lon"),
    ]
    return tuple(columns)


# Windows, the small amount and the 30-day eviction are constants of the Java class; its
# ROW fields are named after CARD_WINDOWS (tests/test_card_aggregate.py pins its rules).
CARD_AGGREGATE = KeyedAggregate(
    name="card",
    function="card_features",
    java_class="io.fraudstream.features.CardFeatures",
    partition="card_id",
    arguments="et, amount, terminal_id, lat, lon",
    columns=_card_columns(),
)


def _terminal_columns() -> tuple[tuple[str, str], ...]:
    columns = [("terminal_n_1h", "agg.n_1h"), ("terminal_cards_1h", "agg.cards_1h")]
    columns += [
        (f"terminal_{stat}_{w.name}", f"agg.{stat}_{w.name}")
        for w in TERMINAL_COUNT_WINDOWS
        for stat in ("n", "fraud", "risk_n")
    ]
    return tuple(columns)


def terminal_aggregate(label_delay_ms: int = DEFAULT_LABEL_DELAY_MS) -> KeyedAggregate:
    """The terminal stream's aggregate: transactions count 1 in `is_txn`; a fraud label,
    at its transaction's event time plus the delay, 1 in `is_fraud`. `risk_n_w` counts the
    transactions in (t - delay - w, t - delay], whose labels `fraud_w` counts at t."""
    return KeyedAggregate(
        name="terminal",
        function="terminal_features",
        java_class="io.fraudstream.features.TerminalFeatures",
        partition="terminal_id",
        arguments=f"et, is_txn, is_fraud, card_id, CAST({label_delay_ms} AS BIGINT)",
        columns=_terminal_columns(),
    )


JAVA_FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("key_hash", "io.fraudstream.features.KeyHash"),
    (CARD_AGGREGATE.function, CARD_AGGREGATE.java_class),
    ("terminal_features", terminal_aggregate().java_class),
)


@dataclass(frozen=True)
class Feature:
    name: str
    sql: str  # expression over the last feature view
    description: str


def _as_double(expr: str) -> str:
    return f"CAST({expr} AS DOUBLE)"


def _card_window_features(w: Window) -> tuple[Feature, ...]:
    n, total = f"card_n_{w.name}", f"card_sum_{w.name}"
    return (
        Feature(
            f"card_txn_count_{w.name}",
            _as_double(n),
            f"transactions of the card in the last {w.name}, this one included",
        ),
        Feature(
            f"card_sum_amount_{w.name}",
            total,
            f"total amount of the card's transactions in the last {w.name}",
        ),
        Feature(
            f"card_avg_amount_{w.name}",
            f"{total} / {n}",
            f"average amount of the card's transactions in the last {w.name}",
        ),
        Feature(
            f"card_max_amount_{w.name}",
            f"card_max_{w.name}",
            f"largest amount of the card's transactions in the last {w.name}",
        ),
    )


_SECS_SINCE_PREV = "CAST(TIMESTAMPDIFF(SECOND, card_prev_et, et) AS DOUBLE)"
_HAS_PREV_POSITION = (
    "card_prev_n = 2 AND lat IS NOT NULL AND lon IS NOT NULL "
    f"AND card_prev_lat > {NO_POSITION} AND card_prev_lon > {NO_POSITION}"
)
_HAVERSINE = (
    f"2 * {EARTH_RADIUS_KM} * ASIN(SQRT("
    "POWER(SIN(RADIANS(lat - card_prev_lat) / 2), 2) + "
    "COS(RADIANS(card_prev_lat)) * COS(RADIANS(lat)) * "
    "POWER(SIN(RADIANS(lon - card_prev_lon) / 2), 2)))"
)
_DISTANCE = f"CASE WHEN {_HAS_PREV_POSITION} THEN {_HAVERSINE} ELSE 0.0 END"
_MEAN_30D = "(card_sum_30d / card_n_30d)"
_STDDEV_30D = f"SQRT(GREATEST(card_sumsq_30d / card_n_30d - {_MEAN_30D} * {_MEAN_30D}, 0.0))"

FEATURES: tuple[Feature, ...] = (
    Feature("amount", "amount", "the transaction's amount"),
    *(f for w in CARD_WINDOWS for f in _card_window_features(w)),
    Feature(
        "card_distinct_terminals_1d",
        _as_double("card_terminals_1d"),
        "distinct terminals the card used in the last 1d, this one included",
    ),
    Feature(
        "card_secs_since_prev",
        f"CASE WHEN card_prev_n = 2 THEN LEAST({_SECS_SINCE_PREV}, {SECONDS_CAP}.0) "
        f"ELSE {SECONDS_CAP}.0 END",
        "whole seconds since the card's previous transaction (capped at 30 days)",
    ),
    Feature(
        "amount_over_card_avg_30d",
        f"CASE WHEN {_MEAN_30D} > 0 THEN amount / {_MEAN_30D} ELSE 1.0 END",
        "the amount divided by the card's 30-day average amount (1 when that average is 0: "
        "only zero-amount verifications, this one included)",
    ),
    Feature(
        "card_amount_zscore_30d",
        f"CASE WHEN {_STDDEV_30D} > {MIN_STDDEV} "
        f"THEN (amount - {_MEAN_30D}) / {_STDDEV_30D} ELSE 0.0 END",
        "the amount's z-score against the card's 30-day amounts (population std; 0 if flat)",
    ),
    Feature(
        "card_terminal_seen_30d",
        "CASE WHEN card_terminal_n_30d > 1 THEN 1.0 ELSE 0.0 END",
        "1 when the card used this terminal before in the last 30d",
    ),
    Feature(
        "is_night",
        f"CASE WHEN HOUR(et) < {NIGHT_END_HOUR} THEN 1.0 ELSE 0.0 END",
        "1 between 00:00 and 05:59 UTC",
    ),
    Feature(
        "is_weekend",
        "CASE WHEN DAYOFWEEK(et) IN (1, 7) THEN 1.0 ELSE 0.0 END",
        "1 on Saturday and Sunday (UTC)",
    ),
    Feature(
        "card_km_from_prev",
        _DISTANCE,
        "great-circle km from the card's previous transaction (0 without both positions)",
    ),
    Feature(
        "card_kmh_from_prev",
        f"CASE WHEN {_HAS_PREV_POSITION} THEN {_HAVERSINE} * 3600.0 / "
        f"GREATEST({_SECS_SINCE_PREV}, {MIN_TRAVEL_SECONDS}.0) ELSE 0.0 END",
        "implied km/h from the card's previous transaction (at least 1 minute apart)",
    ),
    Feature(
        "card_small_txn_count_10m",
        _as_double("card_small_n_10m"),
        f"transactions of the card below {SMALL_AMOUNT} in the last 10m (card testing)",
    ),
    *(
        Feature(
            f"terminal_txn_count_{w.name}",
            _as_double(f"terminal_n_{w.name}"),
            f"transactions at the terminal in the last {w.name}, this one included",
        )
        for w in TERMINAL_COUNT_WINDOWS
    ),
    *(
        Feature(
            f"terminal_fraud_risk_{w.name}",
            f"CASE WHEN terminal_risk_n_{w.name} > 0 "
            f"THEN LEAST(CAST(terminal_fraud_{w.name} AS DOUBLE) / "
            f"terminal_risk_n_{w.name}, 1.0) ELSE 0.0 END",
            f"fraud labels / transactions at the terminal in the {w.name} ending the label "
            "delay before this transaction (0 when there were none)",
        )
        for w in RISK_WINDOWS
    ),
    Feature(
        "terminal_distinct_cards_1h",
        _as_double("terminal_cards_1h"),
        "distinct cards at the terminal in the last 1h, this one included",
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


def feature_schema_hash() -> str:
    """Hash of the ordered feature names, their definitions and the windows; models carry it."""
    spec: list[object] = [[f.name, f.sql] for f in FEATURES]
    spec += [
        [a.name, a.java_class, a.partition, a.arguments, a.columns]
        for a in (terminal_aggregate(), CARD_AGGREGATE)
    ]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()


def feature_views(
    source: str, prefix: str, streaming: bool, label_delay_ms: int = DEFAULT_LABEL_DELAY_MS
) -> list[tuple[str, str]]:
    """(view name, query) pairs computing every aggregate on top of `source`.

    `source` must have the transaction columns, `is_txn` and `is_fraud` (1 or 0: label
    rows are not transactions) and `et`; streaming also the arrival `pt`, batch `et_ms`,
    the event time in epoch milliseconds. The card aggregate runs first, straight after
    the source: a card's records come from one Kinesis shard, in order, and no exchange
    before it can reorder them (label rows pass through it; it ignores rows without an
    amount). The terminal aggregate then sees transactions and labels. The Java functions
    (JAVA_FUNCTIONS) must be registered.
    The last view holds the transactions' columns plus every aggregate the features read.
    """
    views = _aggregate_views(CARD_AGGREGATE, source, prefix, streaming)
    views += _aggregate_views(
        terminal_aggregate(label_delay_ms), f"{prefix}_card", prefix, streaming
    )
    transactions = f"{prefix}_transactions"
    views.append((transactions, f"SELECT * FROM {prefix}_terminal WHERE is_txn = 1"))
    return views


def _aggregate_views(
    aggregate: KeyedAggregate, source: str, prefix: str, streaming: bool
) -> list[tuple[str, str]]:
    aggregated, spread = f"{prefix}_{aggregate.name}_agg", f"{prefix}_{aggregate.name}"
    queries = aggregate.queries(source, aggregated, streaming)
    return [(aggregated, queries[0]), (spread, queries[1])]


# Features that are transaction columns as they are; the feature views do not repeat them.
RAW_FEATURES = frozenset({"amount"})


def _derived(f: Feature) -> bool:
    return f.name not in RAW_FEATURES


def feature_columns_sql() -> str:
    """`expr AS name` for every derived feature, over the last feature view."""
    return ",\n  ".join(f"{f.sql} AS {f.name}" for f in FEATURES if _derived(f))
