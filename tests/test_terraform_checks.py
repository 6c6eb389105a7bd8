"""Static checks of infra/terraform: checkov, terraform fmt, terraform validate and
terraform test of the root module against the real hashicorp/aws provider.

checkov runs from `.venv-tools` (its pins conflict with apache-flink's; `make test` creates
it). The provider comes from a filesystem mirror named in a CLI configuration file (the
Terraform registry is not reachable here): infra/tools/build_aws_provider.sh builds the
6.x provider from the Go module proxy once into ~/.cache/fraud-stream/terraform-providers
(`make test` starts it in the background first thing; these tests wait for it, or start it
when pytest runs alone), or $FRAUD_TF_PLUGIN_DIR names a mirror holding the pinned version.
A missing terraform, provider or failed build fails these tests, naming the log or where
they looked: nothing is skipped, and no other provider version is taken instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = ROOT / "infra" / "terraform"
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(\S+?):(.*)$")


def terraform_binary() -> str:
    """terraform (or tofu) on PATH; fails the test when there is none."""
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        pytest.fail(
            "neither terraform nor tofu is on PATH: the machine image provides "
            "/usr/local/bin/terraform (1.11); infra tests cannot run without it"
        )
    return binary


BUILD_SCRIPT = ROOT / "infra" / "tools" / "build_aws_provider.sh"
# How long to wait for a provider build that is under way (make test starts it first thing;
# on 2 busy cores it takes about an hour).
BUILD_WAIT_SECONDS = int(os.environ.get("FRAUD_TF_PROVIDER_WAIT", "5400"))
_built_mirror: list[Path | str] = []  # the build's outcome, once: a mirror or a failure


def pinned_provider_version() -> str:
    """The exact hashicorp/aws version the root module's versions.tf pins."""
    text = (TERRAFORM / "versions.tf").read_text()
    match = re.search(r'^\s*version\s*=\s*"(\d+\.\d+\.\d+)"\s*$', text, re.M)
    assert match, "infra/terraform/versions.tf must pin hashicorp/aws to one version"
    return match[1]


def build_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUILD_SCRIPT), *args], capture_output=True, text=True, check=False, timeout=60
    )


def built_provider_mirror() -> Path:
    """The mirror infra/tools/build_aws_provider.sh installs into, once the build is there:
    waits for a build under way, starts one if none ran (pytest without make), and fails
    naming the build log if it failed or is still running after BUILD_WAIT_SECONDS."""
    if not _built_mirror:
        log = build_script("log").stdout.strip()
        status = build_script("status").stdout.strip()
        if status == "missing":
            build_script("start")
        if status != "installed":
            print(
                f"\nwaiting for the hashicorp/aws provider build (log: {log})",
                file=sys.__stderr__,
                flush=True,
            )
        waited = subprocess.run(
            [str(BUILD_SCRIPT), "wait", str(BUILD_WAIT_SECONDS)],
            capture_output=True,
            text=True,
            check=False,
            timeout=BUILD_WAIT_SECONDS + 60,
        )
        if waited.returncode == 0:
            _built_mirror.append(Path(build_script("mirror").stdout.strip()))
        else:
            _built_mirror.append(
                f"no hashicorp/aws provider: {waited.stderr.strip()} (build log: {log}). "
                "FRAUD_TF_PLUGIN_DIR may name another filesystem mirror with the pinned version"
            )
    outcome = _built_mirror[0]
    if isinstance(outcome, str):
        pytest.fail(outcome)
    return outcome


def find_provider_mirror() -> Path:
    """A filesystem mirror holding hashicorp/aws at the pinned version for linux_amd64:
    $FRAUD_TF_PLUGIN_DIR if set, otherwise the cached build. Fails the test without one."""
    version = pinned_provider_version()
    override = os.environ.get("FRAUD_TF_PLUGIN_DIR")
    mirror = Path(override) if override else built_provider_mirror()
    if not any((mirror / PROVIDER / version / "linux_amd64").glob("terraform-provider-aws*")):
        pytest.fail(
            f"{mirror} holds no hashicorp/aws {version} for linux_amd64 "
            f"({PROVIDER}/{version}/linux_amd64/terraform-provider-aws*), the version "
            "infra/terraform/versions.tf pins"
        )
    return mirror


def cli_config(directory: Path, mirror: Path) -> Path:
    """A Terraform CLI configuration that installs hashicorp/aws from `mirror` only."""
    path = directory / "terraform.tfrc"
    path.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )
    return path


