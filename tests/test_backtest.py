"""Backtests of draft rules (rules/backtest.py, model_export/backtest.py) on a decision log
written by the real writer (local.aws.archive's `deliver_decisions` into moto's S3) and
labels in the archive (`deliver`), as tests/test_compare.py builds them. The expected
figures are computed here in pandas from the records themselves, not from SQL.

Athena: moto's Athena records the query it is sent but does not execute SQL (its results
are canned), so the Athena engine is held to the text it sends: that text, run by DuckDB
over the same log (the Glue tables as views, the Trino functions as DUCKDB_MACROS), gives
the DuckDB engine's figures."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import requests

from contracts.decision import decision_id
from flink_job.features import FEATURE_NAMES
from local.aws import REGION, LocalAws
from local.aws.archive import ARCHIVE_BUCKET, deliver, deliver_decisions
from model_export.archive import LABELS, ArchiveRange, read_kind, transaction_labels
from model_export.backtest import DraftRule, backtest, main, run_query
from model_export.decision_log import read_log
from rules import RuleError, compile_rule
from rules.backtest import (
    DAY_COLUMNS,
    DUCKDB_MACROS,
    AthenaEngine,
    BacktestError,
    Window,
    backtest_result,
    backtest_schema,
    labels_in_force_sql,
)
from tests.api_support import ApiUnderTest, started_api

THRESHOLD = 0.5
FIRST = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 10
PER_DAY = 48
AS_OF = datetime(2026, 10, 14, tzinfo=UTC)
DELAY = timedelta(days=7)  # labels matured for event times up to 2026-10-07
WINDOW = Window(datetime(2026, 10, 2, 6, tzinfo=UTC), datetime(2026, 10, 9, tzinfo=UTC))
ECOM_BURST = "channel == 'ecom' && amount > 300.0 && card_txn_count_10m >= 3.0"
SMALL = "amount < 100.0"
WATCHED = "card_id in list('watched') && amount > 100.0"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def population(seed: int = 11) -> pd.DataFrame:
    """One row per transaction: its fields, score and the label in force at AS_OF (with a
    few at the window's exact bounds)."""
    rng = random.Random(seed)
    rows = []
    times = [
        FIRST + timedelta(days=d, minutes=29 * n + 3) for d in range(DAYS) for n in range(PER_DAY)
    ]
    times += [WINDOW.start, WINDOW.end, WINDOW.end - timedelta(milliseconds=1)]
    for n, when in enumerate(times):
        fraud = rng.random() < 0.2
        rows.append(
            {
                "transaction_id": f"tx-{n}",
                "event_time": when,
                "channel": rng.choice(["ecom", "pos", None]),
                "amount": round(rng.uniform(0, 600) + (150 if fraud else 0), 2),
                # NaN now and then: a feature the job could not compute reads as null
                "count_10m": float(rng.randint(0, 5)) if rng.random() > 0.1 else float("nan"),
                "score": min(1.0, rng.random() * 0.8 + (0.3 if fraud else 0.0)),
                "fraud": fraud,
                # a fraud's chargeback after AS_OF (not in force), or taken back by an analyst
                "late": fraud and rng.random() < 0.1,
                "flipped": fraud and rng.random() < 0.1,
            }
        )
    return pd.DataFrame(rows)


def decision(row: Any) -> str:
    alerted = bool(row.score >= THRESHOLD)
    features = dict.fromkeys(FEATURE_NAMES, 0.0)
    features.update(amount=row.amount, card_txn_count_10m=row.count_10m)
    return json.dumps(
        {
            "schema": "decision.v1",
            "decision_id": decision_id(row.transaction_id),
            "transaction_id": row.transaction_id,
            "event_time": stamp(row.event_time),
            "card_id": f"card-{row.Index % 17}",
            "terminal_id": "term_00001",
            "amount": row.amount,
            "currency": "EUR",
            "merchant_category": None,
            "country": "FR",
            "channel": row.channel,
            "features": features,
            "model_version": "m-1",
            "score": row.score,
            "threshold": THRESHOLD,
            "shadow_scores": None,
            "alerted": alerted,
            "severity": "high" if alerted else None,
            "reasons": None,
            "reason_codes": None,
            "late": False,
            "ingested_at": stamp(row.event_time + timedelta(milliseconds=100)),
            "decided_at": stamp(row.event_time + timedelta(milliseconds=200)),
            "sample_weight": 1.0,
        }
    )


def labels(frame: pd.DataFrame) -> list[str]:
    def label(row: Any, verdict: str, source: str, reported: datetime) -> str:
        return json.dumps(
            {
                "transaction_id": row.transaction_id,
                "card_id": "card-x",
                "terminal_id": "term_00001",
                "event_time": stamp(row.event_time),
                "label": verdict,
                "source": source,
                "reported_at": stamp(reported),
            }
        )

    out = []
    for row in frame[frame["fraud"]].itertuples():
        reported = AS_OF + timedelta(hours=1) if row.late else row.event_time + timedelta(days=2)
        out.append(label(row, "fraud", "chargeback", reported))
        if row.flipped:
            out.append(label(row, "legit", "analyst", row.event_time + timedelta(days=3)))
    return out


def expected(
    frame: pd.DataFrame, hit: pd.Series, outcome: str, as_of: datetime = AS_OF
) -> dict[str, Any]:
    """The figures computed in pandas from the transactions themselves, labels read at
    `as_of` (the late chargebacks are reported an hour after AS_OF)."""
    inside = (frame["event_time"] >= WINDOW.start) & (frame["event_time"] < WINDOW.end)
    rows = frame[inside].assign(hit=hit[inside])
    model = rows["score"] >= THRESHOLD
    ripe = rows["event_time"] <= as_of - DELAY
    if as_of < AS_OF + timedelta(hours=1):  # the late chargebacks are not in force
        fraud = rows["fraud"] & ~rows["late"] & ~rows["flipped"]
    else:  # they are, and one reported after an analyst's legit verdict wins over it
        fraud = rows["fraud"] & (~rows["flipped"] | rows["late"])
    hits = rows["hit"]
    added = hits & ~model if outcome == "alert" else hits & False
    suppressed = hits & model if outcome == "suppress" else hits & False
    days = rows["event_time"].map(lambda t: t.date().isoformat())
    per_day = [
        {
            "day": day,
            "hits": int(hits[days == day].sum()),
            "alerts_added": int(added[days == day].sum()),
            "alerts_suppressed": int(suppressed[days == day].sum()),
        }
        for day in sorted(days.unique())
    ]
    ripe_hits, frauds = int((hits & ripe).sum()), int((fraud & ripe).sum())
    fraud_hits = int((hits & ripe & fraud).sum())
    return {
        "decisions": len(rows),
        "hits": int(hits.sum()),
        "hits_per_day": per_day,
        "labelled_hits": ripe_hits,
        "precision": fraud_hits / ripe_hits if ripe_hits else None,
        "recall": fraud_hits / frauds if frauds else None,
        "model_alert_overlap": int((hits & model).sum()),
        "alerts_added": int(added.sum()),
        "alerts_suppressed": int(suppressed.sum()),
        "labels_matured_before": stamp(as_of - DELAY),
        "from": stamp(WINDOW.start),
        "to": stamp(WINDOW.end),
    }


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=()) as local:
        yield local


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return population()


