"""The model registry: immutable versions under a root (a directory or an s3:// prefix) and
a pointer to the version the job serves and to the versions it scores in shadow.

    <root>/versions/<version>/model.onnx
    <root>/versions/<version>/manifest.json
    <root>/current.json          {"version": ..., "previous": [...], "shadows": [...],
                                  "promoted_at": ...}

A version, once published, is never rewritten (publishing the same version twice is
refused). Promoting rewrites only `current.json`, in one PUT, which S3 makes atomic for
readers; the running job polls that pointer (`model.poll_interval_ms`) and swaps models
without a restart. `previous` is the stack of earlier current versions: rollback pops it.
`shadows` are the challengers (at most --max-shadows, default contracts.model.MAX_SHADOWS):
the job scores every transaction with each of them too, never alerts on their scores and
logs them in the decision log (`model_export.compare` reads them). Promoting a shadow
takes it off the list; demoting one (shadow-remove) only stops its scoring. A pointer
written before `shadows` existed reads as one with none.

    python -m model_export.registry s3://bucket/models publish build/model [--promote]
    python -m model_export.registry s3://bucket/models list
    python -m model_export.registry s3://bucket/models promote m-20261128-120000-3f2a9c1
    python -m model_export.registry s3://bucket/models rollback
    python -m model_export.registry s3://bucket/models publish build/model --shadow
    python -m model_export.registry s3://bucket/models shadow-add m-20261201-090000-77b0e2d
    python -m model_export.registry s3://bucket/models shadow-remove m-20261201-090000-77b0e2d

Set AWS_ENDPOINT_URL (or --endpoint) to use the local moto server.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.model import MANIFEST_FILE, MAX_SHADOWS, MODEL_FILE, POINTER_FILE, VERSIONS_DIR
from udfs.model import (
    Manifest,
    ModelError,
    Store,
    read_shadows,
)


class RegistryError(RuntimeError):
    """A registry operation is refused; the message says why."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    created_at: str
    threshold: float
    metrics: dict[str, Any]
    current: bool
    shadow: bool = False