def terraform_test_module(
    tmp_path: Path, name: str, *args: str, calls: tuple[str, ...] = ()
) -> str:
    """`terraform init` from the provider mirror, then `terraform test` (with `args`) in a
    copy of infra/terraform/modules/<name>, beside copies of the modules it `calls`
    (../<module>); returns the output of the test, which must have succeeded."""
    binary, mirror = terraform_binary(), find_provider_mirror()
    modules = tmp_path / "modules"
    for module in (name, *calls):
        source = TERRAFORM / "modules" / module
        shutil.copytree(source, modules / module, ignore=shutil.ignore_patterns(".terraform*"))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}
    init = [binary, "init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={mirror}"]
    run(init, modules / name, env)
    return run([binary, "test", "-no-color", *args], modules / name, env)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def test_checkov_finds_no_failed_checks() -> None:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} missing: run `make test` (creates .venv-tools)")
    command = [str(CHECKOV), "-d", str(TERRAFORM), "--framework", "terraform"]
    # --skip-download: no Prisma Cloud look-ups (no network needed, same checks).
    output = run([*command, "--compact", "--quiet", "--skip-download"], cwd=ROOT)
    assert "Failed checks: 0" in output, output


def test_every_checkov_skip_is_named_and_justified() -> None:
    skips = []
    for path in sorted(TERRAFORM.rglob("*.tf")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" not in line:
                continue
            match = SKIP_COMMENT.search(line)
            where = f"{path.relative_to(ROOT)}:{number}"
            assert match, f"{where}: write skips as `# checkov:skip=CKV_...:<reason>`"
            check, reason = match.groups()
            assert re.fullmatch(r"CKV2?_AWS_\d+", check), f"{where}: unnamed check {check}"
            assert len(reason.split()) >= 6, f"{where}: justify the skip of {check}"
            skips.append(check)
    assert skips, "expected the documented skips (see infra/README.md)"


def test_the_provider_build_installs_the_pinned_version() -> None:
    """The root module pins the version tools/build_aws_provider.sh installs the build as,
    and every module admits it."""
    version = pinned_provider_version()
    assert build_script("version").stdout.strip() == version
    for path in sorted((TERRAFORM / "modules").glob("*/versions.tf")):
        constraint = re.search(r'version\s*=\s*">=\s*(6\.\d+),\s*<\s*7\.0"', path.read_text())
        assert constraint, f"{path.relative_to(ROOT)}: expected >= 6.x, < 7.0"
        assert tuple(map(int, constraint[1].split("."))) <= tuple(map(int, version.split(".")[:2]))


def test_terraform_fmt() -> None:
    binary = terraform_binary()
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}
    run([binary, "fmt", "-check", "-recursive", "-diff"], cwd=TERRAFORM, env=env)


@pytest.fixture(scope="module")
def initialised_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A copy of infra/terraform, `terraform init` from the mirror through a CLI config.
    The copy keeps .terraform/ and the lock file out of the repository; the template the
    root module reads sits at the same relative path."""
    binary, mirror = terraform_binary(), find_provider_mirror()
    tmp = tmp_path_factory.mktemp("terraform")
    work = tmp / "infra" / "terraform"
    shutil.copytree(TERRAFORM, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    templates = ROOT / "lambdas" / "alert_fanout" / "templates"
    shutil.copytree(templates, tmp / "lambdas" / "alert_fanout" / "templates")
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(cli_config(tmp, mirror)),
        "TF_IN_AUTOMATION": "1",
    }
    output = run([binary, "init", "-backend=false", "-input=false", "-no-color"], work, env)
    assert "Terraform has been successfully initialized" in output, output
    assert f"hashicorp/aws v{pinned_provider_version()}" in output, output
    return work, env


def test_terraform_validate_with_the_real_provider(
    initialised_root: tuple[Path, dict[str, str]],
) -> None:
    """Every resource and attribute against the provider's schema: valid, no warning."""
    work, env = initialised_root
    output = run([terraform_binary(), "validate", "-json", "-no-color"], work, env)
    result = json.loads(output[output.index("{") :])
    diagnostics = [f"{d['severity']}: {d['summary']}" for d in result["diagnostics"]]
    assert result["valid"] and result["error_count"] == 0, diagnostics
    assert result["warning_count"] == 0, diagnostics


def test_terraform_test_plans_the_root_module_for_the_example_variables(
    initialised_root: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """infra/terraform/tests/root.tftest.hcl: a mock-provider plan of the whole root module
    with terraform.tfvars.example's values, then with QuickSight, on-demand streams and
    start_application on, then a second environment that shares no name with the first,
    then enhanced fan-out on. The artefacts are stand-ins: a plan only hashes them."""
    work, env = initialised_root
    artefacts = []
    for variable in ("flink_zip", "fanout_zip", "api_zip", "archive_mask_zip", "console_artifact"):
        path = tmp_path / f"{variable}.zip"
        path.write_bytes(b"stand-in for " + variable.encode())
        artefacts.append(f"-var={variable}={path}")
    output = run([terraform_binary(), "test", "-no-color", *artefacts], work, env)
    assert "4 passed, 0 failed" in output, output
    example = (TERRAFORM / "terraform.tfvars.example").read_text()
    tftest = (TERRAFORM / "tests" / "root.tftest.hcl").read_text()
    for line in example.splitlines():  # the test's variables are the example's
        if re.match(r"^[a-z_]+\s*=", line) and not line.startswith("tags"):
            name, value = (part.strip() for part in line.split("=", 1))
            assert re.search(rf"^\s*{name}\s*=\s*{re.escape(value)}\s*$", tftest, re.M), line
