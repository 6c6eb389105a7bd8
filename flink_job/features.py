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
jar (io.fraudstream.features.card.CardFeatures, TerminalFeatures) over the key's whole history,
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

from contracts.features import DAY, DEFAULT_LAYOUT, FeatureLayout, Window

SECONDS_CAP = 30 * 24 * 3600  # "no previous transaction within 30 days"
NIGHT_END_HOUR = 6  # night: 00:00 to 05:59 UTC
MIN_TRAVEL_SECONDS = 60  # implied speed uses at least one minute between payments
EARTH_RADIUS_KM = 6371.0
MIN_STDDEV = 0.01  # below this 30-day standard deviation the z-score is 0
NO_POSITION = -999.0  # stands for a missing lat/lon inside window aggregates

DEFAULT_LABEL_DELAY_MS = 7 * DAY  # labels count for a terminal's risk this long after


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
    java_spec: str  # the Java constructor's argument: the layout's fields (contracts/features.py)
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


def _card_columns(layout: FeatureLayout) -> tuple[tuple[str, str], ...]:
    columns = []
    for f in layout.card_fields():
        if f.stat == "repeat_terminals":
            # 2 when the card used this row's terminal at least twice in the window (this one
            # included), else 1: the aggregate returns the hashes of the terminals used twice.
            column = f"card_terminal_n_{layout.card_profile_window.name}"
            expr = (
                f"CASE WHEN ARRAY_CONTAINS(agg.{f.name}, key_hash(terminal_id)) THEN 2 ELSE 1 END"
            )
            columns.append((column, expr))
        else:
            columns.append((f"card_{f.name}", f"agg.{f.name}"))
    return tuple(columns)


CARD_FUNCTION, TERMINAL_FUNCTION = "card_features", "terminal_features"


def card_aggregate(layout: FeatureLayout = DEFAULT_LAYOUT) -> KeyedAggregate:
    """The card stream's aggregate, its windows and ROW fields from `layout`."""
    return KeyedAggregate(
        name="card",
        function=CARD_FUNCTION,
        java_class="io.fraudstream.features.card.CardFeatures",
        java_spec=layout.card_spec(),
        partition="card_id",
        arguments="et, amount, terminal_id, lat, lon",
        columns=_card_columns(layout),
    )


def _terminal_columns(layout: FeatureLayout) -> tuple[tuple[str, str], ...]:
    return tuple((f"terminal_{f.name}", f"agg.{f.name}") for f in layout.terminal_fields())


def terminal_aggregate(
    label_delay_ms: int = DEFAULT_LABEL_DELAY_MS, layout: FeatureLayout = DEFAULT_LAYOUT
) -> KeyedAggregate:
    """The terminal stream's aggregate: transactions count 1 in `is_txn`; a label, at its
    transaction's event time plus the delay, 1 in `is_fraud` for fraud (0 for legit), with
    `reported_ms`. `risk_n_w` counts the transactions in (t - delay - w, t - delay], and
    `fraud_w` those whose label in force (the one reported last) is fraud at t."""
    return KeyedAggregate(
        name="terminal",
        function=TERMINAL_FUNCTION,
        java_class="io.fraudstream.features.terminal.TerminalFeatures",
        java_spec=layout.terminal_spec(),
        partition="terminal_id",
        arguments=f"et, is_txn, is_fraud, card_id, CAST({label_delay_ms} AS BIGINT), reported_ms",
        columns=_terminal_columns(layout),
    )


# Java functions registered by class; the aggregates are registered as instances built with
# their layout (KeyedAggregate.java_spec; flink_job.pipeline.register_java_functions).
JAVA_FUNCTIONS: tuple[tuple[str, str], ...] = (("key_hash", "io.fraudstream.features.KeyHash"),)


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


def _card_profile_features(profile: Window) -> tuple[Feature, ...]:
    """The amount against the card's own profile window (30 days by default)."""
    p = profile.name
    mean = f"(card_sum_{p} / card_n_{p})"
    stddev = f"SQRT(GREATEST(card_sumsq_{p} / card_n_{p} - {mean} * {mean}, 0.0))"
    return (
        Feature(
            f"amount_over_card_avg_{p}",
            f"CASE WHEN {mean} > 0 THEN amount / {mean} ELSE 1.0 END",
            f"the amount divided by the card's {p} average amount (1 when that average is 0: "
            "only zero-amount verifications, this one included)",
        ),
        Feature(
            f"card_amount_zscore_{p}",
            f"CASE WHEN {stddev} > {MIN_STDDEV} THEN (amount - {mean}) / {stddev} ELSE 0.0 END",
            f"the amount's z-score against the card's {p} amounts (population std; 0 if flat)",
        ),
        Feature(
            f"card_terminal_seen_{p}",
            f"CASE WHEN card_terminal_n_{p} > 1 THEN 1.0 ELSE 0.0 END",
            f"1 when the card used this terminal before in the last {p}",
        ),
    )


def _calendar_and_travel_features() -> tuple[Feature, ...]:
    return (
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
    )


