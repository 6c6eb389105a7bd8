"""A draft rule backtested over the decision log: one SQL query, built here from the rule's
checked tree (rules/sql.py), run by DuckDB locally (model_export.backtest) and by Athena over
the Glue tables of the decision log and the labels on AWS (AthenaEngine below: the same
text but for the two relations it reads). Nothing here imports duckdb or pandas, so the API
Lambda builds and sends the query.

    window = Window.parse("2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z")
    cutoff = as_of - label_delay
    sql = backtest_sql(rule, "alert", window, Tables("decision_copies", "labels_in_force"), cutoff)
    result = backtest_result(window, cutoff, rows)       # rows: the query's, one per day

What the figures mean (docs/rules.md, "Backtest a rule"):

- `decisions`: distinct decisions (by `decision_id`: a decision delivered twice counts once,
  its earliest `decided_at`) whose transaction's event time is in [from, to);
- `hits`: those the rule matches (the expression is true);
- `model_alert_overlap`: hits the model alerted (score ≥ the threshold it was served with);
- `alerts_added`: hits of an `alert` rule the model did not alert;
- `alerts_suppressed`: hits of a `suppress` rule the model alerted (a `tag` rule adds and
  suppresses nothing);
- `labelled_hits`, `precision`, `recall`: over the decisions whose label has matured (event
  time ≤ `labels_matured_before`, that is as-of minus the label delay, as model_export.compare
  does), a decision is fraud when its label in force is fraud (no label is legit), each
  decision weighted by its `sample_weight`; precision = fraud hits / hits, recall = fraud
  hits / frauds; null when the denominator is 0.

The SQL uses only functions DuckDB and Athena (Trino) both have, plus three Trino functions
the DuckDB engine defines as macros (DUCKDB_MACROS): `from_iso8601_timestamp`,
`regexp_like` and `is_nan` (NaN reads as null through `is_nan`, which both engines honour:
rules/sql.py's `trino_nan_guard`). A feature is read as `try(features['name'])` (null when
absent in both).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.decision import DECISION_V1
from contracts.rules import OUTCOMES
from contracts.transaction import TRANSACTION_V1
from rules.artefacts import SCORE
from rules.check import Rule
from rules.schema import Schema
from rules.sql import number, quote_identifier, quote_string, to_sql, trino_nan_guard

MAX_WINDOW = timedelta(days=31)
#: Entries of the named lists a backtest may inline in its SQL (Athena takes 256 KiB of text).
MAX_INLINE_LIST_ENTRIES = 2_000
#: Athena's limit on the text of a query.
MAX_QUERY_BYTES = 262_144
REGEX_FUNCTION = "regexp_like"  # Trino's; a DuckDB macro over regexp_matches
#: What the DuckDB engine defines so that it runs the text Athena runs.
DUCKDB_MACROS = (
    "CREATE OR REPLACE MACRO from_iso8601_timestamp(t) AS CAST(t AS TIMESTAMPTZ)",
    "CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)",
    "CREATE OR REPLACE MACRO is_nan(x) AS isnan(x)",
)
_LOGGED = {name for name, _ in DECISION_V1.hive_columns()}


class BacktestError(ValueError):
    """A backtest refused before it ran (bad window, a rule it cannot run); the message
    names the field."""


def backtest_schema(features: Iterable[str], lists: Iterable[str] = ()) -> Schema:
    """What a backtested rule may read: the job's schema (rules.artefacts.scoring_schema)
    restricted to what the decision log holds: Transaction v1's fields that Decision v1
    carries (not lat, lon, device_id), the features and `score`."""
    schema = Schema.build(TRANSACTION_V1, features, numbers=(SCORE,), lists=lists)
    return Schema(
        {
            n: f
            for n, f in schema.fields.items()
            if f.origin != TRANSACTION_V1.title or n in _LOGGED
        },
        schema.lists,
    )


def utc_text(moment: datetime) -> str:
    """An instant as RFC 3339 UTC with milliseconds, the way the log writes event times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_instant(text: str, name: str) -> datetime:
    """An RFC 3339 instant (an offset or Z is required); BacktestError naming `name`."""
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except (TypeError, ValueError):
        raise BacktestError(f"{name}: not an RFC 3339 instant (2026-10-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        raise BacktestError(f"{name}: an RFC 3339 instant needs an offset (Z or +01:00)")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """[start, end) of the transactions' event time, at most MAX_WINDOW long."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise BacktestError("from, to: instants with an offset")
        if self.end <= self.start:
            raise BacktestError("to: must be after from")
        if self.end - self.start > MAX_WINDOW:
            raise BacktestError(f"to: the window is at most {MAX_WINDOW.days} days after from")

    @classmethod
    def parse(cls, start: str, end: str) -> Window:
        return cls(parse_instant(start, "from"), parse_instant(end, "to"))

    def days(self) -> list[str]:
        """The `dt` partitions the window touches."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class Tables:
    """The relations the query reads: the decision log's rows as delivered (every copy, with
    the `dt` partition column), and the labels in force (transaction_id, label: 1 fraud)."""

    decisions: str
    labels: str


def inline_lists(lists: Mapping[str, Sequence[str]]) -> Mapping[str, str]:
    """Each named list as a SQL query of its entries (VALUES), for a rule reading lists."""
    total = sum(len(entries) for entries in lists.values())
    if total > MAX_INLINE_LIST_ENTRIES:
        raise BacktestError(
            f"rule: its lists hold {total} entries; a backtest inlines at most "
            f"{MAX_INLINE_LIST_ENTRIES}"
        )
    queries = {}
    for name, entries in lists.items():
        if entries:
            rows = ", ".join(f"({quote_string(e)})" for e in entries)
            queries[name] = f"SELECT entry FROM (VALUES {rows}) AS t (entry)"
        else:
            queries[name] = "SELECT CAST(NULL AS VARCHAR) AS entry WHERE FALSE"
    return queries


def rule_sql(rule: Rule, lists: Mapping[str, Sequence[str]] | None = None) -> str:
    """The rule as a boolean over one row `d` of the decision log."""
    missing = sorted(rule.lists - set(lists or {}))
    if missing:
        raise BacktestError(f"rule: the list(s) {', '.join(missing)} have no entries to test with")
    queries = inline_lists({name: (lists or {})[name] for name in sorted(rule.lists)})

    def column(name: str) -> str:
        if name in _LOGGED:
            return f"d.{quote_identifier(name)}"
        return f"try(d.features[{quote_string(name)}])"

    return to_sql(
        rule, column, queries.__getitem__, regex=REGEX_FUNCTION, nan_guard=trino_nan_guard
    )


def backtest_sql(
    rule: Rule,
    outcome: str,
    window: Window,
    tables: Tables,
    labels_matured_before: datetime,
    lists: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The one query of a backtest: a row per day of the window with its figures (columns
    of DayRow), from the distinct decisions of the window."""
    if outcome not in OUTCOMES:
        raise BacktestError(f"rule.outcome: one of {', '.join(OUTCOMES)}")
    hit = rule_sql(rule, lists)
    start, end = (quote_string(utc_text(t)) for t in (window.start, window.end))
    ripe = quote_string(utc_text(labels_matured_before))
    days = window.days()
    add = "TRUE" if outcome == "alert" else "FALSE"
    suppress = "TRUE" if outcome == "suppress" else "FALSE"
    zero = number(0.0)
    sql = f"""
WITH copies AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.decision_id ORDER BY d.decided_at) AS copy
    FROM {tables.decisions} AS d
    WHERE d.dt BETWEEN {quote_string(days[0])} AND {quote_string(days[-1])}
),
scanned AS (
    SELECT d.dt AS day,
           {hit} AS hit,
           COALESCE(d.score >= d.threshold, FALSE) AS model_alert,
           COALESCE(from_iso8601_timestamp(d.event_time)
                    <= from_iso8601_timestamp({ripe}), FALSE) AS ripe,
           COALESCE(l.label, 0) = 1 AS fraud,
           COALESCE(d.sample_weight, 1E0) AS weight
    FROM copies AS d
    LEFT JOIN {tables.labels} AS l ON l.transaction_id = d.transaction_id
    WHERE d.copy = 1
      AND from_iso8601_timestamp(d.event_time) >= from_iso8601_timestamp({start})
      AND from_iso8601_timestamp(d.event_time) < from_iso8601_timestamp({end})
)
SELECT day,
       count(*) AS decisions,
       count_if(hit) AS hits,
       count_if(hit AND model_alert) AS model_alert_overlap,
       count_if(hit AND {add} AND NOT model_alert) AS alerts_added,
       count_if(hit AND {suppress} AND model_alert) AS alerts_suppressed,
       count_if(hit AND ripe) AS labelled_hits,
       sum(CASE WHEN hit AND ripe THEN weight ELSE {zero} END) AS ripe_hit_weight,
       sum(CASE WHEN hit AND ripe AND fraud THEN weight ELSE {zero} END) AS fraud_hit_weight,
       sum(CASE WHEN ripe AND fraud THEN weight ELSE {zero} END) AS fraud_weight
FROM scanned
GROUP BY day
ORDER BY day
""".strip()
    if len(sql.encode()) > MAX_QUERY_BYTES:
        raise BacktestError(f"rule: its backtest query is longer than {MAX_QUERY_BYTES} bytes")
    return sql


