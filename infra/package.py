"""Build the artefacts Terraform deploys, reproducibly, into build/package/.

- ``fraud-stream-flink.zip``: the Managed Service for Apache Flink application (runtime
  ``FLINK-1_20``, Python 3.11). At the root a generated ``main.py`` that calls
  ``flink_job.main.main()``, the packages ``flink_job/``, ``udfs/``, ``contracts/`` and ``rules/``
  (``.py`` files only), ``lib/fraud-stream-connectors.jar`` (``make jar``), and under
  ``python_deps/`` (the folder named by ``pyFiles``) the job's Python dependencies that the
  runtime does not provide, unpacked from manylinux x86_64 wheels for CPython 3.11.
- ``alert-fanout.zip``: the alert fan-out Lambda (``lambdas/`` with
  ``alert_fanout/templates/``) plus aws-lambda-powertools and what it needs beyond boto3.
- ``api.zip``: the API Lambda (``lambdas/api/``, the alert store's layout from
  ``lambdas/alert_fanout/``, ``contracts/``) plus Powertools, Pydantic (with its compiled
  core for CPython 3.11 x86_64) and joserfc (with cryptography), beyond boto3.
- ``archive-mask.zip``: the archive's Firehose transformation (``lambdas/archive_mask/``,
  ``contracts/``), no dependencies.
- ``console.zip``: the analyst console for Amplify (``make console`` builds ``console/dist/``):
  the built site at the root and its ``config.json`` (API URL, Cognito hosted-UI domain, app
  client, redirect URI), from ``--terraform-outputs`` (the JSON of ``terraform output
  -json``) or ``--console-config``; without either, a template whose ``${...}`` placeholders
  the console refuses to start with.

What the Managed Flink runtime provides is taken to be ``apache-flink`` and its whole
dependency closure (numpy, pandas, pyarrow, protobuf, ...: AWS's examples say not to ship
these). boto3 is *not* assumed present (AWS's PythonDependencies example ships it), so it
is packaged. Versions are the ones installed in this virtualenv, i.e. ``requirements.lock``,
so the zip carries exactly what the tests ran against.

Reproducible: entries sorted, timestamps fixed (``SOURCE_DATE_EPOCH`` or 1980-01-01),
permissions normalised, no ``__pycache__``; the same inputs give the same bytes.

Usage: ``python -m infra.package [--out build/package] [--skip-deps]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "package"
CONNECTOR_JAR = ROOT / "flink_job" / "target" / "fraud-stream-connectors.jar"

FLINK_ZIP = "fraud-stream-flink.zip"
FANOUT_ZIP = "alert-fanout.zip"
API_ZIP = "api.zip"
ARCHIVE_MASK_ZIP = "archive-mask.zip"
CONSOLE_ZIP = "console.zip"
CONSOLE_DIST = ROOT / "console" / "dist"
# The console's run-time configuration (console/src/config.ts), placeholders named after the
# Amplify branch's environment variables (infra/terraform/modules/api).
CONSOLE_CONFIG_TEMPLATE: dict[str, str] = {
    "apiBaseUrl": "${API_URL}",
    "authority": "https://${COGNITO_DOMAIN}",
    "clientId": "${USER_POOL_CLIENT}",
    "redirectUri": "${CONSOLE_URL}",
    "logoutUri": "https://${COGNITO_DOMAIN}/logout",
}
# terraform output name -> what the console's config.json needs from it
CONSOLE_OUTPUTS = ("api_endpoint", "cognito_domain", "user_pool_client_id", "console_url")

# kinesis.analytics.flink.run.options: Terraform's property group must say the same
# (tests/test_terraform_wiring.py and tests/test_package.py check it).
RUN_OPTIONS: dict[str, str] = {
    "python": "main.py",
    "jarfile": "lib/fraud-stream-connectors.jar",
    "pyFiles": "python_deps/",
}
PY_DEPS_DIR = RUN_OPTIONS["pyFiles"].rstrip("/")
JOB_PACKAGES = ("flink_job", "udfs", "contracts", "rules")  # contracts the job reads, rules it runs

# Runtime: Managed Flink FLINK-1_20 runs CPython 3.11 on x86_64.
PYTHON_VERSION = "3.11"
# onnxruntime >= 1.17 ships only manylinux_2_27/2_28 wheels (1.16.3 was the last
# manylinux2014 one), so glibc >= 2.28 on the runtime image is assumed (infra/README.md).
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_27_x86_64", "manylinux_2_28_x86_64")
JOB_REQUIREMENTS = ("onnxruntime", "boto3", "lark")  # lark: the rule language's parser
FLINK_RUNTIME_PROVIDES = ("apache-flink",)
FANOUT_REQUIREMENTS = ("aws-lambda-powertools",)
LAMBDA_RUNTIME_PROVIDES = ("boto3",)
# lark parses analysts' rules; pyarrow's RE2 kernel checks a rule's `matches` pattern
# (rules/regex.py) exactly as the job will run it
API_REQUIREMENTS = ("aws-lambda-powertools", "pydantic", "joserfc", "lark", "pyarrow")
API_PACKAGES = ("lambdas/api", "lambdas/alert_fanout", "contracts", "rules")
# Parts of pyarrow's wheel the API never loads (pyarrow.lib links libarrow, libarrow_python,
# libarrow_dataset and libparquet; Flight, Substrait, Plasma, the Cython and C++ sources and
# the tests are not loaded by `import pyarrow.compute`): left out, the zip goes from 56.1
# MiB to under Lambda's 50 MB for a zip uploaded directly (lambdas/api/README.md).
API_PRUNED = re.compile(
    r"^(pyarrow/(libarrow_flight\.|libarrow_python_flight\.|libarrow_substrait\.|libplasma\."
    r"|_flight\.|_substrait\.|_plasma\.|plasma-store-server|include/|includes/|tests/)"
    r"|numpy/(.*/)?tests/|(pyarrow|numpy)/.*\.(pyx|pxd|pxi|h|cc)$)"
)
ARCHIVE_MASK_PACKAGES = ("lambdas/archive_mask", "contracts")

ENTRY_POINT = '''"""Managed Flink entry point, generated by infra/package.py: runs the fraud job."""

from flink_job.main import main

if __name__ == "__main__":
    main()
'''

EXCLUDED_PARTS = {"__pycache__", "target", "tests"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


class PackagingError(RuntimeError):
    """An input is missing or a tool failed; the message says what to do."""


@dataclass(frozen=True)
class Entry:
    """One file of a zip: its name inside the archive and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class BuildResult:
    path: Path
    entries: int
    size: int
    sha256: str