class Pointer:
    """A registry root's `current.json`: the version served now, the stack of the earlier
    current ones (`previous`) and the versions scored in shadow (`shadows`), rewritten in
    one PUT. The model registry and the rule registry (model_export.rules_registry) keep
    theirs with it (a rule registry's has no shadows: rules have their own shadow mode)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def read(self) -> dict[str, Any]:
        if not self.store.exists(POINTER_FILE):
            return {}
        data = self.store.read(POINTER_FILE)
        read_shadows(data, self.store.url(POINTER_FILE))  # validates
        pointer: dict[str, Any] = json.loads(data)
        return pointer

    def current(self) -> str | None:
        version = self.read().get("version")
        return str(version) if version else None

    def shadows(self) -> list[str]:
        """The shadow versions, in the order they were added (none in a first-format
        pointer, which has no `shadows`)."""
        return [str(v) for v in self.read().get("shadows", [])]

    def promote(self, version: str) -> str | None:
        """Make `version` (known to exist) current, taking it off the shadows; returns the
        version it replaces."""
        pointer = self.read()
        before: str | None = pointer.get("version")
        shadows = [v for v in pointer.get("shadows", []) if v != version]
        if before == version:
            return before
        history = list(pointer.get("previous", []))
        if before:
            history.append(before)
        self._write(version, history, shadows)
        return before

    def rollback(self) -> str:
        """Make the previously current version current again; returns it."""
        pointer = self.read()
        history = list(pointer.get("previous", []))
        if not history:
            raise RegistryError(f"nothing to roll back to in {self.store.root}: no earlier version")
        version = history.pop()
        shadows = [v for v in pointer.get("shadows", []) if v != version]
        self._write(version, history, shadows)
        return str(version)

    def add_shadow(self, version: str, max_shadows: int = MAX_SHADOWS) -> list[str]:
        """Score `version` (known to exist) in shadow beside the current one; returns the
        shadows."""
        pointer = self.read()
        current = pointer.get("version")
        shadows = list(pointer.get("shadows", []))
        if not current:
            raise RegistryError(
                f"no current version in {self.store.root}: promote one before adding shadows"
            )
        if version == current:
            raise RegistryError(f"{version} is the current version, not a challenger")
        if version in shadows:
            return shadows
        if len(shadows) >= max_shadows:
            raise RegistryError(
                f"{len(shadows)} shadows already ({', '.join(shadows)}), at most "
                f"{max_shadows}: remove one first (each costs the job a model's scoring time)"
            )
        shadows.append(version)
        self._write(str(current), list(pointer.get("previous", [])), shadows)
        return shadows

    def remove_shadow(self, version: str) -> list[str]:
        """Stop scoring `version` in shadow; returns the shadows left."""
        pointer = self.read()
        shadows = list(pointer.get("shadows", []))
        if version not in shadows:
            raise RegistryError(f"{version} is not a shadow in {self.store.root}")
        shadows.remove(version)
        self._write(str(pointer["version"]), list(pointer.get("previous", [])), shadows)
        return shadows

    def _write(self, version: str, history: list[str], shadows: list[str] | None = None) -> None:
        pointer: dict[str, Any] = {"version": version, "previous": history}
        if shadows:  # absent when none: a rule registry's pointers stay as they were
            pointer["shadows"] = shadows
        pointer["promoted_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.store.write(POINTER_FILE, (json.dumps(pointer, indent=2) + "\n").encode())


class Registry:
    def __init__(self, root: str, endpoint: str | None = None) -> None:
        self.root = root.rstrip("/")
        self.store = Store(self.root, endpoint or os.environ.get("AWS_ENDPOINT_URL"))
        self.pointer = Pointer(self.store)

    def current(self) -> str | None:
        return self.pointer.current()

    def versions(self) -> list[str]:
        return self.store.list_dirs(VERSIONS_DIR)

    def manifest(self, version: str) -> Manifest:
        key = f"{VERSIONS_DIR}/{version}/{MANIFEST_FILE}"
        if not self.store.exists(key):
            raise RegistryError(f"no version {version} in {self.root}")
        return Manifest.from_json(json.loads(self.store.read(key)))

    def shadows(self) -> list[str]:
        return self.pointer.shadows()

    def describe(self) -> list[VersionInfo]:
        current = self.current()
        shadows = set(self.shadows())
        rows = []
        for version in self.versions():
            raw = self.manifest(version).raw
            rows.append(
                VersionInfo(
                    version=version,
                    created_at=str(raw.get("created_at", "")),
                    threshold=float(raw["threshold"]),
                    metrics=dict(raw.get("metrics", {}).get("test", {})),
                    current=version == current,
                    shadow=version in shadows,
                )
            )
        return sorted(rows, key=lambda r: (r.created_at, r.version))

    def publish(self, manifest_bytes: bytes, onnx_bytes: bytes) -> str:
        """Store a model as a new immutable version; returns the version."""
        try:
            manifest = Manifest.from_json(json.loads(manifest_bytes))
        except (json.JSONDecodeError, ModelError) as exc:
            raise RegistryError(f"not a valid manifest: {exc}") from exc
        digest = hashlib.sha256(onnx_bytes).hexdigest()
        if digest != manifest.onnx_sha256:
            raise RegistryError(
                f"model.onnx has sha256 {digest[:12]}, its manifest says "
                f"{manifest.onnx_sha256[:12]}: refusing to publish"
            )
        prefix = f"{VERSIONS_DIR}/{manifest.version}/"
        if self.store.exists(prefix + MANIFEST_FILE):
            raise RegistryError(
                f"version {manifest.version} already exists in {self.root}; versions are "
                "immutable: train a new one"
            )
        # The model first, the manifest last: a version is visible once its manifest is.
        self.store.write(prefix + MODEL_FILE, onnx_bytes)
        self.store.write(prefix + MANIFEST_FILE, manifest_bytes)
        return manifest.version

    def publish_dir(self, directory: Path) -> str:
        return self.publish(
            (directory / MANIFEST_FILE).read_bytes(), (directory / MODEL_FILE).read_bytes()
        )

    def publish_tarball(self, data: bytes) -> str:
        """Publish SageMaker's model.tar.gz (model.onnx + manifest.json at its root)."""
        files = read_model_tarball(data)
        return self.publish(files[MANIFEST_FILE], files[MODEL_FILE])

    def promote(self, version: str) -> str | None:
        """Make `version` current; returns the version it replaces."""
        self.manifest(version)  # refuses an unknown version
        return self.pointer.promote(version)

    def rollback(self) -> str:
        """Make the previously current version current again; returns it."""
        return self.pointer.rollback()

    def add_shadow(self, version: str, max_shadows: int = MAX_SHADOWS) -> list[str]:
        """Score `version` in shadow beside the current one; returns the shadows."""
        self.manifest(version)  # refuses an unknown version
        return self.pointer.add_shadow(version, max_shadows)

    def remove_shadow(self, version: str) -> list[str]:
        """Demote a shadow: the job stops scoring it; returns the shadows left."""
        return self.pointer.remove_shadow(version)