def _terminal_features(layout: FeatureLayout) -> tuple[Feature, ...]:
    windows, recent = layout.terminal_count_windows, layout.terminal_recent_window.name
    counts = tuple(
        Feature(
            f"terminal_txn_count_{w.name}",
            _as_double(f"terminal_n_{w.name}"),
            f"transactions at the terminal in the last {w.name}, this one included",
        )
        for w in windows
    )
    risks = tuple(
        Feature(
            f"terminal_fraud_risk_{w.name}",
            f"CASE WHEN terminal_risk_n_{w.name} > 0 "
            f"THEN LEAST(CAST(terminal_fraud_{w.name} AS DOUBLE) / "
            f"terminal_risk_n_{w.name}, 1.0) ELSE 0.0 END",
            f"fraud labels / transactions at the terminal in the {w.name} ending the label "
            "delay before this transaction (0 when there were none)",
        )
        for w in windows
    )
    cards = Feature(
        f"terminal_distinct_cards_{recent}",
        _as_double(f"terminal_cards_{recent}"),
        f"distinct cards at the terminal in the last {recent}, this one included",
    )
    return (*counts, *risks, cards)


def features(layout: FeatureLayout = DEFAULT_LAYOUT) -> tuple[Feature, ...]:
    """Every feature the model reads, in order, over the aggregates of `layout`."""
    distinct, small = layout.card_distinct_terminals_window, layout.card_small_window
    profile = _card_profile_features(layout.card_profile_window)
    return (
        Feature("amount", "amount", "the transaction's amount"),
        *(f for w in layout.card_windows for f in _card_window_features(w)),
        Feature(
            f"card_distinct_terminals_{distinct.name}",
            _as_double(f"card_terminals_{distinct.name}"),
            f"distinct terminals the card used in the last {distinct.name}, this one included",
        ),
        Feature(
            "card_secs_since_prev",
            f"CASE WHEN card_prev_n = 2 THEN LEAST({_SECS_SINCE_PREV}, {SECONDS_CAP}.0) "
            f"ELSE {SECONDS_CAP}.0 END",
            "whole seconds since the card's previous transaction (capped at 30 days)",
        ),
        *profile,
        *_calendar_and_travel_features(),
        Feature(
            f"card_small_txn_count_{small.name}",
            _as_double(f"card_small_n_{small.name}"),
            f"transactions of the card below {layout.small_amount} in the last {small.name} "
            "(card testing)",
        ),
        *_terminal_features(layout),
    )


FEATURES: tuple[Feature, ...] = features()

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


# The Java aggregates' semantics: bump when a change to their code (beyond the layout they are
# given) can change any feature's value; models carry it through the schema hash, so a model
# trained on the old semantics is refused. tests/test_feature_layout.py pins the Java sources
# to this number and fails on a change until it is bumped or the pin updated.
ENGINE_REVISION = 2  # 2: a legit label reported after a fraud takes it back


def feature_schema_hash(layout: FeatureLayout = DEFAULT_LAYOUT) -> str:
    """Hash of everything both engines compute the features by: the ordered features and
    their SQL, each aggregate's Java class (by its name: the package it lives in computes
    nothing), layout, key, arguments and columns, and the Java engine's revision. Models
    carry it; the job refuses a model with another."""
    spec: list[object] = [[f.name, f.sql] for f in features(layout)]
    spec += [
        [a.name, a.java_class.rsplit(".", 1)[-1], a.java_spec, a.partition, a.arguments, a.columns]
        for a in (terminal_aggregate(layout=layout), card_aggregate(layout))
    ]
    spec.append(["engine", ENGINE_REVISION])
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()


def feature_views(
    source: str,
    prefix: str,
    streaming: bool,
    label_delay_ms: int = DEFAULT_LABEL_DELAY_MS,
    layout: FeatureLayout = DEFAULT_LAYOUT,
) -> list[tuple[str, str]]:
    """(view name, query) pairs computing every aggregate on top of `source`.

    `source` must have the transaction columns, `is_txn` and `is_fraud` (1 or 0: label
    rows are not transactions) and `et`; streaming also the arrival `pt`, batch `et_ms`,
    the event time in epoch milliseconds. The card aggregate runs first, straight after
    the source: a card's records come from one Kinesis shard, in order, and no exchange
    before it can reorder them (label rows pass through it; it ignores rows without an
    amount). The terminal aggregate then sees transactions and labels. The Java functions
    (JAVA_FUNCTIONS and the aggregates of the same layout) must be registered.
    The last view holds the transactions' columns plus every aggregate the features read.
    """
    views = _aggregate_views(card_aggregate(layout), source, prefix, streaming)
    views += _aggregate_views(
        terminal_aggregate(label_delay_ms, layout), f"{prefix}_card", prefix, streaming
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


def feature_columns_sql(layout: FeatureLayout = DEFAULT_LAYOUT) -> str:
    """`expr AS name` for every derived feature, over the last feature view."""
    return ",\n  ".join(f"{f.sql} AS {f.name}" for f in features(layout) if _derived(f))
