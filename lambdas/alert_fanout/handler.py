"""Lambda entry points of the alert fan-out.

`lambda_handler`: Kinesis event-source mapping on `alerts`, with `ReportBatchItemFailures`:
only the records that failed are reported and retried. `flush_handler`: an EventBridge
schedule; e-mails the alerts held back for cards whose e-mail interval has ended.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts.card_number import mask_card_numbers

from .config import FanoutConfig
from .fanout import AlertFanout, FanoutResult, RecordSource
from .mail import EmailOutcome

logger = Logger(service="alert-fanout")
metrics = Metrics(namespace="FraudStream", service="alert-fanout")
# A batch whose records all failed is still a partial response (every record listed), not
# a function error: the mapping retries from the first failure either way.
processor = BatchProcessor(
    event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False
)

_fanout: AlertFanout | None = None


def fanout() -> AlertFanout:
    """The fan-out, built from the environment on first use (once per Lambda container)."""
    global _fanout
    if _fanout is None:
        _fanout = AlertFanout.from_config(FanoutConfig.from_env())
    return _fanout


def use_fanout(instance: AlertFanout | None) -> None:
    """Replace the fan-out (tests, the local poller); None rebuilds it from the environment."""
    global _fanout
    _fanout = instance


def record_handler(record: KinesisStreamRecord) -> str:
    source = RecordSource(
        event_source_arn=record.event_source_arn,
        event_id=record.event_id,
        sequence_number=record.kinesis.sequence_number,
        partition_key=record.kinesis.partition_key,
        approximate_arrival_timestamp=record.kinesis.approximate_arrival_timestamp,
    )
    try:
        result = fanout().process(record.kinesis.data_as_bytes(), source)
    except Exception as error:
        logger.exception(
            "alert fan-out failed; the record will be retried",
            extra={
                "sequence_number": source.sequence_number,
                "reason": mask_card_numbers(repr(error)),
            },
        )
        metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=1)
        raise
    _record_metrics(result)
    return result.alert.alert_id if result.alert else source.sequence_number


def _record_metrics(result: FanoutResult) -> None:
    if result.dead_letter_reason is not None:
        reason = mask_card_numbers(result.dead_letter_reason)
        logger.warning("malformed alert dead-lettered", extra={"reason": reason})
        metrics.add_metric(name="AlertsMalformed", unit=MetricUnit.Count, value=1)
        return
    counts = {
        "LakeObjectsWritten": result.lake_written,
        "AlertsStored": result.stored,
        "AlertsRedelivered": not result.stored,
        "EmailsSent": result.email in (EmailOutcome.SENT, EmailOutcome.RESENT),
        "EmailsResentAfterUnknownOutcome": result.email is EmailOutcome.RESENT,
        "AlertsHeldForNextEmail": result.email is EmailOutcome.QUEUED,
    }
    for name, happened in counts.items():
        if happened:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    for name, milliseconds in result.metrics.items():
        metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=milliseconds)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event, record_handler, processor, context))


@logger.inject_lambda_context
@metrics.log_metrics
def flush_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = fanout().mailer.flush_due()
    metrics.add_metric(name="SummaryEmailsSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="SummaryEmailsFailed", unit=MetricUnit.Count, value=len(report.failed))
    if report.failed:
        logger.warning("summary e-mails failed; retried at the next flush", extra=report.failed)
    return {"summary_emails_sent": report.sent, "failed_cards": report.failed}
