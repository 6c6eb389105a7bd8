"""The rule registry as the API reads and writes it: rule sets and lists under the root the
job reads (`RULES_ROOT` = the job's `rules.path`, an s3:// prefix), in contracts.rules'
layout, the same files `model_export.rules_registry.RuleRegistry` writes (that module reads
the job's features and ONNX Runtime, which the Lambda does not carry, so the API writes the
layout itself with the same functions: rules.artefacts makes and judges every byte).

- A version is written once (content first, manifest last, each `If-None-Match: *`): a
  version is never rewritten.
- A pointer (`current.json`: `version`, the stack of `previous` ones, `promoted_at`) is
  replaced only if it is still the one read (`If-Match` its ETag; `If-None-Match: *` for
  the first): two approvals racing cannot both move it, the loser is a StaleBaseError.
- A rule set is type-checked against the job's schema (Transaction v1, FEATURE_NAMES,
  `score`, the lists it reads, each with a current version) before it is written; the job
  checks it again when it loads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts.features import FEATURE_NAMES
from contracts.model import MANIFEST_FILE, POINTER_FILE, VERSIONS_DIR
from contracts.rules import LIST_FILE, LISTS_DIR, RULESET_FILE, RULESETS_DIR
from rules.artefacts import (
    ArtefactError,
    ListEntry,
    RuleSet,
    RuleSpec,
    compile_ruleset,
    list_bytes,
    list_manifest,
    parse_list,
    parse_ruleset,
    ruleset_manifest,
    scoring_schema,
)
from rules.errors import RuleError
from rules.schema import Schema

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHANGES_DIR = "changes"  # pending list changes' entries: <root>/changes/<change_id>.csv
MAX_LISTS = 1000  # lists read by GET /lists (one S3 list call)


class RuleStoreError(RuntimeError):
    """The registry holds something the API cannot use (a refused version): 409."""


class StaleBaseError(RuntimeError):
    """A pointer moved since it was read: 409."""


@dataclass(frozen=True)
class ListInfo:
    name: str
    kind: str
    version: str
    entries: int


def schema_for(lists: list[str] | tuple[str, ...] | frozenset[str]) -> Schema:
    """What a rule in the job reads, with these lists."""
    return scoring_schema(FEATURE_NAMES, tuple(lists))


class RuleStore:
    def __init__(self, s3: S3Client, root: str) -> None:
        if not root.startswith("s3://"):
            raise ValueError(f"a rules root is s3://bucket/prefix, not {root!r}")
        self._s3 = s3
        self.root = root.rstrip("/")
        self.bucket, _, prefix = root.removeprefix("s3://").partition("/")
        self.prefix = prefix.strip("/")

    # ---- rule sets ------------------------------------------------------------------

    def current_ruleset(self) -> tuple[str | None, RuleSet]:
        """The current version and its rules; (None, empty) before the first."""
        version, _ = self._pointer(RULESETS_DIR)
        if version is None:
            return None, RuleSet(())
        data = self._get(f"{RULESETS_DIR}/{VERSIONS_DIR}/{version}/{RULESET_FILE}")
        if data is None:
            raise RuleStoreError(f"rule set {version} is current but has no {RULESET_FILE}")
        try:
            return version, parse_ruleset(data)
        except ArtefactError as error:
            raise RuleStoreError(f"rule set {version}: {error}") from error

    def check_ruleset(self, ruleset: RuleSet) -> None:
        """RuleError (naming the rule) or ArtefactError unless the job would load it."""
        lists = ruleset.lists()
        missing = [name for name in lists if self._pointer(f"{LISTS_DIR}/{name}")[0] is None]
        if missing:
            raise ArtefactError(f"no list named {', '.join(repr(n) for n in missing)}")
        parse_ruleset(ruleset.to_bytes())  # names, fields, limits, no card numbers
        compile_ruleset(ruleset, schema_for(lists))

    def publish_ruleset(self, ruleset: RuleSet, base: str | None, by: str) -> str:
        """Write `ruleset` as a new version and make it current if `base` still is; the
        version. StaleBaseError when another version became current first."""
        try:
            self.check_ruleset(ruleset)
        except (ArtefactError, RuleError) as error:
            raise RuleStoreError(f"rule set refused: {error}") from error
        content = ruleset.to_bytes()
        manifest = ruleset_manifest(ruleset, content, by)
        self._write_version(RULESETS_DIR, manifest, RULESET_FILE, content)
        self._promote(RULESETS_DIR, str(manifest["version"]), base)
        return str(manifest["version"])

    # ---- lists ----------------------------------------------------------------------

    def list_names(self) -> list[str]:
        response = self._s3.list_objects_v2(
            Bucket=self.bucket, Prefix=self._key(f"{LISTS_DIR}/"), Delimiter="/", MaxKeys=MAX_LISTS
        )
        names = (
            p["Prefix"].rstrip("/").rpartition("/")[2] for p in response.get("CommonPrefixes", [])
        )
        return sorted(names)

    def list_info(self, name: str) -> ListInfo | None:
        version, _ = self._pointer(f"{LISTS_DIR}/{name}")
        if version is None:
            return None
        data = self._get(f"{LISTS_DIR}/{name}/{VERSIONS_DIR}/{version}/{MANIFEST_FILE}")
        if data is None:
            raise RuleStoreError(f"list {name!r} {version} has no manifest")
        manifest = json.loads(data)
        return ListInfo(name, str(manifest["kind"]), version, int(manifest["entries"]))

    def list_entries(self, info: ListInfo) -> tuple[ListEntry, ...]:
        data = self._get(f"{LISTS_DIR}/{info.name}/{VERSIONS_DIR}/{info.version}/{LIST_FILE}")
        if data is None:
            raise RuleStoreError(f"list {info.name!r} {info.version} has no {LIST_FILE}")
        try:
            return parse_list(data, info.kind)
        except ArtefactError as error:
            raise RuleStoreError(f"list {info.name!r} {info.version}: {error}") from error

    def publish_list(
        self, name: str, kind: str, entries: tuple[ListEntry, ...], base: str | None, by: str
    ) -> str:
        """Write the list's entries as a new version and make it current if `base` still
        is (None: a new list); the version."""
        content = list_bytes(entries)
        manifest = list_manifest(name, kind, entries, content, by)
        self._write_version(f"{LISTS_DIR}/{name}", manifest, LIST_FILE, content)
        self._promote(f"{LISTS_DIR}/{name}", str(manifest["version"]), base)
        return str(manifest["version"])

    # ---- pending entries ------------------------------------------------------------

    def put_pending(self, change_id: str, data: bytes) -> None:
        self._put(f"{CHANGES_DIR}/{change_id}.csv", data, if_none_match=True)

    def pending(self, change_id: str) -> bytes:
        data = self._get(f"{CHANGES_DIR}/{change_id}.csv")
        if data is None:
            raise RuleStoreError(f"the entries of change {change_id} are missing")
        return data

    # ---- S3 -------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _get(self, key: str) -> bytes | None:
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return body

    def _put(
        self, key: str, data: bytes, *, if_none_match: bool = False, if_match: str | None = None
    ) -> None:
        arguments: dict[str, Any] = {}
        if if_none_match:
            arguments["IfNoneMatch"] = "*"
        if if_match is not None:
            arguments["IfMatch"] = if_match
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ContentType="application/json" if key.endswith(".json") else "text/csv",
                **arguments,
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise StaleBaseError(f"{self.root}/{key} changed meanwhile") from None
            raise

    def _pointer(self, store: str) -> tuple[str | None, str | None]:
        """(current version, the pointer's ETag); (None, None) without one."""
        version, etag, _ = self._read_pointer(store)
        return version, etag

    def _read_pointer(self, store: str) -> tuple[str | None, str | None, list[str]]:
        key = self._key(f"{store}/{POINTER_FILE}")
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None, None, []
            raise
        try:
            pointer = json.loads(response["Body"].read())
            version = str(pointer["version"])
            previous = [str(v) for v in pointer.get("previous", [])]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise RuleStoreError(f"{store}/{POINTER_FILE} is no pointer: {error}") from error
        return version, str(response["ETag"]), previous

    def _promote(self, store: str, version: str, base: str | None) -> None:
        current, etag, history = self._read_pointer(store)
        if current != base:
            raise StaleBaseError(f"{store}: {current} is current, not {base}")
        if current:
            history.append(current)
        pointer = {
            "version": version,
            "previous": history,
            "promoted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        data = (json.dumps(pointer, indent=2) + "\n").encode()
        if etag is None:
            self._put(f"{store}/{POINTER_FILE}", data, if_none_match=True)
        else:
            self._put(f"{store}/{POINTER_FILE}", data, if_match=etag)

    def _write_version(
        self, store: str, manifest: dict[str, Any], file: str, content: bytes
    ) -> None:
        prefix = f"{store}/{VERSIONS_DIR}/{manifest['version']}/"
        self._put(prefix + file, content, if_none_match=True)
        self._put(
            prefix + MANIFEST_FILE,
            (json.dumps(manifest, indent=2) + "\n").encode(),
            if_none_match=True,
        )


def replace_rule(ruleset: RuleSet, rule: RuleSpec | None, name: str) -> RuleSet:
    """The set with rule `name` replaced by `rule` (added when new; removed when None)."""
    kept = [spec for spec in ruleset.rules if spec.name != name]
    if rule is not None:
        kept.append(rule)
    return RuleSet(tuple(sorted(kept, key=lambda spec: (spec.priority, spec.name))))
