"""The model manifest and the registry's layout: what training writes next to model.onnx,
what the registry publishes and what the job verifies before it scores with a model.

    <model dir>/model.onnx, <model dir>/manifest.json
    <registry>/versions/<version>/model.onnx and manifest.json (immutable)
    <registry>/current.json   {"version": ..., "previous": [...], "shadows": [...],
                               "promoted_at": ...}

The pointer's `shadows` came after its first format: a pointer without it (as every
registry written before had) reads as one with no shadow model, and the readers before it
read only `version`, so either build reads the other's pointer (tests/test_registry.py).
"""

from __future__ import annotations

from contracts.fields import Contract, table

MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
POINTER_FILE = "current.json"
VERSIONS_DIR = "versions"
# shadow models the registry keeps beside the current one (the job's model.max_shadows
# defaults to the same number): each costs a model's scoring time per batch
MAX_SHADOWS = 2
# model.onnx's input (float32 [n, len(feature_names)]) and output ([n, 2], column 1 = fraud)
INPUT_NAME = "features"
PROBABILITY_OUTPUT = "probabilities"

MODEL_MANIFEST = Contract(
    "Model manifest",
    None,
    f"`{MANIFEST_FILE}` beside `{MODEL_FILE}`",
    table(
        f"""
        version             | string            | yes | `m-<UTC time>-<sha256 prefix>`, unique
        created_at          | timestamp         | no  |
        model_type          | string            | no  |
        candidate           | string            | no  | the chosen candidate
                            |                   |     | (model_export.candidates)
        feature_names       | list of strings   | yes | the model's input columns, in order
        feature_schema_hash | string            | yes | the job's feature definitions
                            |                   |     | (flink_job.features); the job refuses a
                            |                   |     | model whose hash is not its own
        threshold           | number            | yes | in (0, 1): a score at or above it alerts
        threshold_policy    | string            | no  | how the threshold was chosen
        baseline            | object of numbers | no  | per feature, legit median (for reasons)
        feature_histograms  | object            | no  | per feature, the training rows' bin
                            |                   |     | `edges` (deciles), `shares` and
                            |                   |     | `missing` share: the drift baseline
                            |                   |     | (model_export.histograms)
        training_window     | object            | no  | protocol and dates of each split
        metrics             | object            | no  | test and validation figures
        onnx_sha256         | string            | yes | sha256 of `{MODEL_FILE}`
        """
    ),
)

POINTER = Contract(
    "Registry pointer",
    None,
    f"`{POINTER_FILE}` at the registry's root",
    table(
        """
        version     | string          | yes | the version the job serves
        previous    | list of strings | no  | earlier current versions; rollback pops it
        shadows     | list of strings | no  | versions scored in shadow beside the current
                    |                 |     | one (never alert; their scores go to the
                    |                 |     | decision log); absent: none
        promoted_at | timestamp       | no  |
        """
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
