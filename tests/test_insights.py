"""Local insights: real Alert v1 records written by the fan-out's lake writer into a moto S3
server, read back by `python -m local.insights` with DuckDB, and the figures checked against
what was written. Also: the Glue table, the fan-out's lake record and the columns the
insights read are one schema.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flink_job.features import FEATURE_NAMES
from lambdas.alert_fanout.alert import Alert, parse_alert
from lambdas.alert_fanout.lake import AlertLake, lake_key, lake_line
from local.aws import LocalAws, aws_env
from local.insights.__main__ import main as insights_main
from local.insights.compute import FigureResult, compute_all
from local.insights.figures import (
    FIGURES,
    FIGURES_DIR,
    HIVE_TO_DUCKDB,
    LAKE_COLUMNS,
    PARTITION_COLUMNS,
    figure,
)
from local.insights.lake import open_lake, read_columns
from local.insights.page import time_series
from local.insights.report import Insights, write_insights
from local.traffic.demo_alerts import example_alert
from tests.test_terraform_wiring import blocks, named
from udfs.reasons import reason_code

ROOT = Path(__file__).resolve().parent.parent
ANALYTICS = ROOT / "infra" / "terraform" / "modules" / "analytics"
BUCKET = "fraud-alerts-lake"
PREFIX = "alerts/"
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

# Reason codes as the job writes them: a feature's name, upper-cased (udfs.reasons).
AMOUNT_VS_AVG = reason_code("amount_over_card_avg_30d")
TERMINAL_NOT_SEEN = reason_code("card_terminal_seen_30d")
TERMINAL_RISK = reason_code("terminal_fraud_risk_30d")
CARD_TESTING = reason_code("card_small_txn_count_10m")

# (severity, amount, terminal, merchant category, reason codes, hours after START)
WRITTEN: list[tuple[str, float, str, str | None, list[str], int]] = [
    ("high", 812.5, "term_00001", "5411", [AMOUNT_VS_AVG, TERMINAL_NOT_SEEN], 0),
    ("high", 1450.0, "term_00001", "5732", [AMOUNT_VS_AVG], 0),
    ("medium", 42.0, "term_00002", "5411", [TERMINAL_RISK, TERMINAL_NOT_SEEN], 1),
    ("low", 7.5, "term_00001", None, [CARD_TESTING], 1),
    ("high", 260.0, "term_00003", "5999", [TERMINAL_RISK, AMOUNT_VS_AVG], 2),
    ("low", 99.0, "term_00002", "5411", [TERMINAL_NOT_SEEN], 2),
    ("medium", 3000.0, "term_00004", "4829", [AMOUNT_VS_AVG], 2),
]


def test_the_written_alerts_carry_reason_codes_the_job_can_write() -> None:
    """Every code above is one of the job's features' (flink_job.features), so the figures
    are checked on codes the product writes, not on made-up ones."""
    product_codes = {reason_code(name) for name in FEATURE_NAMES}
    written = {code for *_, codes, _ in WRITTEN for code in codes}
    assert written <= product_codes, f"not reason codes of the job: {written - product_codes}"


def written_alerts() -> list[Alert]:
    alerts = []
    for index, (severity, amount, terminal, mcc, codes, hours) in enumerate(WRITTEN):
        record: dict[str, Any] = example_alert(
            f"t-{index}",
            f"card_{index % 3}",
            severity=severity,
            detected_at=START + timedelta(hours=hours, minutes=5 * index),
            amount=amount,
        )
        record.update(terminal_id=terminal, merchant_category=mcc, reason_codes=codes)
        record["reasons"] = [f"reason for {code}" for code in codes]
        alerts.append(parse_alert(json.dumps(record)))
    return alerts


@pytest.fixture(scope="module")
def lake() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=(BUCKET,)) as aws:
        writer = AlertLake(aws.client("s3"), BUCKET, PREFIX)
        for alert in written_alerts():
            assert writer.write(alert)
        yield aws


@pytest.fixture(scope="module")
def insights(lake: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> Insights:
    out = tmp_path_factory.mktemp("insights") / "index.html"
    return write_insights(lake.client("s3"), BUCKET, PREFIX, out)


@pytest.fixture(scope="module")
def figures(insights: Insights) -> dict[str, FigureResult]:
    return insights.results


def rows(result: FigureResult, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[result.columns.index(c)] for c in columns) for row in result.rows]


def test_alert_counts_per_severity_are_what_the_fanout_wrote(
    figures: dict[str, FigureResult],
) -> None:
    by_hour = figures["alerts_by_hour"]
    counted: Counter[str] = Counter()
    for severity, count in rows(by_hour, "severity", "alert_count"):
        counted[severity] += count
    assert counted == Counter(severity for severity, *_ in WRITTEN)


def test_alerts_over_time_follow_the_lakes_hour_partitions(
    figures: dict[str, FigureResult],
) -> None:
    expected: Counter[tuple[datetime, str]] = Counter()
    for alert in written_alerts():
        match = re.search(r"dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/", lake_key(alert, PREFIX))
        assert match
        hour = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}:00:00")
        expected[(hour, alert.severity)] += 1
    got = {(hour, severity): count for hour, severity, count in figures["alerts_by_hour"].rows}
    assert got == dict(expected)


def test_top_reason_codes_count_each_alert_once_per_code(
    figures: dict[str, FigureResult],
) -> None:
    expected = Counter(code for *_, codes, _ in WRITTEN for code in set(codes))
    got = rows(figures["top_reason_codes"], "reason_code", "alert_count")
    assert dict(got) == dict(expected)
    assert got[0] == (AMOUNT_VS_AVG, 4)
    assert [count for _, count in got] == sorted((c for _, c in got), reverse=True)


def test_terminals_and_merchant_categories_are_ranked_by_alerts(
    figures: dict[str, FigureResult],
) -> None:
    terminals = rows(figures["top_terminals"], "terminal_id", "alert_count", "card_count")
    cards = {alert.card_id for alert in written_alerts() if alert.terminal_id == "term_00001"}
    assert terminals[0] == ("term_00001", 3, len(cards))
    assert dict((t, n) for t, n, _ in terminals) == Counter(t for _, _, t, *_ in WRITTEN)
    categories = dict(rows(figures["top_merchant_categories"], "merchant_category", "alert_count"))
    assert categories == {"5411": 3, "5732": 1, "5999": 1, "4829": 1, "unknown": 1}


def test_amount_bands_cover_every_alert_and_show_empty_bands(
    figures: dict[str, FigureResult],
) -> None:
    bands = rows(figures["amount_bands"], "band_order", "amount_band", "alert_count")
    assert [order for order, *_ in bands] == list(range(1, 8))
    assert sum(count for *_, count in bands) == len(WRITTEN)
    assert dict((band, count) for _, band, count in bands) == {
        "under 10": 1,
        "10 to 50": 1,
        "50 to 100": 1,
        "100 to 250": 0,
        "250 to 500": 1,
        "500 to 1000": 1,
        "1000 and over": 2,
    }


def test_model_versions_list_the_version_that_scored(figures: dict[str, FigureResult]) -> None:
    versions = figures["model_versions"]
    assert rows(versions, "model_version", "alert_count") == [
        ("m-20261128-1200-3f2a9c1", len(WRITTEN))
    ]


def test_the_page_draws_every_figure_as_inline_svg_without_external_resources(
    insights: Insights,
) -> None:
    page = insights.page.read_text()
    for shown in FIGURES:
        assert f'id="{shown.name}"' in page
        assert shown.title in page
    assert page.count("<svg") == sum(1 for f in FIGURES if f.chart != "table")
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"https?://", page)
    assert AMOUNT_VS_AVG in page


def test_the_command_reads_the_lake_through_the_endpoint_and_writes_the_page(
    lake: LocalAws,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in aws_env(lake.endpoint).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "insights" / "index.html"
    argv = ["--endpoint", lake.endpoint, "--bucket", BUCKET, "--prefix", PREFIX]
    assert insights_main([*argv, "--out", str(out)]) == 0
    assert f"{len(WRITTEN)} alerts from {len(WRITTEN)} lake objects" in capsys.readouterr().out
    assert "<svg" in out.read_text()


def test_an_empty_lake_gives_empty_figures(tmp_path: Path) -> None:
    connection = duckdb.connect()
    open_lake(connection, tmp_path)
    results = compute_all(connection)
    assert results["alerts_by_hour"].rows == ()
    assert sum(r[2] for r in results["amount_bands"].rows) == 0


# ---- one schema: Glue table, fan-out record, what the insights read ----------------


def glue_columns() -> list[tuple[str, str]]:
    columns = named(ANALYTICS, "locals")["columns"]
    return [(column["name"], column["type"]) for column in columns]


def glue_partition_keys() -> list[str]:
    table = blocks(ANALYTICS, "resource")["aws_glue_catalog_table.alerts"]
    return [key["name"] for key in table["partition_keys"]]


def test_glue_table_fanout_record_and_insights_columns_are_one_schema(tmp_path: Path) -> None:
    glue = glue_columns()
    assert list(LAKE_COLUMNS) == glue, "local/insights/figures.py LAKE_COLUMNS != Glue table"
    record = json.loads(lake_line(written_alerts()[0]))
    assert list(record) == [name for name, _ in glue], "fan-out lake record != Glue table"
    assert list(PARTITION_COLUMNS) == glue_partition_keys()

    (tmp_path / "dt=2026-11-28" / "hour=09").mkdir(parents=True)
    (tmp_path / "dt=2026-11-28" / "hour=09" / "a.json").write_bytes(lake_line(written_alerts()[0]))
    connection = duckdb.connect()
    open_lake(connection, tmp_path)
    read = read_columns(connection)
    assert read == [(name, HIVE_TO_DUCKDB[kind]) for name, kind in glue] + [
        (key, "VARCHAR") for key in PARTITION_COLUMNS
    ]
    # Every field arrives with a value: nothing in the record is lost to a type mismatch.
    row = connection.execute("SELECT * FROM alerts").fetchone()
    assert row is not None and all(value is not None for value in row)


def test_every_figure_has_one_sql_file_and_no_sql_file_is_unused() -> None:
    assert sorted(p.stem for p in FIGURES_DIR.glob("*.sql")) == sorted(f.name for f in FIGURES)


def test_the_time_series_rolls_hours_up_to_days_over_three_days_and_keeps_gaps() -> None:
    by_hour = figure("alerts_by_hour")
    day = datetime(2026, 10, 1)
    rows = (
        (day.replace(hour=6), "high", 2),
        (day.replace(hour=22), "high", 1),
        (day.replace(hour=9) + timedelta(days=4), "low", 3),
    )
    result = FigureResult(by_hour, ("alert_hour", "severity", "alert_count"), (), rows)
    series = time_series(result)
    assert series.unit == "day"
    assert series.times == [day + timedelta(days=n) for n in range(5)]
    assert series.counts["high"] == {day: 3.0}
    assert series.counts["low"] == {day + timedelta(days=4): 3.0}
    hourly = time_series(FigureResult(by_hour, result.columns, (), rows[:2]))
    assert hourly.unit == "hour" and len(hourly.times) == 17
