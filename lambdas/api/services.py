"""What the routes use, built once per Lambda container from ApiConfig (or set by tests and
the local server with `use`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config

from rules.backtest import AthenaEngine

from .audit import AuditTrail
from .auth import TokenVerifier
from .backtests import Backtests
from .changes import ChangeStore
from .config import ApiConfig
from .labels import LabelWriter
from .ledger import LabelLedger
from .repository import AlertRepository
from .rulebook import RuleBook
from .rulestore import RuleStore
from .verdicts import Bounds, VerdictService


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    repository: AlertRepository
    verdicts: VerdictService
    verifier: TokenVerifier
    ledger: LabelLedger
    now: Callable[[], datetime] = field(default=_utc_now)
    #: Rules, lists and change requests; None without a RULES_ROOT.
    rulebook: RuleBook | None = None
    backtests: Backtests = field(default_factory=lambda: Backtests(None, timedelta(days=7)))

    @classmethod
    def from_config(cls, config: ApiConfig, now: Callable[[], datetime] = _utc_now) -> Services:
        def client(service: str) -> object:
            return boto3.client(
                service,  # type: ignore[call-overload]
                region_name=config.region,
                endpoint_url=config.aws_endpoint,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}),
            )

        repository = AlertRepository(
            client("dynamodb"),  # type: ignore[arg-type]
            config.alerts_table,
            lookback=timedelta(days=config.lookback_days),
            now=now,
        )
        labels = LabelWriter(client("kinesis"), config.labels_stream)  # type: ignore[arg-type]
        ledger = LabelLedger(client("dynamodb"), config.ledger_table)  # type: ignore[arg-type]
        audit = AuditTrail(client("s3"), config.audit_bucket)  # type: ignore[arg-type]
        bounds = Bounds(
            hold=timedelta(seconds=config.label_hold_s),
            verdict_quota=config.verdict_quota,
            terminal_label_budget=config.terminal_label_budget,
            history_cap=config.history_cap,
        )
        rulebook = None
        if config.rules_root:
            rulebook = RuleBook(
                RuleStore(client("s3"), config.rules_root),  # type: ignore[arg-type]
                ChangeStore(client("dynamodb"), config.changes_table),  # type: ignore[arg-type]
                audit,
                config.change_quota,
                now=now,
            )
        engine = (
            AthenaEngine(
                client("athena"),
                config.athena_workgroup,
                config.athena_database,
                config.athena_output_location or None,
                timeout_s=config.athena_timeout_s,
            )
            if config.backtest_engine == "athena"
            else None  # duckdb: the local server sets model_export.backtest's engine
        )
        return cls(
            repository=repository,
            verdicts=VerdictService(repository, labels, ledger, audit, bounds, now=now),
            verifier=TokenVerifier(config.jwt_issuer, config.jwt_audience, config.keys_url),
            ledger=ledger,
            now=now,
            rulebook=rulebook,
            backtests=Backtests(engine, timedelta(days=config.backtest_label_delay_days)),
        )


_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        _services = Services.from_config(ApiConfig.from_env())
    return _services


def current() -> Services | None:
    """The services in use, if built (the local server restores them when it stops)."""
    return _services


def use(instance: Services | None) -> None:
    """Replace the services (tests, the local server); None rebuilds them from the env."""
    global _services
    _services = instance