def labels_in_force_sql(labels_table: str, window: Window, as_of: datetime) -> str:
    """The labels in force at `as_of` of the window's transactions, from the labels archive's
    table (Label v1 columns, partitioned by the transaction's day `dt`), as a relation
    (transaction_id, label: 1 fraud, 0 legit): the latest reported by `as_of`, chargebacks
    and analyst verdicts alike, fraud on a tie, labels other than fraud/legit and unreadable
    report times left out. The SQL twin of model_export.archive.transaction_labels (compare's
    joining), for Athena; tests/test_backtest.py holds the two equal."""
    days = window.days()
    reported = "try(from_iso8601_timestamp(x.reported_at))"
    return f"""(
    SELECT transaction_id, label FROM (
        SELECT x.transaction_id,
               CASE WHEN x.label = 'fraud' THEN 1 ELSE 0 END AS label,
               row_number() OVER (
                   PARTITION BY x.transaction_id
                   ORDER BY {reported} DESC, CASE WHEN x.label = 'fraud' THEN 1 ELSE 0 END DESC
               ) AS latest
        FROM {labels_table} AS x
        WHERE x.dt BETWEEN {quote_string(days[0])} AND {quote_string(days[-1])}
          AND x.label IN ('fraud', 'legit')
          AND {reported} <= from_iso8601_timestamp({quote_string(utc_text(as_of))})
    ) AS ranked
    WHERE latest = 1
)"""


