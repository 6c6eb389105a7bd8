"""What the analyst API writes to besides the fan-out's alert table, made on the local AWS
as infra/terraform/modules/api makes it on AWS: the label ledger (DynamoDB, with its held and
per-terminal indexes), the change requests of rules and lists (DynamoDB, status and
requester indexes), the audit bucket (S3 Object Lock, compliance mode) and the bucket of
the rule registry (LOCAL_RULES_ROOT: the root a local job reads with
`rules_path=LOCAL_RULES_ROOT`, as the deployed job and API share
`s3://<artifacts bucket>/rules/`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from lambdas.api.changes import REQUESTER_INDEX, STATUS_INDEX
from lambdas.api.config import ApiConfig
from lambdas.api.ledger import ACTOR_TERMINAL_INDEX, HELD_INDEX

#: Days a verdict's audit record is locked (Terraform's var.audit_retention_days default).
AUDIT_RETENTION_DAYS = 400
#: The rule registry's root on the local AWS (Terraform: var.rules_prefix in the artifacts
#: bucket).
LOCAL_RULES_ROOT = "s3://fraud-artifacts/rules"


def _exists(error: ClientError, *codes: str) -> bool:
    return error.response.get("Error", {}).get("Code") in codes


def provision_api(client: Callable[[str], Any], config: ApiConfig) -> None:
    """Create the ledger table and the audit bucket unless they exist (idempotent)."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.create_table(
            TableName=config.ledger_table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("actor", "entry", "held", "release_after", "actor_terminal")
            ],
            KeySchema=[
                {"AttributeName": "actor", "KeyType": "HASH"},
                {"AttributeName": "entry", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": HELD_INDEX,
                    "KeySchema": [
                        {"AttributeName": "held", "KeyType": "HASH"},
                        {"AttributeName": "release_after", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": ACTOR_TERMINAL_INDEX,
                    "KeySchema": [
                        {"AttributeName": "actor_terminal", "KeyType": "HASH"},
                        {"AttributeName": "entry", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
        )
    except ClientError as error:
        if not _exists(error, "ResourceInUseException"):
            raise
    provision_changes(dynamodb, config)
    s3 = client("s3")
    if config.rules_root:
        bucket = config.rules_root.removeprefix("s3://").partition("/")[0]
        try:
            s3.create_bucket(Bucket=bucket)
        except ClientError as error:
            if not _exists(error, "BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
    try:
        s3.create_bucket(Bucket=config.audit_bucket, ObjectLockEnabledForBucket=True)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise
        return
    if _retention_set(s3, config.audit_bucket):
        return  # made by an earlier server on this moto (us-east-1 re-creates silently)
    s3.put_object_lock_configuration(
        Bucket=config.audit_bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": AUDIT_RETENTION_DAYS}},
        },
    )


def _retention_set(s3: Any, bucket: str) -> bool:
    """Whether `bucket` already has its default retention (the trail's, set once)."""
    try:
        found = s3.get_object_lock_configuration(Bucket=bucket)
    except ClientError:
        return False
    return "DefaultRetention" in found.get("ObjectLockConfiguration", {}).get("Rule", {})


def provision_changes(dynamodb: Any, config: ApiConfig) -> None:
    """The change requests' table (lambdas/api/changes.py)."""
    try:
        dynamodb.create_table(
            TableName=config.changes_table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("change_id", "status", "requested_at", "requested_by")
            ],
            KeySchema=[{"AttributeName": "change_id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": STATUS_INDEX,
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "requested_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": REQUESTER_INDEX,
                    "KeySchema": [
                        {"AttributeName": "requested_by", "KeyType": "HASH"},
                        {"AttributeName": "requested_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
        )
    except ClientError as error:
        if not _exists(error, "ResourceInUseException"):
            raise
