"""Load a scoring model (model.onnx + manifest.json) and refuse one that does not fit the job.

`model.path` names either a model directory or a registry root, local or under s3://:
- a model directory holds `model.onnx` and `manifest.json`;
- a registry root (model_export.registry) holds immutable `versions/<version>/` model
  directories and a `current.json` pointer `{"version": ..., "shadows": [...]}` naming the
  one to serve and the ones to score in shadow beside it (udfs.serving).

A model directory holds:
- `model.onnx`: a scikit-learn pipeline exported by skl2onnx, input `features` (float32,
  [n, len(feature_names)]), output `probabilities` ([n, 2], column 1 = fraud);
- `manifest.json`: version, ordered feature names, feature schema hash, threshold,
  ONNX sha256, per-feature baseline values (used for reasons), metrics, training window
  (the fields and the layout: contracts.model).

Two kinds of failure: a `ModelError` says the model itself is wrong (its files do not match
its manifest, it was trained on other features, onnxruntime cannot load it): refuse it. A
`ModelUnavailableError` (a `ModelError` too) says the store could not be read right now (network,
timeouts, S3 5xx or throttling, a missing or forbidden key): try again later. S3 calls are
short (S3_TIMEOUTS): a hanging S3 costs seconds, not boto3's default minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from contracts.model import (
    INPUT_NAME,
    MANIFEST_FILE,
    MODEL_FILE,
    POINTER_FILE,
    PROBABILITY_OUTPUT,
    VERSIONS_DIR,
    manifest_problems,
)

# connect and read timeouts (s) and attempts of every S3 call (boto3's defaults: 60 s, 60 s)
S3_CONNECT_TIMEOUT_S = 2.0
S3_READ_TIMEOUT_S = 2.0
S3_MAX_ATTEMPTS = 2


class ModelError(RuntimeError):
    """The model cannot be used; the message says what is wrong and what to fix."""


class ModelUnavailableError(ModelError):
    """The store could not be read now (network, timeout, 5xx, throttling, missing key):
    nothing is known against the model; try again later."""


@dataclass(frozen=True)
class Manifest:
    version: str
    feature_names: tuple[str, ...]
    feature_schema_hash: str
    threshold: float
    onnx_sha256: str
    baseline: dict[str, float]
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        problems = manifest_problems(data)
        if problems:
            raise ModelError(f"{MANIFEST_FILE} {'; '.join(problems)}; re-export the model")
        threshold = float(data["threshold"])
        names = tuple(str(n) for n in data["feature_names"])
        baseline = {str(k): float(v) for k, v in data.get("baseline", {}).items()}
        return cls(
            version=str(data["version"]),
            feature_names=names,
            feature_schema_hash=str(data["feature_schema_hash"]),
            threshold=threshold,
            onnx_sha256=str(data["onnx_sha256"]),
            baseline={n: baseline.get(n, 0.0) for n in names},
            raw=data,
        )


class ScoringModel:
    """An ONNX Runtime session with its manifest; scores float32 feature matrices."""

    def __init__(self, manifest: Manifest, onnx_bytes: bytes) -> None:
        self.manifest = manifest
        self.onnx_bytes = onnx_bytes  # verified against the manifest; kept for the cache
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                onnx_bytes, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises several private types
            raise ModelError(f"model.onnx cannot be loaded by onnxruntime: {exc}") from exc
        inputs = [i.name for i in self._session.get_inputs()]
        outputs = [o.name for o in self._session.get_outputs()]
        if inputs != [INPUT_NAME] or PROBABILITY_OUTPUT not in outputs:
            raise ModelError(
                f"model.onnx must take input {INPUT_NAME!r} and give {PROBABILITY_OUTPUT!r}; "
                f"it takes {inputs} and gives {outputs}"
            )

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def threshold(self) -> float:
        return self.manifest.threshold

    def score(
        self, features: NDArray[np.floating[Any]], run_options: ort.RunOptions | None = None
    ) -> NDArray[np.float64]:
        """Fraud probability per row of a [n, n_features] matrix. `run_options.terminate`
        set from another thread stops the call (it raises) at the graph's next node."""
        matrix = np.ascontiguousarray(features, dtype=np.float32)
        (probabilities,) = self._session.run(
            [PROBABILITY_OUTPUT], {INPUT_NAME: matrix}, run_options
        )
        return np.asarray(probabilities, dtype=np.float64)[:, 1]


def check_compatible(manifest: Manifest, feature_names: tuple[str, ...], schema_hash: str) -> None:
    """Refuse a model trained on other features than the job computes."""
    if manifest.feature_names != feature_names:
        raise ModelError(
            f"model {manifest.version} expects features {list(manifest.feature_names)}, "
            f"the job computes {list(feature_names)}; retrain on the job's features"
        )
    if manifest.feature_schema_hash != schema_hash:
        raise ModelError(
            f"model {manifest.version} was trained on feature schema "
            f"{manifest.feature_schema_hash[:12]}, the job's is {schema_hash[:12]}; "
            "the feature definitions changed: retrain the model"
        )


def load_model(
    location: str, feature_names: tuple[str, ...], schema_hash: str, endpoint: str | None = None
) -> ScoringModel:
    """Load and verify the model at a model directory or a registry root (its current
    version), local or under an s3:// prefix."""
    return ModelSource(location, feature_names, schema_hash, endpoint).load_current()