MAX_HITS_HOURS = 168


def rule_hits_sql(decisions_table: str, since: datetime, until: datetime) -> str:
    """Each rule's hits and alerts over the distinct decisions whose event time is in
    [since, until): from `rule_hits` (active rules) and `shadow_rule_hits` (shadow rules),
    a rule counted once per decision; columns rule, hits, alerts (the decision alerted)."""
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    start, end = quote_string(utc_text(since)), quote_string(utc_text(until))
    return f"""
WITH copies AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.decision_id ORDER BY d.decided_at) AS copy
    FROM {decisions_table} AS d
    WHERE d.dt BETWEEN {quote_string(first.isoformat())} AND {quote_string(last.isoformat())}
),
recent AS (
    SELECT * FROM copies AS d
    WHERE d.copy = 1
      AND from_iso8601_timestamp(d.event_time) >= from_iso8601_timestamp({start})
      AND from_iso8601_timestamp(d.event_time) < from_iso8601_timestamp({end})
),
hit AS (
    SELECT r.decision_id, r.alerted, h.rule FROM recent AS r
    CROSS JOIN UNNEST(r.rule_hits) AS h (rule)
    UNION
    SELECT r.decision_id, r.alerted, h.rule FROM recent AS r
    CROSS JOIN UNNEST(r.shadow_rule_hits) AS h (rule)
)
SELECT rule, count(*) AS hits, count_if(COALESCE(alerted, FALSE)) AS alerts
FROM hit
GROUP BY rule
ORDER BY hits DESC, rule
""".strip()


