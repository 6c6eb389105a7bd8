"""The API's Terraform says what its code does: routes, the public document, the handler,
the environment its config reads, and the alert store's indexes (Terraform, local
provisioning and the repository name the same ones)."""

from __future__ import annotations

import inspect
import json
import re
from importlib import import_module
from pathlib import Path
from typing import Any

from lambdas.alert_fanout.config import FanoutConfig
from lambdas.api.app import OPENAPI_PATH, openapi_document
from lambdas.api.changes import REQUESTER_INDEX
from lambdas.api.changes import STATUS_INDEX as CHANGE_STATUS_INDEX
from lambdas.api.config import ApiConfig
from lambdas.api.handler import PUBLIC
from lambdas.api.ledger import ACTOR_TERMINAL_INDEX, HELD_INDEX
from lambdas.api.repository import INDEXES, STATUS_INDEX
from lambdas.api.watch import ANALYST_FRAUD_LABELS, NAMESPACE, TERMINAL_FRAUD_LABELS
from local.aws.api_resources import AUDIT_RETENTION_DAYS, provision_api
from local.aws.fanout_resources import provision_fanout
from local.console.server import console_headers
from rules.backtest import AthenaEngine
from tests.test_terraform_checks import terraform_test_module
from tests.test_terraform_wiring import MODULES, blocks, defaults, named, unquote

API = MODULES / "api"


def terraform_locals() -> dict[str, Any]:
    return named(API, "locals")


def code_routes() -> set[str]:
    document = json.loads(openapi_document())
    routes = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }
    return routes | {f"GET {OPENAPI_PATH}"}


def test_terraform_routes_are_the_codes_routes() -> None:
    assert set(terraform_locals()["routes"]) == code_routes()


def test_only_the_openapi_document_is_public() -> None:
    local = terraform_locals()
    assert set(local["public_routes"]) == {" ".join(route) for route in PUBLIC}
    resources = blocks(API, "resource")
    protected = resources["aws_apigatewayv2_route.this"]
    assert "setsubtract(toset(local.routes), local.public_routes)" in protected["for_each"]
    assert protected["authorization_type"] == "JWT"
    public = resources["aws_apigatewayv2_route.public"]
    assert "local.public_routes" in public["for_each"]
    assert public["authorization_type"] == "NONE"


def test_the_lambda_handler_is_the_one_terraform_names() -> None:
    module, _, function = defaults(API)["api_handler"].rpartition(".")
    assert callable(getattr(import_module(module), function))


def test_the_lambda_environment_is_what_the_config_reads() -> None:
    for name in ("api", "release"):
        function = blocks(API, "resource")[f"aws_lambda_function.{name}"]
        assert function["environment"][0]["variables"] == "${local.api_environment}"
    environment = terraform_locals()["api_environment"]
    read = set(re.findall(r'"([A-Z_]+)"', inspect.getsource(ApiConfig.from_env)))
    optional = {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "JWKS_URL"}
    assert read - optional - {"ALERT_LOOKBACK_DAYS"} == (
        set(environment) - {"POWERTOOLS_SERVICE_NAME"}
    )
    assert environment["JWT_ISSUER"] == "https://${aws_cognito_user_pool.this.endpoint}"
    assert environment["JWT_AUDIENCE"] == "${aws_cognito_user_pool_client.console.id}"
    assert environment["AUDIT_BUCKET"] == "${aws_s3_bucket.audit.bucket}"
    assert environment["LABEL_LEDGER_TABLE"] == "${aws_dynamodb_table.ledger.name}"
    assert environment["RULE_CHANGES_TABLE"] == "${aws_dynamodb_table.changes.name}"
    # the root the job's rules.path names (modules/flink_app/main.tf)
    job = named(MODULES / "flink_app", "locals")
    assert any(
        value == environment["RULES_ROOT"].replace("rules_bucket_name", "artifacts_bucket_name")
        for values in job.values()
        if isinstance(values, dict)
        for value in values.values()
    )
    call = named(MODULES.parent, "module")["api"]
    assert call["rules_bucket_name"] == '${module.buckets["artifacts"].name}'
    assert call["rules_prefix"] == "${var.rules_prefix}"
    values = {key: f"value-of-{key}" for key in ("ALERTS_TABLE", "LABELS_STREAM")}
    config = ApiConfig.from_env({**values, "JWT_ISSUER": "i", "JWT_AUDIENCE": "a"})
    assert (config.alerts_table, config.labels_stream) == (
        values["ALERTS_TABLE"],
        values["LABELS_STREAM"],
    )
    variables = defaults(API)
    default = ApiConfig(jwt_issuer="i", jwt_audience="a")
    assert (
        variables["label_hold_seconds"],
        variables["analyst_verdict_quota"],
        variables["analyst_terminal_label_budget"],
        variables["alert_history_cap"],
        variables["analyst_change_quota"],
    ) == (
        default.label_hold_s,
        default.verdict_quota,
        default.terminal_label_budget,
        default.history_cap,
        default.change_quota,
    )


