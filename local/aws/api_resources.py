"""What the analyst API writes to besides the fan-out's alert table, made on the local AWS
as infra/terraform/modules/api makes it on AWS: the label ledger (DynamoDB, with its held and
per-terminal indexes) and the verdict audit bucket (S3 Object Lock, compliance mode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from lambdas.api.config import ApiConfig
from lambdas.api.ledger import ACTOR_TERMINAL_INDEX, HELD_INDEX

#: Days a verdict's audit record is locked (Terraform's var.audit_retention_days default).
AUDIT_RETENTION_DAYS = 400


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
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    s3 = client("s3")
    try:
        s3.create_bucket(Bucket=config.audit_bucket, ObjectLockEnabledForBucket=True)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise
        return
    s3.put_object_lock_configuration(
        Bucket=config.audit_bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": AUDIT_RETENTION_DAYS}},
        },
    )
