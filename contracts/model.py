"""The model manifest and the registry's layout: what training writes next to model.onnx,
what the registry publishes and what the job verifies before it scores with a model.

    <model dir>/model.onnx, <model dir>/manifest.json
    <registry>/versions/<version>/model.onnx and manifest.json (immutable)
    <registry>/current.json   {"version": ..., "previous": [...], "promoted_at": ...}
"""

from __future__ import annotations

from contracts.fields import (
    NUMBER,
    NUMBERS_BY_NAME,
    OBJECT,
    STRING,
    STRINGS,
    TIMESTAMP,
    Contract,
    Field,
)

MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
POINTER_FILE = "current.json"
VERSIONS_DIR = "versions"
# model.onnx's input (float32 [n, len(feature_names)]) and output ([n, 2], column 1 = fraud)
INPUT_NAME = "features"
PROBABILITY_OUTPUT = "probabilities"

MODEL_MANIFEST = Contract(
    title="Model manifest",
    schema=None,
    travels=f"`{MANIFEST_FILE}` beside `{MODEL_FILE}`",
    fields=(
        Field("version", STRING, True, "`m-<UTC time>-<sha256 prefix>`, unique"),
        Field("created_at", TIMESTAMP, False, ""),
        Field("model_type", STRING, False, ""),
        Field("candidate", STRING, False, "the chosen candidate (model_export.candidates)"),
        Field("feature_names", STRINGS, True, "the model's input columns, in order"),
        Field(
            "feature_schema_hash",
            STRING,
            True,
            "the job's feature definitions (flink_job.features); the job refuses a model "
            "whose hash is not its own",
        ),
        Field("threshold", NUMBER, True, "in (0, 1): a score at or above it alerts"),
        Field("threshold_policy", STRING, False, "how the threshold was chosen"),
        Field("baseline", NUMBERS_BY_NAME, False, "per feature, legit median (for reasons)"),
        Field("training_window", OBJECT, False, "protocol and dates of each split"),
        Field("metrics", OBJECT, False, "test and validation figures"),
        Field("onnx_sha256", STRING, True, f"sha256 of `{MODEL_FILE}`"),
    ),
)

POINTER = Contract(
    title="Registry pointer",
    schema=None,
    travels=f"`{POINTER_FILE}` at the registry's root",
    fields=(
        Field("version", STRING, True, "the version the job serves"),
        Field("previous", STRINGS, False, "earlier current versions; rollback pops it"),
        Field("promoted_at", TIMESTAMP, False, ""),
    ),
)


def manifest_problems(data: dict[str, object]) -> list[str]:
    """What makes `data` no usable manifest (empty when it is one)."""
    missing = [name for name in MODEL_MANIFEST.required_names() if name not in data]
    problems = [f"lacks {', '.join(missing)}"] if missing else []
    threshold = data.get("threshold")
    if isinstance(threshold, int | float) and not 0.0 < float(threshold) < 1.0:
        problems.append(f"threshold must be in (0, 1), got {threshold}")
    return problems
