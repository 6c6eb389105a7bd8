"""Run the same training on SageMaker (script mode), wait for it, register the result.

    python -m model_export.sagemaker sample_data/sample_transactions.jsonl \\
        --bucket my-artifacts --role-arn arn:aws:iam::123456789012:role/fraud-training \\
        --registry s3://my-artifacts/models --region eu-west-1 --promote

Steps:
1. the labelled feature table is computed here, with the job's own Flink views
   (the scikit-learn container has no Flink), and uploaded as the `train` channel;
2. the code (model_export, udfs, flink_job and a root `sagemaker_train.py` that calls
   model_export.train.main) is uploaded as `sourcedir.tar.gz` with a requirements.txt;
3. CreateTrainingJob with the scikit-learn framework image of the region, the
   `sagemaker_program` / `sagemaker_submit_directory` hyperparameters of script mode and
   the training hyperparameters (`--model`, `--target_precision`, ...);
4. DescribeTrainingJob every few seconds, printing status changes, until it ends;
5. the job's `model.tar.gz` (model.onnx + manifest.json) is published to the registry.

Set AWS_ENDPOINT_URL (or --endpoint) to use the local moto server.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from model_export.registry import Registry

# Account ids of the scikit-learn framework images, per region: public constants from the
# SageMaker Python SDK (src/sagemaker/image_uri_config/sklearn.json, training).
SKLEARN_IMAGE_ACCOUNTS: dict[str, str] = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "eu-central-1": "492215442770",
    "eu-north-1": "662702820516",
    "ap-northeast-1": "354813040037",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ca-central-1": "341280168497",
}
DEFAULT_FRAMEWORK_VERSION = "1.2-1"
ENTRY_POINT = "sagemaker_train.py"
SOURCE_PACKAGES = ("model_export", "udfs", "flink_job")
REQUIREMENTS = "skl2onnx>=1.17\nonnxruntime>=1.17\nonnx>=1.16\npyarrow>=11\n"
ROOT = Path(__file__).resolve().parent.parent
TERMINAL = ("Completed", "Failed", "Stopped")


class SageMakerError(RuntimeError):
    """The training job cannot be launched or did not produce a model."""


def image_uri(region: str, framework_version: str = DEFAULT_FRAMEWORK_VERSION) -> str:
    if region not in SKLEARN_IMAGE_ACCOUNTS:
        raise SageMakerError(
            f"no scikit-learn image account known for region {region!r}; known: "
            f"{', '.join(sorted(SKLEARN_IMAGE_ACCOUNTS))}. Pass --image-uri to choose one."
        )
    account = SKLEARN_IMAGE_ACCOUNTS[region]
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}/sagemaker-scikit-learn:{framework_version}-cpu-py3"


def source_tarball() -> bytes:
    """sourcedir.tar.gz: the packages training imports, the entry point, requirements."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for package in SOURCE_PACKAGES:
            for path in sorted((ROOT / package).glob("*.py")):
                archive.add(path, arcname=f"{package}/{path.name}")
        for name, text in (
            (ENTRY_POINT, "from model_export.train import main\n\nraise SystemExit(main())\n"),
            ("requirements.txt", REQUIREMENTS),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def training_request(
    job_name: str,
    role_arn: str,
    image: str,
    train_uri: str,
    source_uri: str,
    output_uri: str,
    hyperparameters: dict[str, str],
    instance_type: str = "ml.m5.large",
    max_runtime_s: int = 3600,
) -> dict[str, Any]:
    """The CreateTrainingJob request of script mode."""
    return {
        "TrainingJobName": job_name,
        "RoleArn": role_arn,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": {
            "sagemaker_program": ENTRY_POINT,
            "sagemaker_submit_directory": source_uri,
            **hyperparameters,
        },
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": train_uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "application/x-parquet",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": output_uri},
        "ResourceConfig": {
            "InstanceType": instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": 10,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_s},
        "Tags": [{"Key": "project", "Value": "fraud-stream"}],
    }


