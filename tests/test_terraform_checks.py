"""Static checks of infra/terraform: checkov, terraform fmt, terraform validate and
terraform test of the root module against the real hashicorp/aws provider.

checkov runs from `.venv-tools` (its pins conflict with apache-flink's; `make test` creates
it). The provider comes from a filesystem mirror named in a CLI configuration file (the
Terraform registry is not reachable here): this machine image has hashicorp/aws 5.100.0
in /opt/tf-plugins, beside /usr/local/bin/terraform. A missing terraform or mirror fails
these tests, saying where it looked: nothing is skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
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


def provider_mirrors() -> list[Path]:
    """Where a local copy of hashicorp/aws may be: $FRAUD_TF_PLUGIN_DIR, the plugin cache,
    Terraform's implied local mirrors, and /opt/tf-plugins (this build machine has one)."""
    home = Path.home()
    candidates = [
        os.environ.get("FRAUD_TF_PLUGIN_DIR"),
        os.environ.get("TF_PLUGIN_CACHE_DIR"),
        str(home / ".terraform.d" / "plugins"),
        str(home / ".local" / "share" / "terraform" / "plugins"),
        "/usr/local/share/terraform/plugins",
        "/usr/share/terraform/plugins",
        "/opt/tf-plugins",
    ]
    return [Path(c) for c in candidates if c]


def find_provider_mirror() -> Path:
    """The first mirror holding hashicorp/aws for linux_amd64; fails the test without one."""
    for mirror in provider_mirrors():
        if any((mirror / PROVIDER).glob("*/linux_amd64/terraform-provider-aws*")):
            return mirror
    looked = ", ".join(str(m) for m in provider_mirrors())
    pytest.fail(
        "no local copy of the hashicorp/aws provider, and the Terraform registry is not "
        f"reachable here (looked in: {looked}). The machine image has one in "
        "/opt/tf-plugins; elsewhere set FRAUD_TF_PLUGIN_DIR to a filesystem mirror "
        "(registry.terraform.io/hashicorp/aws/<version>/linux_amd64/)"
    )


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
    assert "hashicorp/aws" in output and "Terraform has been successfully initialized" in output
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
    with terraform.tfvars.example's values, then with QuickSight, provisioned streams, the
    API and start_application on. The artefacts are stand-ins: a plan only hashes them."""
    work, env = initialised_root
    artefacts = []
    for variable in ("flink_zip", "fanout_zip", "archive_mask_zip", "console_artifact"):
        path = tmp_path / f"{variable}.zip"
        path.write_bytes(b"stand-in for " + variable.encode())
        artefacts.append(f"-var={variable}={path}")
    output = run([terraform_binary(), "test", "-no-color", *artefacts], work, env)
    assert "2 passed, 0 failed" in output, output
    example = (TERRAFORM / "terraform.tfvars.example").read_text()
    tftest = (TERRAFORM / "tests" / "root.tftest.hcl").read_text()
    for line in example.splitlines():  # the test's variables are the example's
        if re.match(r"^[a-z_]+\s*=", line) and not line.startswith("tags"):
            name, value = (part.strip() for part in line.split("=", 1))
            assert re.search(rf"^\s*{name}\s*=\s*{re.escape(value)}\s*$", tftest, re.M), line
