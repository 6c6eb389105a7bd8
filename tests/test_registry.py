"""The registry keeps immutable versions and a current pointer, on a directory or on S3
(moto); the job's model source follows the pointer and refuses a foreign schema."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from local.aws import LocalAws
from model_export.export import to_onnx
from model_export.registry import Registry, RegistryError, main, model_tarball
from udfs.model import ModelError, ModelSource


def write_model(
    directory: Path, version: str, threshold: float = 0.5, schema_hash: str | None = None
) -> Path:
    """A tiny model that scores every transaction 0.5 whatever its features (a logistic
    regression on balanced noise, its coefficients then set to zero): with a low threshold,
    every transaction alerts."""
    rng = np.random.default_rng(int(hashlib.sha256(version.encode()).hexdigest()[:8], 16))
    features = rng.normal(size=(200, len(FEATURE_NAMES))).astype(np.float32)
    labels = np.arange(200) % 2
    pipeline = Pipeline([("classifier", LogisticRegression())]).fit(features, labels)
    pipeline.named_steps["classifier"].coef_[:] = 0.0
    pipeline.named_steps["classifier"].intercept_[:] = 0.0
    onnx_bytes = to_onnx(pipeline, len(FEATURE_NAMES))
    manifest = {
        "version": version,
        "feature_names": list(FEATURE_NAMES),
        "feature_schema_hash": schema_hash or feature_schema_hash(),
        "threshold": threshold,
        "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "baseline": dict.fromkeys(FEATURE_NAMES, 0.0),
        "created_at": f"2026-11-28T12:00:0{len(version) % 10}Z",
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(onnx_bytes)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


@pytest.fixture(scope="module")
def s3() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=("models",)) as aws:
        yield aws


@pytest.fixture(params=["directory", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    if request.param == "directory":
        return str(tmp_path / "registry"), None
    aws = request.getfixturevalue("s3")
    return f"s3://models/{tmp_path.name}/", aws.endpoint


def test_publish_promote_rollback(root: tuple[str, str | None], tmp_path: Path) -> None:
    location, endpoint = root
    registry = Registry(location, endpoint)
    assert registry.versions() == [] and registry.current() is None
    for version in ("m-a", "m-b"):
        assert registry.publish_dir(write_model(tmp_path / version, version)) == version
    assert registry.versions() == ["m-a", "m-b"]
    source = ModelSource(location, FEATURE_NAMES, feature_schema_hash(), endpoint)
    assert not source.is_registry()  # no pointer yet: nothing is served

    assert registry.promote("m-a") is None
    assert source.is_registry() and source.load_current().version == "m-a"
    assert registry.promote("m-b") == "m-a"
    assert source.current_version() == "m-b"
    assert source.load_current().version == "m-b"
    assert source.load_version("m-a").version == "m-a"  # old versions stay readable
    assert registry.rollback() == "m-a"
    assert source.current_version() == "m-a"
    with pytest.raises(RegistryError, match="nothing to roll back"):
        registry.rollback()
    assert [v.current for v in registry.describe()] == [True, False]


def test_versions_are_immutable_and_unknown_ones_cannot_be_promoted(
    root: tuple[str, str | None], tmp_path: Path
) -> None:
    location, endpoint = root
    registry = Registry(location, endpoint)
    registry.publish_dir(write_model(tmp_path / "a", "m-a"))
    with pytest.raises(RegistryError, match="immutable"):
        registry.publish_dir(write_model(tmp_path / "a2", "m-a"))
    with pytest.raises(RegistryError, match="no version m-zz"):
        registry.promote("m-zz")


def test_sagemaker_tarball_is_published_as_is(tmp_path: Path) -> None:
    directory = write_model(tmp_path / "a", "m-tar")
    registry = Registry(str(tmp_path / "registry"))
    assert registry.publish_tarball(model_tarball(directory)) == "m-tar"
    stored = tmp_path / "registry" / "versions" / "m-tar" / "model.onnx"
    assert stored.read_bytes() == (directory / "model.onnx").read_bytes()


def test_files_that_do_not_belong_together_are_not_published(tmp_path: Path) -> None:
    directory = write_model(tmp_path / "a", "m-a")
    (directory / "model.onnx").write_bytes(b"other bytes")
    with pytest.raises(RegistryError, match="refusing to publish"):
        Registry(str(tmp_path / "registry")).publish_dir(directory)


def test_a_current_version_with_another_schema_is_refused(tmp_path: Path) -> None:
    registry = Registry(str(tmp_path / "registry"))
    registry.publish_dir(write_model(tmp_path / "x", "m-x", schema_hash="0" * 64))
    registry.promote("m-x")
    source = ModelSource(registry.root, FEATURE_NAMES, feature_schema_hash())
    with pytest.raises(ModelError, match="feature definitions changed"):
        source.load_current()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tmp_path / "registry")
    assert main([root, "publish", str(write_model(tmp_path / "a", "m-a")), "--promote"]) == 0
    assert main([root, "publish", str(write_model(tmp_path / "b", "m-b"))]) == 0
    assert main([root, "promote", "m-b"]) == 0
    assert main([root, "rollback"]) == 0
    assert main([root, "list"]) == 0
    assert main([root, "promote", "nope"]) == 1
    out = capsys.readouterr().out
    assert "* m-a" in out and "  m-b" in out
