"""`python -m local.insights`: the dashboard's figures from the local alerts lake, as a page.

    python -m local.insights --endpoint http://127.0.0.1:5000 --bucket fraud-alerts-lake \
        --out build/insights/index.html
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import boto3

from lambdas.alert_fanout.config import FanoutConfig
from local.aws import REGION

from .figures import ROOT
from .report import write_insights

DEFAULT_OUT = ROOT / "build" / "insights" / "index.html"


def main(argv: list[str] | None = None) -> int:
    defaults = FanoutConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--endpoint",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="S3 endpoint (the local moto server); default $AWS_ENDPOINT_URL",
    )
    parser.add_argument("--bucket", default=defaults.alerts_bucket, help="alerts lake bucket")
    parser.add_argument("--prefix", default=defaults.lake_prefix, help="key prefix of the lake")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", REGION))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="page to write")
    args = parser.parse_args(argv)
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name=args.region)
    insights = write_insights(s3, args.bucket, args.prefix, args.out)
    alerts = sum(insights.results["alerts_by_hour"].column("alert_count"))
    print(f"insights: {alerts} alerts from {insights.objects} lake objects -> {insights.page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
