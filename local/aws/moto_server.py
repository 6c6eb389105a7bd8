"""`python -m local.aws.moto_server -H HOST -p PORT`: moto's server, with fixes for scale.

moto's Kinesis shard does work in proportion to the stream's length on every call: it
answers GetRecords by walking every record it ever stored, from the first, and finds the
last sequence number for each record put by copying all of them into a list. That is not
how Kinesis behaves, and it slowed the local pipeline down as a run went on (latency grew
with the number of records already sent; at 45,000 records stored the producer managed
630 of 1,000 records/s). Here a shard answers GetRecords from the position after the
iterator's by bisection over its sorted sequence numbers, and its first and last sequence
numbers in constant time. moto's put is not safe for concurrency (its own comment): two
PutRecords at once, as the job's Kinesis sinks send them, could take one sequence number
and one record would overwrite the other, or be inserted out of order and skipped by a
reader; here puts and reads of a shard take one lock. The server also lists moto's service
folders once instead of on every request, and does not log every request. Requests,
responses and errors stay moto's.

Managed Service for Apache Flink (Kinesis Analytics v2) as moto 5.2.6 serves it answers
CreateApplication and DescribeApplication only, in a shape AWS's SDKs refuse: timestamps as
ISO text where the API has epoch seconds, no ApplicationName in an ApplicationDetail, an
application STARTING forever where a new one is READY, and a server error for an unknown
one. Here an application is READY, timestamps are epoch seconds, the detail names its
application, an unknown one is ResourceNotFoundException, and
DeleteApplication exists: what `terraform apply` and `terraform destroy` of
infra/terraform need (tests/test_terraform_moto.py). Two more of moto's answers that
Terraform cannot read are corrected: SES v2's GetConfigurationSet nests SendingOptions in
itself; and a policy statement whose condition does not hold *denies* in moto (AWS: it does
not apply), so the buckets' TLS-only statement refused every object put. moto does not know
a request's transport: here that statement does not apply (on AWS it refuses plain HTTP).
A timestamp sent in epoch milliseconds (the job's Kinesis consumer asks for AT_TIMESTAMP so,
to start at LATEST as deployed) is read as such instead of failing. CloudWatch needs nothing
here: the provider's SDK puts alarms and dashboards in Smithy RPC v2 CBOR, which moto serves
itself from 5.2.6 (requirements.lock pins it; 5.2.5 answered 404).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto import backends
from moto.athena.models import AthenaBackend
from moto.core import parse
from moto.core.exceptions import JsonRESTError
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.kinesis.models import Shard
from moto.kinesisanalyticsv2.models import Application, KinesisAnalyticsV2Backend
from moto.kinesisanalyticsv2.responses import KinesisAnalyticsV2Response
from moto.server import main
from moto.ses.models import ConfigurationSet


def _sequence_numbers(shard: Any) -> list[int]:
    """The shard's sequence numbers in order; records are only ever appended."""
    known: list[int] = shard.__dict__.setdefault("_sorted_sequence_numbers", [])
    missing = len(shard.records) - len(known)
    if missing > 0:
        known.extend(reversed(list(itertools.islice(reversed(shard.records), missing))))
    elif missing < 0:  # records were removed: start again
        known[:] = list(shard.records)
    return known


_SHARDS_LOCK = threading.Lock()
_moto_put_record: Callable[..., str] = Shard.put_record


