"""The job's custom metrics: their names, and the metric group they live in.

Managed Service for Apache Flink forwards a custom metric to CloudWatch (namespace
AWS/KinesisAnalytics, dimension Application at the APPLICATION metrics level) only when it
is registered under a metric group named `kinesisanalytics`; registered elsewhere it shows
in the Flink REST API and web UI and never reaches CloudWatch. Every custom metric of the
job is therefore registered under `cloudwatch_group(...)` (Python) or
`io.fraudstream.metrics.CloudWatchMetrics.group(...)` (Java), with no further groups, so
that its CloudWatch name is its plain name. Readers of the Flink REST API find it by
`rest_metric_id(name)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyflink.metrics import MetricGroup

GROUP = "kinesisanalytics"

SCORED = "transactions_scored"
SWAPS = "model_swaps"
REFUSALS = "models_refused"
FETCH_FAILURES = "model_fetch_failures"
CACHE_STARTS = "model_cache_starts"
RULESET_SWAPS = "ruleset_swaps"
RULESETS_REFUSED = "rulesets_refused"
RULES_FETCH_FAILURES = "rules_fetch_failures"
RULE_FAILURES = "rule_evaluation_failures"
# transactions a shadow model left without a score: it raised or gave NaN (failures), or
# it was over its time budget or paused after that (skips); udfs.shadows
SHADOW_FAILURES = "shadow_scoring_failures"
SHADOW_SKIPS = "shadow_scoring_skips"
# registered by the Java functions (io.fraudstream.metrics.LateCounter.METRIC)
LATE = "transactions_late"

PYTHON_METRICS = (
    *(SCORED, SWAPS, REFUSALS, FETCH_FAILURES, CACHE_STARTS),
    *(RULESET_SWAPS, RULESETS_REFUSED, RULES_FETCH_FAILURES, RULE_FAILURES),
    *(SHADOW_FAILURES, SHADOW_SKIPS),
)


def cloudwatch_group(metrics: MetricGroup) -> MetricGroup:
    """The group whose metrics Managed Flink forwards to CloudWatch."""
    return metrics.add_group(GROUP)


def rest_metric_id(name: str) -> str:
    """How the Flink REST API's subtask metric ids end for one of the job's metrics
    (`<subtask>.<operator>.kinesisanalytics.<name>`)."""
    return f"{GROUP}.{name}"
