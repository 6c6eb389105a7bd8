"""What a first `terraform apply` in an empty account needs from the configuration (issue 26),
parsed with python-hcl2 like tests/test_terraform_wiring.py:

- no Lambda reserves concurrency unless asked (a new account's quota is often 10, and AWS
  keeps 100 unreserved, so any reservation fails the apply);
- the SES sandbox: recipients are identities the sending role may send to;
- order: an object waits for its bucket's versioning, a service for its role's policy;
- `terraform destroy` needs none of `make package`'s zips;
- per-environment files and state are never committed.

The names an environment owns are checked by infra/terraform/tests/root.tftest.hcl (two
environments planned, no name shared), run by tests/test_terraform_checks.py.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

from tests.test_terraform_wiring import MODULES, ROOT, TERRAFORM, blocks, defaults, named

LAMBDAS = {  # module -> its Lambda function resource
    "alert_fanout": "aws_lambda_function.this",
    "api": "aws_lambda_function.api",
    "archive": "aws_lambda_function.mask",
}
ROOT_KEYS = {"fanout", "flush", "api", "archive_mask"}


def module_calls() -> dict[str, Any]:
    return named(TERRAFORM, "module")


def test_no_lambda_reserves_concurrency_unless_asked() -> None:
    assert defaults(TERRAFORM)["lambda_reserved_concurrency"] == {}
    reserved = {}
    for module, resource in LAMBDAS.items():
        function = blocks(MODULES / module, "resource")[resource]
        expression = function["reserved_concurrent_executions"]
        variables = set(re.findall(r"var\.(\w+)", expression))
        assert variables, f"{module}: {expression} must come from a variable"
        module_defaults = defaults(MODULES / module)
        for variable in variables:
            assert module_defaults[variable] is None, f"{module}.{variable} reserves by default"
            passed = module_calls()[module].get(variable)
            reserved[f"{module}.{variable}"] = passed
    # The root passes each from the one map, by the function's key, null when absent.
    keys = set()
    lookup = re.compile(r'\$\{lookup\(var\.lambda_reserved_concurrency, "(\w+)", null\)\}')
    for where, passed in reserved.items():
        match = lookup.fullmatch(passed)
        assert match, f"{where} = {passed}"
        keys.add(match[1])
    assert keys == ROOT_KEYS


def test_sandbox_recipients_are_identities_the_fanout_may_send_to() -> None:
    assert defaults(TERRAFORM)["ses_verify_recipients"] is True
    assert module_calls()["alert_fanout"]["verify_recipients"] == "${var.ses_verify_recipients}"
    resources = blocks(MODULES / "alert_fanout", "resource")
    recipient = resources["aws_sesv2_email_identity.recipient"]
    assert recipient["for_each"] == "${local.recipient_identities}"
    recipients = named(MODULES / "alert_fanout", "locals")["recipient_identities"]
    assert "var.email_to" in recipients and "var.verify_recipients" in recipients
    policy = blocks(MODULES / "alert_fanout", "data")["aws_iam_policy_document.this"]
    sandbox = [d["statement"] for d in policy["dynamic"] if "statement" in d]
    assert len(sandbox) == 1
    content = sandbox[0]["content"][0]
    assert content["actions"] == ["ses:SendEmail"]
    assert "aws_sesv2_email_identity.recipient" in content["resources"]
    # The stored template is the environment's, not one per account.
    template = resources["aws_ses_template.alert"]
    assert template["name"] == "${var.name}-${local.template.TemplateName}"


def test_bucket_outputs_wait_for_versioning_and_role_outputs_for_the_policy() -> None:
    """The Flink code object names its version: it must not be put before versioning is
    on; a service given a role must find its permissions there."""
    for name, output in named(MODULES / "s3_bucket", "output").items():
        waits = output.get("depends_on", [])
        assert "${aws_s3_bucket_versioning.this}" in waits, name
        assert "${aws_s3_bucket_policy.this}" in waits, name
    for name, output in named(MODULES / "service_role", "output").items():
        assert output.get("depends_on") == ["${aws_iam_role_policy.this}"], name
    code = blocks(MODULES / "flink_app", "resource")["aws_s3_object.code"]
    assert code["bucket"] == "${var.artifacts_bucket_name}"
    assert module_calls()["flink_app"]["artifacts_bucket_name"] == (
        '${module.buckets["artifacts"].name}'
    )


def test_destroy_needs_none_of_the_package_zips() -> None:
    """Every read of a `make package` file is guarded by fileexists(), and a precondition
    refuses create or update without the file (destroy checks no precondition)."""
    reads = re.compile(r"(filebase64sha256|filemd5)\((var\.\w+)\)")
    found = 0
    for module in sorted(p for p in MODULES.iterdir() if p.is_dir()):
        for name, body in blocks(module, "resource").items():
            for attribute, value in body.items():
                if not isinstance(value, str):
                    continue
                for function, variable in reads.findall(value):
                    found += 1
                    where = f"{module.name}: {name}.{attribute}"
                    assert value == (
                        f"${{fileexists({variable}) ? {function}({variable}) : null}}"
                    ), where
                    conditions = [
                        c["condition"]
                        for life in body.get("lifecycle", [])
                        for c in life.get("precondition", [])
                    ]
                    assert f"${{fileexists({variable})}}" in conditions, where
    assert found == 5  # fan-out, API and label-release Lambdas, masking Lambda, Flink code


def test_per_environment_variables_and_state_are_never_committed() -> None:
    paths = [
        "infra/terraform/dev.tfvars",
        "infra/terraform/prod.tfvars.json",
        "infra/terraform/terraform.tfstate",
        "infra/terraform/terraform.tfstate.backup",
        "infra/terraform/.terraform/providers/x",
        "infra/terraform/plan.tfplan",
    ]
    ignored = subprocess.run(
        ["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    assert ignored == paths
    example = subprocess.run(
        ["git", "check-ignore", "infra/terraform/terraform.tfvars.example"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert example.returncode == 1, "the example tfvars must stay committed"
