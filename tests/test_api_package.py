"""api.zip: the API Lambda's code, the alert store layout it reads, contracts/, and the
dependencies the Lambda runtime lacks (pinned to the locked versions)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from infra import package

ROOT = Path(__file__).resolve().parent.parent


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
        "rules/backtest.py",
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


def test_the_api_imports_and_checks_a_rule_without_duckdb_pandas_numpy_or_pyarrow() -> None:
    """The Lambda's backtest path needs none of them (DuckDB runs only in the local server):
    the handler imports and a rule (a `matches` one too) checks with all four absent."""
    script = """
import sys
from importlib.abc import MetaPathFinder

class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "pandas", "pyarrow", "duckdb", "flink_job"}:
            raise ImportError(f"{name} is absent")
        return None

sys.meta_path.insert(0, Absent())
import lambdas.api.handler
from contracts.features import FEATURE_NAMES
from rules import compile_rule
from rules.backtest import backtest_schema
compile_rule("card_id.matches('^c[0-9]+$') && amount > 1.0", backtest_schema(FEATURE_NAMES))
print("ok")
"""
    env = {**os.environ, "JWT_ISSUER": "https://issuer", "JWT_AUDIENCE": "console"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_api_zip_leaves_out_only_what_pyarrow_compute_never_loads() -> None:
    # measured: `import pyarrow` needs libarrow_dataset and libparquet (pyarrow.lib links them)
    kept = [
        "pyarrow/libarrow.so.1100",
        "pyarrow/libarrow_python.so",
        "pyarrow/libarrow_dataset.so.1100",
        "pyarrow/libparquet.so.1100",
        "pyarrow/_compute.cpython-311-x86_64-linux-gnu.so",
        "pyarrow/lib.cpython-311-x86_64-linux-gnu.so",
        "numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
    ]
    left_out = [
        "pyarrow/libarrow_flight.so.1100",
        "pyarrow/libarrow_python_flight.so",
        "pyarrow/libarrow_substrait.so.1100",
        "pyarrow/libplasma.so.1100",
        "pyarrow/_flight.cpython-311-x86_64-linux-gnu.so",
        "pyarrow/plasma-store-server",
        "pyarrow/include/arrow/api.h",
        "pyarrow/tests/test_array.py",
        "numpy/core/tests/test_api.py",
        "pyarrow/lib.pyx",
    ]
    assert not [name for name in kept if package.API_PRUNED.match(name)]
    assert all(package.API_PRUNED.match(name) for name in left_out)
