"""Run the same training on SageMaker (script mode), wait for it, register the result.

    python -m model_export.sagemaker sample_data/sample_transactions.jsonl \\
        --bucket my-artifacts --role-arn arn:aws:iam::123456789012:role/fraud-training \\
        --registry s3://my-artifacts/models --region eu-west-1 --promote
    # production history: a date range of the S3 archive instead of a file
    python -m model_export.sagemaker --archive s3://my-archive --from 2026-10-01 \\
        --to 2026-11-04 --bucket my-artifacts --role-arn ... --registry ... --promote

Steps:
1. the labelled feature table is computed here, with the job's own Flink views
   (the training container has no Flink), and uploaded as the `train` channel;
2. the code (model_export, udfs, flink_job, contracts and a root `sagemaker_train.py` that calls
   model_export.train.main) is uploaded as `sourcedir.tar.gz` with `requirements.txt`
   (model_export/sagemaker-requirements.txt: the training closure pinned at the versions
   of requirements.lock, so the exported ONNX graph is the one the tests hold against the
   serving onnxruntime);
3. CreateTrainingJob with the region's PyTorch training image (AWS Deep Learning
   Containers, CPU, Python 3.11: the entry point needs 3.11; the scikit-learn framework
   images run Python 3.9/3.10). Only its Python and SageMaker's script mode (the
   sagemaker-training toolkit) are used: the toolkit pip-installs requirements.txt, then
   runs `sagemaker_program` from `sagemaker_submit_directory` with the hyperparameters
   (`--model`, `--target_precision`, ...) as arguments, the train channel in
   SM_CHANNEL_TRAIN;
4. DescribeTrainingJob every few seconds, printing status changes, until it ends;
5. the job's `model.tar.gz` (model.onnx + manifest.json) is published to the registry.

Set AWS_ENDPOINT_URL (or --endpoint) to use the local moto server.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from model_export import archive as archive_reader
from model_export.registry import Registry

# The AWS Deep Learning Containers registry account of each region (public constants of
# the SageMaker Python SDK, src/sagemaker/image_uri_config/pytorch.json): 763104351884
# except where listed.
DLC_ACCOUNT = "763104351884"
DLC_REGIONAL_ACCOUNTS: dict[str, str] = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-northeast-3": "364406365360",
    "ap-southeast-3": "907027046896",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-south-1": "692866216735",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
}
IMAGE_REPOSITORY = "pytorch-training"
#: PyTorch 2.5.1 is the last training image on Python 3.11, the project's Python (2.6 on
#: is 3.12): the image's Python must run the entry point (tests/test_sagemaker.py, vermin).
DEFAULT_FRAMEWORK_VERSION = "2.5.1"
IMAGE_PYTHON = "3.11"
ENTRY_POINT = "sagemaker_train.py"
SOURCE_PACKAGES = ("model_export", "udfs", "flink_job", "contracts")
ROOT = Path(__file__).resolve().parent.parent
# Where the execution role (infra/terraform/modules/sagemaker) may read the training input
# and write the model artefacts: the root module's defaults (tests/test_sagemaker.py).
TRAINING_PREFIX = "training/"
OUTPUT_PREFIX = "sagemaker/output/"
#: What training imports beyond the standard library; pinned with its whole closure at the
#: locked versions in REQUIREMENTS_FILE (tests/test_sagemaker.py keeps the two in step).
TRAINING_REQUIREMENTS = ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "pandas", "pyarrow")
REQUIREMENTS_FILE = Path(__file__).resolve().parent / "sagemaker-requirements.txt"
TERMINAL = ("Completed", "Failed", "Stopped")


class SageMakerError(RuntimeError):
    """The training job cannot be launched or did not produce a model."""


def image_uri(region: str, framework_version: str = DEFAULT_FRAMEWORK_VERSION) -> str:
    """The region's CPU PyTorch training image, Python IMAGE_PYTHON."""
    if not region or not region.replace("-", "").isalnum():
        raise SageMakerError(f"not a region: {region!r}")
    account = DLC_REGIONAL_ACCOUNTS.get(region, DLC_ACCOUNT)
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    python = "py" + IMAGE_PYTHON.replace(".", "")
    tag = f"{framework_version}-cpu-{python}"
    return f"{account}.dkr.ecr.{region}.{suffix}/{IMAGE_REPOSITORY}:{tag}"


def pinned_requirements() -> list[str]:
    """TRAINING_REQUIREMENTS and their closure as `name==version`, from this virtualenv
    (installed from requirements.lock): what REQUIREMENTS_FILE must hold."""
    from infra.package import pinned_extras

    return pinned_extras(TRAINING_REQUIREMENTS, ())


