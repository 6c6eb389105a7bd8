"""The model registry: immutable versions under a root (a directory or an s3:// prefix) and
a pointer to the version the job serves.

    <root>/versions/<version>/model.onnx
    <root>/versions/<version>/manifest.json
    <root>/current.json          {"version": ..., "previous": [...], "promoted_at": ...}

A version, once published, is never rewritten (publishing the same version twice is
refused). Promoting rewrites only `current.json`, in one PUT, which S3 makes atomic for
readers; the running job polls that pointer (`model.poll_interval_ms`) and swaps models
without a restart. `previous` is the stack of earlier current versions: rollback pops it.

    python -m model_export.registry s3://bucket/models publish build/model [--promote]
    python -m model_export.registry s3://bucket/models list
    python -m model_export.registry s3://bucket/models promote m-20261128-120000-3f2a9c1
    python -m model_export.registry s3://bucket/models rollback

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

from contracts.model import MANIFEST_FILE, MODEL_FILE, POINTER_FILE, VERSIONS_DIR
from udfs.model import (
    Manifest,
    ModelError,
    Store,
    read_pointer,
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


class Pointer:
    """A registry root's `current.json`: the version served now and the stack of the
    earlier current ones (`previous`), rewritten in one PUT. The model registry and the
    rule registry (model_export.rules_registry) keep theirs with it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def read(self) -> dict[str, Any]:
        if not self.store.exists(POINTER_FILE):
            return {}
        data = self.store.read(POINTER_FILE)
        read_pointer(data, self.store.url(POINTER_FILE))  # validates
        pointer: dict[str, Any] = json.loads(data)
        return pointer

    def current(self) -> str | None:
        version = self.read().get("version")
        return str(version) if version else None

    def promote(self, version: str) -> str | None:
        """Make `version` (known to exist) current; returns the version it replaces."""
        pointer = self.read()
        before: str | None = pointer.get("version")
        if before == version:
            return before
        history = list(pointer.get("previous", []))
        if before:
            history.append(before)
        self._write(version, history)
        return before

    def rollback(self) -> str:
        """Make the previously current version current again; returns it."""
        history = list(self.read().get("previous", []))
        if not history:
            raise RegistryError(f"nothing to roll back to in {self.store.root}: no earlier version")
        version = history.pop()
        self._write(version, history)
        return str(version)

    def _write(self, version: str, history: list[str]) -> None:
        pointer = {
            "version": version,
            "previous": history,
            "promoted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
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

    def describe(self) -> list[VersionInfo]:
        current = self.current()
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
    publish.add_argument("--promote", action="store_true", help="and make it current")
    commands.add_parser("list", help="versions, newest last; * marks the current one")
    promote = commands.add_parser("promote", help="make a version current")
    promote.add_argument("version")
    commands.add_parser("rollback", help="make the previously current version current")
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
        elif args.command == "list":
            for info in registry.describe():
                mark = "*" if info.current else " "
                ap = info.metrics.get("average_precision")
                quality = f"  test AP {ap:.3f}" if isinstance(ap, float) else ""
                print(
                    f"{mark} {info.version}  {info.created_at}  "
                    f"threshold {info.threshold:.3f}{quality}"
                )
        elif args.command == "promote":
            before = registry.promote(args.version)
            print(f"current: {args.version} (was {before or 'none'})")
        else:
            print(f"current: {registry.rollback()} (rolled back)")
    except (RegistryError, ModelError) as error:
        print(f"registry: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
