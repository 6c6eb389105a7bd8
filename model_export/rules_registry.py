"""The rule registry: rule sets and lists as immutable versions and pointers under one root
(a directory or an s3:// prefix: the job's `rules.path`), laid out as contracts.rules says
and kept like models (model_export.registry): a version is never rewritten, promoting
rewrites only a `current.json`, rollback pops its `previous`.

Everything is judged before it is written, by the checks the job applies again when it
reads it (rules.artefacts): a rule set's fields and, against the job's schema (Transaction
v1, the features, `score`, its lists), every expression; a list's every row (kind, size,
no card numbers). A refusal is a RegistryError saying which rule or row and why.

    python -m model_export.rules_registry ROOT publish-list blocked_cards card_id a.csv --promote
    python -m model_export.rules_registry ROOT publish-rules ruleset.json --promote
    python -m model_export.rules_registry ROOT show
    python -m model_export.rules_registry ROOT promote-rules r-20261207-120000-3f2a9c1
    python -m model_export.rules_registry ROOT rollback-rules

Set AWS_ENDPOINT_URL (or --endpoint) to use the local moto server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from contracts.model import MANIFEST_FILE, VERSIONS_DIR
from contracts.rules import LIST_FILE, LISTS_DIR, RULESET_FILE, RULESETS_DIR
from flink_job.features import FEATURE_NAMES
from model_export.registry import Pointer, RegistryError
from rules.artefacts import (
    ArtefactError,
    ListEntry,
    RuleSet,
    compile_ruleset,
    list_bytes,
    list_manifest,
    parse_list,
    parse_ruleset,
    ruleset_manifest,
    scoring_schema,
)
from rules.errors import RuleError
from udfs.model import ModelError, Store


class RuleRegistry:
    def __init__(self, root: str, endpoint: str | None = None) -> None:
        self.root = root.rstrip("/")
        self.endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL")
        self.rulesets = Store(f"{self.root}/{RULESETS_DIR}", self.endpoint)

    def list_store(self, name: str) -> Store:
        return Store(f"{self.root}/{LISTS_DIR}/{name}", self.endpoint)

    # ---- rule sets ------------------------------------------------------------------

    def publish_ruleset(self, data: bytes, created_by: str | None = None) -> str:
        """Store a rule set (ruleset.json's bytes) as a new version; returns the version.
        Every list its rules read must be published (and promoted) first."""
        try:
            ruleset = parse_ruleset(data)
            missing = [name for name in ruleset.lists() if not self.list_current(name)]
            if missing:
                raise RegistryError(
                    f"the rule set reads list(s) {', '.join(missing)}, which have no current "
                    "version: publish and promote them first"
                )
            compile_ruleset(ruleset, scoring_schema(FEATURE_NAMES, ruleset.lists()))
        except (ArtefactError, RuleError) as error:
            raise RegistryError(f"rule set refused: {error}") from error
        content = ruleset.to_bytes()
        manifest = ruleset_manifest(ruleset, content, created_by)
        self._write_version(self.rulesets, manifest, RULESET_FILE, content)
        return str(manifest["version"])

    def ruleset(self, version: str | None = None) -> RuleSet:
        version = version or self.ruleset_current()
        if version is None:
            raise RegistryError(f"no current rule set in {self.root}")
        return parse_ruleset(self._read(self.rulesets, f"{VERSIONS_DIR}/{version}/{RULESET_FILE}"))

    def ruleset_current(self) -> str | None:
        return Pointer(self.rulesets).current()

    def promote_ruleset(self, version: str) -> str | None:
        self._known(self.rulesets, version)
        return Pointer(self.rulesets).promote(version)

    def rollback_ruleset(self) -> str:
        return Pointer(self.rulesets).rollback()

    # ---- lists ----------------------------------------------------------------------

    def publish_list(self, name: str, kind: str, data: bytes, created_by: str | None = None) -> str:
        """Store a list (CSV: value,reason,added_by,expires_at) as a new version of `name`;
        returns the version. A bulk upload is a new version with every entry it should hold."""
        try:
            entries = parse_list(data, kind)
            return self.publish_entries(name, kind, entries, created_by)
        except ArtefactError as error:
            raise RegistryError(f"list {name!r} refused: {error}") from error

    def publish_entries(
        self, name: str, kind: str, entries: tuple[ListEntry, ...], created_by: str | None = None
    ) -> str:
        content = list_bytes(entries)
        manifest = list_manifest(name, kind, entries, content, created_by)
        self._write_version(self.list_store(name), manifest, LIST_FILE, content)
        return str(manifest["version"])

    def list_current(self, name: str) -> str | None:
        return Pointer(self.list_store(name)).current()

    def promote_list(self, name: str, version: str) -> str | None:
        store = self.list_store(name)
        self._known(store, version)
        return Pointer(store).promote(version)

    def list_names(self) -> list[str]:
        return Store(self.root, self.endpoint).list_dirs(LISTS_DIR)

    # ---- shared ---------------------------------------------------------------------

    def _write_version(
        self, store: Store, manifest: dict[str, Any], file: str, content: bytes
    ) -> None:
        prefix = f"{VERSIONS_DIR}/{manifest['version']}/"
        if store.exists(prefix + MANIFEST_FILE):
            # the same content published again within the second: the same version
            stored = json.loads(self._read(store, prefix + MANIFEST_FILE))
            digest = next(k for k in manifest if k.endswith("_sha256"))
            if stored.get(digest) == manifest[digest]:
                return
            raise RegistryError(f"version {manifest['version']} exists in {store.root}")
        # the content first, the manifest last: a version is visible once its manifest is
        store.write(prefix + file, content)
        store.write(prefix + MANIFEST_FILE, (json.dumps(manifest, indent=2) + "\n").encode())

    def _known(self, store: Store, version: str) -> None:
        if not store.exists(f"{VERSIONS_DIR}/{version}/{MANIFEST_FILE}"):
            raise RegistryError(f"no version {version} in {store.root}")

    def _read(self, store: Store, key: str) -> bytes:
        try:
            return store.read(key)
        except ModelError as error:
            raise RegistryError(f"cannot read {store.url(key)}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="rules root (rules.path): a directory or s3://bucket/prefix")
    parser.add_argument("--endpoint", default=None, help="S3 endpoint (default $AWS_ENDPOINT_URL)")
    parser.add_argument("--by", default=None, help="who publishes (recorded in the manifest)")
    commands = parser.add_subparsers(dest="command", required=True)
    rules = commands.add_parser("publish-rules", help="publish a ruleset.json")
    rules.add_argument("file", type=Path)
    rules.add_argument("--promote", action="store_true", help="and make it current")
    lists = commands.add_parser("publish-list", help="publish a list's entries (CSV)")
    lists.add_argument("name")
    lists.add_argument("kind")
    lists.add_argument("file", type=Path)
    lists.add_argument("--promote", action="store_true", help="and make it current")
    promote = commands.add_parser("promote-rules", help="make a rule set version current")
    promote.add_argument("version")
    promote_list = commands.add_parser("promote-list", help="make a list version current")
    promote_list.add_argument("name")
    promote_list.add_argument("version")
    commands.add_parser("rollback-rules", help="make the previous rule set current again")
    commands.add_parser("show", help="the current rule set and lists")
    args = parser.parse_args(argv)
    registry = RuleRegistry(args.root, args.endpoint)
    try:
        if args.command == "publish-rules":
            version = registry.publish_ruleset(args.file.read_bytes(), args.by)
            print(f"published rule set {version}")
            if args.promote:
                registry.promote_ruleset(version)
                print(f"current rule set: {version}")
        elif args.command == "publish-list":
            version = registry.publish_list(args.name, args.kind, args.file.read_bytes(), args.by)
            print(f"published list {args.name} {version}")
            if args.promote:
                registry.promote_list(args.name, version)
                print(f"current list {args.name}: {version}")
        elif args.command == "promote-rules":
            before = registry.promote_ruleset(args.version)
            print(f"current rule set: {args.version} (was {before or 'none'})")
        elif args.command == "promote-list":
            before = registry.promote_list(args.name, args.version)
            print(f"current list {args.name}: {args.version} (was {before or 'none'})")
        elif args.command == "rollback-rules":
            print(f"current rule set: {registry.rollback_ruleset()} (rolled back)")
        else:
            current = registry.ruleset_current()
            print(f"rule set: {current or 'none'}")
            if current:
                for spec in registry.ruleset(current).rules:
                    print(f"  {spec.priority:>7} {spec.mode:<8} {spec.outcome:<8} {spec.name}")
            for name in registry.list_names():
                print(f"list {name}: {registry.list_current(name) or 'none'}")
    except (RegistryError, ModelError, OSError) as error:
        print(f"rules registry: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
