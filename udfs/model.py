"""Load a scoring model (model.onnx + manifest.json) and refuse one that does not fit the job.

A model directory, local or under an s3:// prefix, holds:
- `model.onnx`: a scikit-learn pipeline exported by skl2onnx, input `features` (float32,
  [n, len(feature_names)]), output `probabilities` ([n, 2], column 1 = fraud);
- `manifest.json`: version, ordered feature names, feature schema hash, threshold,
  ONNX sha256, per-feature baseline values (used for reasons), metrics, training window.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
INPUT_NAME = "features"
PROBABILITY_OUTPUT = "probabilities"


class ModelError(RuntimeError):
    """The model cannot be used; the message says what is wrong and what to fix."""


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
        required = ("version", "feature_names", "feature_schema_hash", "threshold", "onnx_sha256")
        missing = [k for k in required if k not in data]
        if missing:
            raise ModelError(f"manifest.json lacks {', '.join(missing)}; re-export the model")
        threshold = float(data["threshold"])
        if not 0.0 < threshold < 1.0:
            raise ModelError(f"manifest threshold must be in (0, 1), got {threshold}")
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

    def score(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Fraud probability per row of a [n, n_features] matrix."""
        matrix = np.ascontiguousarray(features, dtype=np.float32)
        (probabilities,) = self._session.run([PROBABILITY_OUTPUT], {INPUT_NAME: matrix})
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


def load_model(location: str, feature_names: tuple[str, ...], schema_hash: str) -> ScoringModel:
    """Load and verify the model at a directory path or an s3:// prefix."""
    manifest_bytes, onnx_bytes = _read_files(location)
    try:
        manifest = Manifest.from_json(json.loads(manifest_bytes))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{location}/{MANIFEST_FILE} is not valid JSON: {exc}") from exc
    digest = hashlib.sha256(onnx_bytes).hexdigest()
    if digest != manifest.onnx_sha256:
        raise ModelError(
            f"{location}/{MODEL_FILE} has sha256 {digest[:12]}, the manifest says "
            f"{manifest.onnx_sha256[:12]}: the files do not belong together"
        )
    check_compatible(manifest, feature_names, schema_hash)
    return ScoringModel(manifest, onnx_bytes)


def _read_files(location: str) -> tuple[bytes, bytes]:
    if location.startswith("s3://"):
        return _read_s3(location)
    directory = Path(location)
    try:
        return (directory / MANIFEST_FILE).read_bytes(), (directory / MODEL_FILE).read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(
            f"no model at {location}: {exc.filename} is missing; "
            "train one with `python -m model_export.train` or fix model.path"
        ) from exc


def _read_s3(location: str) -> tuple[bytes, bytes]:
    import boto3  # only needed on AWS or against the local moto server

    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/")
    s3 = boto3.client("s3")
    files = []
    for name in (MANIFEST_FILE, MODEL_FILE):
        key = f"{prefix}/{name}" if prefix else name
        try:
            files.append(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except Exception as exc:
            raise ModelError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
    return files[0], files[1]
