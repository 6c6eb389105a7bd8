"""Backtest a draft rule over the decision log, locally with DuckDB (rules/backtest.py
builds the one query and says what each figure means; on AWS the API runs the same query on
Athena):

    python -m model_export.backtest --decisions s3://bucket --archive s3://bucket \\
        --expression "channel == 'ecom' && amount > 300.0" [--outcome alert] \\
        --from 2026-10-01T00:00:00Z --to 2026-10-08T00:00:00Z \\
        [--as-of 2026-11-15T00:00:00Z] [--label-delay-days 7] [--json]
    python -m model_export.backtest --rule-file rule.json …     # {"expression", "outcome", …}
    python -m model_export.backtest … --list watched=cards.txt   # a list the rule reads

The decisions are the log's rows as Firehose delivered them (model_export.decision_log:
the query keeps one per `decision_id`); the labels are the archive's (`--archive`, default
the decision log's bucket), each transaction's label in force at `--as-of` chosen by
model_export.archive.transaction_labels, as model_export.compare does.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from botocore.exceptions import BotoCoreError, ClientError

from flink_job.features import FEATURE_NAMES
from model_export.archive import (
    LABELS,
    ArchiveError,
    ArchiveRange,
    read_kind,
    s3_client,
    transaction_labels,
)
from model_export.decision_log import COPIES_VIEW, read_log
from rules import Rule, RuleError, compile_rule
from rules.backtest import (
    DUCKDB_MACROS,
    BacktestError,
    Tables,
    Window,
    backtest_result,
    backtest_schema,
    backtest_sql,
    parse_instant,
    rule_hits_result,
    rule_hits_sql,
)

LABELS_IN_FORCE = "labels_in_force"
LABEL_DELAY_DAYS = 7  # compare's default


@dataclass(frozen=True)
class DraftRule:
    expression: str
    outcome: str = "alert"
    severity: str | None = None


def run_query(
    connection: duckdb.DuckDBPyConnection, sql: str, labels: Any
) -> list[tuple[Any, ...]]:
    """Run a backtest's text on a connection with the decision log open, the labels in force
    registered as LABELS_IN_FORCE and the Trino functions as macros."""
    for macro in DUCKDB_MACROS:
        connection.execute(macro)
    connection.register(LABELS_IN_FORCE, labels)
    return connection.execute(sql).fetchall()


@dataclass
class DuckDbEngine:
    """Backtests and rule hits over the decision log under `decisions_root` (s3://bucket
    [/prefix]) and the labels archive under `archive_root` (default the same), in DuckDB:
    the API's engine locally (lambdas/api/backtests.py's BacktestEngine)."""

    decisions_root: str
    archive_root: str | None = None
    s3: Any | None = None

    def _client(self) -> Any:
        if self.s3 is None:
            self.s3 = s3_client()
        return self.s3

    def _days(self, start: datetime, end: datetime) -> tuple[date, date]:
        return start.astimezone(UTC).date(), (end - timedelta(microseconds=1)).astimezone(
            UTC
        ).date()

    def backtest(
        self,
        rule: Rule,
        outcome: str,
        window: Window,
        as_of: datetime,
        label_delay: timedelta,
        lists: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, Any]:
        cutoff = as_of - label_delay
        tables = Tables(COPIES_VIEW, LABELS_IN_FORCE)
        sql = backtest_sql(rule, outcome, window, tables, cutoff, lists)
        first, last = self._days(window.start, window.end)
        archive = ArchiveRange(self.archive_root or self.decisions_root, first, last)
        in_force = transaction_labels(read_kind(self._client(), archive, LABELS), as_of)
        rows = read_log(
            ArchiveRange(self.decisions_root, first, last),
            lambda connection: run_query(connection, sql, in_force),
            self._client(),
        )
        return backtest_result(window, cutoff, rows)

    def rule_hits(self, hours: int, now: datetime) -> dict[str, Any]:
        since = now - timedelta(hours=hours)
        sql = rule_hits_sql(COPIES_VIEW, since, now)
        first, last = self._days(since, now)

        def query(connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
            for macro in DUCKDB_MACROS:
                connection.execute(macro)
            return connection.execute(sql).fetchall()

        rows = read_log(ArchiveRange(self.decisions_root, first, last), query, self._client())
        return rule_hits_result(hours, rows)


def backtest(
    draft: DraftRule,
    window: Window,
    decisions_root: str,
    archive_root: str | None = None,
    as_of: datetime | None = None,
    label_delay: timedelta = timedelta(days=LABEL_DELAY_DAYS),
    lists: Mapping[str, Sequence[str]] | None = None,
    s3: Any | None = None,
) -> dict[str, Any]:
    """The BacktestResult of `draft` over the window (RuleError, BacktestError, ArchiveError
    say what to change)."""
    rule = compile_rule(draft.expression, backtest_schema(FEATURE_NAMES, (lists or {}).keys()))
    engine = DuckDbEngine(decisions_root, archive_root, s3)
    return engine.backtest(
        rule, draft.outcome, window, as_of or datetime.now(UTC), label_delay, lists
    )


def render(result: Mapping[str, Any]) -> str:
    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    lines = [
        f"{result['from']} to {result['to']}: {result['hits']:,} hits in "
        f"{result['decisions']:,} decisions",
        f"precision {share(result['precision'])}, recall {share(result['recall'])} over "
        f"{result['labelled_hits']:,} hits with matured labels (event time up to "
        f"{result['labels_matured_before']})",
        f"model alerts among the hits {result['model_alert_overlap']:,}; alerts added "
        f"{result['alerts_added']:,}, suppressed {result['alerts_suppressed']:,}",
        f"{'day':<12}{'hits':>8}{'added':>8}{'suppressed':>12}",
    ]
    for day in result["hits_per_day"]:
        lines.append(
            f"{day['day']:<12}{day['hits']:>8,}{day['alerts_added']:>8,}"
            f"{day['alerts_suppressed']:>12,}"
        )
    return "\n".join(lines)


def read_rule_file(path: Path) -> DraftRule:
    """A rule as JSON (the API's Rule: expression, outcome, severity; other keys ignored)."""
    try:
        item = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise BacktestError(f"--rule-file {path}: {error}") from error
    if not isinstance(item, dict) or not isinstance(item.get("expression"), str):
        raise BacktestError(f"--rule-file {path}: a JSON object with an `expression` string")
    return DraftRule(item["expression"], str(item.get("outcome", "alert")), item.get("severity"))


def read_lists(options: list[str]) -> dict[str, list[str]]:
    """`NAME=FILE` options as lists of entries (a file's non-empty lines)."""
    lists = {}
    for option in options:
        name, _, path = option.partition("=")
        if not name or not path:
            raise BacktestError(f"--list {option!r}: NAME=FILE")
        try:
            lines = Path(path).read_text().splitlines()
        except OSError as error:
            raise BacktestError(f"--list {name}: {error}") from error
        lists[name] = [line.strip() for line in lines if line.strip()]
    return lists


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--rule-file", type=Path, help="a rule as JSON (expression, outcome)")
    source.add_argument("--expression", help="the rule's expression (docs/rules.md)")
    parser.add_argument(
        "--outcome", choices=("alert", "suppress", "tag"), default="alert", help="with --expression"
    )
    parser.add_argument("--decisions", metavar="S3_URI", required=True, help="the decision log")
    parser.add_argument(
        "--archive", metavar="S3_URI", help="the labels archive (default: --decisions)"
    )
    parser.add_argument("--from", dest="start", required=True, help="RFC 3339 instant")
    parser.add_argument("--to", dest="end", required=True, help="RFC 3339 instant (excluded)")
    parser.add_argument("--as-of", help="RFC 3339 instant the labels are read at (default now)")
    parser.add_argument(
        "--label-delay-days",
        type=int,
        default=LABEL_DELAY_DAYS,
        help=f"days before a label counts (default {LABEL_DELAY_DAYS})",
    )
    parser.add_argument(
        "--list",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="a named list the rule reads: its entries, one per line (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.label_delay_days < 0:
        parser.error("--label-delay-days is a number of days, 0 or more")
    try:
        draft = (
            read_rule_file(args.rule_file)
            if args.rule_file
            else DraftRule(args.expression, args.outcome)
        )
        window = Window.parse(args.start, args.end)
        as_of = parse_instant(args.as_of, "--as-of") if args.as_of else None
        result = backtest(
            draft,
            window,
            args.decisions,
            args.archive,
            as_of,
            timedelta(days=args.label_delay_days),
            read_lists(args.list),
        )
    except (RuleError, BacktestError, ArchiveError) as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    except (BotoCoreError, ClientError) as error:
        parser.exit(1, f"{parser.prog}: the decision log cannot be read: {error}\n")
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
