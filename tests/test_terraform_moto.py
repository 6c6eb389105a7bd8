"""`terraform apply` and `terraform destroy` of the whole root module (infra/terraform) against
the local moto server, with the hashicorp/aws provider the other Terraform tests build, its
endpoints pointed at moto and the account checks skipped. Then the stack it made is used: the
job runs locally configured from the property group Terraform wrote (read back through the
Kinesis Analytics v2 API), the fan-out from the deployed function's environment, the API over
the deployed table, and `python -m local.traffic.smoke` runs against Terraform's outputs.

What moto 5.2.6 lacks stays behind switches: Amplify (no API at all: `enable_amplify =
false`) and QuickSight (off by default). Its Kinesis Analytics v2 answers only Create and
DescribeApplication, in a shape the provider's SDK refuses; local/aws/moto_server.py completes it
(READY, epoch timestamps, the application's name, DeleteApplication). Moto stores Lambda
functions, Firehose delivery streams and event-source mappings but runs none of them: the
fan-out runs here from the repository's code, fed like its mapping. The Flink zip is a
stand-in (the job runs from the repository's code); the Lambda zips are the ones `make
package` builds, without dependencies.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flink_job.config import PROPERTY_GROUP, JobConfig
from infra.package import build_api_zip, build_archive_mask_zip, build_fanout_zip
from local.aws import REGION, LocalAws, aws_env
from tests.test_terraform_checks import (
    ROOT,
    TERRAFORM,
    cli_config,
    find_provider_mirror,
    terraform_binary,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

# The provider's endpoint names (its `endpoints` block) of every service the root module
# calls with QuickSight and Amplify off, all served by moto.
SERVED = (
    "apigatewayv2",
    "athena",
    "cloudwatch",
    "cognitoidp",
    "dynamodb",
    "events",
    "firehose",
    "glue",
    "iam",
    "kinesis",
    "kinesisanalyticsv2",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sagemaker",
    "ses",
    "sesv2",
    "sns",
    "sqs",
    "sts",
)
ENVIRONMENT = "moto"
VARIABLES = {
    "aws_region": REGION,
    "environment": ENVIRONMENT,
    "email_from": "fraud-alerts@example.com",
    "email_to": '["fraud-analysts@example.com"]',
    "alarm_emails": '["platform-oncall@example.com"]',
    "extra_callback_urls": '["http://localhost:5173"]',
    "allow_local_development_urls": "true",  # the console runs on this machine
    "enable_amplify": "false",
    "force_destroy": "true",
    "deletion_protection": "false",
    "stream_mode": "PROVISIONED",
    "shard_count": "1",
}


def moto_override(endpoint: str) -> str:
    """An override file (merged into providers.tf's provider block) that sends every call
    to moto and asks nothing of a real account."""
    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in SERVED)
    return (
        'provider "aws" {\n'
        '  access_key                  = "local"\n'
        '  secret_key                  = "local"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
        "}\n"
    )


# What the root module creates, by kind, as the services list it: (client, operation, the
# list in the answer, the field naming each item).
LISTED = {
    "streams": ("kinesis", "list_streams", "StreamNames", None),
    "buckets": ("s3", "list_buckets", "Buckets", "Name"),
    "tables": ("dynamodb", "list_tables", "TableNames", None),
    "functions": ("lambda", "list_functions", "Functions", "FunctionName"),
    "event source mappings": (
        "lambda",
        "list_event_source_mappings",
        "EventSourceMappings",
        "UUID",
    ),
    "delivery streams": ("firehose", "list_delivery_streams", "DeliveryStreamNames", None),
    "applications": (
        "kinesisanalyticsv2",
        "list_applications",
        "ApplicationSummaries",
        "ApplicationName",
    ),
    "queues": ("sqs", "list_queues", "QueueUrls", None),
    "topics": ("sns", "list_topics", "Topics", "TopicArn"),
    "roles": ("iam", "list_roles", "Roles", "RoleName"),
    "key aliases": ("kms", "list_aliases", "Aliases", "AliasName"),
    "log groups": ("logs", "describe_log_groups", "logGroups", "logGroupName"),
    "alarms": ("cloudwatch", "describe_alarms", "MetricAlarms", "AlarmName"),
    "dashboards": ("cloudwatch", "list_dashboards", "DashboardEntries", "DashboardName"),
    "event rules": ("events", "list_rules", "Rules", "Name"),
    "glue databases": ("glue", "get_databases", "DatabaseList", "Name"),
    "athena workgroups": ("athena", "list_work_groups", "WorkGroups", "Name"),
    "user pools": ("cognito-idp", "list_user_pools", "UserPools", "Name"),
    "http apis": ("apigatewayv2", "get_apis", "Items", "Name"),
    "ses identities": ("sesv2", "list_email_identities", "EmailIdentities", "IdentityName"),
    "ses configuration sets": ("sesv2", "list_configuration_sets", "ConfigurationSets", None),
    "ses templates": ("ses", "list_templates", "TemplatesMetadata", "Name"),
}


def inventory(aws: LocalAws) -> dict[str, set[str]]:
    """Every listed resource of each kind in the moto account, by name."""
    found: dict[str, set[str]] = {}
    for kind, (service, operation, key, field) in LISTED.items():
        client = aws.client(service)
        arguments = {"MaxResults": 60} if operation == "list_user_pools" else {}
        if client.can_paginate(operation):
            pages = list(client.get_paginator(operation).paginate(**arguments))
        else:
            pages = [getattr(client, operation)(**arguments)]
        items = [item for page in pages for item in page.get(key, [])]
        found[kind] = {item[field] if field else item for item in items}
    return found


@dataclass
class Applied:
    aws: LocalAws
    work: Path
    env: dict[str, str]
    arguments: list[str]
    outputs: dict[str, Any]
    created: dict[str, set[str]]  # what the apply added to the account, by kind

    def value(self, name: str) -> Any:
        return self.outputs[name]["value"]

    def terraform(self, *command: str) -> str:
        """Runs `terraform *command` in the copy of the root module; its standard output.
        Commands that could prompt are given -input=false (`output` accepts no such flag)."""
        asks = ["-input=false"] if command[0] in {"init", "apply", "destroy"} else []
        result = subprocess.run(
            [terraform_binary(), *command, "-no-color", *asks],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,  # a hung apply or destroy fails the test instead of stalling `make test`
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"terraform {' '.join(command)} failed:\n{output[-8000:]}"
        return result.stdout


def artefacts(directory: Path) -> dict[str, Path]:
    """The Lambda zips as `make package` builds them (no downloaded dependencies) and
    stand-ins for the Flink zip and the console (nothing here runs them from the zip)."""
    directory.mkdir(parents=True)
    wheelhouse = directory / "wheels"
    fanout = build_fanout_zip(directory, wheelhouse, skip_deps=True).path
    api = build_api_zip(directory, wheelhouse, skip_deps=True)
    assert api is not None
    mask = build_archive_mask_zip(directory).path
    flink = directory / "flink-stand-in.zip"
    shutil.copyfile(mask, flink)
    return {
        "flink_zip": flink,
        "fanout_zip": fanout,
        "api_zip": api.path,
        "archive_mask_zip": mask,
        "console_artifact": flink,
    }


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    mirror = find_provider_mirror()
    tmp = tmp_path_factory.mktemp("moto-apply")
    work = tmp / "infra" / "terraform"
    shutil.copytree(TERRAFORM, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    templates = ROOT / "lambdas" / "alert_fanout" / "templates"
    shutil.copytree(templates, tmp / "lambdas" / "alert_fanout" / "templates")
    zips = artefacts(tmp / "package")
    with LocalAws(streams=()) as aws:
        (work / "moto_override.tf").write_text(moto_override(aws.endpoint))
        env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(cli_config(tmp, mirror)),
            "TF_IN_AUTOMATION": "1",
        }
        arguments = [f"-var={k}={v}" for k, v in VARIABLES.items()]
        arguments += [f"-var={k}={v}" for k, v in zips.items()]
        before = inventory(aws)
        stack = Applied(aws, work, env, arguments, {}, {})
        stack.terraform("init", "-backend=false")
        stack.terraform("apply", "-auto-approve", *arguments)
        stack.created = {kind: names - before[kind] for kind, names in inventory(aws).items()}
        stack.outputs = json.loads(stack.terraform("output", "-json"))
        yield stack


def test_apply_creates_the_root_module_against_moto(applied: Applied) -> None:
    kinesis = applied.aws.client("kinesis")
    streams = applied.value("stream_names")
    assert streams["transactions"] == f"fraud-stream-{ENVIRONMENT}-transactions"
    for name in streams.values():
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        assert summary["StreamStatus"] == "ACTIVE"
        assert summary["EncryptionType"] == "KMS"
    buckets = {b["Name"] for b in applied.aws.client("s3").list_buckets()["Buckets"]}
    assert applied.value("artifacts_bucket") in buckets
    assert applied.value("alerts_lake_bucket") in buckets
    table = applied.aws.client("dynamodb").describe_table(TableName=applied.value("alerts_table"))
    assert {i["IndexName"] for i in table["Table"]["GlobalSecondaryIndexes"]} >= {"gsi_day"}
    assert applied.value("api_function_name")  # the API has its Lambda: api.zip by default
    # enable_amplify = false (moto has no Amplify): the output is null, which `terraform
    # output` leaves out
    assert "amplify_app_id" not in applied.outputs


def test_the_property_group_read_back_is_the_one_terraform_wrote(applied: Applied) -> None:
    detail = applied.aws.client("kinesisanalyticsv2").describe_application(
        ApplicationName=applied.value("flink_application_name")
    )["ApplicationDetail"]
    groups = {
        g["PropertyGroupId"]: g["PropertyMap"]
        for g in detail["ApplicationConfigurationDescription"]["EnvironmentPropertyDescriptions"][
            "PropertyGroupDescriptions"
        ]
    }
    assert groups[PROPERTY_GROUP] == applied.value("flink_job_properties")
    config = JobConfig.from_properties(groups[PROPERTY_GROUP])
    assert config.transactions_stream == applied.value("stream_names")["transactions"]
    assert config.transactions_max_age_ms == 7 * 24 * 3600 * 1000


def deployed_job_config(applied: Applied) -> JobConfig:
    """The job's configuration from the application Terraform created, pointed at moto."""
    detail = applied.aws.client("kinesisanalyticsv2").describe_application(
        ApplicationName=applied.value("flink_application_name")
    )["ApplicationDetail"]
    groups = detail["ApplicationConfigurationDescription"]["EnvironmentPropertyDescriptions"]
    properties = next(
        g["PropertyMap"]
        for g in groups["PropertyGroupDescriptions"]
        if g["PropertyGroupId"] == PROPERTY_GROUP
    )
    return dataclasses.replace(
        JobConfig.from_properties(properties), aws_endpoint=applied.aws.endpoint
    )


def deployed_function_environment(applied: Applied, name: str) -> dict[str, str]:
    configuration = applied.aws.client("lambda").get_function_configuration(FunctionName=name)
    environment: dict[str, str] = configuration["Environment"]["Variables"]
    return environment


def test_smoke_passes_against_the_stack_terraform_applied(
    applied: Applied,
    trained_model: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from local.aws.lambda_poller import LambdaPoller, MappingSettings
    from local.console.server import running
    from local.flink.running import RunningPipeline
    from local.traffic.smoke import main as smoke
    from model_export.registry import main as registry
    from tests.test_smoke import fanout_thread

    for name, value in aws_env(applied.aws.endpoint).items():
        monkeypatch.setenv(name, value)
    config = deployed_job_config(applied)
    # the model, published and promoted where the deployed job reads it
    assert registry([config.model_path, "publish", str(trained_model["dir"]), "--promote"]) == 0
    fanout = applied.value("unique_names")  # names only; the environment is the function's
    environment = deployed_function_environment(
        applied, f"fraud-stream-{ENVIRONMENT}-alert-fanout-fanout"
    )
    assert environment["ALERTS_TABLE"] == fanout["alerts_table"]
    queue = applied.value("fanout_dead_letter_queue_url").rsplit("/", 1)[1]
    poller = LambdaPoller(
        applied.aws,
        settings=MappingSettings(stream=config.alerts_stream, on_failure_queue=queue),
        environment={
            **environment,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        },
    )
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for given in ("model_path", "aws_endpoint"):  # RunningPipeline sets these two
        fields.pop(given)
    with (
        RunningPipeline(applied.aws, config.model_path, **fields),
        fanout_thread(poller),
        running(
            applied.aws.endpoint,
            alerts_table=environment["ALERTS_TABLE"],
            labels_stream=config.labels_stream,
        ) as console,
    ):
        outputs = dict(applied.outputs)
        # moto stores the HTTP API but serves none: the API's handler runs here
        outputs["api_endpoint"] = {"value": f"{console.origin}/api"}
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs))
        token = console.server.issuer.token_for("analyst")
        code = smoke(
            ["--outputs", str(path), "--token", token, "--rate", "200", "--timeout", "240"],
            clients=applied.aws.client,
        )
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "smoke: everything arrived" in captured.out


def test_destroy_removes_what_apply_created(applied: Applied) -> None:
    # the apply's, not what the tests made since (the local API's own ledger and audit trail)
    created = applied.created
    # every kind listed was created by the apply: none of these checks is empty
    assert not [kind for kind, names in created.items() if not names], created
    aliases = applied.aws.client("kms").list_aliases()["Aliases"]
    keys = {a["TargetKeyId"] for a in aliases if a["AliasName"] in created["key aliases"]}
    assert keys

    applied.terraform("destroy", "-auto-approve", *applied.arguments)

    after = inventory(applied.aws)
    left = {kind: sorted(names & after[kind]) for kind, names in created.items()}
    assert not {kind: names for kind, names in left.items() if names}, "left after destroy"
    kms = applied.aws.client("kms")
    states = {kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] for key in keys}
    assert states == {"PendingDeletion"}  # KMS deletes a key only after its waiting period
    state = json.loads((applied.work / "terraform.tfstate").read_text())
    assert [r for r in state["resources"] if r["mode"] == "managed"] == [], (
        "resources left in the state after destroy"
    )
