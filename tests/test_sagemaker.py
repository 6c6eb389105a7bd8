"""The SageMaker launcher against moto: the CreateTrainingJob request of script mode, the
wait with progress, and the registration of the job's model.tar.gz. moto runs no
container, so the test writes the artefact where the job would have.

What can be proven here about the container: the entry point's code needs no Python newer
than the image's (vermin), every module it imports at load is in the source directory, the
standard library or requirements.txt, and requirements.txt (the locked versions) resolves
to binary wheels for the image's Python on Linux x86_64 (pip, from PyPI)."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from infra.package import PLATFORMS
from local.aws import LocalAws
from model_export.registry import Registry, model_tarball
from model_export.sagemaker import (
    ENTRY_POINT,
    IMAGE_PYTHON,
    OUTPUT_PREFIX,
    REQUIREMENTS_FILE,
    SOURCE_PACKAGES,
    TRAINING_PREFIX,
    SageMakerError,
    image_uri,
    launch,
    main,
    pinned_requirements,
    register,
    source_tarball,
    wait,
)
from tests.test_evaluate import feature_table
from tests.test_registry import write_model

ROLE = "arn:aws:iam::123456789012:role/fraud-training"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=("artifacts",)) as local:
        yield local


def test_image_is_the_regions_pytorch_training_image_on_python_3_11() -> None:
    assert image_uri("eu-west-1") == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311"
    )
    assert image_uri("cn-north-1").startswith("727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/")
    assert image_uri("me-south-1").startswith("217643126080.")
    assert IMAGE_PYTHON == "3.11" and image_uri("us-east-1").endswith("-py311")
    with pytest.raises(SageMakerError, match="not a region"):
        image_uri("eu west 1")


def test_the_job_reads_and_writes_where_the_execution_role_may() -> None:
    """The role (modules/sagemaker) reads var.training_prefix, writes
    var.sagemaker_output_prefix of the artifacts bucket, and reads the archive."""
    from tests.test_terraform_wiring import MODULES, TERRAFORM, blocks, defaults, named

    root = defaults(TERRAFORM)
    assert root["training_prefix"] == TRAINING_PREFIX
    assert root["sagemaker_output_prefix"] == OUTPUT_PREFIX
    call = named(TERRAFORM, "module")["sagemaker"]
    assert call["training_prefix"] == "${var.training_prefix}"
    assert call["output_prefix"] == "${var.sagemaker_output_prefix}"
    assert call["archive_bucket_arn"] == "${module.archive.bucket_arn}"
    policy = blocks(MODULES / "sagemaker", "data")["aws_iam_policy_document.this"]
    reads = [c for d in policy["dynamic"] for c in d["statement"]["content"]]
    by_sid = {c["sid"]: c for c in reads}
    assert by_sid["ReadArchive"]["actions"] == ["s3:GetObject"]
    assert by_sid["ReadArchive"]["resources"] == [
        "${statement.value}/transactions/*",
        "${statement.value}/labels/*",
    ]


def source_directory(tmp_path: Path) -> Path:
    """sourcedir.tar.gz unpacked, as the toolkit unpacks it in the container."""
    with tarfile.open(fileobj=io.BytesIO(source_tarball())) as archive:
        archive.extractall(tmp_path / "code", filter="data")
    return tmp_path / "code"


def vermin(path: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """vermin's verdict on `path` against the images' Python."""
    command = Path(sys.executable).parent / "vermin"
    return subprocess.run(
        [str(command), "--no-tips", "--violations", f"-t={IMAGE_PYTHON}", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def test_the_entry_points_code_needs_no_newer_python_than_the_images(tmp_path: Path) -> None:
    code = source_directory(tmp_path)
    result = vermin(code, timeout_s=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Minimum required versions: {IMAGE_PYTHON}" in result.stdout or (
        "Minimum required versions: 3." in result.stdout
    )
    newer = code / "model_export" / "newer.py"  # the check catches what 3.11 cannot run
    newer.write_text("type Alias = int\n")
    caught = vermin(newer, timeout_s=60)
    assert caught.returncode != 0 and "3.12" in caught.stdout


def load_time_imports(path: Path) -> Iterator[str]:
    """Modules a file imports when it is loaded (not inside functions, not TYPE_CHECKING)."""
    body = ast.parse(path.read_text()).body
    for node in body:
        nodes = [node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.If | ast.Try):
            nodes = [n for n in ast.walk(node) if isinstance(n, ast.stmt)]
        for inner in nodes:
            if isinstance(inner, ast.Import):
                yield from (alias.name for alias in inner.names)
            elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                yield inner.module
                yield from (f"{inner.module}.{alias.name}" for alias in inner.names)


def test_everything_the_entry_point_loads_is_shipped_or_required(tmp_path: Path) -> None:
    """From sagemaker_train.py through every first-party module it loads: the rest is the
    standard library or a distribution of requirements.txt."""
    code = source_directory(tmp_path)
    required = {canonicalize_name(p.split("==")[0]) for p in pins(REQUIREMENTS_FILE)}
    by_module = packages_distributions()
    seen: set[Path] = set()
    todo = [code / ENTRY_POINT]
    missing: list[str] = []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in load_time_imports(path):
            top = module.split(".")[0]
            if top in SOURCE_PACKAGES:
                parts = module.split(".")
                for n in range(1, len(parts) + 1):
                    candidate = code.joinpath(*parts[:n])
                    for file in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                        if file.is_file():
                            todo.append(file)
                continue
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            dists = {canonicalize_name(d) for d in by_module.get(top, [])}
            if not dists & required:
                missing.append(f"{path.relative_to(code)} imports {module}")
    assert {code / "model_export" / "train.py", code / "model_export" / "export.py"} <= seen
    assert not missing, missing


def pins(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_requirements_pin_the_training_closure_at_the_locked_versions() -> None:
    assert pins(REQUIREMENTS_FILE) == pinned_requirements()
    lock = {
        canonicalize_name(n): v
        for n, _, v in (
            line.partition("==")
            for line in (ROOT / "requirements.lock").read_text().splitlines()
            if "==" in line
        )
    }
    for pin in pins(REQUIREMENTS_FILE):
        name, _, version = pin.partition("==")
        assert lock[canonicalize_name(name)] == version, pin
    with tarfile.open(fileobj=io.BytesIO(source_tarball())) as archive:
        shipped = archive.extractfile("requirements.txt")
        assert shipped is not None and shipped.read().decode() == REQUIREMENTS_FILE.read_text()


def test_requirements_resolve_to_wheels_for_the_images_python(tmp_path: Path) -> None:
    """What the toolkit's `pip install -r requirements.txt` will find, asked of PyPI for
    CPython 3.11 on Linux x86_64, binary wheels only (no compiler in the way)."""
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-"]
    command += ["--ignore-installed", "--only-binary=:all:", "--implementation", "cp"]
    command += ["--python-version", IMAGE_PYTHON, "--target", str(tmp_path / "target")]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    result = subprocess.run(
        [*command, "-r", str(REQUIREMENTS_FILE)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    chosen = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    assert chosen == {
        canonicalize_name(n): v for n, _, v in (p.partition("==") for p in pins(REQUIREMENTS_FILE))
    }


def test_launcher_takes_a_file_or_an_archive_range(aws: LocalAws, capsys: Any) -> None:
    common = ["--bucket", "artifacts", "--role-arn", ROLE, "--registry", "s3://artifacts/m"]
    common += ["--endpoint", aws.endpoint]
    with pytest.raises(SystemExit):
        main(common)  # neither
    with pytest.raises(SystemExit):  # both
        main(
            [
                "x.jsonl",
                "--archive",
                "s3://a",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-02",
                *common,
            ]
        )
    with pytest.raises(SystemExit):  # a range needs both ends
        main(["--archive", "s3://a", "--from", "2026-10-01", *common])
    empty = ["--archive", "s3://artifacts", "--from", "2026-10-01", "--to", "2026-10-02"]
    assert main([*empty, *common]) == 1  # read before anything is launched
    assert "no archived transactions" in capsys.readouterr().err


def test_source_directory_holds_the_entry_point_and_the_training_code() -> None:
    with tarfile.open(fileobj=io.BytesIO(source_tarball())) as archive:
        names = set(archive.getnames())
        entry = archive.extractfile(ENTRY_POINT)
        assert entry is not None and b"model_export.train import main" in entry.read()
    assert {"model_export/train.py", "flink_job/features.py", "udfs/model.py"} <= names
    assert "requirements.txt" in names


def test_launch_wait_and_register(aws: LocalAws, tmp_path: Path) -> None:
    features = tmp_path / "features.parquet"
    feature_table(days=10, cards=20).to_parquet(features, index=False)
    image = image_uri("us-east-1")
    job_name, request = launch(
        aws.client, features, "artifacts", ROLE, image, {"model": "best", "target_precision": "0.8"}
    )
    # As the SageMaker SDK sends them: JSON-encoded values, decoded by the toolkit, which
    # runs sagemaker_program with the rest as `--model best --target_precision 0.8`.
    hyper = {k: json.loads(v) for k, v in request["HyperParameters"].items()}
    assert hyper["sagemaker_program"] == ENTRY_POINT
    assert hyper["sagemaker_submit_directory"].endswith("/source/sourcedir.tar.gz")
    assert hyper["sagemaker_region"] == "us-east-1" and hyper["sagemaker_job_name"] == job_name
    assert hyper["model"] == "best" and hyper["target_precision"] == "0.8"
    assert request["AlgorithmSpecification"]["TrainingImage"] == image
    assert request["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert request["RoleArn"] == ROLE
    (channel,) = request["InputDataConfig"]
    assert channel["ChannelName"] == "train"  # SM_CHANNEL_TRAIN, read by model_export.train
    described = aws.client("sagemaker").describe_training_job(TrainingJobName=job_name)
    assert described["AlgorithmSpecification"]["TrainingImage"] == image
    assert described["HyperParameters"] == request["HyperParameters"]
    s3 = aws.client("s3")
    train_uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
    listed = s3.list_objects_v2(Bucket="artifacts", Prefix=train_uri.split("/", 3)[3])
    assert [o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]] == ["features.parquet"]
    source_key = hyper["sagemaker_submit_directory"].split("/", 3)[3]
    assert s3.head_object(Bucket="artifacts", Key=source_key)["ContentLength"] > 0
    assert request["OutputDataConfig"]["S3OutputPath"] == "s3://artifacts/sagemaker/output"

    progress: list[str] = []
    description = wait(aws.client("sagemaker"), job_name, poll_s=0.0, say=progress.append)
    assert description["TrainingJobName"] == job_name
    assert progress and "Completed" in progress[-1]
    artefact = description["ModelArtifacts"]["S3ModelArtifacts"]
    assert artefact == f"s3://artifacts/sagemaker/output/{job_name}/output/model.tar.gz"
    # What the training container would have written (moto runs none):
    s3.put_object(
        Bucket="artifacts",
        Key=artefact.split("/", 3)[3],
        Body=model_tarball(write_model(tmp_path / "model", "m-sagemaker")),
    )
    registry = Registry("s3://artifacts/models", aws.endpoint)
    assert register(s3, description, registry, promote=True) == "m-sagemaker"
    assert registry.current() == "m-sagemaker"


class _FailingJob:
    def __init__(self) -> None:
        self.calls = 0

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls < 3:
            return {"TrainingJobStatus": "InProgress", "SecondaryStatus": "Training"}
        return {
            "TrainingJobStatus": "Failed",
            "SecondaryStatus": "Failed",
            "FailureReason": "AlgorithmError: no module named skl2onnx",
        }


def test_a_failed_job_is_reported_with_its_reason() -> None:
    progress: list[str] = []
    with pytest.raises(SageMakerError, match="failed: AlgorithmError"):
        wait(_FailingJob(), "job-1", poll_s=0.0, say=progress.append)
    assert progress == ["job-1: InProgress / Training", "job-1: Failed / Failed"]
