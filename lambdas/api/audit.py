"""The verdict trail: every verdict the API accepts, written once to an S3 bucket with Object
Lock in compliance mode (infra/terraform/modules/api/audit.tf; locally the same bucket on
moto). The API's role may put objects and nothing else there: no delete, no change of
retention, no read; an object put again under the same key is a new version and the old one
stays, locked, for the retention period. So the API (or a stolen token, or the API's own
role) can add to the trail but never rewrite it.

Key: `verdicts/dt=<YYYY-MM-DD>/<at>-<verdict_id>.json`; the record names the analyst by
`sub` (`actor`) and carries the verdict, its alert, transaction and terminal, and what
became of its label (lambdas/api/ledger.py states).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "verdicts/"


def audit_key(at: str, verdict_id: str) -> str:
    return f"{PREFIX}dt={at[:10]}/{at}-{verdict_id}.json"


class AuditTrail:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def append(self, record: dict[str, Any]) -> str:
        """Write the verdict's record; its key."""
        key = audit_key(str(record["at"]), str(record["verdict_id"]))
        body = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            IfNoneMatch="*",
        )
        return key