class ModelSource:
    """Where the job's model lives: a model directory or a registry root. Knows which
    version is current (cheap: one small read) and loads a version, verified."""

    def __init__(
        self,
        location: str,
        feature_names: tuple[str, ...],
        schema_hash: str,
        endpoint: str | None = None,
    ) -> None:
        self.location = location.rstrip("/") if location != "/" else location
        self.feature_names = feature_names
        self.schema_hash = schema_hash
        self._store = Store(self.location, endpoint)

    @property
    def store(self) -> Store:
        return self._store

    def is_registry(self) -> bool:
        return self._store.exists(POINTER_FILE)

    def current_version(self) -> str:
        """The version to serve: the registry pointer's, else the model directory's."""
        if self.is_registry():
            return read_pointer(self._store.read(POINTER_FILE), self._store.url(POINTER_FILE))
        return self._manifest(self._store, "").version

    def served_versions(self) -> tuple[str, tuple[str, ...]]:
        """The version to serve and the shadow versions to score beside it, from one read
        of the pointer (a model directory has no shadows)."""
        if not self.is_registry():
            return self._manifest(self._store, "").version, ()
        data = self._store.read(POINTER_FILE)
        where = self._store.url(POINTER_FILE)
        return read_pointer(data, where), read_shadows(data, where)

    def load_current(self) -> ScoringModel:
        if self.is_registry():
            return self.load_version(self.current_version())
        return self._load(self._store, "")

    def load_version(self, version: str) -> ScoringModel:
        """A registry version, or the model directory if it holds that version."""
        if self.is_registry():
            return self._load(self._store, f"{VERSIONS_DIR}/{version}/")
        model = self._load(self._store, "")
        if model.version != version:
            raise ModelError(f"{self.location} holds model {model.version}, not {version}")
        return model

    def _manifest(self, store: Store, prefix: str) -> Manifest:
        raw = store.read(prefix + MANIFEST_FILE)
        try:
            return Manifest.from_json(json.loads(raw))
        except json.JSONDecodeError as exc:
            where = store.url(prefix + MANIFEST_FILE)
            raise ModelError(f"{where} is not valid JSON: {exc}") from exc

    def _load(self, store: Store, prefix: str) -> ScoringModel:
        manifest = self._manifest(store, prefix)
        onnx_bytes = store.read(prefix + MODEL_FILE)
        digest = hashlib.sha256(onnx_bytes).hexdigest()
        if digest != manifest.onnx_sha256:
            raise ModelError(
                f"{store.url(prefix + MODEL_FILE)} has sha256 {digest[:12]}, the manifest says "
                f"{manifest.onnx_sha256[:12]}: the files do not belong together"
            )
        check_compatible(manifest, self.feature_names, self.schema_hash)
        return ScoringModel(manifest, onnx_bytes)


def read_pointer(data: bytes, where: str) -> str:
    """The current version a registry pointer names."""
    try:
        version = json.loads(data)["version"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelError(f"{where} must be a JSON object with a `version`: {exc}") from exc
    return str(version)


def read_shadows(data: bytes, where: str) -> tuple[str, ...]:
    """The shadow versions a registry pointer names, in order; none when the pointer has
    no `shadows` (the pointer's first format, contracts.model)."""
    read_pointer(data, where)  # a JSON object with a version
    shadows = json.loads(data).get("shadows", [])
    if not isinstance(shadows, list) or not all(isinstance(v, str) and v for v in shadows):
        raise ModelError(f"{where}: `shadows` must be a list of versions, got {shadows!r}")
    return tuple(shadows)


class Store:
    """Bytes under a local directory or an s3:// prefix, addressed by relative keys."""

    def __init__(self, root: str, endpoint: str | None = None) -> None:
        self.root = root
        self.endpoint = endpoint or None
        self._s3: Any = None
        if root.startswith("s3://"):
            self.bucket, _, prefix = root.removeprefix("s3://").partition("/")
            self.prefix = prefix.strip("/")

    @property
    def is_s3(self) -> bool:
        return self.root.startswith("s3://")

    def url(self, key: str) -> str:
        return f"{self.root.rstrip('/')}/{key}"

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def client(self) -> Any:
        if self._s3 is None:
            import boto3  # only needed on AWS or against the local moto server
            from botocore.config import Config

            config = Config(
                connect_timeout=S3_CONNECT_TIMEOUT_S,
                read_timeout=S3_READ_TIMEOUT_S,
                retries={"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
            )
            self._s3 = boto3.client("s3", endpoint_url=self.endpoint, config=config)
        return self._s3

    def read(self, key: str) -> bytes:
        if not self.is_s3:
            try:
                return (Path(self.root) / key).read_bytes()
            except FileNotFoundError as exc:
                raise ModelError(
                    f"no model at {self.root}: {exc.filename} is missing; "
                    "train one with `python -m model_export.train` or fix model.path"
                ) from exc
        try:
            body: bytes = (
                self.client().get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
            )
        except Exception as exc:  # botocore's network errors and ClientError alike
            raise ModelUnavailableError(f"cannot read {self.url(key)}: {exc}") from exc
        return body

    def exists(self, key: str) -> bool:
        if not self.is_s3:
            return (Path(self.root) / key).is_file()
        try:
            self.client().head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            response = getattr(exc, "response", None) or {}  # None on a read timeout
            code = response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            raise ModelUnavailableError(f"cannot read {self.url(key)}: {exc}") from exc
        return True

    def write(self, key: str, data: bytes) -> None:
        if not self.is_s3:
            path = Path(self.root) / key
            path.parent.mkdir(parents=True, exist_ok=True)
            # one temporary name per writer: two workers may write the same file at once
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half a file
            return
        self.client().put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def list_dirs(self, key: str) -> list[str]:
        """Names of the immediate sub-directories (common prefixes) under `key`."""
        if not self.is_s3:
            base = Path(self.root) / key
            return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        names: list[str] = []
        paginator = self.client().get_paginator("list_objects_v2")
        prefix = self._key(key.rstrip("/") + "/")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        return sorted(names)
