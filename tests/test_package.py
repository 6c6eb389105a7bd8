"""infra/package.py: the Managed Flink zip's layout, the Lambda zip, reproducibility.

The dependency download (pip, about 35 MB of wheels) is left out by `skip_deps` unless
FRAUD_PACKAGE_DOWNLOAD=1; what would be downloaded is still checked.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from infra import package
from infra.package import FLINK_ZIP, PY_DEPS_DIR, RUN_OPTIONS, Entry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake_jar(tmp_path: Path) -> Path:
    """A stand-in for the 60 MB connector uber-jar: the layout is what is under test."""
    jar = tmp_path / "fraud-stream-connectors.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    return jar


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_flink_zip_layout(tmp_path: Path, fake_jar: Path) -> None:
    result = package.build_flink_zip(tmp_path / "out", tmp_path / "wheels", True, fake_jar)
    entries = names(result.path)
    assert result.path.name == FLINK_ZIP
    assert RUN_OPTIONS["python"] == "main.py" and "main.py" in entries
    with zipfile.ZipFile(result.path) as archive:
        entry_point = archive.read("main.py").decode()
    assert "from flink_job.main import main" in entry_point and "main()" in entry_point
    jars = [n for n in entries if n.endswith(".jar")]
    assert jars == [RUN_OPTIONS["jarfile"]] and jars[0].startswith("lib/")
    for module in ("flink_job/config.py", "flink_job/pipeline.py", "udfs/scoring.py"):
        assert module in entries
        assert f"{PY_DEPS_DIR}/{module}" in entries, "UDF workers import via pyFiles"
    assert "flink_job/application_properties.json" not in entries
    assert not [n for n in entries if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in entries if n.startswith(("flink_job/target", "tests/"))]


def test_pyfiles_folder_is_in_the_zip_and_in_terraform(tmp_path: Path, fake_jar: Path) -> None:
    from tests.test_terraform_wiring import MODULES, defaults

    terraform_run_options = defaults(MODULES / "flink_app")["run_options"]
    assert terraform_run_options["pyFiles"] == RUN_OPTIONS["pyFiles"]
    result = package.build_flink_zip(tmp_path, tmp_path / "wheels", True, fake_jar)
    folder = terraform_run_options["pyFiles"].rstrip("/") + "/"
    assert any(n.startswith(folder) for n in names(result.path))
    assert Path(RUN_OPTIONS["jarfile"]).name == package.CONNECTOR_JAR.name


def test_zip_is_reproducible(tmp_path: Path, fake_jar: Path) -> None:
    first = package.build_flink_zip(tmp_path / "a", tmp_path / "wheels", True, fake_jar)
    os.utime(ROOT / "udfs" / "__init__.py")  # a newer mtime must not change the bytes
    second = package.build_flink_zip(tmp_path / "b", tmp_path / "wheels", True, fake_jar)
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(first.path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_fanout_zip_has_the_handler_and_template(tmp_path: Path) -> None:
    result = package.build_fanout_zip(tmp_path, tmp_path / "wheels", skip_deps=True)
    entries = names(result.path)
    for name in (
        "lambdas/__init__.py",
        "lambdas/alert_fanout/handler.py",
        "lambdas/alert_fanout/config.py",
        "lambdas/alert_fanout/templates/fraud-alert.json",
    ):
        assert name in entries
    assert "lambdas/alert_fanout/README.md" not in entries


def test_api_zip_is_skipped_until_the_api_exists(tmp_path: Path) -> None:
    result = package.build_api_zip(tmp_path, tmp_path / "wheels", skip_deps=True)
    assert (result is None) == (not (ROOT / "lambdas" / "api").is_dir())


def test_dependencies_are_what_the_runtime_lacks_at_the_locked_versions() -> None:
    pins = dict(
        p.split("==") for p in package.pinned_extras(("onnxruntime", "boto3"), ("apache-flink",))
    )
    assert {"onnxruntime", "boto3", "botocore"} <= set(pins)
    provided = {"numpy", "pandas", "pyarrow", "protobuf", "apache-flink", "apache-beam"}
    assert not provided & set(pins), "the Flink runtime ships these; a second copy would clash"
    lock = dict(
        line.strip().split("==")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    )
    lock = {k.lower().replace("_", "-"): v for k, v in lock.items()}
    for name, version in pins.items():
        assert lock[name] == version, f"{name} {version} is not the locked version"
    fanout = package.pinned_extras(package.FANOUT_REQUIREMENTS, package.LAMBDA_RUNTIME_PROVIDES)
    assert any(p.startswith("aws-lambda-powertools==") for p in fanout)
    assert not any(p.startswith(("boto3==", "botocore==")) for p in fanout)


def test_wheels_unpack_like_site_packages(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo/__init__.py", "")
        archive.writestr("demo/__pycache__/x.cpython-311.pyc", "")
        archive.writestr("demo-1.0.dist-info/METADATA", "Name: demo\n")
        archive.writestr("demo-1.0.data/platlib/_demo_native.so", "elf")
        archive.writestr("demo-1.0.data/scripts/demo-cli", "#!/bin/sh\n")
    entries = {e.name for e in package.wheel_entries(wheel, PY_DEPS_DIR)}
    assert entries == {
        f"{PY_DEPS_DIR}/demo/__init__.py",
        f"{PY_DEPS_DIR}/demo-1.0.dist-info/METADATA",
        f"{PY_DEPS_DIR}/_demo_native.so",
    }


def test_duplicate_entries_are_refused(tmp_path: Path) -> None:
    with pytest.raises(package.PackagingError, match="duplicate"):
        package.write_zip(tmp_path / "x.zip", [Entry("a", b"1"), Entry("a", b"2")])


@pytest.mark.skipif(
    os.environ.get("FRAUD_PACKAGE_DOWNLOAD") != "1",
    reason="downloads ~35 MB of wheels from PyPI as `make package` does; "
    "set FRAUD_PACKAGE_DOWNLOAD=1 to run it",
)
def test_full_package_has_onnxruntime_for_the_runtime(tmp_path: Path) -> None:
    wheelhouse = ROOT / "build" / "package" / "wheels"
    result = package.build_flink_zip(tmp_path, wheelhouse, skip_deps=False)
    entries = names(result.path)
    assert f"{PY_DEPS_DIR}/onnxruntime/__init__.py" in entries
    assert any(
        n.startswith(
            f"{PY_DEPS_DIR}/onnxruntime/capi/onnxruntime_pybind11_state.cpython-311-x86_64"
        )
        for n in entries
    )
    assert f"{PY_DEPS_DIR}/boto3/__init__.py" in entries
    assert not any(n.startswith(f"{PY_DEPS_DIR}/numpy/") for n in entries)


def test_job_imports_only_what_the_zip_or_the_runtime_has() -> None:
    """A new import of a package the zip lacks would fail only on AWS: catch it here."""
    import ast
    import sys
    from importlib.metadata import packages_distributions

    from packaging.utils import canonicalize_name

    by_module = packages_distributions()
    shipped = {
        p.split("==")[0]
        for p in package.pinned_extras(package.JOB_REQUIREMENTS, package.FLINK_RUNTIME_PROVIDES)
    }
    available = shipped | set(package.dependency_closure(package.FLINK_RUNTIME_PROVIDES))
    for source in package.JOB_PACKAGES:
        for path in sorted((ROOT / source).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    tops = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    tops = [node.module.split(".")[0]]
                else:
                    continue
                for top in tops:
                    if top in sys.stdlib_module_names or top in package.JOB_PACKAGES:
                        continue
                    dists = {canonicalize_name(d) for d in by_module.get(top, [])}
                    assert dists & available, f"{path.relative_to(ROOT)} imports {top}"
