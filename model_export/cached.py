"""A trained model reused while its data and the job's features stay the same: the demo
and the benchmarks train once per data file, not once per run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from contracts.model import MANIFEST_FILE
from flink_job.features import feature_schema_hash
from model_export.train import train

STAMP_FILE = "trained-on.sha256"


def trained_model(data: Path, model_dir: Path) -> dict[str, Any]:
    """Train unless a model for this exact data and feature schema is already there."""
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    manifest_path = model_dir / MANIFEST_FILE
    stamp = model_dir / STAMP_FILE
    if manifest_path.exists() and stamp.exists() and stamp.read_text() == digest:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        if manifest.get("feature_schema_hash") == feature_schema_hash():
            print(f"model: reusing {manifest['version']} (same data, same features)")
            return manifest
    print(f"model: training on the job's features of {data.name} …")
    manifest = train(data, model_dir, target_precision=0.8, seed=7)
    stamp.write_text(digest)
    return manifest
