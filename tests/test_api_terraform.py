"""The API's Terraform says what its code does: routes, the public document, the handler,
the environment its config reads, and the alert store's indexes (Terraform, local
provisioning and the repository name the same ones)."""

from __future__ import annotations

import json
import re
from importlib import import_module
from typing import Any

from lambdas.alert_fanout.config import FanoutConfig
from lambdas.api.app import OPENAPI_PATH, openapi_document
from lambdas.api.config import ApiConfig
from lambdas.api.handler import PUBLIC
from lambdas.api.repository import INDEXES, STATUS_INDEX
from local.fanout_resources import provision_fanout
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
    function = blocks(API, "resource")["aws_lambda_function.api"]
    environment = function["environment"][0]["variables"]
    config_keys = {"ALERTS_TABLE", "LABELS_STREAM", "JWT_ISSUER", "JWT_AUDIENCE"}
    assert config_keys <= set(environment)
    assert environment["JWT_ISSUER"] == "https://${aws_cognito_user_pool.this.endpoint}"
    assert environment["JWT_AUDIENCE"] == "${aws_cognito_user_pool_client.console.id}"
    values = {key: f"value-of-{key}" for key in config_keys}
    config = ApiConfig.from_env(values)
    assert (config.alerts_table, config.labels_stream) == (
        values["ALERTS_TABLE"],
        values["LABELS_STREAM"],
    )
    assert (config.jwt_issuer, config.jwt_audience) == (
        values["JWT_ISSUER"],
        values["JWT_AUDIENCE"],
    )


def test_the_lambda_may_do_what_the_api_does_and_no_more() -> None:
    policy = blocks(API, "data")["aws_iam_policy_document.lambda"]
    statements = policy["statement"]
    actions = {action for statement in statements for action in statement["actions"]}
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"} <= actions
    assert "kinesis:PutRecord" in actions
    assert not {"dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:PutItem"} & actions


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
        assert re.fullmatch(r"(GET|POST) /[a-z_./{}]+", route), route


def test_terraform_creates_the_cognito_groups_the_api_reads() -> None:
    from lambdas.api.auth import ANALYSTS, READERS

    groups = blocks(MODULES / "api", "resource")["aws_cognito_user_group.access"]
    assert {ANALYSTS, READERS} <= set(unquote(groups)["for_each"])
