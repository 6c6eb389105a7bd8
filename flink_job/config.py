"""The job's one typed configuration object, read in one place.

Locally the job reads ``application_properties.json`` (the same shape Managed Flink
uses for runtime properties); on Managed Service for Apache Flink it reads
``/etc/flink/application_properties.json``. No other code path differs.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PROPERTY_GROUP = "FraudDetection"
MANAGED_FLINK_PROPERTIES = Path("/etc/flink/application_properties.json")
LOCAL_PROPERTIES = Path(__file__).with_name("application_properties.json")
PROPERTIES_ENV = "FRAUD_JOB_PROPERTIES"
EFO_CONSUMER = r"[a-zA-Z0-9_.-]{1,128}"  # Kinesis RegisterStreamConsumer's ConsumerName

# Every key the job reads from the FraudDetection property group, with its meaning.
# Terraform's property group must carry exactly these keys (tests/test_terraform_wiring.py).
KEYS: dict[str, str] = {
    "aws.region": "AWS region of the streams and buckets.",
    "aws.endpoint": "Endpoint override (local moto server); empty on AWS.",
    "transactions.stream": "Kinesis stream the Transaction v1 events are read from.",
    "labels.stream": "Kinesis stream the Label v1 records (chargebacks, verdicts) are read from.",
    "labels.delay_ms": "Terminal fraud risk at t uses labels of transactions before t minus this.",
    "alerts.stream": "Kinesis stream the Alert v1 records are written to.",
    "deadletter.stream": "Kinesis stream malformed events are written to, with their reason.",
    "decisions.stream": "Kinesis stream every Decision v1 record is written to (the decision log).",
    "decisions.sample_rate": "Share of non-alert decisions written, in (0, 1] (default 1); "
    "alerts are always written, each record carries its weight.",
    "source.initial_position": "Where a new job starts reading: LATEST or TRIM_HORIZON.",
    "source.poll_interval_ms": "Kinesis GetRecords interval per shard, in milliseconds.",
    "source.efo_consumer": "Enhanced fan-out consumer name for the transactions stream (the "
    "source subscribes to its shards, pushed within ~70 ms); empty: polling GetRecords.",
    "sink.max_buffer_ms": "Longest time the Kinesis sinks buffer a record, in milliseconds.",
    "watermark.max_out_of_orderness_ms": "Event-time out-of-order bound, in ms (default 300000).",
    "transactions.max_future_ms": "A transaction stamped later than its arrival plus this is "
    "dead-lettered, in ms.",
    "transactions.max_age_ms": "A transaction stamped earlier than its arrival minus this is "
    "dead-lettered, in ms.",
    "transactions.max_amount": "Largest amount accepted; a larger one is dead-lettered.",
    "labels.max_future_ms": "A label reported later than its arrival plus this is ignored, in ms.",
    "model.path": "Model directory or registry root (local or s3://) with the model to serve.",
    "model.poll_interval_ms": "How often the scorer checks the registry pointer for a new model.",
    "model.max_shadows": "Shadow models scored beside the current one at most (the first of "
    "the registry pointer's shadows); 0: none.",
    "model.shadow_budget_ms": "Longest a batch's decision waits for the shadow models once it "
    "is ready, in ms; a later shadow is skipped for a while (udfs.shadows).",
    "rules.path": "Rule registry root (local or s3://) with the rule set and lists to apply; "
    "empty: no rules.",
    "rules.poll_interval_ms": "How often the scorer checks the rule set's and lists' pointers.",
    "scoring.batch_size": "Rows per Arrow batch handed to the ONNX scorer.",
    "scoring.bundle_time_ms": "Longest time a Python bundle waits to fill, in milliseconds.",
    "parallelism": "Default operator parallelism (Managed Flink overrides it).",
    "outputs.since_ms": "Transactions that arrived on Kinesis before this instant (epoch ms) "
    "update the state but alert no one (after a bootstrap, docs/deployment.md); 0: all.",
}


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message says what to fix."""


