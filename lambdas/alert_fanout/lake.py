"""The S3 alerts lake: one JSON-lines object per alert, Hive-partitioned by event hour.

Key: `{prefix}dt=YYYY-MM-DD/hour=HH/{alert_id}.json`, from the transaction's `event_time` in
UTC and the `alert_id` (a hash of the transaction id): values fixed per transaction, so a
redelivered alert, and an alert the job detects again after a replay (with a new
`detected_at`), land on the same key. The object is written with `If-None-Match: *`: the
first write wins and a redelivery or replay changes nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from .alert import Alert

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# S3 answers a conditional write that lost with 412, or 409 when two writes race.
_ALREADY_WRITTEN = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


def lake_key(alert: Alert, prefix: str) -> str:
    happened = alert.happened
    return f"{prefix}dt={happened:%Y-%m-%d}/hour={happened:%H}/{alert.alert_id}.json"


def lake_line(alert: Alert) -> bytes:
    return (json.dumps(alert.to_record(), ensure_ascii=False, sort_keys=False) + "\n").encode()


class AlertLake:
    def __init__(self, s3: S3Client, bucket: str, prefix: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix

    def write(self, alert: Alert) -> bool:
        """Write the alert's object; False when it was already there (a redelivery)."""
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=lake_key(alert, self._prefix),
                Body=lake_line(alert),
                ContentType="application/x-ndjson",
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _ALREADY_WRITTEN:
                return False
            raise
        return True
