"""One bucket module (infra/terraform/modules/s3_bucket) for every bucket: the access-log
bucket (`access_log_target = true`) and the data buckets, which log into it. Moving to it
from the former calls (modules/log_bucket, one module call per data bucket) moves state,
nothing is destroyed and created again: same bucket names, `moved` blocks."""

from __future__ import annotations

from pathlib import Path

from tests.test_terraform_checks import terraform_test_module
from tests.test_terraform_wiring import MODULES, TERRAFORM, named, parse

# The root's data-bucket module calls before they were one for_each, and the bucket-name
# segment each had: "<project>-<segment>-<account>-<region>".
FORMER_CALLS = {
    "artifacts_bucket": "artifacts",
    "lake_bucket": "alerts-lake",
    "athena_results_bucket": "athena-results",
}


def module_calls() -> dict[str, dict[str, object]]:
    """Every module call of the configuration, as "<module dir>:<call name>"."""
    calls = {}
    for directory in (TERRAFORM, *sorted(p for p in MODULES.iterdir() if p.is_dir())):
        for name, call in named(directory, "module").items():
            calls[f"{directory.name}:{name}"] = call
    return calls


def test_every_bucket_is_the_one_bucket_module() -> None:
    assert not (MODULES / "log_bucket").exists()
    bucket_calls = {k: c for k, c in module_calls().items() if "bucket" in k.split(":")[1]}
    assert set(bucket_calls) == {
        "terraform:access_logs_bucket",
        "terraform:buckets",
        "archive:bucket",
    }
    for where, call in bucket_calls.items():
        assert str(call["source"]).endswith("/s3_bucket"), where
    # One exception, modules/api/audit.tf: the verdicts' audit trail needs Object Lock, which
    # S3 sets only when a bucket is created and the bucket module does not offer.
    buckets = {
        p.relative_to(TERRAFORM).as_posix(): p.read_text().count('resource "aws_s3_bucket" ')
        for p in TERRAFORM.rglob("*.tf")
    }
    assert {p: n for p, n in buckets.items() if n} == {
        "modules/s3_bucket/main.tf": 1,
        "modules/api/audit.tf": 1,
    }
    assert "object_lock_enabled = true" in (MODULES / "api" / "audit.tf").read_text()


def test_the_data_buckets_log_into_the_access_log_bucket() -> None:
    calls = named(TERRAFORM, "module")
    assert calls["access_logs_bucket"]["access_log_target"] is True
    assert calls["buckets"]["for_each"] == "${local.buckets}"
    for name in ("buckets", "archive"):
        assert calls[name]["access_log_bucket"] == "${module.access_logs_bucket.name}", name
        assert calls[name]["kms_key_arn"] == "${module.kms.key_arn}", name
    assert "access_log_target" not in calls["buckets"]


def test_moved_blocks_keep_the_former_buckets() -> None:
    moved = {m["from"]: m["to"] for m in parse(TERRAFORM / "main.tf")["moved"]}
    assert moved == {
        f"${{module.{former}}}": f'${{module.buckets["{key}"]}}'
        for former, key in FORMER_CALLS.items()
    }
    assert set(named(TERRAFORM, "locals")["buckets"]) == set(FORMER_CALLS.values())
    # The key is the name segment, so each bucket keeps its name (a renamed bucket would be
    # destroyed and created again, whatever the moved blocks say). The environment joined
    # the names before any apply (issue 26: infra/README.md, State moves).
    name = named(TERRAFORM, "module")["buckets"]["name"]
    assert name == "${local.name}-${each.key}-${local.bucket_suffix}"
    # Inside the module, logging gained a count.
    module_moves = parse(MODULES / "s3_bucket" / "main.tf")["moved"]
    assert module_moves == [
        {"from": "${aws_s3_bucket_logging.this}", "to": "${aws_s3_bucket_logging.this[0]}"}
    ]


def test_the_module_applies_against_the_provider_schema(tmp_path: Path) -> None:
    """modules/s3_bucket/tests/bucket.tftest.hcl (mock provider): a data bucket is SSE-KMS
    and logged, the access-log target SSE-S3 and open to S3's log delivery, a data bucket
    without key or log bucket refused."""
    output = terraform_test_module(tmp_path, "s3_bucket")
    assert "3 passed, 0 failed" in output, output