@dataclass(frozen=True)
class JobConfig:
    """Typed view of the FraudDetection property group."""

    aws_region: str
    aws_endpoint: str
    transactions_stream: str
    labels_stream: str
    labels_delay_ms: int
    alerts_stream: str
    deadletter_stream: str
    decisions_stream: str
    decisions_sample_rate: float
    source_initial_position: str
    source_poll_interval_ms: int
    source_efo_consumer: str
    sink_max_buffer_ms: int
    watermark_max_out_of_orderness_ms: int
    transactions_max_future_ms: int
    transactions_max_age_ms: int
    transactions_max_amount: float
    labels_max_future_ms: int
    model_path: str
    model_poll_interval_ms: int
    model_max_shadows: int
    model_shadow_budget_ms: int
    rules_path: str
    rules_poll_interval_ms: int
    scoring_batch_size: int
    scoring_bundle_time_ms: int
    parallelism: int
    outputs_since_ms: int

    @classmethod
    def from_properties(cls, props: dict[str, str]) -> JobConfig:
        unknown = sorted(set(props) - set(KEYS))
        if unknown:
            raise ConfigError(
                f"unknown key(s) in property group {PROPERTY_GROUP}: {', '.join(unknown)}; "
                f"known keys are: {', '.join(sorted(KEYS))}"
            )
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = _key_for_field(f.name)
            if key not in props:
                raise ConfigError(f"missing key {key!r} in property group {PROPERTY_GROUP}")
            values[f.name] = _convert(key, props[key], f.type)
        config = cls(**values)
        config.validate()
        return config

    def to_properties(self) -> dict[str, str]:
        """The property group that `from_properties` reads back as this config."""
        return {_key_for_field(f.name): str(getattr(self, f.name)) for f in fields(self)}

    def validate(self) -> None:
        if self.source_initial_position not in ("LATEST", "TRIM_HORIZON"):
            raise ConfigError(
                "source.initial_position must be LATEST or TRIM_HORIZON, "
                f"got {self.source_initial_position!r}"
            )
        positive = {
            "source.poll_interval_ms": self.source_poll_interval_ms,
            "sink.max_buffer_ms": self.sink_max_buffer_ms,
            "model.poll_interval_ms": self.model_poll_interval_ms,
            "rules.poll_interval_ms": self.rules_poll_interval_ms,
            "scoring.batch_size": self.scoring_batch_size,
            "scoring.bundle_time_ms": self.scoring_bundle_time_ms,
            "parallelism": self.parallelism,
            "labels.delay_ms": self.labels_delay_ms,
            "transactions.max_age_ms": self.transactions_max_age_ms,
        }
        for key, value in positive.items():
            if value <= 0:
                raise ConfigError(f"{key} must be a positive integer, got {value}")
        for key, value in (
            ("watermark.max_out_of_orderness_ms", self.watermark_max_out_of_orderness_ms),
            ("transactions.max_future_ms", self.transactions_max_future_ms),
            ("labels.max_future_ms", self.labels_max_future_ms),
            ("outputs.since_ms", self.outputs_since_ms),
            ("model.max_shadows", self.model_max_shadows),
            ("model.shadow_budget_ms", self.model_shadow_budget_ms),
        ):
            if value < 0:
                raise ConfigError(f"{key} must be >= 0, got {value}")
        if self.source_efo_consumer and not re.fullmatch(EFO_CONSUMER, self.source_efo_consumer):
            raise ConfigError(
                "source.efo_consumer must be 1 to 128 letters, digits, '_', '.' or '-' "
                f"(Kinesis' consumer name), got {self.source_efo_consumer!r}"
            )
        if not 0.0 < self.decisions_sample_rate <= 1.0:
            raise ConfigError(
                f"decisions.sample_rate must be in (0, 1], got {self.decisions_sample_rate}"
            )
        if not (math.isfinite(self.transactions_max_amount) and self.transactions_max_amount > 0):
            raise ConfigError(
                "transactions.max_amount must be a finite number > 0, "
                f"got {self.transactions_max_amount}"
            )
        for key, name in (
            ("transactions.stream", self.transactions_stream),
            ("labels.stream", self.labels_stream),
            ("alerts.stream", self.alerts_stream),
            ("deadletter.stream", self.deadletter_stream),
            ("decisions.stream", self.decisions_stream),
            ("model.path", self.model_path),
            ("aws.region", self.aws_region),
        ):
            if not name:
                raise ConfigError(f"{key} must not be empty")


def _key_for_field(field_name: str) -> str:
    for key in KEYS:
        if key.replace(".", "_") == field_name:
            return key
    raise KeyError(field_name)


def _convert(key: str, raw: str, type_name: Any) -> Any:
    if type_name in (int, "int"):
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{key} must be an integer, got {raw!r}") from None
    if type_name in (float, "float"):
        try:
            return float(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{key} must be a number, got {raw!r}") from None
    return str(raw).strip()


def read_property_groups(path: Path) -> dict[str, dict[str, str]]:
    """Read a Managed-Flink-shaped properties file: a list of property groups."""
    try:
        groups = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"properties file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"properties file {path} is not valid JSON: {exc}") from None
    if not isinstance(groups, list):
        raise ConfigError(f"properties file {path} must hold a JSON list of property groups")
    result: dict[str, dict[str, str]] = {}
    for group in groups:
        try:
            result[group["PropertyGroupId"]] = {
                str(k): str(v) for k, v in group["PropertyMap"].items()
            }
        except (KeyError, TypeError, AttributeError):
            raise ConfigError(
                f"properties file {path}: every group needs PropertyGroupId and PropertyMap"
            ) from None
    return result


def write_properties(config: JobConfig, path: Path) -> None:
    """Write `config` as a properties file the job reads (via $FRAUD_JOB_PROPERTIES)."""
    groups = [{"PropertyGroupId": PROPERTY_GROUP, "PropertyMap": config.to_properties()}]
    path.write_text(json.dumps(groups, indent=2) + "\n")


def properties_path() -> Path:
    """Managed Flink's file when present, else $FRAUD_JOB_PROPERTIES, else the local file."""
    if MANAGED_FLINK_PROPERTIES.exists():
        return MANAGED_FLINK_PROPERTIES
    override = os.environ.get(PROPERTIES_ENV)
    return Path(override) if override else LOCAL_PROPERTIES


def load_config(path: Path | None = None) -> JobConfig:
    path = path or properties_path()
    groups = read_property_groups(path)
    if PROPERTY_GROUP not in groups:
        raise ConfigError(f"properties file {path} has no property group {PROPERTY_GROUP!r}")
    return JobConfig.from_properties(groups[PROPERTY_GROUP])
