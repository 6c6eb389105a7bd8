"""The transaction and label archive (infra/terraform/modules/archive), parsed with
python-hcl2 and held against the code: the Glue tables are Transaction v1 and Label v1 as
the job parses them, Firehose writes where the tables' partition projection reads, the
masking Lambda it calls is the packaged handler, and the root module feeds it the two
streams the job reads."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from contracts.decision import DECISION_V1
from contracts.label import LABEL_V1
from contracts.transaction import TRANSACTION_V1
from infra.package import ARCHIVE_MASK_ZIP, build_archive_mask_zip
from model_export import decision_log
from model_export.decision_log import DECISIONS
from tests.test_terraform_checks import terraform_test_module
from tests.test_terraform_wiring import MODULES, ROOT, TERRAFORM, blocks, defaults, named

ARCHIVE = MODULES / "archive"
HIVE_TYPES = {"string": "string", "timestamp": "string", "number": "double"}
CONTRACTS = {"transactions": TRANSACTION_V1, "labels": LABEL_V1}


def resources() -> dict[str, dict[str, Any]]:
    return blocks(ARCHIVE, "resource")


def delivery() -> dict[str, Any]:
    stream = resources()["aws_kinesis_firehose_delivery_stream.archive"]
    configuration: dict[str, Any] = stream["extended_s3_configuration"][0]
    return configuration


def processors() -> list[dict[str, Any]]:
    processing = delivery()["processing_configuration"][0]
    assert processing["enabled"] is True
    found: list[dict[str, Any]] = processing["processors"]
    return found


def parameters(processor: dict[str, Any]) -> dict[str, str]:
    return {p["parameter_name"]: p["parameter_value"] for p in processor["parameters"]}


def test_glue_tables_are_transaction_v1_and_label_v1_as_the_job_parses_them() -> None:
    columns = named(ARCHIVE, "locals")["columns"]
    assert set(columns) == set(CONTRACTS)
    for kind, contract in CONTRACTS.items():
        expected = [{"name": f.name, "type": HIVE_TYPES[f.type]} for f in contract.fields]
        assert columns[kind] == expected, kind
    table = resources()["aws_glue_catalog_table.archive"]
    assert table["for_each"] == "${local.columns}"
    assert [key["name"] for key in table["partition_keys"]] == ["dt"]
    serde = table["storage_descriptor"][0]["ser_de_info"][0]["serialization_library"]
    assert serde.endswith("ParquetHiveSerDe")


def test_firehose_writes_the_partitions_the_tables_project() -> None:
    table = resources()["aws_glue_catalog_table.archive"]
    template = table["parameters"]["storage.location.template"]
    prefix = delivery()["prefix"]
    # Both are <kind prefix>dt=<day>/ below the bucket: the day from the record's event_time.
    assert template.endswith("${local.prefixes[each.key]}dt=$${dt}/")
    assert prefix == "${local.prefixes[each.key]}dt=!{partitionKeyFromQuery:dt}/"
    assert table["parameters"]["projection.dt.format"] == "yyyy-MM-dd"
    extraction = parameters(processors()[1])
    assert extraction["MetadataExtractionQuery"] == "{dt: .event_time[0:10]}"
    assert all("event_time" in c.names() for c in CONTRACTS.values())
    assert "!{firehose:error-output-type}" in delivery()["error_output_prefix"]


def test_records_are_masked_before_anything_reads_them_then_converted_to_parquet() -> None:
    mask, extract = processors()
    assert mask["type"] == "Lambda" and extract["type"] == "MetadataExtraction"
    assert parameters(mask)["LambdaArn"].startswith("${aws_lambda_function.mask.arn}")
    conversion = delivery()["data_format_conversion_configuration"][0]
    serializer = conversion["output_format_configuration"][0]["serializer"][0]
    assert "parquet_ser_de" in serializer
    schema = conversion["schema_configuration"][0]
    assert schema["table_name"] == "${aws_glue_catalog_table.archive[each.key].name}"
    assert delivery()["kms_key_arn"] == "${var.kms_key_arn}"


def test_the_masking_lambda_runs_the_packaged_handler() -> None:
    function = resources()["aws_lambda_function.mask"]
    module_name, _, attribute = function["handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))
    zip_default = defaults(TERRAFORM)["archive_mask_zip"]
    assert (TERRAFORM / zip_default).resolve() == ROOT / "build" / "package" / ARCHIVE_MASK_ZIP


def test_buffering_respects_the_format_conversion_minimum() -> None:
    variables = named(ARCHIVE, "variable")
    assert variables["buffering_size_mb"]["default"] >= 64
    assert delivery()["buffering_size"] == "${var.buffering_size_mb}"


def test_the_root_module_archives_the_streams_the_job_reads() -> None:
    call = named(TERRAFORM, "module")["archive"]
    assert call["stream_arns"] == {
        "transactions": '${module.streams.arns["transactions"]}',
        "labels": '${module.streams.arns["labels"]}',
    }
    assert call["database_name"] == "${module.analytics.database_name}"
    assert call["kms_key_arn"] == "${module.kms.key_arn}"


def test_the_bucket_is_the_projects_encrypted_bucket_with_lifecycle_rules() -> None:
    bucket = named(ARCHIVE, "module")["bucket"]
    assert bucket["source"] == "../s3_bucket"
    assert bucket["kms_key_arn"] == "${var.kms_key_arn}"
    assert bucket["expiration_days"] == "${var.retention_days}"
    assert bucket["transition_to_ia_days"] == "${var.transition_to_ia_days}"
    firehose_policy = blocks(ARCHIVE, "data")["aws_iam_policy_document.firehose"]
    sids = {s["sid"] for s in firehose_policy["statement"]}
    assert {"ReadStreams", "WriteArchive", "ReadTableSchemas", "MaskCardNumbers", "UseKey"} <= sids
    glue = next(s for s in firehose_policy["statement"] if s["sid"] == "ReadTableSchemas")
    tables = {re.sub(r".*/", "", r) for r in glue["resources"] if ":table/" in r}
    assert tables == {*CONTRACTS, DECISIONS}


def test_the_module_plans_against_the_provider_schema(tmp_path: Path) -> None:
    """terraform test (modules/archive/tests/archive.tftest.hcl) with a mock provider and
    the masking zip infra/package.py builds."""
    zip_path = build_archive_mask_zip(tmp_path).path
    output = terraform_test_module(
        tmp_path, "archive", f"-var=mask_lambda_zip={zip_path}", calls=("s3_bucket", "service_role")
    )
    assert "5 passed, 0 failed" in output, output


def decision_delivery() -> dict[str, Any]:
    stream = resources()["aws_kinesis_firehose_delivery_stream.decisions"]
    configuration: dict[str, Any] = stream["extended_s3_configuration"][0]
    return configuration


def test_the_decision_logs_glue_table_is_decision_v1() -> None:
    columns = named(ARCHIVE, "locals")["decision_columns"]
    expected = [{"name": name, "type": kind} for name, kind in DECISION_V1.hive_columns()]
    assert columns == expected, "infra/terraform/modules/archive/main.tf locals.decision_columns"
    assert [(c["name"], c["type"]) for c in columns] == list(decision_log.COLUMNS)
    table = resources()["aws_glue_catalog_table.decisions"]
    (columns_block,) = table["storage_descriptor"][0]["dynamic"]
    assert columns_block["columns"]["for_each"] == "${local.decision_columns}"
    keys = [key["name"] for key in table["partition_keys"]]
    assert tuple(keys) == decision_log.PARTITION_COLUMNS


def test_the_decision_log_is_written_where_its_table_projects_and_the_reader_reads() -> None:
    table = resources()["aws_glue_catalog_table.decisions"]
    template = table["parameters"]["storage.location.template"]
    assert template.endswith("${local.decisions_prefix}dt=$${dt}/hour=$${hour}/")
    assert named(ARCHIVE, "locals")["decisions_prefix"] == f"{DECISIONS}/"
    prefix = decision_delivery()["prefix"]
    assert prefix == (
        "${local.decisions_prefix}dt=!{partitionKeyFromQuery:dt}/"
        "hour=!{partitionKeyFromQuery:hour}/"
    )
    (extract,) = decision_delivery()["processing_configuration"][0]["processors"]
    assert extract["type"] == "MetadataExtraction"  # no masking Lambda: see decisions.tf
    query = parameters(extract)["MetadataExtractionQuery"]
    assert query == "{dt: .event_time[0:10], hour: .event_time[11:13]}"
    # the reader's partition of an event time is the JQ query's
    assert decision_log.partition_key("2026-10-05T07:30:00.000Z") == "dt=2026-10-05/hour=07"
    assert table["parameters"]["projection.hour.digits"] == "2"


def test_the_decision_log_is_parquet_encrypted_and_fed_by_the_jobs_decisions_stream() -> None:
    stream = resources()["aws_kinesis_firehose_delivery_stream.decisions"]
    source = stream["kinesis_source_configuration"][0]
    assert source["kinesis_stream_arn"] == "${var.decisions_stream_arn}"
    conversion = decision_delivery()["data_format_conversion_configuration"][0]
    assert "parquet_ser_de" in conversion["output_format_configuration"][0]["serializer"][0]
    schema = conversion["schema_configuration"][0]
    assert schema["table_name"] == "${aws_glue_catalog_table.decisions.name}"
    assert decision_delivery()["kms_key_arn"] == "${var.kms_key_arn}"
    call = named(TERRAFORM, "module")["archive"]
    assert call["decisions_stream_arn"] == '${module.streams.arns["decisions"]}'
    firehose_policy = blocks(ARCHIVE, "data")["aws_iam_policy_document.firehose"]
    reads = next(s for s in firehose_policy["statement"] if s["sid"] == "ReadStreams")
    assert "${var.decisions_stream_arn}" in reads["resources"]


def test_the_job_may_write_the_decisions_stream() -> None:
    iam = blocks(MODULES / "flink_app", "data")["aws_iam_policy_document.this"]
    writes = next(s for s in iam["statement"] if s["sid"] == "WriteOutputStreams")
    assert "kinesis:PutRecords" in writes["actions"]
    assert "${var.decisions_stream_arn}" in writes["resources"]