def source_tarball() -> bytes:
    """sourcedir.tar.gz: the packages training imports, the entry point, requirements."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for package in SOURCE_PACKAGES:
            for path in sorted((ROOT / package).glob("*.py")):
                archive.add(path, arcname=f"{package}/{path.name}")
        for name, text in (
            (ENTRY_POINT, "from model_export.train import main\n\nraise SystemExit(main())\n"),
            ("requirements.txt", REQUIREMENTS_FILE.read_text()),
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
    region: str = "us-east-1",
) -> dict[str, Any]:
    """The CreateTrainingJob request of script mode. Every hyperparameter value is
    JSON-encoded, as the SageMaker Python SDK sends them: the toolkit decodes each and
    passes the user's ones to the entry point as `--name value`."""
    script_mode = {
        "sagemaker_program": ENTRY_POINT,
        "sagemaker_submit_directory": source_uri,
        "sagemaker_region": region,
        "sagemaker_job_name": job_name,
        "sagemaker_container_log_level": 20,
    }
    return {
        "TrainingJobName": job_name,
        "RoleArn": role_arn,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": {
            name: json.dumps(value) for name, value in {**script_mode, **hyperparameters}.items()
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
    prefix: str = TRAINING_PREFIX,
    output_prefix: str = OUTPUT_PREFIX,
    instance_type: str = "ml.m5.large",
    region: str = "us-east-1",
) -> tuple[str, dict[str, Any]]:
    """Upload the feature table and the code, create the job; returns its name and request."""
    s3, sagemaker = session("s3"), session("sagemaker")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    job_name = f"fraud-train-{stamp}"
    base = f"{prefix.rstrip('/')}/{job_name}"
    s3.put_object(Bucket=bucket, Key=f"{base}/train/{features.name}", Body=features.read_bytes())
    s3.put_object(Bucket=bucket, Key=f"{base}/source/sourcedir.tar.gz", Body=source_tarball())
    request = training_request(
        job_name=job_name,
        role_arn=role_arn,
        image=image,
        train_uri=f"s3://{bucket}/{base}/train/",
        source_uri=f"s3://{bucket}/{base}/source/sourcedir.tar.gz",
        output_uri=f"s3://{bucket}/{output_prefix.rstrip('/')}",
        hyperparameters=hyperparameters,
        instance_type=instance_type,
        region=region,
    )
    sagemaker.create_training_job(**request)
    return job_name, request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "transactions", type=Path, nargs="?", help="labelled transactions or feature table"
    )
    parser.add_argument("--bucket", required=True, help="bucket for data, code and output")
    parser.add_argument("--role-arn", required=True, help="SageMaker execution role")
    parser.add_argument("--registry", required=True, help="registry root, s3://bucket/prefix")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--endpoint", default=None, help="AWS endpoint (local moto server)")
    parser.add_argument("--image-uri", help="default: the PyTorch training image of the region")
    parser.add_argument("--framework-version", default=DEFAULT_FRAMEWORK_VERSION)
    parser.add_argument("--instance-type", default="ml.m5.large")
    parser.add_argument("--model", default="best")
    parser.add_argument("--target-precision", default="0.8")
    parser.add_argument("--poll-seconds", type=float, default=15.0)
    parser.add_argument("--promote", action="store_true", help="make the new version current")
    archive_reader.add_arguments(parser)
    args = parser.parse_args(argv)
    archive = archive_reader.from_arguments(parser, args)
    if (archive is None) == (args.transactions is None):
        parser.error("give TRANSACTIONS or --archive … (one of them)")
    endpoint = args.endpoint or os.environ.get("AWS_ENDPOINT_URL")

    def session(service: str) -> Any:
        return boto3.client(service, region_name=args.region, endpoint_url=endpoint)  # type: ignore[call-overload]

    try:
        image = args.image_uri or image_uri(args.region, args.framework_version)
        features = (
            archive_feature_table(archive, session("s3"))
            if archive is not None
            else feature_table_file(args.transactions)
        )
        hyperparameters = {"model": args.model, "target_precision": args.target_precision}
        job_name, _ = launch(
            session,
            features,
            args.bucket,
            args.role_arn,
            image,
            hyperparameters,
            instance_type=args.instance_type,
            region=args.region,
        )
        print(f"started {job_name} with {image}")
        description = wait(session("sagemaker"), job_name, args.poll_seconds)
        registry = Registry(args.registry, endpoint)
        version = register(session("s3"), description, registry, args.promote)
    except (SageMakerError, archive_reader.ArchiveError) as error:
        print(f"sagemaker: {error}", file=sys.stderr)
        return 1
    print(f"registered {version} in {registry.root}" + (" (current)" if args.promote else ""))
    return 0


def feature_table_file(transactions: Path) -> Path:
    """The labelled feature table SageMaker trains on, computed here with Flink."""
    from model_export.dataset import is_feature_table, labelled_features

    if is_feature_table(transactions):
        return transactions
    out = Path("build") / f"{transactions.stem}.features.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    labelled_features(transactions).to_parquet(out, index=False)
    return out


def archive_feature_table(archive: archive_reader.ArchiveRange, s3: Any) -> Path:
    """The labelled feature table of a date range of the archive, computed here with Flink
    (model_export.feature_table.archive_features)."""
    from model_export.feature_table import archive_features

    out = Path("build") / f"archive-{archive.start}-{archive.end}.features.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    archive_features(archive, s3).to_parquet(out, index=False)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
