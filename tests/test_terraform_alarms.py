"""The CloudWatch alarms (infra/terraform/modules/monitoring/alarms.tf) watch what the code
really publishes, where Managed Flink publishes it.

- Every alarm on AWS/KinesisAnalytics reads a metric the job registers (names read from
  udfs/metrics.py and from the Java sources that register in the CloudWatch group) or one
  of Flink's own, under the Application dimension.
- The alarms the hardening asked for exist: late ratio, dropped records, dead-letter rate,
  refused models, fan-out DLQ depth; each expression uses only its own metrics.
- All alarms are one resource block over one map, notifying the module's SNS topic; the
  module plans against the provider's schema (`terraform test`, mock provider).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.test_terraform_checks import terraform_test_module
from tests.test_terraform_wiring import MODULES, ROOT, blocks, named
from udfs.metrics import (
    FETCH_FAILURES,
    LATE,
    PYTHON_METRICS,
    REFUSALS,
    RULESETS_REFUSED,
    SCORED,
    SHADOW_FAILURES,
    SHADOW_SKIPS,
)

MONITORING = MODULES / "monitoring"
JAVA = ROOT / "flink_job" / "src" / "main" / "java"
FLINK_NAMESPACE = "AWS/KinesisAnalytics"
# metrics Flink and Managed Flink publish themselves (AWS: "Metrics and dimensions in
# Managed Service for Apache Flink")
FLINK_OWN_METRICS = {"uptime", "fullRestarts", "numLateRecordsDropped"}
MATH_FUNCTIONS = {"IF", "DIFF", "FILL"}
JAVA_METRIC = re.compile(r'static final String \w*METRIC\w* = "(\w+)";')


def java_metrics() -> set[str]:
    """Metric names declared by the Java functions that register in the CloudWatch group."""
    names: set[str] = set()
    for path in JAVA.rglob("*.java"):
        text = path.read_text()
        if "CloudWatchMetrics.group(" in text:
            names.update(JAVA_METRIC.findall(text))
    return names


def job_metrics() -> set[str]:
    return set(PYTHON_METRICS) | java_metrics()


def alarms() -> dict[str, dict[str, Any]]:
    """The alarms written as literals (the Lambda ones are generated per function)."""
    local = named(MONITORING, "locals")
    return {**local["flink_alarms"], **local["stream_alarms"]}


def metrics_of(alarm: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = alarms()[alarm]["metrics"]
    return found


def test_the_alarms_are_one_resource_block_over_one_map_notifying_the_topic() -> None:
    resources = blocks(MONITORING, "resource")
    alarm_blocks = [k for k in resources if k.startswith("aws_cloudwatch_metric_alarm.")]
    assert alarm_blocks == ["aws_cloudwatch_metric_alarm.this"]
    alarm = resources["aws_cloudwatch_metric_alarm.this"]
    local = named(MONITORING, "locals")
    assert alarm["for_each"] == "${local.alarms}"
    assert (
        local["alarms"] == "${merge(local.flink_alarms, local.stream_alarms, local.lambda_alarms)}"
    )
    assert alarm["alarm_actions"] == "${local.everyone}"
    assert local["everyone"] == ["${aws_sns_topic.alarms.arn}"]


def test_the_java_functions_register_their_metrics_in_the_cloudwatch_group() -> None:
    assert LATE in java_metrics()  # udfs.metrics.LATE names the Java counter
    assert {"labels_unknown_transaction", "labels_duplicate_fraud"} <= java_metrics()
    for path in JAVA.rglob("*.java"):
        text = path.read_text()
        registers = re.search(r"getMetricGroup\(\)\s*\.\s*(counter|gauge|meter)\(", text)
        assert not registers, f"{path.relative_to(ROOT)} registers outside the CloudWatch group"


def test_every_flink_alarm_reads_a_metric_the_job_publishes_under_its_application() -> None:
    assert named(MONITORING, "locals")["flink"] == {"Application": "${var.flink_application_name}"}
    watched = set()
    for name, alarm in alarms().items():
        for metric in alarm["metrics"].values():
            if metric["namespace"] != FLINK_NAMESPACE:
                continue
            assert metric["name"] in job_metrics() | FLINK_OWN_METRICS, name
            assert metric["dimensions"] == "${local.flink}", name
            watched.add(metric["name"])
    assert {LATE, SCORED, REFUSALS, FETCH_FAILURES} <= watched


def test_the_late_ratio_divides_late_by_scored_transactions() -> None:
    metrics = metrics_of("late-ratio")
    assert {k: m["name"] for k, m in metrics.items()} == {"late": LATE, "scored": SCORED}
    expression = alarms()["late-ratio"]["expression"]
    assert "DIFF(late)" in expression and "/ DIFF(scored)" in expression
    assert alarms()["late-ratio"]["threshold"] == "${var.late_ratio_threshold}"


def test_refusals_failing_or_late_shadows_and_dropped_records_alarm_on_any_increase() -> None:
    for alarm, metric in (
        ("models-refused", REFUSALS),
        ("rulesets-refused", RULESETS_REFUSED),
        ("records-dropped", "numLateRecordsDropped"),
        ("shadow-scoring-failing", SHADOW_FAILURES),
        ("shadow-scoring-late", SHADOW_SKIPS),
    ):
        ((query, watched),) = metrics_of(alarm).items()
        assert watched["name"] == metric
        assert alarms()[alarm]["expression"] == f"FILL(DIFF({query}), 0)"
        assert alarms()[alarm]["comparison"] == "GreaterThanThreshold"
        assert alarms()[alarm]["threshold"] == 0


def test_the_deadletter_rate_and_the_fanout_dlq_depth_read_the_dead_letter_queues() -> None:
    rate = metrics_of("deadletter-rate")
    assert rate["deadletters"]["dimensions"] == {"StreamName": "${var.deadletter_stream_name}"}
    assert rate["transactions"]["dimensions"] == {"StreamName": "${var.transactions_stream_name}"}
    assert {m["name"] for m in rate.values()} == {"IncomingRecords"}
    ((_, depth),) = metrics_of("fanout-dlq-depth").items()
    assert (depth["namespace"], depth["name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert depth["dimensions"] == {"QueueName": "${var.fanout_queue_name}"}
    call = named(MODULES.parent, "module")["monitoring"]
    assert call["deadletter_stream_name"] == '${module.streams.names["deadletter"]}'
    assert call["fanout_queue_name"] == "${module.alert_fanout.on_failure_queue_name}"


def test_each_expression_reads_only_its_own_metrics() -> None:
    for name, alarm in alarms().items():
        ids = set(alarm["metrics"])
        assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]*", i) for i in ids), name  # CloudWatch ids
        if alarm["expression"] is None:
            assert len(ids) == 1, name
            continue
        used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", alarm["expression"])) - MATH_FUNCTIONS
        assert used == ids, name


def test_the_module_plans_against_the_provider_schema(tmp_path: Path) -> None:
    output = terraform_test_module(tmp_path, "monitoring")
    assert "2 passed, 0 failed" in output, output


def test_the_decision_logs_writes_and_deliveries_are_watched() -> None:
    ((_, throttled),) = metrics_of("decisions-write-throttled").items()
    assert (throttled["namespace"], throttled["name"]) == (
        "AWS/Kinesis",
        "WriteProvisionedThroughputExceeded",
    )
    assert throttled["dimensions"] == {"StreamName": "${var.decisions_stream_name}"}
    ((_, delivered),) = metrics_of("decision-log-delivery").items()
    assert (delivered["namespace"], delivered["name"]) == ("AWS/Firehose", "DeliveryToS3.Success")
    assert delivered["dimensions"] == {
        "DeliveryStreamName": "${var.decision_log_delivery_stream_name}"
    }
    assert alarms()["decision-log-delivery"]["comparison"] == "LessThanThreshold"
    call = named(MODULES.parent, "module")["monitoring"]
    assert call["decisions_stream_name"] == '${module.streams.names["decisions"]}'
    assert call["decision_log_delivery_stream_name"] == (
        "${module.archive.decisions_delivery_stream_name}"
    )
