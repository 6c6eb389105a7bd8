"""api.zip: the API Lambda's code, the alert store layout it reads, contracts/, and the
dependencies the Lambda runtime lacks (pinned to the locked versions)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from infra import package


def test_api_zip_has_the_handler_and_what_it_imports(tmp_path: Path) -> None:
    result = package.build_api_zip(tmp_path, tmp_path / "wheels", skip_deps=True)
    assert result is not None and result.path.name == package.API_ZIP
    with zipfile.ZipFile(result.path) as archive:
        entries = set(archive.namelist())
    for name in (
        "lambdas/__init__.py",
        "lambdas/api/handler.py",
        "lambdas/api/app.py",
        "lambdas/api/routes/alerts.py",
        "lambdas/api/repository.py",
        "lambdas/alert_fanout/store.py",
        "lambdas/alert_fanout/alert.py",
        "contracts/card_number.py",
        "lambdas/api/rulebook.py",
        "rules/artefacts.py",
        "rules/grammar.py",
    ):
        assert name in entries, name
    assert not [n for n in entries if "__pycache__" in n or n.endswith((".pyc", ".md"))]


def test_api_dependencies_are_powertools_pydantic_and_joserfc_not_boto3() -> None:
    pins = dict(
        pin.split("==")
        for pin in package.pinned_extras(package.API_REQUIREMENTS, package.LAMBDA_RUNTIME_PROVIDES)
    )
    assert {"aws-lambda-powertools", "pydantic", "pydantic-core", "joserfc"} <= set(pins)
    assert {"lark", "pyarrow"} <= set(pins), "the rule language: its parser, its RE2 check"
    assert "cryptography" in pins, "joserfc's RSA needs it"
    assert not {"boto3", "botocore"} & set(pins), "the Lambda runtime provides boto3"
