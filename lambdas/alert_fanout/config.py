"""The fan-out's one typed configuration, read from environment variables in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from contracts.alert import SEVERITIES

EMAIL_RENDERINGS = ("handler", "ses")


class ConfigError(ValueError):
    """An environment variable is missing or invalid."""


@dataclass(frozen=True)
class FanoutConfig:
    alerts_bucket: str = "fraud-alerts-lake"
    lake_prefix: str = "alerts/"
    alerts_table: str = "fraud-alerts"
    email_state_table: str = "fraud-alerts-email-state"
    email_from: str = "fraud-alerts@example.com"
    email_to: tuple[str, ...] = ("fraud-analysts@example.com",)
    email_min_severity: str = "high"
    email_card_interval_s: int = 900
    console_base_url: str = "http://localhost:5173"
    ses_template: str = "fraud-alert"
    email_rendering: str = "handler"
    deadletter_queue_url: str | None = None

    def __post_init__(self) -> None:
        if self.email_min_severity not in SEVERITIES:
            raise ConfigError(f"EMAIL_MIN_SEVERITY must be one of {', '.join(SEVERITIES)}")
        if self.email_card_interval_s < 0:
            raise ConfigError("EMAIL_CARD_INTERVAL_SECONDS must be >= 0")
        if self.email_rendering not in EMAIL_RENDERINGS:
            raise ConfigError(f"EMAIL_RENDERING must be one of {', '.join(EMAIL_RENDERINGS)}")
        if not self.email_to:
            raise ConfigError("EMAIL_TO must name at least one recipient")
        if self.lake_prefix and not self.lake_prefix.endswith("/"):
            raise ConfigError("ALERTS_PREFIX must end with '/'")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FanoutConfig:
        env = os.environ if env is None else env
        default = cls()
        recipients = env.get("EMAIL_TO", ",".join(default.email_to))
        interval = env.get("EMAIL_CARD_INTERVAL_SECONDS", str(default.email_card_interval_s))
        try:
            interval_s = int(interval)
        except ValueError:
            raise ConfigError(
                f"EMAIL_CARD_INTERVAL_SECONDS must be an integer: {interval!r}"
            ) from None
        return cls(
            alerts_bucket=env.get("ALERTS_BUCKET", default.alerts_bucket),
            lake_prefix=env.get("ALERTS_PREFIX", default.lake_prefix),
            alerts_table=env.get("ALERTS_TABLE", default.alerts_table),
            email_state_table=env.get("EMAIL_STATE_TABLE", default.email_state_table),
            email_from=env.get("EMAIL_FROM", default.email_from),
            email_to=tuple(a.strip() for a in recipients.split(",") if a.strip()),
            email_min_severity=env.get("EMAIL_MIN_SEVERITY", default.email_min_severity),
            email_card_interval_s=interval_s,
            console_base_url=env.get("CONSOLE_BASE_URL", default.console_base_url).rstrip("/"),
            ses_template=env.get("SES_TEMPLATE", default.ses_template),
            email_rendering=env.get("EMAIL_RENDERING", default.email_rendering),
            deadletter_queue_url=env.get("DEADLETTER_QUEUE_URL") or None,
        )
