"""Fault test: SES fails on a random 30% of calls and every record is delivered twice.

After the mapping's retries (and the scheduled flush of held-back alerts), every alert is in
S3 and DynamoDB exactly once, and every alert at or above the e-mail severity appears in
exactly one of the e-mails moto's SES recorded.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdas.alert_fanout import handler
from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws
from local.aws.fanout_environment import function_environment
from local.aws.fanout_resources import provision_fanout, sent_emails
from local.aws.lambda_poller import LambdaPoller, MappingSettings
from local.traffic.demo_alerts import example_alert, put_alerts

SES_FAILURE_RATE = 0.3
ALERTS = 60
CARDS = 35


@dataclass
class FlakySes:
    """A botocore hook: throttles a seeded random share of SES SendEmail calls."""

    rate: float
    rng: random.Random
    calls: int = 0
    failures: int = 0

    def __call__(self, **_: Any) -> None:
        self.calls += 1
        if self.rng.random() < self.rate:
            self.failures += 1
            raise ClientError(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate"}},
                "SendEmail",
            )


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=("alerts",)) as local, mock.patch.dict(os.environ):
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        yield local
    handler.use_fanout(None)
    boto3.DEFAULT_SESSION = None


def alerts_with_repeated_cards(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    return [
        example_alert(
            f"t-{n:05d}",
            f"card_{rng.randrange(CARDS):04d}",
            severity=rng.choice(("low", "medium", "high")),
            detected_at=start + timedelta(minutes=3 * n),
        )
        for n in range(ALERTS)
    ]


def test_with_ses_failing_30_percent_and_every_record_twice_each_effect_happens_once(
    aws: LocalAws,
) -> None:
    config = FanoutConfig(email_min_severity="medium")
    queue_url = provision_fanout(aws.client, config)
    aws.client("s3").put_bucket_versioning(  # so that a second write of a key would show
        Bucket=config.alerts_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    alerts = alerts_with_repeated_cards(seed=11)
    deliveries = alerts + alerts
    random.Random(12).shuffle(deliveries)
    put_alerts(aws, deliveries)

    flaky_ses = FlakySes(SES_FAILURE_RATE, random.Random(13))
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.sesv2.SendEmail", flaky_ses)
    settings = MappingSettings(batch_size=10, maximum_retry_attempts=10)
    poller = LambdaPoller(
        aws, settings=settings, environment=function_environment(config, queue_url)
    )
    stats = poller.run_until_idle(timeout_s=60)
    flushes = flush_until_nothing_is_held(later_than=time.time())

    expected_ids = {alert["alert_id"] for alert in alerts}
    emailed_ids = {a["alert_id"] for a in alerts if a["severity"] in ("medium", "high")}
    print(
        f"\nfault figures: {len(deliveries)} records for {ALERTS} alerts on "
        f"{len({a['card_id'] for a in alerts})} cards; SES calls {flaky_ses.calls}, "
        f"failed {flaky_ses.failures}; invocations {stats.invocations}, retries {stats.retries}, "
        f"deliveries {stats.records_delivered}; flush rounds {flushes}; "
        f"e-mails {len(sent_emails(aws))} for {len(emailed_ids)} alerts at or above medium"
    )
    assert stats.records_delivered >= 2 * ALERTS
    assert flaky_ses.failures > 0 and stats.retries > 0
    assert stats.records_to_on_failure == 0

    assert lake_alert_ids(aws, config) == sorted(expected_ids)
    assert stored_alert_ids(aws, config) == sorted(expected_ids)

    bodies = [email["body"] for email in sent_emails(aws)]
    emails_per_alert = {alert_id: sum(alert_id in b for b in bodies) for alert_id in expected_ids}
    assert {i: n for i, n in emails_per_alert.items() if i in emailed_ids} == dict.fromkeys(
        emailed_ids, 1
    )
    assert all(emails_per_alert[i] == 0 for i in expected_ids - emailed_ids)


def flush_until_nothing_is_held(later_than: float) -> int:
    """Run the scheduled flush, each time past the last window, until no card holds alerts."""
    mailer = handler.fanout().mailer
    for rounds in range(1, 20):
        report = mailer.flush_due(now=later_than + rounds * 1000)
        if report.sent == 0 and not report.failed:
            return rounds
    raise AssertionError("held alerts were never e-mailed")


def lake_alert_ids(aws: LocalAws, config: FanoutConfig) -> list[str]:
    """The alert id of every object version written to the lake."""
    pages = aws.client("s3").get_paginator("list_object_versions")
    keys = [
        version["Key"]
        for page in pages.paginate(Bucket=config.alerts_bucket, Prefix=config.lake_prefix)
        for version in page.get("Versions", [])
    ]
    return sorted(key.rsplit("/", 1)[1].removesuffix(".json") for key in keys)


def stored_alert_ids(aws: LocalAws, config: FanoutConfig) -> list[str]:
    pages = aws.client("dynamodb").get_paginator("scan")
    return sorted(
        item["alert_id"]["S"]
        for page in pages.paginate(TableName=config.alerts_table)
        for item in page["Items"]
    )


def test_the_fault_hook_really_reaches_the_handlers_ses_client(aws: LocalAws) -> None:
    """Guards the fault test: with SES always failing, no e-mail gets out and records fail."""
    config = replace(FanoutConfig(), email_card_interval_s=0)
    queue_url = provision_fanout(aws.client, config)
    put_alerts(aws, [example_alert("t-1", "card_1", severity="high")])
    always_failing = FlakySes(1.0, random.Random(0))
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.sesv2.SendEmail", always_failing)
    settings = MappingSettings(maximum_retry_attempts=2)
    poller = LambdaPoller(
        aws, settings=settings, environment=function_environment(config, queue_url)
    )
    stats = poller.run_until_idle(timeout_s=30)

    assert always_failing.calls == 3 and sent_emails(aws) == []
    assert stats.records_to_on_failure == 1
