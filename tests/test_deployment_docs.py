"""The deployment steps say only what the code has: every command, Terraform variable and
output that infra/README.md ("From an empty account to the first alert", the prerequisites,
the build) and docs/deployment.md ("Day 2") name exists.

- `terraform output [-raw] NAME`: an output of infra/terraform;
- `-var NAME=...`, `NAME = ...` in code, and snake_case names in backticks: a variable of the
  root module or of a module (or an output, or a name listed below with what it is);
- `make TARGET`: a Makefile target; `python -m MODULE`: a module of this repository that
  runs as a script;
- `aws SERVICE COMMAND --option ...`: an operation of that service in botocore's models (the
  AWS CLI's), and each option a member of its input;
- repository paths in backticks: files or folders that exist.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import botocore.session

from tests.test_terraform_wiring import MODULES, ROOT, TERRAFORM, named

README = ROOT / "infra" / "README.md"
DEPLOYMENT = ROOT / "docs" / "deployment.md"
# the AWS CLI's own options, not members of an operation's input
GLOBAL_OPTIONS = {"query", "output", "region", "profile", "endpoint-url", "no-cli-pager"}
# snake_case names in the steps that are neither variables nor outputs: the file that has it
OTHER_NAMES = {
    "enable_key_rotation": "infra/terraform/modules/kms/main.tf",  # the key's attribute
    "fraud_stream_dev": "infra/terraform/tests/root.tftest.hcl",  # the dev Glue database
    "mfa_configuration": "infra/terraform/modules/api/main.tf",  # the user pool's attributes
    "user_pool_tier": "infra/terraform/modules/api/main.tf",
}


def section(path: Path, heading: str, until: str | None = None) -> str:
    text = path.read_text()
    start = text.index(heading)
    end = text.index(until, start) if until else len(text)
    return text[start:end]


@cache
def steps() -> str:
    """The text the test holds to the code."""
    return "\n".join(
        [
            section(README, "## Prerequisites", "## Transaction and label archive"),
            section(README, "## Tear down", "## Rough monthly cost"),
            section(DEPLOYMENT, "## Day 2"),
        ]
    )


def commands(text: str) -> list[str]:
    """Shell lines of the text: fenced blocks (continuations joined) and inline code."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        lines += block.replace("\\\n", " ").splitlines()
    lines += re.findall(r"`([^`\n]+)`", text)
    return [line.strip() for line in lines if line.strip()]


def root_outputs() -> set[str]:
    return set(named(TERRAFORM, "output"))


def all_variables() -> set[str]:
    names = set(named(TERRAFORM, "variable"))
    for module in MODULES.iterdir():
        if module.is_dir():
            names |= set(named(module, "variable"))
    return names


def test_every_terraform_output_named_exists() -> None:
    named_outputs = set()
    for line in commands(steps()):
        named_outputs |= set(
            re.findall(r"terraform(?: -chdir=\S+)? output (?:-raw |-json )?([a-z_]+)", line)
        )
    assert named_outputs >= {"flink_application_name", "model_publish_command", "unique_names"}
    assert named_outputs <= root_outputs(), named_outputs - root_outputs()


def test_every_variable_named_exists() -> None:
    text = steps()
    found = set(re.findall(r"-var\s+([a-z_]+)=", text))
    found |= set(re.findall(r"`([a-z][a-z0-9_]*)\s*=", text))
    snake = set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", text))
    unknown = sorted((found | snake) - all_variables() - root_outputs() - set(OTHER_NAMES))
    for name, where in OTHER_NAMES.items():
        assert name in (ROOT / where).read_text(), f"{name} is not in {where}"
    assert found >= {"force_destroy", "deletion_protection", "ses_verify_recipients"}
    assert not unknown, f"named in the steps, not in the Terraform: {unknown}"


def test_every_make_target_and_python_module_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    text = steps()
    made = set(re.findall(r"\bmake ([a-z][a-z-]*)", text))
    assert made >= {"package", "smoke", "demo"}
    assert made <= targets, made - targets
    modules = set(re.findall(r"python -m ([a-z_.]+)", text))
    assert modules >= {"local.traffic.smoke", "local.traffic.replay", "model_export.registry"}
    for module in modules:
        path = ROOT / Path(*module.split(".")).with_suffix(".py")
        assert path.exists(), module
        assert 'if __name__ == "__main__":' in path.read_text(), f"{module} runs as a script"


@cache
def service_model(service: str) -> botocore.model.ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def aws_calls(text: str) -> list[tuple[str, str, list[str]]]:
    """(service, command, options) of every `aws` invocation in the text's commands."""
    calls = []
    for line in commands(text):
        for part in re.split(r"aws (?=[a-z0-9-]+ [a-z0-9-]+)", line)[1:]:
            words = part.split()
            options = re.findall(r"(?:^|\s)--([a-z][a-z-]*)", part)
            calls.append((words[0], words[1], options))
    return calls


def pascal(kebab: str) -> str:
    return "".join(word.capitalize() for word in kebab.split("-"))


def test_every_aws_cli_command_and_option_exists() -> None:
    calls = aws_calls(steps())
    services = {service for service, _, _ in calls}
    assert {"kinesisanalyticsv2", "sesv2", "lambda", "cognito-idp", "amplify"} <= services
    for service, command, options in calls:
        model = service_model(service)
        operation = pascal(command)
        assert operation in model.operation_names, f"aws {service} {command}"
        members = {m.lower() for m in model.operation_model(operation).input_shape.members}
        for option in set(options) - GLOBAL_OPTIONS:
            assert option.replace("-", "") in members, f"aws {service} {command} --{option}"


def test_the_cli_check_catches_a_wrong_command() -> None:
    """The check above can fail: a made-up command and option are found out."""
    ((service, command, options),) = aws_calls("`aws kinesisanalyticsv2 start-app --nam x`")
    model = service_model(service)
    assert pascal(command) not in model.operation_names
    members = {m.lower() for m in model.operation_model("StartApplication").input_shape.members}
    assert options[0].replace("-", "") not in members


def test_every_repository_path_named_exists() -> None:
    """Paths in backticks, from the repository root or infra/terraform; build/ is written."""
    pattern = r"`((?:[a-z_]+/)+[a-z_.-]*)`|`([a-z_./-]+\.(?:py|json|tf|md|example))`"
    paths = {a or b for a, b in re.findall(pattern, steps())}
    # repository paths begin with a folder of the repository (not hashicorp/aws, s3://...)
    top = {p.name for p in [*ROOT.iterdir(), *TERRAFORM.iterdir()]} - {"build"}
    paths = {p for p in paths if p.split("/")[0] in top}
    assert {"console/package.json", "model_export/registry.py"} <= paths
    for name in paths:
        assert (ROOT / name).exists() or (TERRAFORM / name).exists(), name
