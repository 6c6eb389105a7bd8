"""infra/package.py: the Managed Flink zip's layout, the Lambda zip, reproducibility.

Most tests leave the dependency download out (`skip_deps`, a stand-in jar); the service
layout tests build the real zip once, as `make package` does (the uber-jar, about 35 MB of
runtime wheels from PyPI, cached in build/package/wheels) and check it against the
layout Managed Service for Apache Flink documents.
"""

from __future__ import annotations

import ast
import io
import os
import re
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


# ---- the zip `make package` builds, against the service's documented layout ------------
# Managed Service for Apache Flink, "Create your Managed Service for Apache Flink Python
# application": the zip holds everything (pyModule, pyExecutable and pyRequirements are not
# supported, nothing is pip-installed); the property group kinesis.analytics.flink.run.options
# names the Python main file (`python`), the Java UDF/connector jar (`jarfile`), the Python
# resources (`pyFiles`) and archives (`pyArchives`), paths inside the zip. Runtime
# FLINK-1_20: CPython 3.11 on Linux x86_64.
DOCUMENTED_RUN_OPTIONS = {"python", "jarfile", "pyFiles", "pyArchives"}
RUNTIME_PYTHON_TAGS = {"py3", "py311", "cp311"}
ELF_X86_64 = 0x3E


def runtime_accepts(tag: str) -> bool:
    """A wheel tag CPython 3.11 on Linux x86_64 installs: pure Python 3, or cp311 / abi3
    native code for a manylinux (glibc) x86_64 platform."""
    python, abi, platform = tag.split("-")
    pythons = set(python.split("."))
    if platform == "any":
        return abi == "none" and bool(pythons & RUNTIME_PYTHON_TAGS)
    native = bool(pythons & {"cp311"}) or (
        abi == "abi3" and any(p.startswith("cp3") for p in pythons)
    )
    return native and platform.startswith("manylinux") and platform.endswith("x86_64")


def test_runtime_tag_rule_refuses_other_pythons_and_platforms() -> None:
    assert runtime_accepts("cp311-cp311-manylinux_2_27_x86_64")
    assert runtime_accepts("py2.py3-none-any") and runtime_accepts("cp38-abi3-manylinux2014_x86_64")
    assert not runtime_accepts("cp312-cp312-manylinux_2_28_x86_64")
    assert not runtime_accepts("cp311-cp311-macosx_11_0_arm64")
    assert not runtime_accepts("cp311-cp311-manylinux_2_28_aarch64")
    assert not runtime_accepts("py2-none-any")


@pytest.fixture(scope="module")
def service_zip(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The Managed Flink zip as `make package` builds it: the connector uber-jar `make jar`
    built, the job's dependencies downloaded from PyPI as runtime wheels (cached in
    build/package/wheels, `make package`'s own wheelhouse)."""
    if not package.CONNECTOR_JAR.is_file():
        pytest.fail(f"{package.CONNECTOR_JAR} is missing: `make test` builds it (make jar)")
    out = tmp_path_factory.mktemp("package")
    result = package.build_flink_zip(out, package.DEFAULT_OUT / "wheels", skip_deps=False)
    return zipfile.ZipFile(result.path)


def test_run_options_are_the_documented_ones_and_point_into_the_zip(
    service_zip: zipfile.ZipFile,
) -> None:
    entries = set(service_zip.namelist())
    assert set(RUN_OPTIONS) <= DOCUMENTED_RUN_OPTIONS
    entry = RUN_OPTIONS["python"]
    assert "/" not in entry and entry in entries, "the Python entry is a file at the root"
    ast.parse(service_zip.read(entry))  # it is Python
    assert RUN_OPTIONS["jarfile"].startswith("lib/") and RUN_OPTIONS["jarfile"] in entries
    folder = RUN_OPTIONS["pyFiles"]
    assert folder.endswith("/") and any(n.startswith(folder) for n in entries)


def test_the_jar_under_lib_is_the_connector_uber_jar(service_zip: zipfile.ZipFile) -> None:
    with zipfile.ZipFile(io.BytesIO(service_zip.read(RUN_OPTIONS["jarfile"]))) as jar:
        classes = jar.namelist()
    assert "META-INF/MANIFEST.MF" in classes
    assert any(c.startswith("org/apache/flink/connector/kinesis/") for c in classes)
    assert any(c.startswith("io/fraudstream/") for c in classes), "the job's Java functions"
    assert [n for n in service_zip.namelist() if n.endswith(".jar")] == [RUN_OPTIONS["jarfile"]]


def test_dependencies_are_where_pyfiles_points(service_zip: zipfile.ZipFile) -> None:
    folder = RUN_OPTIONS["pyFiles"]
    entries = set(service_zip.namelist())
    for module in ("onnxruntime/__init__.py", "boto3/__init__.py", "udfs/scoring.py"):
        assert f"{folder}{module}" in entries
    top_level = {n.split("/")[0] for n in entries if "/" in n}
    assert top_level <= {"lib", folder.rstrip("/"), *package.JOB_PACKAGES}, top_level
    provided = {"numpy", "pandas", "pyarrow", "pyflink", "apache_beam", "google"}
    shipped = {n.split("/")[1] for n in entries if n.startswith(folder)}
    assert not provided & shipped, "the runtime's own copies would clash"


def test_native_code_is_for_the_runtimes_python_on_linux_x86_64(
    service_zip: zipfile.ZipFile,
) -> None:
    folder = RUN_OPTIONS["pyFiles"]
    wheels = [n for n in service_zip.namelist() if n.startswith(folder) and n.endswith("/WHEEL")]
    assert wheels
    for name in wheels:  # each wheel has a tag the runtime's interpreter accepts
        text = service_zip.read(name).decode()
        tags = [t.split(":", 1)[1].strip() for t in text.splitlines() if t.startswith("Tag:")]
        assert any(runtime_accepts(tag) for tag in tags), (name, tags)
    natives = [n for n in service_zip.namelist() if n.startswith(folder) and ".so" in n]
    assert any("onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so" in n for n in natives)
    for name in natives:
        header = service_zip.read(name)[:20]
        assert header[:4] == b"\x7fELF" and header[4] == 2, f"{name}: not a 64-bit ELF"
        assert int.from_bytes(header[18:20], "little") == ELF_X86_64, f"{name}: not x86_64"
        extension = re.search(r"\.(cpython-\d+-[^.]+|abi3)\.so", name)
        if extension and extension[1].startswith("cpython"):
            assert extension[1] == "cpython-311-x86_64-linux-gnu", name


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
