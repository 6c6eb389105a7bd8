"""The fan-out Lambda's configuration as its environment variables (what Terraform sets on
the function), and that environment applied to this process pointed at the local AWS."""

from __future__ import annotations

import os
from collections.abc import Mapping

from lambdas.alert_fanout import handler as fanout_handler
from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws, aws_env


def function_environment(config: FanoutConfig, deadletter_queue_url: str) -> dict[str, str]:
    """The Lambda function's environment variables for `config`."""
    return {
        "ALERTS_BUCKET": config.alerts_bucket,
        "ALERTS_PREFIX": config.lake_prefix,
        "ALERTS_TABLE": config.alerts_table,
        "EMAIL_STATE_TABLE": config.email_state_table,
        "EMAIL_FROM": config.email_from,
        "EMAIL_TO": ",".join(config.email_to),
        "EMAIL_MIN_SEVERITY": config.email_min_severity,
        "EMAIL_CARD_INTERVAL_SECONDS": str(config.email_card_interval_s),
        "CONSOLE_BASE_URL": config.console_base_url,
        "SES_TEMPLATE": config.ses_template,
        "EMAIL_RENDERING": config.email_rendering,
        "DEADLETTER_QUEUE_URL": deadletter_queue_url,
        "POWERTOOLS_METRICS_NAMESPACE": "FraudStream",
    }


def apply_function_environment(aws: LocalAws, environment: Mapping[str, str]) -> None:
    """Set the handler's environment in this process, as Lambda would, pointed at `aws`."""
    os.environ.update({**aws_env(aws.endpoint), **environment})
    fanout_handler.use_fanout(None)
