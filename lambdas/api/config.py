"""The API's one typed configuration, read from environment variables in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

BACKTEST_ENGINES = ("athena", "duckdb")


class ConfigError(ValueError):
    """An environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class ApiConfig:
    alerts_table: str = "fraud-alerts"
    labels_stream: str = "labels"
    #: Token issuer (Cognito: https://cognito-idp.<region>.amazonaws.com/<pool id>).
    jwt_issuer: str = ""
    #: The console's app client id: the `aud` of ID tokens, `client_id` of access tokens.
    jwt_audience: str = ""
    #: Where the signing keys are; default `<issuer>/.well-known/jwks.json`.
    jwks_url: str = ""
    #: How far back `GET /alerts` looks when no `from` is given.
    lookback_days: int = 90
    #: The append-only verdict trail: an S3 bucket with Object Lock (compliance mode).
    audit_bucket: str = "fraud-verdict-audit"
    #: Analyst labels, their holds and the per-analyst counts (lambdas/api/ledger.py).
    ledger_table: str = "fraud-label-ledger"
    #: An analyst's label waits this long for a reversal before it reaches the stream,
    #: unless a second analyst gives the same label first.
    label_hold_s: int = 86_400
    #: Label-changing verdicts one analyst may give in 24 hours; past it, 429.
    verdict_quota: int = 200
    #: Labels one analyst alone may put on one terminal in 30 days; past it a label needs a
    #: second analyst's confirmation.
    terminal_label_budget: int = 3
    #: Entries in an alert's own verdict history; past it, 422.
    history_cap: int = 20
    #: The rule registry root the job reads (`rules.path`): s3://<bucket>/<prefix>; empty:
    #: the rules and lists routes answer 404 (no rules here).
    rules_root: str = ""
    #: Change requests on rules and lists (lambdas/api/changes.py).
    changes_table: str = "fraud-rule-changes"
    #: Change requests one analyst may make in 24 hours; past it, 429.
    change_quota: int = 50
    #: Where `POST /rules/backtest` and `GET /rules/hits` run their query: `athena` (AWS, the
    #: Glue tables of the decision log and the labels archive) or `duckdb` (the local server
    #: sets a DuckDB engine over DECISIONS_ROOT: model_export.backtest).
    backtest_engine: str = "athena"
    #: The decision log's bucket, s3://bucket[/prefix] (its labels archive too): `duckdb` only.
    decisions_root: str = ""
    athena_workgroup: str = "primary"
    athena_database: str = ""
    #: Query results location; empty: the workgroup's.
    athena_output_location: str = ""
    #: A backtest query running longer than this is stopped (API Gateway waits 30 s).
    athena_timeout_s: int = 25
    #: A decision's label counts once its event time is this many days before now.
    backtest_label_delay_days: int = 7
    region: str = "us-east-1"
    #: AWS endpoint override (the local moto server); None on AWS.
    aws_endpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.jwt_issuer:
            raise ConfigError("JWT_ISSUER is required (the token issuer URL)")
        if not self.jwt_audience:
            raise ConfigError("JWT_AUDIENCE is required (the console's client id)")
        for name, value, least in (
            ("ALERT_LOOKBACK_DAYS", self.lookback_days, 1),
            ("LABEL_HOLD_SECONDS", self.label_hold_s, 0),
            ("ANALYST_VERDICT_QUOTA", self.verdict_quota, 1),
            ("ANALYST_TERMINAL_LABEL_BUDGET", self.terminal_label_budget, 0),
            ("ALERT_HISTORY_CAP", self.history_cap, 1),
            ("ANALYST_CHANGE_QUOTA", self.change_quota, 1),
            ("ATHENA_TIMEOUT_SECONDS", self.athena_timeout_s, 1),
            ("BACKTEST_LABEL_DELAY_DAYS", self.backtest_label_delay_days, 0),
        ):
            if value < least:
                raise ConfigError(f"{name} must be >= {least}")
        if self.rules_root and not self.rules_root.startswith("s3://"):
            raise ConfigError("RULES_ROOT must be an s3://bucket/prefix")
        if self.backtest_engine not in BACKTEST_ENGINES:
            raise ConfigError(f"BACKTEST_ENGINE must be one of {', '.join(BACKTEST_ENGINES)}")

    @property
    def keys_url(self) -> str:
        return self.jwks_url or f"{self.jwt_issuer.rstrip('/')}/.well-known/jwks.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiConfig:
        env = os.environ if env is None else env

        def integer(name: str, default: int) -> int:
            text = env.get(name, str(default))
            try:
                return int(text)
            except ValueError:
                raise ConfigError(f"{name} must be an integer: {text!r}") from None

        return cls(
            alerts_table=env.get("ALERTS_TABLE", cls.alerts_table),
            labels_stream=env.get("LABELS_STREAM", cls.labels_stream),
            jwt_issuer=env.get("JWT_ISSUER", ""),
            jwt_audience=env.get("JWT_AUDIENCE", ""),
            jwks_url=env.get("JWKS_URL", ""),
            lookback_days=integer("ALERT_LOOKBACK_DAYS", cls.lookback_days),
            audit_bucket=env.get("AUDIT_BUCKET", cls.audit_bucket),
            ledger_table=env.get("LABEL_LEDGER_TABLE", cls.ledger_table),
            label_hold_s=integer("LABEL_HOLD_SECONDS", cls.label_hold_s),
            verdict_quota=integer("ANALYST_VERDICT_QUOTA", cls.verdict_quota),
            terminal_label_budget=integer(
                "ANALYST_TERMINAL_LABEL_BUDGET", cls.terminal_label_budget
            ),
            history_cap=integer("ALERT_HISTORY_CAP", cls.history_cap),
            rules_root=env.get("RULES_ROOT", cls.rules_root),
            changes_table=env.get("RULE_CHANGES_TABLE", cls.changes_table),
            change_quota=integer("ANALYST_CHANGE_QUOTA", cls.change_quota),
            backtest_engine=env.get("BACKTEST_ENGINE", cls.backtest_engine),
            decisions_root=env.get("DECISIONS_ROOT", cls.decisions_root),
            athena_workgroup=env.get("ATHENA_WORKGROUP", cls.athena_workgroup),
            athena_database=env.get("ATHENA_DATABASE", cls.athena_database),
            athena_output_location=env.get("ATHENA_OUTPUT_LOCATION", cls.athena_output_location),
            athena_timeout_s=integer("ATHENA_TIMEOUT_SECONDS", cls.athena_timeout_s),
            backtest_label_delay_days=integer(
                "BACKTEST_LABEL_DELAY_DAYS", cls.backtest_label_delay_days
            ),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", cls.region)),
            aws_endpoint=env.get("AWS_ENDPOINT_URL") or None,
        )
