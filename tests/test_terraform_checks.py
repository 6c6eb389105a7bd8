"""Static checks of infra/terraform: checkov, terraform fmt, terraform validate.

checkov runs from `.venv-tools` (its pins conflict with apache-flink's; `make test` creates
it). `terraform validate` needs the hashicorp/aws provider; nothing is downloaded, so it
runs only when a local copy (a filesystem mirror) exists, and skips saying so otherwise.
"""

from __future__ import annotations

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


def terraform_binary() -> str | None:
    return shutil.which("terraform") or shutil.which("tofu")


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


def find_provider_mirror() -> Path | None:
    for mirror in provider_mirrors():
        if any((mirror / PROVIDER).glob("*/linux_amd64/terraform-provider-aws*")):
            return mirror
    return None


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def test_checkov_finds_no_failed_checks() -> None:
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV.relative_to(ROOT)} missing: run `make test` (creates .venv-tools)")
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
    if binary is None:
        pytest.skip("neither terraform nor tofu is on PATH; fmt not checked")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}
    run([binary, "fmt", "-check", "-recursive", "-diff"], cwd=TERRAFORM, env=env)


def test_terraform_validate(tmp_path: Path) -> None:
    binary = terraform_binary()
    if binary is None:
        pytest.skip("neither terraform nor tofu is on PATH; validate not run")
    mirror = find_provider_mirror()
    if mirror is None:
        looked = ", ".join(str(m) for m in provider_mirrors())
        pytest.skip(
            "no local copy of the hashicorp/aws provider and no access to the Terraform "
            f"registry here, so `terraform init` cannot run (looked in: {looked}; "
            "set FRAUD_TF_PLUGIN_DIR to a provider mirror)"
        )
    # A copy keeps .terraform/ and the lock file out of the repository; the template file
    # the root module reads sits at the same relative path.
    work = tmp_path / "infra" / "terraform"
    shutil.copytree(TERRAFORM, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    templates = ROOT / "lambdas" / "alert_fanout" / "templates"
    shutil.copytree(templates, tmp_path / "lambdas" / "alert_fanout" / "templates")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}
    init = [binary, "init", "-backend=false", "-input=false", "-no-color"]
    run([*init, f"-plugin-dir={mirror}"], cwd=work, env=env)
    output = run([binary, "validate", "-no-color"], cwd=work, env=env)
    assert "The configuration is valid" in output, output