def policy_statements() -> list[dict[str, Any]]:
    policy = blocks(API, "data")["aws_iam_policy_document.lambda"]
    statements: list[dict[str, Any]] = policy["statement"]
    return statements


def test_the_lambda_may_do_what_the_api_does_and_no_more() -> None:
    statements = policy_statements()
    allowed = [s for s in statements if s.get("effect", "Allow") == "Allow"]
    on_alerts = {
        action
        for statement in allowed
        if any("alerts_table_arn" in r for r in statement["resources"])
        for action in statement["actions"]
    }
    assert on_alerts == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    actions = {action for statement in allowed for action in statement["actions"]}
    assert "kinesis:PutRecord" in actions
    assert not {"dynamodb:Scan", "dynamodb:DeleteItem", "s3:DeleteObject"} & actions
    # S3 is read only under the rule registry's prefix, the audit trail's rules/ records and
    # where a backtest's Athena query reads (the decision log, the labels, its results)
    read = {
        resource
        for statement in allowed
        if {"s3:GetObject", "s3:ListBucket"} & set(statement["actions"])
        for resource in statement["resources"]
    }
    assert read == {
        "${var.rules_bucket_arn}/${var.rules_prefix}*",
        "${var.rules_bucket_arn}",
        "${aws_s3_bucket.audit.arn}/rules/*",
        "${aws_s3_bucket.audit.arn}",
        "${var.archive_bucket_arn}/decisions/*",
        "${var.archive_bucket_arn}/labels/*",
        "${var.archive_bucket_arn}",
        "${var.athena_results_bucket_arn}/*",
        "${var.athena_results_bucket_arn}",
    }
    for statement in allowed:
        if "s3:ListBucket" in statement["actions"]:
            if statement["resources"] == ["${var.athena_results_bucket_arn}"]:
                continue  # Athena's own results bucket, listed whole
            (condition,) = statement["condition"]
            assert condition["variable"] == "s3:prefix"
            assert condition["values"] in (
                ["rules/*"],
                ["${var.rules_prefix}*"],
                ["decisions/*", "labels/*"],
            )
    on_changes = {
        action
        for statement in allowed
        if any("aws_dynamodb_table.changes" in r for r in statement["resources"])
        for action in statement["actions"]
    }
    assert on_changes == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:GetItem",
    }


def test_backtests_may_query_the_decision_log_and_labels_in_one_workgroup_only() -> None:
    statements = {s["sid"]: s for s in policy_statements()}
    athena = statements["RunBacktests"]
    assert athena["resources"][0].endswith(":workgroup/${var.athena_workgroup_name}")
    assert set(athena["actions"]) == {
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StopQueryExecution",
    }
    engine = AthenaEngine(None, "w", "d")
    tables = {engine.decisions_table, engine.labels_table}
    arns = statements["ReadBacktestTables"]["resources"]
    assert {arn.rpartition("/")[2] for arn in arns if ":table/" in arn} == tables
    listing = statements["ListDecisionLog"]["condition"][0]
    assert listing["variable"] == "s3:prefix"
    assert set(listing["values"]) == {f"{table}/*" for table in tables}
    assert set(statements["ReadDecisionLog"]["resources"]) == {
        f"${{var.archive_bucket_arn}}/{table}/*" for table in tables
    }


