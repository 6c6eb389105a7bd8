"""The registry keeps immutable versions, a current pointer and the shadow versions beside
it, on a directory or on S3 (moto); the job's model source follows the pointer and refuses a
foreign schema; a pointer written before shadows existed still reads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from contracts.model import POINTER_FILE
from flink_job.features import FEATURE_NAMES, feature_schema_hash
from local.aws import LocalAws
from model_export.export import to_onnx
from model_export.registry import Registry, RegistryError, main, model_tarball
from udfs.model import ModelError, ModelSource, read_pointer


def write_model(
    directory: Path,
    version: str,
    threshold: float = 0.5,
    schema_hash: str | None = None,
    intercept: float = 0.0,
    width: int = len(FEATURE_NAMES),
) -> Path:
    """A tiny model that scores every transaction 0.5 whatever its features (a logistic
    regression on balanced noise, its coefficients then set to zero): with a low threshold,
    every transaction alerts. Another `intercept` scores every transaction sigmoid(it)
    (NaN: NaN); another `width` makes an ONNX graph that takes that many features while its
    manifest names the job's: onnxruntime raises on every batch it scores."""
    rng = np.random.default_rng(int(hashlib.sha256(version.encode()).hexdigest()[:8], 16))
    features = rng.normal(size=(200, width)).astype(np.float32)
    labels = np.arange(200) % 2
    pipeline = Pipeline([("classifier", LogisticRegression())]).fit(features, labels)
    pipeline.named_steps["classifier"].coef_[:] = 0.0
    pipeline.named_steps["classifier"].intercept_[:] = intercept
    onnx_bytes = to_onnx(pipeline, width)
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


def test_shadows_are_added_promoted_and_demoted_beside_the_current_version(
    root: tuple[str, str | None], tmp_path: Path
) -> None:
    location, endpoint = root
    registry = Registry(location, endpoint)
    for version in ("m-a", "m-b", "m-c", "m-d"):
        registry.publish_dir(write_model(tmp_path / version, version))
    with pytest.raises(RegistryError, match="promote one before adding shadows"):
        registry.add_shadow("m-b")
    registry.promote("m-a")
    source = ModelSource(location, FEATURE_NAMES, feature_schema_hash(), endpoint)
    assert source.served_versions() == ("m-a", ())

    assert registry.add_shadow("m-b") == ["m-b"]
    assert registry.add_shadow("m-c") == ["m-b", "m-c"]
    assert registry.add_shadow("m-c") == ["m-b", "m-c"]  # once each
    with pytest.raises(RegistryError, match="at most 2"):
        registry.add_shadow("m-d")
    with pytest.raises(RegistryError, match="the current version, not a challenger"):
        registry.add_shadow("m-a")
    with pytest.raises(RegistryError, match="no version m-zz"):
        registry.add_shadow("m-zz")
    assert source.served_versions() == ("m-a", ("m-b", "m-c"))
    assert [(v.version, v.shadow) for v in registry.describe()] == [
        ("m-a", False),
        ("m-b", True),
        ("m-c", True),
        ("m-d", False),
    ]

    assert registry.promote("m-c") == "m-a"  # a shadow promoted leaves the shadows
    assert source.served_versions() == ("m-c", ("m-b",))
    assert registry.remove_shadow("m-b") == []  # demoted: no longer scored
    with pytest.raises(RegistryError, match="m-b is not a shadow"):
        registry.remove_shadow("m-b")
    registry.add_shadow("m-a")
    assert registry.rollback() == "m-a"  # back to current: no longer a shadow too
    assert source.served_versions() == ("m-a", ())


def test_a_pointer_of_the_first_format_still_reads_and_its_reader_reads_the_new_one(
    tmp_path: Path,
) -> None:
    """The pointer as every registry before shadows wrote it (no `shadows`) reads as one
    without shadows; read_pointer, the job's reader of that format, reads the new one."""
    registry = Registry(str(tmp_path / "registry"))
    for version in ("m-a", "m-b", "m-c"):
        registry.publish_dir(write_model(tmp_path / version, version))
    first_format = b"""{
  "version": "m-b",
  "previous": [
    "m-a"
  ],
  "promoted_at": "2026-11-28T12:00:00.000000Z"
}
"""
    pointer = tmp_path / "registry" / POINTER_FILE
    pointer.write_bytes(first_format)
    source = ModelSource(registry.root, FEATURE_NAMES, feature_schema_hash())
    assert registry.current() == "m-b" and registry.shadows() == []
    assert source.served_versions() == ("m-b", ())
    assert source.load_current().version == "m-b"

    registry.add_shadow("m-c")
    assert read_pointer(pointer.read_bytes(), str(pointer)) == "m-b"
    assert json.loads(pointer.read_bytes())["previous"] == ["m-a"]  # history kept
    assert registry.rollback() == "m-a" and registry.shadows() == ["m-c"]


def test_a_pointer_whose_shadows_are_not_a_list_of_versions_is_refused(tmp_path: Path) -> None:
    registry = Registry(str(tmp_path / "registry"))
    registry.publish_dir(write_model(tmp_path / "m-a", "m-a"))
    pointer = tmp_path / "registry" / POINTER_FILE
    pointer.write_text(json.dumps({"version": "m-a", "shadows": "m-b"}))
    with pytest.raises(ModelError, match="`shadows` must be a list of versions"):
        ModelSource(registry.root, FEATURE_NAMES, feature_schema_hash()).served_versions()


def test_command_line_shadows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tmp_path / "registry")
    assert main([root, "publish", str(write_model(tmp_path / "a", "m-a")), "--promote"]) == 0
    assert main([root, "publish", str(write_model(tmp_path / "b", "m-b")), "--shadow"]) == 0
    assert main([root, "publish", str(write_model(tmp_path / "c", "m-c"))]) == 0
    assert main([root, "shadow-add", "m-c", "--max-shadows", "1"]) == 1
    assert main([root, "list"]) == 0
    out = capsys.readouterr().out
    assert "* m-a" in out and "~ m-b" in out and "  m-c" in out
    assert main([root, "shadow-remove", "m-b"]) == 0
    assert main([root, "shadow-add", "m-c"]) == 0
    assert main([root, "promote", "m-c"]) == 0
    assert Registry(root).shadows() == [] and Registry(root).current() == "m-c"