def wait(
    sagemaker: Any,
    job_name: str,
    poll_s: float = 15.0,
    timeout_s: float = 4 * 3600,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Poll DescribeTrainingJob until the job ends, reporting each status change."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        description: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=job_name)
        status = (description["TrainingJobStatus"], description.get("SecondaryStatus"))
        if status != last:
            say(f"{job_name}: {status[0]} / {status[1]}")
            last = status
        if status[0] in TERMINAL:
            if status[0] != "Completed":
                reason = description.get("FailureReason", "no reason given")
                raise SageMakerError(f"training job {job_name} {status[0].lower()}: {reason}")
            return description
        if time.monotonic() > deadline:
            raise SageMakerError(f"training job {job_name} still {status[0]} after {timeout_s}s")
        time.sleep(poll_s)


def register(s3: Any, description: dict[str, Any], registry: Registry, promote: bool) -> str:
    """Publish the job's model.tar.gz to the registry (and make it current if asked)."""
    uri = description["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise SageMakerError(f"cannot read the job's model {uri}: {exc}") from exc
    version = registry.publish_tarball(data)
    if promote:
        registry.promote(version)
    return version


def launch(
    session: Any,
    features: Path,
    bucket: str,
    role_arn: str,
    image: str,
    hyperparameters: dict[str, str],
    prefix: str = "training",
    instance_type: str = "ml.m5.large",
) -> tuple[str, dict[str, Any]]:
    """Upload the feature table and the code, create the job; returns its name and request."""
    s3, sagemaker = session("s3"), session("sagemaker")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    job_name = f"fraud-train-{stamp}"
    base = f"{prefix}/{job_name}"
    s3.put_object(Bucket=bucket, Key=f"{base}/train/{features.name}", Body=features.read_bytes())
    s3.put_object(Bucket=bucket, Key=f"{base}/source/sourcedir.tar.gz", Body=source_tarball())
    request = training_request(
        job_name=job_name,
        role_arn=role_arn,
        image=image,
        train_uri=f"s3://{bucket}/{base}/train/",
        source_uri=f"s3://{bucket}/{base}/source/sourcedir.tar.gz",
        output_uri=f"s3://{bucket}/{prefix}/output",
        hyperparameters=hyperparameters,
        instance_type=instance_type,
    )
    sagemaker.create_training_job(**request)
    return job_name, request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transactions", type=Path, help="labelled transactions or feature table")
    parser.add_argument("--bucket", required=True, help="bucket for data, code and output")
    parser.add_argument("--role-arn", required=True, help="SageMaker execution role")
    parser.add_argument("--registry", required=True, help="registry root, s3://bucket/prefix")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--endpoint", default=None, help="AWS endpoint (local moto server)")
    parser.add_argument("--image-uri", help="default: the scikit-learn image of the region")
    parser.add_argument("--framework-version", default=DEFAULT_FRAMEWORK_VERSION)
    parser.add_argument("--instance-type", default="ml.m5.large")
    parser.add_argument("--model", default="best")
    parser.add_argument("--target-precision", default="0.8")
    parser.add_argument("--poll-seconds", type=float, default=15.0)
    parser.add_argument("--promote", action="store_true", help="make the new version current")
    args = parser.parse_args(argv)
    import os

    endpoint = args.endpoint or os.environ.get("AWS_ENDPOINT_URL")

    def session(service: str) -> Any:
        return boto3.client(service, region_name=args.region, endpoint_url=endpoint)  # type: ignore[call-overload]

    try:
        image = args.image_uri or image_uri(args.region, args.framework_version)
        features = feature_table_file(args.transactions)
        hyperparameters = {"model": args.model, "target_precision": args.target_precision}
        job_name, _ = launch(
            session,
            features,
            args.bucket,
            args.role_arn,
            image,
            hyperparameters,
            instance_type=args.instance_type,
        )
        print(f"started {job_name} with {image}")
        description = wait(session("sagemaker"), job_name, args.poll_seconds)
        registry = Registry(args.registry, endpoint)
        version = register(session("s3"), description, registry, args.promote)
    except SageMakerError as error:
        print(f"sagemaker: {error}", file=sys.stderr)
        return 1
    print(f"registered {version} in {registry.root}" + (" (current)" if args.promote else ""))
    return 0


def feature_table_file(transactions: Path) -> Path:
    """The labelled feature table SageMaker trains on, computed here with Flink."""
    from model_export.train import is_feature_table, labelled_features

    if is_feature_table(transactions):
        return transactions
    out = Path("build") / f"{transactions.stem}.features.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    labelled_features(transactions).to_parquet(out, index=False)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
