"""The SageMaker launcher against moto: the CreateTrainingJob request of script mode, the
wait with progress, and the registration of the job's model.tar.gz. moto runs no
container, so the test writes the artefact where the job would have."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.aws import LocalAws
from model_export.registry import Registry, model_tarball
from model_export.sagemaker import (
    ENTRY_POINT,
    SageMakerError,
    image_uri,
    launch,
    register,
    source_tarball,
    wait,
)
from tests.test_evaluate import feature_table
from tests.test_registry import write_model

ROLE = "arn:aws:iam::123456789012:role/fraud-training"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=("artifacts",)) as local:
        yield local


def test_image_is_the_regions_scikit_learn_framework_image() -> None:
    assert image_uri("eu-west-1") == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    with pytest.raises(SageMakerError, match="no scikit-learn image account known"):
        image_uri("xx-nowhere-1")


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
    hyper = request["HyperParameters"]
    assert hyper["sagemaker_program"] == ENTRY_POINT
    assert hyper["sagemaker_submit_directory"].endswith("/source/sourcedir.tar.gz")
    assert hyper["model"] == "best" and hyper["target_precision"] == "0.8"
    assert request["AlgorithmSpecification"]["TrainingImage"] == image
    assert request["RoleArn"] == ROLE
    (channel,) = request["InputDataConfig"]
    assert channel["ChannelName"] == "train"
    s3 = aws.client("s3")
    train_uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
    listed = s3.list_objects_v2(Bucket="artifacts", Prefix=train_uri.split("/", 3)[3])
    assert [o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]] == ["features.parquet"]
    source_key = hyper["sagemaker_submit_directory"].split("/", 3)[3]
    assert s3.head_object(Bucket="artifacts", Key=source_key)["ContentLength"] > 0
    assert request["OutputDataConfig"]["S3OutputPath"] == "s3://artifacts/training/output"

    progress: list[str] = []
    description = wait(aws.client("sagemaker"), job_name, poll_s=0.0, say=progress.append)
    assert description["TrainingJobName"] == job_name
    assert progress and "Completed" in progress[-1]
    artefact = description["ModelArtifacts"]["S3ModelArtifacts"]
    assert artefact == f"s3://artifacts/training/output/{job_name}/output/model.tar.gz"
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
