"""The Terraform says what the code expects: parsed with python-hcl2, checked against the code.

- The Managed Flink property groups carry exactly the keys flink_job.config reads, and the
  run options infra/package.py builds the zip for.
- Stream, bucket, prefix and table names the code uses are the resources' names.
- Every IAM statement names specific resources.
- Module layout: main/variables/outputs/versions; every variable has a type and a description.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

import hcl2

from flink_job.config import KEYS, LOCAL_PROPERTIES, PROPERTY_GROUP, read_property_groups
from infra.package import (
    API_ZIP,
    ARCHIVE_MASK_ZIP,
    CONSOLE_ZIP,
    FANOUT_ZIP,
    FLINK_ZIP,
    RUN_OPTIONS,
)
from lambdas.alert_fanout.alert import Alert
from lambdas.alert_fanout.config import FanoutConfig

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = ROOT / "infra" / "terraform"
MODULES = TERRAFORM / "modules"
RUN_OPTIONS_GROUP = "kinesis.analytics.flink.run.options"


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals and keys: strip them, recursively."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


@cache
def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        result: dict[str, Any] = unquote(hcl2.load(handle))
        return result


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


def blocks(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    """`kind` blocks (resource, data) of one module as {"type.name": body}."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for entry in parse(path).get(kind, []):
            for type_name, named in entry.items():
                for name, body in named.items():
                    found[f"{type_name}.{name}"] = body
    return found


def named(directory: Path, kind: str) -> dict[str, Any]:
    """variable / output / module / locals of one module, merged by name."""
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for entry in parse(path).get(kind, []):
            merged.update(entry)
    return merged


def module_call(name: str) -> dict[str, Any]:
    call: dict[str, Any] = named(TERRAFORM, "module")[name]
    return call