def model_tarball(directory: Path) -> bytes:
    """SageMaker's model.tar.gz: model.onnx and manifest.json at the archive's root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in (MODEL_FILE, MANIFEST_FILE):
            archive.add(directory / name, arcname=name)
    return buffer.getvalue()


def read_model_tarball(data: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("./")
            if name in (MODEL_FILE, MANIFEST_FILE) and member.isfile():
                extracted = archive.extractfile(member)
                if extracted is not None:
                    files[name] = extracted.read()
    missing = {MODEL_FILE, MANIFEST_FILE} - set(files)
    if missing:
        raise RegistryError(f"model.tar.gz lacks {', '.join(sorted(missing))}")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="registry root: a directory or s3://bucket/prefix")
    parser.add_argument("--endpoint", default=None, help="S3 endpoint (default $AWS_ENDPOINT_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish", help="publish a model directory or model.tar.gz")
    publish.add_argument("model", type=Path)
    publish_as = publish.add_mutually_exclusive_group()
    publish_as.add_argument("--promote", action="store_true", help="and make it current")
    publish_as.add_argument("--shadow", action="store_true", help="and score it in shadow")
    commands.add_parser(
        "list", help="versions, newest last; * marks the current one, ~ the shadows"
    )
    promote = commands.add_parser("promote", help="make a version (or a shadow) current")
    promote.add_argument("version")
    commands.add_parser("rollback", help="make the previously current version current")
    shadow_add = commands.add_parser("shadow-add", help="score a version in shadow")
    shadow_add.add_argument("version")
    shadow_remove = commands.add_parser("shadow-remove", help="stop scoring a shadow (demote)")
    shadow_remove.add_argument("version")
    for command in (publish, shadow_add):
        command.add_argument(
            "--max-shadows",
            type=int,
            default=MAX_SHADOWS,
            help=f"refuse more shadows than this (default {MAX_SHADOWS}; the job scores at "
            "most model.max_shadows)",
        )
    args = parser.parse_args(argv)
    registry = Registry(args.root, args.endpoint)
    try:
        if args.command == "publish":
            if args.model.is_dir():
                version = registry.publish_dir(args.model)
            else:
                version = registry.publish_tarball(args.model.read_bytes())
            print(f"published {version} to {registry.root}")
            if args.promote:
                registry.promote(version)
                print(f"current: {version}")
            if args.shadow:
                print(f"shadows: {', '.join(registry.add_shadow(version, args.max_shadows))}")
        elif args.command == "list":
            for info in registry.describe():
                mark = "*" if info.current else "~" if info.shadow else " "
                ap = info.metrics.get("average_precision")
                quality = f"  test AP {ap:.3f}" if isinstance(ap, float) else ""
                print(
                    f"{mark} {info.version}  {info.created_at}  "
                    f"threshold {info.threshold:.3f}{quality}"
                )
        elif args.command == "promote":
            before = registry.promote(args.version)
            print(f"current: {args.version} (was {before or 'none'})")
        elif args.command == "shadow-add":
            shadows = registry.add_shadow(args.version, args.max_shadows)
            print(f"shadows: {', '.join(shadows)}")
        elif args.command == "shadow-remove":
            print(f"shadows: {', '.join(registry.remove_shadow(args.version)) or 'none'}")
        else:
            print(f"current: {registry.rollback()} (rolled back)")
    except (RegistryError, ModelError) as error:
        print(f"registry: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
