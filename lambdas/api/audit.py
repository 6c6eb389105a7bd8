"""The audit trail: every verdict the API accepts and every step of a change of rules or
lists, written once to an S3 bucket with Object Lock in compliance mode
(infra/terraform/modules/api/audit.tf; locally the same bucket on moto). The API's role may
put objects there, and read back the rules' records (`rules/` only): no delete, no change
of retention; an object put again under the same key is a new version and the old one
stays, locked, for the retention period (and every put is `If-None-Match: *`). So the API
(or a stolen token, or the API's own role) can add to the trail but never rewrite it.

Keys:

- `verdicts/dt=<YYYY-MM-DD>/<at>-<verdict_id>.json`: the analyst (`actor`, the `sub`), the
  verdict, its alert, transaction and terminal, and what became of its label
  (lambdas/api/ledger.py states);
- `rules/rule=<name>/dt=<YYYY-MM-DD>/<at>-<change_id>-<step>-<action>.json` and
  `rules/list=<name>/dt=…` for a list: one record per request, approval, rejection and
  application (`at`, `actor`, `action`, `change_id`, `rule` or `list`, `reason`, `diff`,
  the decision's `note`). A rule's history is read back from its own prefix.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "verdicts/"
RULES_PREFIX = "rules/"
#: Records one history read returns (the newest).
HISTORY_LIMIT = 100


def audit_key(at: str, verdict_id: str) -> str:
    return f"{PREFIX}dt={at[:10]}/{at}-{verdict_id}.json"


def subject_prefix(kind: str, name: str) -> str:
    """Where the records of one rule (`kind` "rule") or list ("list") are."""
    return f"{RULES_PREFIX}{kind}={name}/"


#: A change's steps in the order they happen: keys of one instant sort in this order too.
STEPS = {"requested": 1, "approved": 2, "rejected": 2, "applied": 3}


def change_key(kind: str, name: str, at: str, change_id: str, action: str) -> str:
    step = f"{STEPS[action]}-{action}"
    return f"{subject_prefix(kind, name)}dt={at[:10]}/{at}-{change_id}-{step}.json"


class AuditTrail:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def append(self, record: dict[str, Any]) -> str:
        """Write the verdict's record; its key."""
        return self._put(audit_key(str(record["at"]), str(record["verdict_id"])), record)

    def append_change(self, kind: str, name: str, record: dict[str, Any]) -> str:
        """Write one step of a change of a rule or list; its key."""
        key = change_key(
            kind, name, str(record["at"]), str(record["change_id"]), str(record["action"])
        )
        return self._put(key, record)

    def history(self, kind: str, name: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
        """The records of one rule or list, newest first (keys sort by time)."""
        keys: list[str] = []
        arguments: dict[str, Any] = {"Bucket": self._bucket, "Prefix": subject_prefix(kind, name)}
        while True:
            response = self._s3.list_objects_v2(**arguments)
            keys.extend(item["Key"] for item in response.get("Contents", []))
            keys = sorted(keys)[-limit:]
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                break
            arguments["ContinuationToken"] = token
        records = []
        for key in reversed(keys):
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            records.append(json.loads(body))
        return records

    def _put(self, key: str, record: dict[str, Any]) -> str:
        body = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            IfNoneMatch="*",
        )
        return key