def test_the_api_may_append_to_the_audit_trail_and_never_rewrite_it() -> None:
    statements = policy_statements()
    on_audit = [s for s in statements if any("aws_s3_bucket.audit" in r for r in s["resources"])]
    allowed = {a for s in on_audit if s.get("effect", "Allow") == "Allow" for a in s["actions"]}
    denied = {a for s in on_audit if s.get("effect") == "Deny" for a in s["actions"]}
    assert allowed == {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
    # the verdicts' records are only ever added; the rules' records are read back (history)
    for statement in on_audit:
        if statement.get("effect", "Allow") == "Allow" and statement["actions"] != ["s3:PutObject"]:
            assert all("/verdicts" not in r for r in statement["resources"]), statement
    assert {
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "s3:BypassGovernanceRetention",
        "s3:PutBucketObjectLockConfiguration",
    } <= denied
    resources = blocks(API, "resource")
    assert resources["aws_s3_bucket.audit"]["object_lock_enabled"] is True
    lock = resources["aws_s3_bucket_object_lock_configuration.audit"]["rule"][0]
    assert lock["default_retention"][0]["mode"] == "COMPLIANCE"
    assert defaults(API)["audit_retention_days"] == AUDIT_RETENTION_DAYS


def test_the_label_ledger_is_the_same_in_terraform_and_locally() -> None:
    table = blocks(API, "resource")["aws_dynamodb_table.ledger"]
    terraform = {
        index["name"]: tuple(
            k["attribute_name"] for k in sorted(index["key_schema"], key=lambda k: k["key_type"])
        )
        for index in table["global_secondary_index"]
    }
    config = ApiConfig(jwt_issuer="i", jwt_audience="a")
    created = provisioned_tables()[config.ledger_table]
    local = {
        index["IndexName"]: tuple(k["AttributeName"] for k in index["KeySchema"])
        for index in created["GlobalSecondaryIndexes"]
    }
    assert (
        local
        == terraform
        == {
            HELD_INDEX: ("held", "release_after"),
            ACTOR_TERMINAL_INDEX: ("actor_terminal", "entry"),
        }
    )
    assert (table["hash_key"], table["range_key"]) == ("actor", "entry")


def provisioned_tables() -> dict[str, dict[str, Any]]:
    """The create_table calls local/aws/api_resources.py makes, by table name."""
    created: dict[str, dict[str, Any]] = {}

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            def call(**kwargs: Any) -> Any:
                if name == "create_table":
                    created[kwargs["TableName"]] = kwargs
                return {}

            return call

    provision_api(lambda service: Recorder(), ApiConfig(jwt_issuer="i", jwt_audience="a"))
    return created


def test_the_change_requests_table_is_the_same_in_terraform_and_locally() -> None:
    table = blocks(API, "resource")["aws_dynamodb_table.changes"]
    terraform = {
        index["name"]: tuple(
            k["attribute_name"] for k in sorted(index["key_schema"], key=lambda k: k["key_type"])
        )
        for index in table["global_secondary_index"]
    }
    created = provisioned_tables()[ApiConfig(jwt_issuer="i", jwt_audience="a").changes_table]
    local = {
        index["IndexName"]: tuple(k["AttributeName"] for k in index["KeySchema"])
        for index in created["GlobalSecondaryIndexes"]
    }
    assert (
        local
        == terraform
        == {
            CHANGE_STATUS_INDEX: ("status", "requested_at"),
            REQUESTER_INDEX: ("requested_by", "requested_at"),
        }
    )
    assert table["hash_key"] == "change_id"
    assert [k["AttributeName"] for k in created["KeySchema"]] == ["change_id"]


def test_the_release_step_runs_on_a_schedule_with_the_handler_terraform_names() -> None:
    resources = blocks(API, "resource")
    function = resources["aws_lambda_function.release"]
    module, _, name = function["handler"].rpartition(".")
    assert callable(getattr(import_module(module), name))
    assert resources["aws_cloudwatch_event_target.release"]["arn"] == (
        "${aws_lambda_function.release[0].arn}"
    )
    assert defaults(API)["release_schedule"].startswith("rate(")


def test_alarms_watch_analysts_fraud_labels_by_analyst_and_by_terminal() -> None:
    alarms = terraform_locals()["label_alarms"]
    queries = {name: alarm["query"] for name, alarm in alarms.items()}
    assert f"SUM({ANALYST_FRAUD_LABELS})" in queries["analyst-fraud-labels"]
    assert "actor)" in queries["analyst-fraud-labels"]
    assert f"SUM({TERMINAL_FRAUD_LABELS})" in queries["terminal-analyst-fraud-labels"]
    assert "terminal_id)" in queries["terminal-analyst-fraud-labels"]
    assert NAMESPACE in queries["analyst-fraud-labels"]
    alarm = blocks(API, "resource")["aws_cloudwatch_metric_alarm.labels"]
    assert alarm["threshold"] == "${var.analyst_fraud_label_alarm_threshold}"


def terraform_indexes() -> dict[str, tuple[str, str]]:
    """Index name -> (partition key, sort key), from the indexes' `key_schema` blocks."""
    table = blocks(MODULES / "alert_fanout", "resource")["aws_dynamodb_table.alerts"]
    indexes = {}
    for index in table["global_secondary_index"]:
        keys = {k["key_type"]: k["attribute_name"] for k in index["key_schema"]}
        assert len(keys) == len(index["key_schema"]) == 2, index  # one HASH, one RANGE
        indexes[index["name"]] = (keys["HASH"], keys["RANGE"])
    return indexes


def local_indexes() -> dict[str, tuple[str, str]]:
    created: dict[str, Any] = {}

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            def call(**kwargs: Any) -> Any:
                if name == "create_table" and kwargs["TableName"] == FanoutConfig().alerts_table:
                    created.update(kwargs)
                return {"QueueUrl": "local"}

            return call

    provision_fanout(lambda service: Recorder(), FanoutConfig())
    return {
        index["IndexName"]: tuple(k["AttributeName"] for k in index["KeySchema"])  # type: ignore[misc]
        for index in created["GlobalSecondaryIndexes"]
    }


def test_the_indexes_the_api_queries_exist_in_terraform_and_locally() -> None:
    used = {name: (key, "detected_at") for _, name, key in INDEXES}
    used[STATUS_INDEX] = ("status", "detected_at")
    terraform = terraform_indexes()
    assert local_indexes() == terraform
    for name, keys in used.items():
        assert terraform[name] == keys, name


def test_route_keys_use_terraforms_path_syntax() -> None:
    for route in terraform_locals()["routes"]:
        assert re.fullmatch(r"(GET|POST|DELETE) /[a-z_./{}]+", route), route


def test_terraform_creates_the_cognito_groups_the_api_reads() -> None:
    from lambdas.api.auth import ANALYSTS, READERS, RULE_ADMINS

    groups = blocks(MODULES / "api", "resource")["aws_cognito_user_group.access"]
    assert {ANALYSTS, READERS, RULE_ADMINS} <= set(unquote(groups)["for_each"])


def test_amplify_serves_the_security_headers_the_local_server_serves() -> None:
    headers = terraform_locals()["console_headers"]
    region_api = "https://*.execute-api.${data.aws_region.current.region}.amazonaws.com"
    assert headers == console_headers(region_api, "https://${local.cognito_domain}")
    app = blocks(API, "resource")["aws_amplify_app.console"]
    assert "local.console_headers" in app["custom_headers"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_sign_in_requires_mfa_threat_protection_and_verified_email_changes() -> None:
    resources = blocks(API, "resource")
    pool = resources["aws_cognito_user_pool.this"]
    assert pool["mfa_configuration"] == "ON"
    assert pool["user_pool_add_ons"][0]["advanced_security_mode"] == "ENFORCED"
    update = pool["user_attribute_update_settings"][0]
    assert update["attributes_require_verification_before_update"] == ["email"]
    client = resources["aws_cognito_user_pool_client.console"]
    assert client["write_attributes"] == ["name"]
    [condition] = client["lifecycle"][0]["precondition"]
    assert condition["condition"] == "${local.extra_urls_allowed}"


def test_the_example_settings_put_no_http_url_into_production() -> None:
    example = (MODULES.parent / "terraform.tfvars.example").read_text()
    settings = [line for line in example.splitlines() if not line.lstrip().startswith("#")]
    assert not any("http://" in line for line in settings)
    assert defaults(MODULES.parent)["allow_local_development_urls"] is False


def test_the_api_module_plans_sign_in_headers_and_callbacks(tmp_path: Path) -> None:
    """infra/terraform/modules/api/tests/signin.tftest.hcl against the provider's schema."""
    output = terraform_test_module(tmp_path, "api", calls=("service_role",))
    assert "5 passed, 0 failed" in output, output