def interpolate(expression: str, values: dict[str, str]) -> str:
    """Evaluate a string template with only ${var.x} references, from defaults or values."""

    def replace(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\$\{var\.(\w+)\}", replace, expression)


def defaults(directory: Path) -> dict[str, Any]:
    return {name: body.get("default") for name, body in named(directory, "variable").items()}


# ---- layout -----------------------------------------------------------------------


def test_every_module_has_the_standard_files() -> None:
    modules = sorted(p for p in MODULES.iterdir() if p.is_dir())
    assert modules, "no modules under infra/terraform/modules"
    for directory in [TERRAFORM, *modules]:
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (directory / name).is_file(), f"{directory.relative_to(ROOT)} lacks {name}"


def test_every_variable_has_a_type_and_a_description() -> None:
    for directory in [TERRAFORM, *(p for p in MODULES.iterdir() if p.is_dir())]:
        for name, body in named(directory, "variable").items():
            where = f"{directory.relative_to(ROOT)}: variable {name}"
            assert body.get("type"), f"{where} has no type"
            assert str(body.get("description", "")).strip(), f"{where} has no description"


def test_every_module_call_points_at_an_existing_module() -> None:
    for name, body in named(TERRAFORM, "module").items():
        assert (TERRAFORM / body["source"] / "main.tf").is_file(), f"module {name}"


def test_no_hard_coded_account_ids_or_regions() -> None:
    account = re.compile(r"(?<![\d.])\d{12}(?!\d)")
    region = re.compile(r"\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b")
    for path in tf_files():
        text = path.read_text()
        assert not account.search(text), f"{path.relative_to(ROOT)} has an account id"
        assert not region.search(text), f"{path.relative_to(ROOT)} names a region"


def test_provider_tags_everything_by_default() -> None:
    provider = named(TERRAFORM, "provider")["aws"]
    assert provider["region"] == "${var.aws_region}"
    assert provider["default_tags"][0]["tags"], "provider has no default_tags"


# ---- Managed Flink ----------------------------------------------------------------


def flink_application() -> dict[str, Any]:
    app: dict[str, Any] = blocks(MODULES / "flink_app", "resource")[
        "aws_kinesisanalyticsv2_application.this"
    ]
    return app


def flink_property_groups() -> dict[str, Any]:
    config = flink_application()["application_configuration"][0]
    groups = config["environment_properties"][0]["property_group"]
    return {g["property_group_id"]: g["property_map"] for g in groups}


def flink_locals() -> dict[str, Any]:
    return named(MODULES / "flink_app", "locals")


def test_flink_runtime_is_1_20() -> None:
    assert flink_application()["runtime_environment"] == "FLINK-1_20"


def test_flink_property_groups_are_the_run_options_and_the_jobs_group() -> None:
    assert set(flink_property_groups()) == {RUN_OPTIONS_GROUP, PROPERTY_GROUP}


def test_job_property_group_has_exactly_the_keys_the_job_reads() -> None:
    group = flink_property_groups()[PROPERTY_GROUP]
    assert group == "${local.job_properties}"
    properties = flink_locals()["job_properties"]
    missing = sorted(set(KEYS) - set(properties))
    unknown = sorted(set(properties) - set(KEYS))
    assert not missing, f"keys the job reads but Terraform does not set: {missing}"
    assert not unknown, f"keys Terraform sets that the job does not know: {unknown}"


def evaluated_job_properties() -> dict[str, str]:
    """The FraudDetection group as Terraform writes it with the module's defaults (the
    names the root passes for the variables without one), its templates evaluated."""
    values = {k: v for k, v in defaults(MODULES / "flink_app").items() if v is not None}
    values |= {
        f"{kind}_stream_name": kind.replace("deadletter", "transactions-dlq")
        for kind in ("transactions", "labels", "alerts", "deadletter", "decisions")
    }
    values["artifacts_bucket_name"] = "fraud-stream-artifacts-abc123"

    def evaluate(template: str) -> str:
        text = template.replace("${data.aws_region.current.region}", "eu-west-1")
        text = re.sub(r"\$\{tostring\(var\.(\w+)\)\}", lambda m: str(values[m[1]]), text)
        text = re.sub(
            r'\$\{trimsuffix\(var\.(\w+), "(.*?)"\)\}',
            lambda m: str(values[m[1]]).removesuffix(m[2]),
            text,
        )
        text = re.sub(  # a switch: `${var.on ? local.value : ""}`
            r'\$\{var\.(\w+) \? local\.(\w+) : ""\}',
            lambda m: str(flink_locals()[m[2]]) if values[m[1]] else "",
            text,
        )
        evaluated = interpolate(text, {k: str(v) for k, v in values.items()})
        assert "${" not in evaluated, f"template left unevaluated: {template}"
        return evaluated

    return {key: evaluate(str(value)) for key, value in flink_locals()["job_properties"].items()}


def test_job_accepts_the_property_group_terraform_writes() -> None:
    """Not only the same keys: the job's own reader (flink_job.config) takes the values."""
    from flink_job.config import JobConfig

    properties = evaluated_job_properties()
    assert set(properties) == set(KEYS)
    config = JobConfig.from_properties(properties)
    assert config.model_path == "s3://fraud-stream-artifacts-abc123/models"
    assert config.source_initial_position == "LATEST"


def test_job_properties_on_aws() -> None:
    properties = flink_locals()["job_properties"]
    assert properties["aws.endpoint"] == "", "on AWS the endpoint override must be empty"
    assert properties["aws.region"] == "${data.aws_region.current.region}"
    registry_root = 's3://${var.artifacts_bucket_name}/${trimsuffix(var.model_prefix, "/")}'
    assert properties["model.path"] == registry_root
    assert str(defaults(TERRAFORM)["model_prefix"]).endswith("/")
    # The job's read grant covers the registry root: versions/<version>/ and current.json.
    iam = blocks(MODULES / "flink_app", "data")["aws_iam_policy_document.this"]
    reads = {s["sid"]: s["resources"] for s in iam["statement"]}
    assert reads["ReadModelRegistry"] == ["${var.artifacts_bucket_arn}/${var.model_prefix}*"]
    # and the rule registry's: rulesets/ and lists/, each with versions/ and current.json
    rules_root = 's3://${var.artifacts_bucket_name}/${trimsuffix(var.rules_prefix, "/")}'
    assert properties["rules.path"] == rules_root
    assert reads["ReadRuleRegistry"] == ["${var.artifacts_bucket_arn}/${var.rules_prefix}*"]


def test_run_options_match_the_package() -> None:
    group = flink_property_groups()[RUN_OPTIONS_GROUP]
    assert set(group) == {"python", "jarfile", "pyFiles"}
    run_options = defaults(MODULES / "flink_app")["run_options"]
    assert run_options == RUN_OPTIONS
    assert "run_options" not in module_call("flink_app"), "root must keep the packaged layout"


def test_job_reads_the_streams_terraform_creates() -> None:
    """Property values come from the stream resources, whose default names are the job's."""
    properties = flink_locals()["job_properties"]
    call = module_call("flink_app")
    local_job = read_property_groups(LOCAL_PROPERTIES)[PROPERTY_GROUP]
    root_locals = named(TERRAFORM, "locals")
    # stream_name_prefix = "" gives the job's own default names; null (the default) puts
    # "<project>-<environment>-" before them.
    assert defaults(TERRAFORM)["stream_name_prefix"] is None
    assert root_locals["stream_prefix"] == (
        '${var.stream_name_prefix == null ? "${local.name}-" : var.stream_name_prefix}'
    )
    for key, role in (
        ("transactions.stream", "transactions"),
        ("labels.stream", "labels"),
        ("alerts.stream", "alerts"),
        ("deadletter.stream", "deadletter"),
        ("decisions.stream", "decisions"),
    ):
        variable = f"{role}_stream_name"
        assert properties[key] == f"${{var.{variable}}}", key
        assert call[variable] == f'${{local.job_streams.names["{role}"]}}', variable
        assert call[f"{role}_stream_arn"] == f'${{local.job_streams.arns["{role}"]}}'
        name = root_locals["stream_names"][role].replace("${local.stream_prefix}", "")
        assert name == local_job[key], f"default {role} stream name differs from the job's"
    # the live streams, or while bootstrapping (docs/deployment.md) their "bootstrap-" twins
    assert root_locals["job_streams"] == (
        "${var.bootstrap ? module.bootstrap_streams[0] : module.streams}"
    )
    assert module_call("bootstrap_streams")["count"] == "${var.bootstrap ? 1 : 0}"
    streams = blocks(MODULES / "streams", "resource")["aws_kinesis_stream.this"]
    assert streams["for_each"] == "${var.stream_names}"
    assert streams["name"] == "${each.value}"
    assert streams["encryption_type"] == "KMS"
    assert module_call("streams")["stream_names"] == "${local.stream_names}"


def test_job_may_read_both_input_streams() -> None:
    iam = blocks(MODULES / "flink_app", "data")["aws_iam_policy_document.this"]
    grants = {s["sid"]: s for s in iam["statement"]}
    reads = grants["ReadSourceStreams"]
    assert "kinesis:GetRecords" in reads["actions"]
    assert sorted(reads["resources"]) == [
        "${var.labels_stream_arn}",
        "${var.transactions_stream_arn}",
    ]


def test_lateness_bound_default_is_the_jobs() -> None:
    """Five minutes of out-of-order delivery give exact features (README, Features)."""
    assert defaults(TERRAFORM)["watermark_max_out_of_orderness_ms"] == 300000
    assert defaults(MODULES / "flink_app")["watermark_max_out_of_orderness_ms"] == 300000


# ---- alert fan-out, lake, tables ------------------------------------------------------


def fanout_locals() -> dict[str, Any]:
    return named(MODULES / "alert_fanout", "locals")


def test_fanout_environment_is_what_its_config_reads() -> None:
    source = (ROOT / "lambdas" / "alert_fanout" / "config.py").read_text()
    read = set(re.findall(r'env\.get\(\s*"([A-Z_]+)"', source))
    environment = fanout_locals()["environment"]
    configured = {k for k in environment if not k.startswith("POWERTOOLS_")}
    assert configured - read == set(), "Terraform sets variables the fan-out does not read"
    assert read - configured == set(), "the fan-out reads variables Terraform does not set"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "alert-fanout"


def test_fanout_handlers_exist() -> None:
    for handler in fanout_locals()["functions"].values():
        module_name, _, function = handler.rpartition(".")
        assert callable(getattr(import_module(module_name), function)), handler


def test_event_source_mapping_contract() -> None:
    mapping = blocks(MODULES / "alert_fanout", "resource")["aws_lambda_event_source_mapping.alerts"]
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["bisect_batch_on_function_error"] is True
    assert 0 < mapping["maximum_retry_attempts"] <= 10
    assert 0 < mapping["maximum_record_age_in_seconds"] <= 3600
    assert mapping["parallelization_factor"] == 1
    on_failure = mapping["destination_config"][0]["on_failure"][0]
    assert on_failure["destination_arn"] == "${aws_sqs_queue.on_failure.arn}"
    assert module_call("alert_fanout")["alerts_stream_arn"] == '${module.streams.arns["alerts"]}'


def test_lake_bucket_and_prefix_are_the_fanouts_and_the_glue_tables() -> None:
    fanout, analytics = module_call("alert_fanout"), module_call("analytics")
    lake_bucket = '${module.buckets["alerts-lake"].name}'
    assert fanout["lake_bucket_name"] == analytics["lake_bucket_name"] == lake_bucket
    assert fanout["lake_prefix"] == analytics["lake_prefix"] == "${var.lake_prefix}"
    assert defaults(TERRAFORM)["lake_prefix"] == FanoutConfig().lake_prefix
    environment = fanout_locals()["environment"]
    assert environment["ALERTS_BUCKET"] == "${var.lake_bucket_name}"
    assert environment["ALERTS_PREFIX"] == "${var.lake_prefix}"
    analytics_locals = named(MODULES / "analytics", "locals")
    assert analytics_locals["lake_location"] == "s3://${var.lake_bucket_name}/${var.lake_prefix}"


def test_glue_table_columns_are_alert_v1_and_projection_matches_lake_keys() -> None:
    columns = [c["name"] for c in named(MODULES / "analytics", "locals")["columns"]]
    assert columns == ["schema", *(f.name for f in fields(Alert))]
    table = blocks(MODULES / "analytics", "resource")["aws_glue_catalog_table.alerts"]
    parameters = table["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert [k["name"] for k in table["partition_keys"]] == ["dt", "hour"]
    # lake.lake_key writes {prefix}dt=YYYY-MM-DD/hour=HH/{alert_id}.json
    template = parameters["storage.location.template"]
    assert template.endswith("dt=$${dt}/hour=$${hour}/")
    assert parameters["projection.dt.format"] == "yyyy-MM-dd"
    assert parameters["projection.hour.digits"] == "2"


def test_dynamodb_tables_are_the_fanouts() -> None:
    resources = blocks(MODULES / "alert_fanout", "resource")
    alerts = resources["aws_dynamodb_table.alerts"]
    assert alerts["hash_key"] == "alert_id"
    assert {i["name"] for i in alerts["global_secondary_index"]} == {
        "gsi_day",
        "gsi_card",
        "gsi_terminal",  # the analyst API's filters (lambdas/api/repository.py)
        "gsi_status",
    }
    assert resources["aws_dynamodb_table.email_state"]["hash_key"] == "card_id"
    environment = fanout_locals()["environment"]
    assert environment["ALERTS_TABLE"] == "${aws_dynamodb_table.alerts.name}"
    assert environment["EMAIL_STATE_TABLE"] == "${aws_dynamodb_table.email_state.name}"
    assert module_call("api")["alerts_table_name"] == "${module.alert_fanout.alerts_table_name}"


def test_ses_template_is_the_file_the_handler_renders() -> None:
    path = (TERRAFORM / defaults(TERRAFORM)["ses_template_file"]).resolve()
    assert path == ROOT / "lambdas" / "alert_fanout" / "templates" / "fraud-alert.json"
    template = json.loads(path.read_text())
    assert template["TemplateName"] == FanoutConfig().ses_template
    assert fanout_locals()["environment"]["SES_TEMPLATE"] == "${aws_ses_template.alert.name}"


def test_artefact_paths_are_where_make_package_writes() -> None:
    """Every artefact Terraform reads defaults to the file `make package` writes: the API
    gets its Lambda and routes without a variable set."""
    values = defaults(TERRAFORM)
    out = ROOT / "build" / "package"
    assert (TERRAFORM / values["flink_zip"]).resolve() == out / FLINK_ZIP
    assert (TERRAFORM / values["fanout_zip"]).resolve() == out / FANOUT_ZIP
    assert (TERRAFORM / values["api_zip"]).resolve() == out / API_ZIP
    assert (TERRAFORM / values["archive_mask_zip"]).resolve() == out / ARCHIVE_MASK_ZIP
    assert (TERRAFORM / values["console_artifact"]).resolve() == out / CONSOLE_ZIP


# ---- IAM ----------------------------------------------------------------------------

# A key policy's "*" means the key itself (modules/kms/main.tf says why).
KEY_POLICIES = {("kms", "aws_iam_policy_document.key_policy")}
SCOPE_ONLY = re.compile(r"^[a-z0-9-]*[:/]?$")


def policy_documents() -> list[tuple[str, str, dict[str, Any]]]:
    documents = []
    for directory in [TERRAFORM, *(p for p in MODULES.iterdir() if p.is_dir())]:
        for name, body in blocks(directory, "data").items():
            if name.startswith("aws_iam_policy_document."):
                documents.append((directory.name, name, body))
    return documents


def statements(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy document's statements, and those of `dynamic "statement"` blocks that list
    their resources literally (a block built by a `for` expression is not judged here)."""
    switched = [
        content
        for block in body.get("dynamic", [])
        for content in block.get("statement", {}).get("content", [])
        if isinstance(content.get("resources"), list)
    ]
    return [*body.get("statement", []), *switched]


def test_the_job_may_subscribe_only_through_its_own_fan_out_consumer_and_only_when_on() -> None:
    body = blocks(MODULES / "flink_app", "data")["aws_iam_policy_document.this"]
    switched = {
        content["sid"]: (block["statement"]["for_each"], content)
        for block in body["dynamic"]
        for content in block["statement"]["content"]
    }
    for_each, subscribe = switched["SubscribeThroughFanOutConsumer"]
    assert for_each == '${var.enhanced_fan_out ? ["on"] : []}'
    assert subscribe["resources"] == [
        "${var.transactions_stream_arn}/consumer/${local.efo_consumer}:*"
    ]
    assert "kinesis:SubscribeToShard" in subscribe["actions"]
    for_each, register = switched["RegisterFanOutConsumer"]
    assert for_each == '${var.enhanced_fan_out ? ["on"] : []}'
    assert register["resources"] == ["${var.transactions_stream_arn}"]
    assert not any("SubscribeToShard" in str(s) for s in body["statement"]), "not unswitched"
    properties = flink_locals()["job_properties"]
    assert properties["source.efo_consumer"] == '${var.enhanced_fan_out ? local.efo_consumer : ""}'


def unspecific(resource: str) -> bool:
    """True for "*" or an ARN whose resource part is only a type and a wildcard."""
    if resource.strip() in ("*", ""):
        return True
    if resource.startswith("arn:"):
        parts = resource.split(":", 5)
        if len(parts) < 6:
            return True
        scope = parts[5].removesuffix("*")
        return bool(SCOPE_ONLY.fullmatch(scope))
    return False


def test_unspecific_detects_wildcards() -> None:
    assert unspecific("*")
    assert unspecific("arn:${p}:logs:${r}:${a}:log-group:*")
    assert unspecific("arn:aws:s3:::*")
    assert not unspecific("${aws_sqs_queue.on_failure.arn}")
    assert not unspecific("${var.alerts_table_arn}/index/*")
    assert not unspecific("arn:${p}:logs:${r}:${a}:log-group:/aws/lambda/${var.name}:*")


def test_every_iam_statement_names_specific_resources() -> None:
    documents = policy_documents()
    assert len(documents) >= 8
    for module, name, body in documents:
        for statement in statements(body):
            where = f"{module}: {name} statement {statement.get('sid', '?')}"
            actions = statement.get("actions", [])
            if actions == ["sts:AssumeRole"]:
                assert "resources" not in statement, f"{where}: a trust policy names no resource"
                assert statement.get("principals"), f"{where}: trust policy without principal"
                continue
            resources = statement.get("resources", [])
            assert isinstance(resources, list), f"{where}: list resources literally"
            assert resources, f"{where} names no resources"
            if (module, name) in KEY_POLICIES:
                assert resources == ["*"] and statement.get("principals"), where
                continue
            wide = [r for r in resources if unspecific(r)]
            assert not wide, f"{where} is not scoped: {wide}"
            assert not any(a in ("*", "s3:*") for a in actions) or statement.get("effect") == "Deny"


def test_policies_are_all_policy_documents() -> None:
    """Inline JSON policies would escape the check above."""
    for path in tf_files():
        text = path.read_text()
        assert '"Statement"' not in text and "Statement =" not in text, path
        assert "aws_iam_role_policy_attachment" not in text, f"{path}: managed policies are wide"