def put_record(shard: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
    with _SHARDS_LOCK:
        return _moto_put_record(shard, partition_key, data, explicit_hash_key)


def get_records(shard: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    with _SHARDS_LOCK:
        return _get_records(shard, last_sequence_id, limit)


def _get_records(
    shard: Any, last_sequence_id: str, limit: int | None
) -> tuple[list[Any], int, int]:
    numbers = _sequence_numbers(shard)
    start = bisect.bisect_right(numbers, int(last_sequence_id))
    stop = len(numbers) if limit is None else min(len(numbers), start + limit)
    chosen = numbers[start:stop]
    if not chosen:
        return [], int(last_sequence_id), 0
    records = [shard.records[n] for n in chosen]
    latest = shard.records[numbers[-1]]
    behind_ms = int((latest.created_at - records[-1].created_at).total_seconds() * 1000)
    return records, chosen[-1], behind_ms


def get_min_sequence_number(shard: Any) -> int:
    return next(iter(shard.records), 0)  # records are kept in insertion (sequence) order


def get_max_sequence_number(shard: Any) -> int:
    return next(reversed(shard.records), 0)


# moto lists its own package folders on every request; they do not change while it runs
_list_of_moto_modules = backends.list_of_moto_modules
moto_modules = functools.cache(lambda: tuple(_list_of_moto_modules()))


class ApplicationNotFoundError(JsonRESTError):
    def __init__(self, name: str) -> None:
        super().__init__("ResourceNotFoundException", f"Application {name} not found")


_moto_application_init = Application.__init__
_moto_describe_application = KinesisAnalyticsV2Backend.describe_application
_moto_create_application = KinesisAnalyticsV2Backend.create_application


def _application_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """An ApplicationDetail as the API has it: epoch timestamps, and the ApplicationName that
    moto leaves out (the provider reads the name back from it and, finding none, lost the
    application from its state: destroy left it behind)."""
    for key in ("CreateTimestamp", "LastUpdateTimestamp", "ApplicationVersionCreateTimestamp"):
        value = detail.get(key)
        if isinstance(value, str):
            detail[key] = datetime.fromisoformat(value).timestamp()
    detail.setdefault("ApplicationName", detail["ApplicationARN"].rsplit("/", 1)[1])
    return detail


def application_init(app: Any, *args: Any, **kwargs: Any) -> None:
    _moto_application_init(app, *args, **kwargs)
    app.application_status = "READY"  # created, not started: what AWS reports


def create_application(backend: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return _application_detail(_moto_create_application(backend, *args, **kwargs))


def describe_application(backend: Any, application_name: str) -> dict[str, Any]:
    if application_name not in backend.applications:
        raise ApplicationNotFoundError(application_name)
    return _application_detail(_moto_describe_application(backend, application_name))


def delete_application(response: Any) -> str:
    name = response._get_param("ApplicationName")
    backend = response.kinesisanalyticsv2_backend
    app = backend.applications.pop(name, None)
    if app is None:
        raise ApplicationNotFoundError(name)
    backend.tagger.delete_all_tags_for_resource(app.application_arn)
    return "{}"


_moto_statement_permitted = IAMPolicyStatement.is_action_permitted
_moto_configuration_set_v2 = ConfigurationSet.to_dict_v2


def statement_permitted(statement: Any, action: str, *args: Any, **kwargs: Any) -> Any:
    """A statement whose condition does not hold, or names a key the request does not carry
    (moto knows no aws:SecureTransport), does not apply; moto denies in both cases."""
    incoming = kwargs.get("incoming_condition_values", args[2] if len(args) > 2 else None)
    conditions = statement._statement.get("Condition") or {}
    keys = {key for operation in conditions.values() for key in operation}
    if conditions and (
        not keys <= set(incoming or {}) or not statement._check_conditions(incoming)
    ):
        return PermissionResult.NEUTRAL
    return _moto_statement_permitted(statement, action, *args, **kwargs)


def configuration_set_v2(config_set: Any) -> dict[str, Any]:
    """SendingOptions as SES v2 has it (moto stores the whole SendingOptions as `enabled`)."""
    document: dict[str, Any] = _moto_configuration_set_v2(config_set)
    sending = document["SendingOptions"]["SendingEnabled"]
    if isinstance(sending, dict):
        document["SendingOptions"] = {"SendingEnabled": bool(sending.get("SendingEnabled", True))}
    return document


_moto_athena_tags = AthenaBackend.list_tags_for_resource


def athena_tags(backend: Any, resource_arn: str) -> Any:
    """Athena's tags of an ARN built without the account (a provider that skipped asking
    for it, as Terraform against moto does): the region's account's."""
    parts = resource_arn.split(":")
    if len(parts) > 5 and parts[4] == "":
        parts[4] = backend.account_id
    return _moto_athena_tags(backend, ":".join(parts))


_moto_timestamp = parse.default_timestamp_parser


def timestamp(value: Any) -> datetime:
    """A request's timestamp; an epoch number too large for seconds is read as milliseconds.
    The job's Kinesis consumer (AWS SDK v1 with CBOR off, as moto needs) asks GetShardIterator
    for AT_TIMESTAMP, which it uses to start at LATEST, in epoch milliseconds, and moto read
    it as seconds (year 58904: a server error, the job restarting forever)."""
    try:
        parsed: datetime = _moto_timestamp(value)
    except (ValueError, OverflowError):
        if isinstance(value, str) and not value.replace(".", "", 1).isdigit():
            raise
        parsed = _moto_timestamp(str(float(value) / 1000))
    return parsed


# methods and a function replaced on purpose
setattr(Shard, "put_record", put_record)  # noqa: B010
setattr(Shard, "get_records", get_records)  # noqa: B010
setattr(Shard, "get_min_sequence_number", get_min_sequence_number)  # noqa: B010
setattr(Shard, "get_max_sequence_number", get_max_sequence_number)  # noqa: B010
setattr(backends, "list_of_moto_modules", moto_modules)  # noqa: B010
setattr(Application, "__init__", application_init)  # noqa: B010
setattr(KinesisAnalyticsV2Backend, "create_application", create_application)  # noqa: B010
setattr(KinesisAnalyticsV2Backend, "describe_application", describe_application)  # noqa: B010
setattr(KinesisAnalyticsV2Response, "delete_application", delete_application)  # noqa: B010
setattr(IAMPolicyStatement, "is_action_permitted", statement_permitted)  # noqa: B010
setattr(ConfigurationSet, "to_dict_v2", configuration_set_v2)  # noqa: B010
setattr(AthenaBackend, "list_tags_for_resource", athena_tags)  # noqa: B010
setattr(parse, "default_timestamp_parser", timestamp)  # noqa: B010

if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
    main()