def rule_hits_result(hours: int, rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The RuleHits (lambdas/api/models.py) of rule_hits_sql's rows."""
    return {
        "hours": hours,
        "items": [
            {"rule": str(rule), "hits": int(hits or 0), "alerts": int(alerts or 0)}
            for rule, hits, alerts in rows
        ],
    }


DAY_COLUMNS = (
    "day",
    "decisions",
    "hits",
    "model_alert_overlap",
    "alerts_added",
    "alerts_suppressed",
    "labelled_hits",
    "ripe_hit_weight",
    "fraud_hit_weight",
    "fraud_weight",
)


def backtest_result(
    window: Window, labels_matured_before: datetime, rows: Iterable[Sequence[Any]]
) -> dict[str, Any]:
    """The BacktestResult (lambdas/api/models.py) of the query's rows (DAY_COLUMNS)."""
    days = [dict(zip(DAY_COLUMNS, row, strict=True)) for row in rows]

    def total(name: str) -> int:
        return sum(int(day[name] or 0) for day in days)

    def weight(name: str) -> float:
        return sum(float(day[name] or 0.0) for day in days)

    ripe_hits, fraud_hits, frauds = (
        weight(n) for n in ("ripe_hit_weight", "fraud_hit_weight", "fraud_weight")
    )
    return {
        "from": utc_text(window.start),
        "to": utc_text(window.end),
        "decisions": total("decisions"),
        "hits": total("hits"),
        "hits_per_day": [
            {
                "day": str(day["day"]),
                "hits": int(day["hits"] or 0),
                "alerts_added": int(day["alerts_added"] or 0),
                "alerts_suppressed": int(day["alerts_suppressed"] or 0),
            }
            for day in days
        ],
        "labelled_hits": total("labelled_hits"),
        "precision": fraud_hits / ripe_hits if ripe_hits else None,
        "recall": fraud_hits / frauds if frauds else None,
        "model_alert_overlap": total("model_alert_overlap"),
        "alerts_added": total("alerts_added"),
        "alerts_suppressed": total("alerts_suppressed"),
        "labels_matured_before": utc_text(labels_matured_before),
    }


# ---- Athena ------------------------------------------------------------------------------


class AthenaError(RuntimeError):
    """A query Athena failed or did not finish in time."""


@dataclass
class AthenaEngine:
    """Runs a query on Athena: start_query_execution in a workgroup (its output location
    from the workgroup, or `output_location`), polled until it ends, rows read with
    get_query_results. `client` is a boto3 Athena client."""

    client: Any
    workgroup: str
    database: str
    output_location: str | None = None
    decisions_table: str = "decisions"  # infra/terraform/modules/archive/decisions.tf
    labels_table: str = "labels"  # the archive's Label v1 table
    timeout_s: float = 60.0
    poll_s: float = 0.5

    def table(self, name: str) -> str:
        return f"{quote_identifier(self.database)}.{quote_identifier(name)}"

    def backtest_sql(
        self,
        rule: Rule,
        outcome: str,
        window: Window,
        as_of: datetime,
        label_delay: timedelta,
        lists: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """The text this engine sends for a backtest."""
        tables = Tables(
            self.table(self.decisions_table),
            labels_in_force_sql(self.table(self.labels_table), window, as_of),
        )
        return backtest_sql(rule, outcome, window, tables, as_of - label_delay, lists)

    def rule_hits(self, hours: int, now: datetime) -> dict[str, Any]:
        sql = rule_hits_sql(self.table(self.decisions_table), now - timedelta(hours=hours), now)
        return rule_hits_result(hours, self.execute(sql))

    def backtest(
        self,
        rule: Rule,
        outcome: str,
        window: Window,
        as_of: datetime,
        label_delay: timedelta,
        lists: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, Any]:
        sql = self.backtest_sql(rule, outcome, window, as_of, label_delay, lists)
        return backtest_result(window, as_of - label_delay, self.execute(sql))

    def execute(self, sql: str) -> list[list[str | None]]:
        """The rows (as Athena returns them: text, null), without the header row."""
        request: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.database},
        }
        if self.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.output_location}
        query_id = self.client.start_query_execution(**request)["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout_s
        while True:
            status = self.client.get_query_execution(QueryExecutionId=query_id)
            state = status["QueryExecution"]["Status"]["State"]
            if state == "SUCCEEDED":
                break
            if state in ("FAILED", "CANCELLED"):
                reason = status["QueryExecution"]["Status"].get("StateChangeReason", state)
                raise AthenaError(f"Athena query {query_id} {state.lower()}: {reason}")
            if time.monotonic() > deadline:
                self.client.stop_query_execution(QueryExecutionId=query_id)
                raise AthenaError(f"Athena query {query_id} took longer than {self.timeout_s} s")
            time.sleep(self.poll_s)
        rows: list[list[str | None]] = []
        pages = self.client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        for page in pages:
            for row in page["ResultSet"]["Rows"]:
                rows.append([cell.get("VarCharValue") for cell in row["Data"]])
        return rows[1:]  # the first row of the first page is the header
