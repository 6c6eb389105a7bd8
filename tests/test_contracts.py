"""Every consumer of a record contract follows contracts/ or fails here, saying which.

The Java parser's field lists, the job's sink tables and INSERTs, the fan-out's Alert, the
API's models and Label v1 records, the simulator's columns, Terraform's Glue table of the
alerts lake and the README's tables are all held to the one table of fields per contract.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contracts import CONTRACTS
from contracts.alert import ALERT_V1, SEVERITIES, severity
from contracts.deadletter import DEADLETTER_V1
from contracts.fields import NUMBER, Contract, ContractError, Field
from contracts.label import LABEL_V1, LABELS, SOURCES
from contracts.markdown import README, current_block, generated_block
from contracts.model import MODEL_MANIFEST, POINTER
from contracts.transaction import TRANSACTION_V1
from flink_job.decide import alert_insert_sql, alert_values
from flink_job.features import FEATURE_NAMES
from flink_job.pipeline import deadletter_insert_sql
from flink_job.sql import insert_by_name
from flink_job.tables import ALERT_COLUMNS, DEADLETTER_COLUMNS, JOB_DEADLETTER_OMITS
from lambdas.alert_fanout.alert import Alert, MalformedAlertError, parse_alert
from lambdas.alert_fanout.fanout import RecordSource, deadletter_record
from lambdas.api import models as api_models
from lambdas.api.labels import ANALYST, label_record
from local.traffic.demo_alerts import example_alert
from sample_data.records import NOT_SIMULATED, TRANSACTION_COLUMNS, TRUTH_COLUMNS
from tests.test_terraform_wiring import MODULES, named
from udfs.rulesets import severity_levels

ROOT = Path(__file__).resolve().parent.parent
PARSER_JAVA = (
    ROOT / "flink_job/src/main/java/io/fraudstream/parsing/TransactionParser.java"
).read_text()
ALERT = {
    "schema": "alert.v1",
    "alert_id": "0123456789abcdef0123456789abcdef",
    "transaction_id": "tx-1",
    "event_time": "2026-11-01T12:00:00.000Z",
    "card_id": "card_000001",
    "terminal_id": "term_00001",
    "amount": 0.0,
    "currency": "EUR",
    "merchant_category": None,
    "country": "FR",
    "channel": "pos",
    "score": 0.9,
    "threshold": 0.5,
    "severity": "high",
    "model_version": "m-1",
    "reasons": ["r"],
    "reason_codes": ["R"],
    "features": {"amount": 0.0},
    "late": False,
    "ingested_at": "2026-11-01T12:00:00.100Z",
    "detected_at": "2026-11-01T12:00:00.200Z",
}


def java_array(name: str) -> list[str]:
    match = re.search(rf"static final \w+\[\] {name} = \{{(.*?)\}};", PARSER_JAVA, re.S)
    assert match, f"TransactionParser.java has no array {name}"
    return [item.strip().strip('"') for item in match.group(1).split(",") if item.strip()]


def column_names(ddl: str) -> list[str]:
    return [line.split()[0].strip("`") for line in ddl.strip().splitlines()]


def test_the_java_parser_reads_transaction_v1_field_by_field() -> None:
    names = java_array("NAMES")
    assert names == list(TRANSACTION_V1.names()), "TransactionParser.NAMES vs contracts"
    numbers = [flag == "true" for flag in java_array("NUMBER")]
    assert numbers == [f.type == NUMBER for f in TRANSACTION_V1.fields], "NUMBER"
    required = re.search(r"static final int REQUIRED = (\d+);", PARSER_JAVA)
    assert required, "TransactionParser.REQUIRED is missing"
    first = int(required.group(1))
    assert TRANSACTION_V1.required_names() == TRANSACTION_V1.names()[:first], "REQUIRED"
    output = re.search(r'OUTPUT =\s*(".*?");', PARSER_JAVA, re.S)
    assert output, "TransactionParser.OUTPUT is missing"
    row = "".join(re.findall(r'"(.*?)"', output.group(1)))
    columns = [part.split()[0] for part in row.removeprefix("ROW<").split(", ")]
    assert sorted(columns) == sorted(["reject_reason", *TRANSACTION_V1.names()]), "OUTPUT"


def test_the_job_sinks_have_the_contracts_columns_in_order() -> None:
    assert column_names(ALERT_COLUMNS) == list(ALERT_V1.names())
    expected = [n for n in DEADLETTER_V1.names() if n not in JOB_DEADLETTER_OMITS]
    assert column_names(DEADLETTER_COLUMNS) == expected
    assert set(alert_values()) == set(ALERT_V1.names())
    assert "`detected_at`) SELECT" in alert_insert_sql()
    assert "AS `payload_sha256`" in deadletter_insert_sql()


def test_a_contract_field_without_an_expression_fails_the_insert_by_name() -> None:
    grown = dataclasses.replace(
        ALERT_V1, fields=(*ALERT_V1.fields, Field("merchant_name", "string", False, ""))
    )
    with pytest.raises(ContractError, match="merchant_name"):
        insert_by_name("alerts_sink", grown, alert_values(), "alerted_transactions")


@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.5, 0.81, 0.97])
def test_the_scoring_udfs_severity_is_the_contracts_bands(threshold: float) -> None:
    scores = np.array([threshold + i * (1.0 - threshold) / 60 for i in range(61)])
    levels = severity_levels(scores, threshold)
    for score, level in zip(scores, levels, strict=True):
        assert SEVERITIES[level] == severity(float(score), threshold), (score, threshold)
    assert severity(threshold, threshold) == SEVERITIES[0]
    assert severity(1.0, threshold) == SEVERITIES[-1]


def test_terraforms_alerts_lake_table_is_alert_v1() -> None:
    columns = named(MODULES / "analytics", "locals")["columns"]
    expected = [{"name": name, "type": kind} for name, kind in ALERT_V1.hive_columns()]
    assert columns == expected, "infra/terraform/modules/analytics/main.tf locals.columns"


def test_the_readme_tables_are_the_contracts() -> None:
    assert current_block(README.read_text()) == generated_block(), (
        "README.md's contract tables differ: run `python -m contracts.markdown --write`"
    )


def test_the_fanouts_alert_has_every_alert_v1_field() -> None:
    names = [f.name for f in dataclasses.fields(Alert)]
    assert ["schema", *names] == list(ALERT_V1.names())
    alert = parse_alert(json.dumps(ALERT))
    assert list(alert.to_record()) == list(ALERT_V1.names())
    assert alert.amount == 0.0, "a zero-amount verification is a valid alert"


@pytest.mark.parametrize("name", ALERT_V1.required_names())
def test_the_fanout_refuses_an_alert_without_a_required_field(name: str) -> None:
    record = {k: v for k, v in ALERT.items() if k != name}
    with pytest.raises(MalformedAlertError, match=name):
        parse_alert(json.dumps(record))


def test_the_fanouts_dead_letter_is_deadletter_v1() -> None:
    source = RecordSource("arn", "id", "1", "card", 0.0)
    record = deadletter_record(b"{}", source, "bad", 1.0)
    assert set(DEADLETTER_V1.required_names()) <= set(record) <= set(DEADLETTER_V1.names())
    assert record["schema"] == DEADLETTER_V1.schema


def test_the_api_speaks_alert_v1_and_label_v1() -> None:
    assert typing.get_args(api_models.Severity) == SEVERITIES
    assert typing.get_args(api_models.Label) == LABELS
    detail = set(api_models.AlertDetail.model_fields)
    assert set(ALERT_V1.names()) - {"schema"} <= detail
    assert ANALYST in SOURCES
    alert = {k: v for k, v in ALERT.items() if v is not None}
    record = label_record(
        alert, "fraud", "2026-11-02T00:00:00.000Z", actor="sub-1", verdict_id="v" * 32
    )
    assert list(record) == list(LABEL_V1.names())
    assert set(LABEL_V1.names()) - set(LABEL_V1.required_names()) == {"actor", "verdict_id"}


def test_the_simulator_writes_transaction_v1_then_the_truth() -> None:
    simulated = [n for n in TRANSACTION_V1.names() if n not in NOT_SIMULATED]
    assert list(TRANSACTION_COLUMNS) == [*simulated, *TRUTH_COLUMNS]


def test_a_trained_manifest_and_the_registry_pointer_follow_the_contract(
    trained_model: dict[str, Any],
) -> None:
    manifest = trained_model["manifest"]
    assert list(manifest) == list(MODEL_MANIFEST.names())
    registry = (ROOT / "model_export" / "registry.py").read_text()
    assert all(f'"{name}":' in registry for name in POINTER.names())


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.title)
def test_every_contract_names_each_field_once(contract: Contract) -> None:
    assert len(set(contract.names())) == len(contract.names())
    assert all(f.rule or not f.required or f.name.endswith("_id") for f in contract.fields)


@pytest.mark.parametrize("band", SEVERITIES)
def test_demo_alerts_are_alert_v1_with_the_jobs_features_and_bands(band: str) -> None:
    record = example_alert("tx-1", "card_000001", severity=band)
    alert = parse_alert(json.dumps(record))
    assert severity(alert.score, alert.threshold) == band
    assert set(alert.features) <= set(FEATURE_NAMES)
    assert {code.lower() for code in alert.reason_codes} <= set(FEATURE_NAMES)