def fill(aws: LocalAws, bucket: str, frame: pd.DataFrame, deliveries: int = 1) -> Any:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    log = [decision(row) for row in frame.itertuples()]
    deliver_decisions(s3, bucket, log)
    for _ in range(deliveries - 1):  # redelivered: a third of the log again
        deliver_decisions(s3, bucket, log[: len(log) // 3])
    deliver(s3, bucket, LABELS, labels(frame))
    return s3


@pytest.fixture(scope="module")
def s3(aws: LocalAws, transactions: pd.DataFrame) -> Any:
    return fill(aws, "log", transactions)


def run(s3: Any, bucket: str, expression: str, outcome: str = "alert") -> dict[str, Any]:
    return backtest(
        DraftRule(expression, outcome),
        WINDOW,
        f"s3://{bucket}",
        as_of=AS_OF,
        label_delay=DELAY,
        s3=s3,
    )


def burst(frame: pd.DataFrame) -> pd.Series:
    return (frame["channel"] == "ecom") & (frame["amount"] > 300.0) & (frame["count_10m"] >= 3)


def test_an_alert_rule_s_figures_equal_those_computed_from_the_records(
    s3: Any, transactions: pd.DataFrame
) -> None:
    result = run(s3, "log", ECOM_BURST)
    want = expected(transactions, burst(transactions), "alert")
    assert result == want
    assert result["hits"] > 20 and result["alerts_added"] > 0 and result["model_alert_overlap"] > 0
    assert 0 < result["precision"] < 1 and 0 < result["recall"] < 1
    assert result["alerts_suppressed"] == 0


def test_a_suppress_rule_counts_the_model_alerts_it_would_suppress(
    s3: Any, transactions: pd.DataFrame
) -> None:
    result = run(s3, "log", SMALL, "suppress")
    assert result == expected(transactions, transactions["amount"] < 100.0, "suppress")
    assert result["alerts_suppressed"] > 0 and result["alerts_added"] == 0


def test_a_tag_rule_adds_and_suppresses_nothing(s3: Any, transactions: pd.DataFrame) -> None:
    result = run(s3, "log", SMALL, "tag")
    assert result == expected(transactions, transactions["amount"] < 100.0, "tag")
    assert result["alerts_added"] == result["alerts_suppressed"] == 0


def test_a_nan_feature_reads_as_null_in_a_test_and_in_its_negation(
    s3: Any, transactions: pd.DataFrame
) -> None:
    assert transactions["count_10m"].isna().sum() > 10
    count = transactions["count_10m"]
    assert run(s3, "log", "card_txn_count_10m >= 3.0", "tag") == expected(
        transactions, count >= 3.0, "tag"
    )
    assert run(s3, "log", "!(card_txn_count_10m >= 3.0)", "tag") == expected(
        transactions, count < 3.0, "tag"
    )


def test_a_rule_reading_a_list_is_backtested_with_its_entries(
    aws: LocalAws,
    s3: Any,
    transactions: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cards = [f"card-{n}" for n in (1, 5, 9)]
    result = backtest(
        DraftRule(WATCHED),
        WINDOW,
        "s3://log",
        as_of=AS_OF,
        label_delay=DELAY,
        lists={"watched": cards},
        s3=s3,
    )
    on_card = transactions.index.map(lambda n: f"card-{n % 17}").isin(cards)
    hit = pd.Series(on_card, index=transactions.index) & (transactions["amount"] > 100.0)
    assert result == expected(transactions, hit, "alert")
    assert result["hits"] > 0
    watched = tmp_path / "watched.txt"
    watched.write_text("\n".join(cards) + "\n")
    args = [
        "--decisions",
        "s3://log",
        "--expression",
        "card_id in list('watched') && amount > 100.0",
    ]
    args += ["--from", stamp(WINDOW.start), "--to", stamp(WINDOW.end), "--as-of", stamp(AS_OF)]
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    assert main([*args, "--list", f"watched={watched}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == result
    with pytest.raises(SystemExit):
        main(args)  # without the list's entries
    assert "watched" in capsys.readouterr().err


def test_a_redelivered_decision_counts_once(
    aws: LocalAws, s3: Any, transactions: pd.DataFrame
) -> None:
    twice = fill(aws, "twice", transactions, deliveries=2)
    assert run(twice, "twice", ECOM_BURST) == run(s3, "log", ECOM_BURST)


def test_the_window_includes_from_and_excludes_to(s3: Any, transactions: pd.DataFrame) -> None:
    result = run(s3, "log", "amount >= 0.0")
    inside = (transactions["event_time"] >= WINDOW.start) & (
        transactions["event_time"] < WINDOW.end
    )
    assert result["decisions"] == result["hits"] == int(inside.sum())
    assert result["hits_per_day"][0]["day"] == "2026-10-02"
    assert result["hits_per_day"][-1]["day"] == "2026-10-08"  # the bound itself is left out


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-10-01T00:00:00Z", "2026-11-02T00:00:00Z", "at most 31 days"),
        ("2026-10-02T00:00:00Z", "2026-10-01T00:00:00Z", "after from"),
        ("2026-10-01", "2026-10-02T00:00:00Z", "from: an RFC 3339 instant needs an offset"),
        ("yesterday", "2026-10-02T00:00:00Z", "from: not an RFC 3339 instant"),
    ],
)
def test_a_window_out_of_bounds_is_refused(start: str, end: str, message: str) -> None:
    with pytest.raises(BacktestError, match=message):
        Window.parse(start, end)


def test_a_field_the_log_does_not_hold_is_refused_naming_its_place() -> None:
    with pytest.raises(RuleError, match=r"1:21: unknown field .device_id."):
        compile_rule("amount > 1.0 && has(device_id)", backtest_schema(FEATURE_NAMES))


def test_the_labels_sql_twin_equals_compare_s_joining(s3: Any) -> None:
    """labels_in_force_sql (Athena's) picks the label model_export.archive picks."""
    archive = ArchiveRange("s3://log", FIRST.date(), (FIRST + timedelta(days=DAYS)).date())
    frame = read_kind(s3, archive, LABELS)
    want = transaction_labels(frame, AS_OF).sort_values("transaction_id", ignore_index=True)
    connection = duckdb.connect()
    for macro in DUCKDB_MACROS:
        connection.execute(macro)
    connection.register("labels", frame)
    wide = Window(FIRST, FIRST + timedelta(days=DAYS + 1))
    sql = f"SELECT * FROM {labels_in_force_sql('labels', wide, AS_OF)} AS l ORDER BY 1"
    got = connection.execute(sql).df()
    assert want["label"].sum() > 10 and (want["label"] == 0).sum() > 0  # flipped ones are legit
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_the_sql_athena_is_sent_gives_the_duckdb_engine_s_figures(aws: LocalAws, s3: Any) -> None:
    """The text the Athena engine sends, run by DuckDB, gives the DuckDB engine's figures;
    those rows, served back as Athena serves results (text cells after a header row, through
    moto's canned results: moto does not run SQL), give the same figures again."""
    athena = aws.client("athena")
    athena.create_work_group(
        Name="fraud", Configuration={"ResultConfiguration": {"OutputLocation": "s3://log/athena/"}}
    )
    engine = AthenaEngine(athena, "fraud", "fraud_lake", poll_s=0.01)
    rule = compile_rule(ECOM_BURST, backtest_schema(FEATURE_NAMES))
    text = engine.backtest_sql(rule, "alert", WINDOW, AS_OF, DELAY)

    archive = ArchiveRange("s3://log", FIRST.date(), (FIRST + timedelta(days=DAYS)).date())
    label_frame = read_kind(s3, archive, LABELS)

    def athena_text(connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
        connection.execute("CREATE SCHEMA fraud_lake")
        connection.execute("CREATE VIEW fraud_lake.decisions AS SELECT * FROM decision_copies")
        connection.register("label_frame", label_frame)
        connection.execute("CREATE VIEW fraud_lake.labels AS SELECT * FROM label_frame")
        return run_query(connection, text, pd.DataFrame({"transaction_id": [], "label": []}))

    rows = read_log(archive, athena_text, s3)
    figures = run(s3, "log", ECOM_BURST)
    assert backtest_result(WINDOW, AS_OF - DELAY, rows) == figures

    cells = [list(DAY_COLUMNS), *([str(value) for value in row] for row in rows)]
    canned = [{"Data": [{"VarCharValue": cell} for cell in row]} for row in cells]
    requests.post(
        f"{aws.endpoint}/moto-api/static/athena/query-results",
        json={"region": REGION, "results": [{"rows": canned}]},
        timeout=10,
    ).raise_for_status()
    assert engine.backtest(rule, "alert", WINDOW, AS_OF, DELAY) == figures
    executions = athena.list_query_executions(WorkGroup="fraud")["QueryExecutionIds"]
    sent = athena.get_query_execution(QueryExecutionId=executions[0])["QueryExecution"]
    assert sent["QueryExecutionContext"]["Database"] == "fraud_lake"
    assert sent["Query"] == text


def test_the_cli_prints_the_figures_and_json(
    aws: LocalAws, s3: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    args = ["--decisions", "s3://log", "--expression", ECOM_BURST, "--from", stamp(WINDOW.start)]
    args += ["--to", stamp(WINDOW.end), "--as-of", stamp(AS_OF), "--label-delay-days", "7"]
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == run(s3, "log", ECOM_BURST)
    assert main(args) == 0
    assert "hits in" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main([*args[:3], "amount >", *args[4:]])
    assert exit_.value.code == 2
    assert "1:" in capsys.readouterr().err


# ---- the routes, through the local server (the Lambda handler, DuckDB as its engine) ----

DRAFT = {"name": "ecom_burst", "expression": ECOM_BURST, "outcome": "alert", "severity": "high"}
WINDOW_BODY = {"from": stamp(WINDOW.start), "to": stamp(WINDOW.end)}


def hits_record(
    transaction: str,
    hours_ago: float,
    active: list[str] | None,
    shadow: list[str] | None,
    alerted: bool,
) -> str:
    now = datetime.now(UTC)
    row = pd.Series(
        {
            "transaction_id": transaction,
            "event_time": now - timedelta(hours=hours_ago),
            "channel": "ecom",
            "amount": 10.0,
            "count_10m": 0.0,
            "score": 0.9 if alerted else 0.1,
        },
        name=0,
    )
    record = json.loads(decision(next(pd.DataFrame([row]).itertuples())))
    record.update(rule_hits=active, shadow_rule_hits=shadow)
    return json.dumps(record)


@pytest.fixture(scope="module")
def api(transactions: pd.DataFrame) -> Iterator[ApiUnderTest]:
    for under_test in started_api():
        s3 = under_test.aws.client("s3")
        log = [decision(row) for row in transactions.itertuples()]
        recent = [
            hits_record("h-1", 1, ["ecom_burst"], None, True),
            hits_record("h-2", 2, ["ecom_burst", "big_amount"], ["new_rule"], False),
            hits_record("h-3", 3, None, ["new_rule"], False),
            hits_record("h-4", 30, ["ecom_burst"], None, True),  # older than 24 hours
        ]
        deliver_decisions(s3, ARCHIVE_BUCKET, [*log, *recent])
        deliver_decisions(s3, ARCHIVE_BUCKET, recent[:2])  # redelivered
        deliver(s3, ARCHIVE_BUCKET, LABELS, labels(transactions))
        yield under_test


def test_the_backtest_route_returns_the_figures(
    api: ApiUnderTest, transactions: pd.DataFrame
) -> None:
    response = api.post("/rules/backtest", {"rule": DRAFT, **WINDOW_BODY})
    assert response.status_code == 200, response.text
    body = response.json()
    as_of = datetime.fromisoformat(body["labels_matured_before"]) + DELAY
    assert abs((datetime.now(UTC) - as_of).total_seconds()) < 60
    assert body == expected(transactions, burst(transactions), "alert", as_of)


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"rule": {**DRAFT, "expression": "amount >"}}, 422, "body.rule.expression: 1:"),
        ({"rule": {**DRAFT, "expression": "device_id == 'd'"}}, 422, "unknown field 'device_id'"),
        ({"to": "2026-11-15T00:00:00Z"}, 422, "body.to: the window is at most 31 days"),
        ({"from": "last week"}, 422, "body.from: not an RFC 3339 instant"),
        ({"rule": {**DRAFT, "outcome": "block"}}, 422, "body.rule.outcome"),
    ],
)
def test_a_bad_backtest_request_is_a_422_naming_the_place(
    api: ApiUnderTest, change: dict[str, Any], status: int, message: str
) -> None:
    response = api.post("/rules/backtest", {"rule": DRAFT, **WINDOW_BODY, **change})
    assert response.status_code == status, response.text
    assert message in response.json()["message"]


def test_readers_may_not_backtest_but_may_read_rule_hits(api: ApiUnderTest) -> None:
    assert (
        api.post("/rules/backtest", {"rule": DRAFT, **WINDOW_BODY}, user="reader").status_code
        == 403
    )
    assert api.get("/rules/hits", user="reader").status_code == 200
    assert api.get("/rules/hits", user=None).status_code == 401


def test_rule_hits_count_active_and_shadow_hits_of_the_last_hours_once(api: ApiUnderTest) -> None:
    response = api.get("/rules/hits")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "hours": 24,
        "items": [
            {"rule": "ecom_burst", "hits": 2, "alerts": 1},
            {"rule": "new_rule", "hits": 2, "alerts": 0},
            {"rule": "big_amount", "hits": 1, "alerts": 0},
        ],
    }
    wider = api.get("/rules/hits", hours=48).json()["items"]
    assert wider[0] == {"rule": "ecom_burst", "hits": 3, "alerts": 2}
    assert api.get("/rules/hits", hours=169).status_code == 422