def zip_timestamp() -> tuple[int, int, int, int, int, int]:
    """The one timestamp every entry gets: SOURCE_DATE_EPOCH if set, else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return (1980, 1, 1, 0, 0, 0)
    t = time.gmtime(max(int(epoch), 315532800))  # zip cannot store dates before 1980
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def write_zip(path: Path, entries: Iterable[Entry]) -> BuildResult:
    """Write entries sorted by name with fixed metadata; refuse duplicate names."""
    items = sorted(entries, key=lambda e: e.name)
    names = [e.name for e in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PackagingError(f"{path.name}: duplicate entries {duplicates[:5]}")
    stamp = zip_timestamp()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for entry in items:
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr holds the mode
            info.external_attr = (0o100644 & 0xFFFF) << 16
            archive.writestr(info, entry.data, compresslevel=9)
    tmp.replace(path)
    data = path.read_bytes()
    return BuildResult(path, len(items), len(data), hashlib.sha256(data).hexdigest())


def _included(relative: Path) -> bool:
    if any(part in EXCLUDED_PARTS or part.startswith(".") for part in relative.parts):
        return False
    return relative.suffix not in EXCLUDED_SUFFIXES


def tree_entries(
    directory: Path, prefix: str, suffixes: tuple[str, ...] | None = None
) -> Iterator[Entry]:
    """Files under directory (filtered by suffix), named ``prefix/relative/path``."""
    if not directory.is_dir():
        raise PackagingError(f"{directory} does not exist")
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not path.is_file() or not _included(relative):
            continue
        if suffixes is not None and path.suffix not in suffixes:
            continue
        yield Entry(f"{prefix}/{relative.as_posix()}", path.read_bytes())


def _marker_environment() -> dict[str, str]:
    """Markers of the target runtime: CPython 3.11 on Linux x86_64."""
    env = {key: str(value) for key, value in default_environment().items()}
    env.update(
        python_version=PYTHON_VERSION,
        python_full_version=f"{PYTHON_VERSION}.0",
        implementation_name="cpython",
        platform_python_implementation="CPython",
        sys_platform="linux",
        platform_system="Linux",
        platform_machine="x86_64",
        os_name="posix",
    )
    return env


def dependency_closure(roots: Iterable[str]) -> dict[str, str]:
    """Installed distributions reachable from roots: canonical name -> installed version."""
    env = _marker_environment()
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [(canonicalize_name(r), frozenset[str]()) for r in roots]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise PackagingError(
                f"{name} is not installed in {sys.prefix}: run `make install` first"
            ) from None
        found[name] = dist.version
        for raw in dist.requires or []:
            req = Requirement(raw)
            marker_envs = [{**env, "extra": e} for e in (extras or {""})]
            if req.marker and not any(req.marker.evaluate(m) for m in marker_envs):
                continue
            pending.append((canonicalize_name(req.name), frozenset(req.extras)))
    return found


def pinned_extras(requirements: Iterable[str], provided_by: Iterable[str]) -> list[str]:
    """``name==version`` for what requirements need beyond what the runtime provides."""
    needed = dependency_closure(requirements)
    provided = dependency_closure(provided_by)
    return sorted(f"{n}=={v}" for n, v in needed.items() if n not in provided)


def download_wheels(pins: list[str], wheelhouse: Path) -> list[Path]:
    """Binary wheels for the runtime's platform, exactly pinned, no resolution."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps"]
    command += ["--only-binary=:all:", "--python-version", PYTHON_VERSION]
    command += ["--implementation", "cp", "--dest", str(wheelhouse)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    result = subprocess.run([*command, *pins], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(f"pip download failed:\n{result.stdout}{result.stderr}")
    wheels: list[Path] = []
    for pin in pins:
        name, _, version = pin.partition("==")
        prefix = f"{canonicalize_name(name).replace('-', '_')}-{version}-"
        matches = sorted(
            w for w in wheelhouse.glob("*.whl") if w.name.lower().startswith(prefix.lower())
        )
        if not matches:
            raise PackagingError(f"no wheel for {pin} in {wheelhouse}")
        wheels.append(matches[-1])
    return wheels


def wheel_entries(wheel: Path, prefix: str) -> Iterator[Entry]:
    """A wheel unpacked as pip would into site-packages, under prefix (no scripts)."""
    with zipfile.ZipFile(wheel) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            name = info.filename
            head, _, rest = name.partition("/")
            if head.endswith(".data"):
                kind, _, inner = rest.partition("/")
                if kind not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: not importable, not needed
                name = inner
            relative = Path(name)
            if not _included(relative):
                continue
            yield Entry(f"{prefix}/{relative.as_posix()}" if prefix else name, archive.read(info))


def dependency_entries(
    requirements: tuple[str, ...], provided_by: tuple[str, ...], wheelhouse: Path, prefix: str
) -> list[Entry]:
    pins = pinned_extras(requirements, provided_by)
    entries: list[Entry] = []
    for wheel in download_wheels(pins, wheelhouse):
        entries.extend(wheel_entries(wheel, prefix))
    return entries


def flink_entries(jar: Path, deps: list[Entry]) -> list[Entry]:
    if not jar.is_file():
        raise PackagingError(f"connector jar {jar} is missing: run `make jar`")
    entries = [Entry(RUN_OPTIONS["python"], ENTRY_POINT.encode())]
    entries.append(Entry(RUN_OPTIONS["jarfile"], jar.read_bytes()))
    for package in JOB_PACKAGES:
        sources = list(tree_entries(ROOT / package, package, suffixes=(".py",)))
        entries.extend(sources)
        # UDF workers see pyFiles, not the zip root: the same modules under python_deps/
        # let them import udfs.* and flink_job.* by the names cloudpickle recorded.
        entries.extend(Entry(f"{PY_DEPS_DIR}/{e.name}", e.data) for e in sources)
    entries.extend(deps)
    return entries


def build_flink_zip(
    out: Path, wheelhouse: Path, skip_deps: bool = False, jar: Path = CONNECTOR_JAR
) -> BuildResult:
    deps = (
        []
        if skip_deps
        else dependency_entries(JOB_REQUIREMENTS, FLINK_RUNTIME_PROVIDES, wheelhouse, PY_DEPS_DIR)
    )
    return write_zip(out / FLINK_ZIP, flink_entries(jar, deps))


def build_fanout_zip(out: Path, wheelhouse: Path, skip_deps: bool = False) -> BuildResult:
    entries = [Entry("lambdas/__init__.py", (ROOT / "lambdas" / "__init__.py").read_bytes())]
    entries.extend(
        tree_entries(
            ROOT / "lambdas" / "alert_fanout", "lambdas/alert_fanout", suffixes=(".py", ".json")
        )
    )
    if not skip_deps:
        entries.extend(
            dependency_entries(FANOUT_REQUIREMENTS, LAMBDA_RUNTIME_PROVIDES, wheelhouse, "")
        )
    return write_zip(out / FANOUT_ZIP, entries)


def build_api_zip(
    out: Path, wheelhouse: Path | None = None, skip_deps: bool = False
) -> BuildResult | None:
    """The API Lambda: lambdas/api/, the fan-out's alert store it reads (its item layout),
    contracts/, the rule language (rules/), and Powertools, Pydantic, joserfc, lark and
    pyarrow with what they need beyond boto3."""
    source = ROOT / "lambdas" / "api"
    if not source.is_dir():
        return None
    entries = [Entry("lambdas/__init__.py", (ROOT / "lambdas" / "__init__.py").read_bytes())]
    for package in API_PACKAGES:
        entries.extend(tree_entries(ROOT / package, package, suffixes=(".py",)))
    if not skip_deps:
        dependencies = dependency_entries(
            API_REQUIREMENTS, LAMBDA_RUNTIME_PROVIDES, wheelhouse or out / "wheels", ""
        )
        entries.extend(e for e in dependencies if not API_PRUNED.match(e.name))
    return write_zip(out / API_ZIP, entries)


def build_archive_mask_zip(out: Path) -> BuildResult:
    """The archive's Firehose transformation: standard library and contracts/ only."""
    entries = [Entry("lambdas/__init__.py", (ROOT / "lambdas" / "__init__.py").read_bytes())]
    for package in ARCHIVE_MASK_PACKAGES:
        entries.extend(tree_entries(ROOT / package, package, suffixes=(".py",)))
    return write_zip(out / ARCHIVE_MASK_ZIP, entries)


def console_config_from_outputs(outputs: Mapping[str, object]) -> dict[str, str]:
    """config.json of the console from ``terraform output -json`` (``{name: {"value": v}}``)."""
    values: dict[str, str] = {}
    for name in CONSOLE_OUTPUTS:
        output = outputs.get(name)
        value = output.get("value") if isinstance(output, dict) else None
        if not isinstance(value, str) or not value:
            raise PackagingError(
                f"terraform outputs lack {name!r}, which the console's config.json needs "
                f"({', '.join(CONSOLE_OUTPUTS)}); or pass --console-config"
            )
        values[name] = value.rstrip("/")
    domain = values["cognito_domain"].removeprefix("https://")
    return {
        "apiBaseUrl": values["api_endpoint"],
        "authority": f"https://{domain}",
        "clientId": values["user_pool_client_id"],
        # exactly as the app client registers it (callback and logout URL: no trailing slash)
        "redirectUri": values["console_url"],
        "logoutUri": f"https://{domain}/logout",
    }


def read_console_config(
    console_config: Path | None, terraform_outputs: Path | None
) -> dict[str, str] | None:
    """The console's config.json from the options; None: the template."""
    if console_config is not None and terraform_outputs is not None:
        raise PackagingError("give --console-config or --terraform-outputs, not both")
    try:
        if console_config is not None:
            document = json.loads(console_config.read_text())
            missing = [k for k in CONSOLE_CONFIG_TEMPLATE if k != "logoutUri" and k not in document]
            if missing:
                raise PackagingError(f"{console_config}: missing {', '.join(missing)}")
            return {str(k): str(v) for k, v in document.items()}
        if terraform_outputs is not None:
            return console_config_from_outputs(json.loads(terraform_outputs.read_text()))
    except (OSError, json.JSONDecodeError) as error:
        raise PackagingError(f"console configuration: {error}") from None
    return None


def build_console_zip(
    out: Path, config: dict[str, str] | None = None, dist: Path = CONSOLE_DIST
) -> BuildResult:
    """The built console for an Amplify manual deployment: the site at the zip's root, with
    its config.json (the template when config is None)."""
    if not (dist / "index.html").is_file():
        raise PackagingError(f"{dist} has no index.html: run `make console`")
    entries = [
        Entry(path.relative_to(dist).as_posix(), path.read_bytes())
        for path in sorted(dist.rglob("*"))
        if path.is_file() and path.name != "config.json"
    ]
    document = json.dumps(config or CONSOLE_CONFIG_TEMPLATE, indent=2) + "\n"
    entries.append(Entry("config.json", document.encode()))
    return write_zip(out / CONSOLE_ZIP, entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--wheelhouse",
        type=Path,
        default=None,
        help="where downloaded wheels are cached (default: OUT/wheels)",
    )
    parser.add_argument(
        "--skip-deps", action="store_true", help="leave out downloaded dependencies (tests)"
    )
    parser.add_argument(
        "--terraform-outputs",
        type=Path,
        default=None,
        help="`terraform output -json` saved to a file: the console's config.json from it",
    )
    parser.add_argument(
        "--console-config", type=Path, default=None, help="the console's config.json as is"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    wheelhouse: Path = args.wheelhouse or out / "wheels"
    try:
        results = [
            build_flink_zip(out, wheelhouse, args.skip_deps),
            build_fanout_zip(out, wheelhouse, args.skip_deps),
            build_archive_mask_zip(out),
        ]
        console_config = read_console_config(args.console_config, args.terraform_outputs)
        results.append(build_console_zip(out, console_config))
        api = build_api_zip(out, wheelhouse, args.skip_deps)
    except PackagingError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    if api is None:
        print("package: lambdas/api/ does not exist yet: api.zip skipped")
    else:
        results.append(api)
    if console_config is None:
        print(
            f"package: {CONSOLE_ZIP} has a config.json template: after `terraform apply`, "
            "run `make package PACKAGE_ARGS=--terraform-outputs=FILE` with FILE from "
            "`terraform output -json`"
        )
    for r in results:
        print(f"{r.path}  {r.size / 1e6:.1f} MB  {r.entries} files  sha256 {r.sha256[:16]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
