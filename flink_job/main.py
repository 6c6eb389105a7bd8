"""Entry point of the fraud-detection job, the same on a laptop and on Managed Flink.

Locally: `python -m flink_job.main` reads flink_job/application_properties.json (or the
file named by $FRAUD_JOB_PROPERTIES) and puts the connector uber-jar on pipeline.jars.
On Managed Flink the runtime properties file is read and the jar comes from `jarfile`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pyflink.table import EnvironmentSettings, TableEnvironment, TableResult

from contracts.features import DAY, DEFAULT_LAYOUT
from flink_job.config import MANAGED_FLINK_PROPERTIES, ConfigError, JobConfig, load_config
from flink_job.features import feature_job_parameters
from flink_job.pipeline import build_statements, execute_statements, register_java_functions

CONNECTOR_JAR = Path(__file__).with_name("target") / "fraud-stream-connectors.jar"
WATERMARK_INTERVAL_MS = 20
NETWORK_BUFFER_TIMEOUT_MS = 10
# Locally, checkpoints as Managed Flink takes them (infra/terraform/modules/flink_app:
# every 60 s, 5 s apart at least), retained when the job is cancelled or killed, so that a
# crashed job restarts from the latest one (`execution.savepoint.path`, as
# local.flink.running does).
LOCAL_CHECKPOINT_INTERVAL_MS = 60_000
LOCAL_CHECKPOINT_MIN_PAUSE_MS = 5_000
LOCAL_CHECKPOINTS = Path("build") / "checkpoints"
# Idle-state retention (state_ttl): the longest history a feature reads is the terminal
# fraud risk, 30 days ending a label delay before the transaction; a day more of margin.
STATE_TTL_MARGIN_MS = DAY


class MissingJarError(FileNotFoundError):
    """The connector jar is not built (`make jar`)."""


def state_ttl(label_delay_ms: int) -> str:
    """Flink's idle-state retention for the configured label delay: the widest window any
    feature reads, plus the delay, plus STATE_TTL_MARGIN_MS (38 d for the default 7 days)."""
    millis = DEFAULT_LAYOUT.longest_ms() + label_delay_ms + STATE_TTL_MARGIN_MS
    return f"{millis // DAY} d" if millis % DAY == 0 else f"{millis} ms"


def running_on_managed_flink() -> bool:
    return MANAGED_FLINK_PROPERTIES.exists()


def put_jar_on_gateway_classpath() -> None:
    """Locally, the connector jar also goes on the classpath of the JVM PyFlink launches
    (it reads $HADOOP_CLASSPATH for that), before the JVM starts.

    With checkpointing on, Flink compiles the generated operators on the client while
    building the job graph, with the JVM's own class loader, which does not see
    pipeline.jars: the Java feature functions would not be found ("Cannot determine simple
    type name io"). On Managed Flink the jar is on the application's classpath already."""
    jar = str(CONNECTOR_JAR.resolve())
    current = os.environ.get("HADOOP_CLASSPATH", "")
    if jar not in current.split(os.pathsep):
        os.environ["HADOOP_CLASSPATH"] = os.pathsep.join(p for p in (jar, current) if p)


def local_checkpointing() -> dict[str, str]:
    """Checkpoint settings of a local run, those of Managed Flink (which sets its own)."""
    return {
        "execution.checkpointing.interval": f"{LOCAL_CHECKPOINT_INTERVAL_MS} ms",
        "execution.checkpointing.min-pause": f"{LOCAL_CHECKPOINT_MIN_PAUSE_MS} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "state.checkpoints.dir": LOCAL_CHECKPOINTS.resolve().as_uri(),
        "state.checkpoints.num-retained": "3",
    }


def create_environment(config: JobConfig, extra: dict[str, str] | None = None) -> TableEnvironment:
    if not running_on_managed_flink():
        put_jar_on_gateway_classpath()
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    settings = {
        "table.local-time-zone": "UTC",
        "pipeline.name": "fraud-detection",
        "pipeline.auto-watermark-interval": f"{WATERMARK_INTERVAL_MS} ms",
        # Network buffers between operators are sent when full or after this long (Flink's
        # default is 100 ms per hop); `make bench`'s options measure what it is worth.
        "execution.buffer-timeout": f"{NETWORK_BUFFER_TIMEOUT_MS} ms",
        "pipeline.object-reuse": "true",
        "python.fn-execution.bundle.time": str(config.scoring_bundle_time_ms),
        "python.fn-execution.bundle.size": str(config.scoring_batch_size),
        "python.fn-execution.arrow.batch.size": str(config.scoring_batch_size),
        "table.exec.state.ttl": state_ttl(config.labels_delay_ms),
        **feature_job_parameters(config.watermark_max_out_of_orderness_ms),
    }
    if not running_on_managed_flink():
        if not CONNECTOR_JAR.exists():
            raise MissingJarError(f"connector jar {CONNECTOR_JAR} is missing: run `make jar`")
        settings.update(local_checkpointing())
        settings["pipeline.jars"] = CONNECTOR_JAR.resolve().as_uri()
        settings["parallelism.default"] = str(config.parallelism)
        settings["python.executable"] = sys.executable
        settings["python.client.executable"] = sys.executable
    settings.update(extra or {})
    for key, value in settings.items():
        conf.set(key, value)
    register_java_functions(t_env)
    return t_env


def start(config: JobConfig, extra: dict[str, str] | None = None) -> TableResult:
    """Submit the job and return without waiting (the demo and tests use this)."""
    t_env = create_environment(config, extra)
    return execute_statements(t_env, build_statements(t_env, config))


def parse_flink_settings(argv: list[str]) -> dict[str, str]:
    """`--flink key=value` options: Flink settings for a local run (the runner in local/
    sets the mini-cluster's REST port this way). Other arguments are left alone."""
    parser = argparse.ArgumentParser(prog="python -m flink_job.main")
    parser.add_argument("--flink", action="append", default=[], metavar="KEY=VALUE")
    known, _ = parser.parse_known_args(argv)
    settings: dict[str, str] = {}
    for item in known.flink:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--flink expects KEY=VALUE, got {item!r}")
        settings[key] = value
    return settings


def main(argv: list[str] | None = None) -> None:
    try:
        config = load_config()
    except ConfigError as error:
        raise SystemExit(f"configuration error: {error}") from None
    try:
        result = start(config, parse_flink_settings(sys.argv[1:] if argv is None else argv))
    except MissingJarError as error:
        raise SystemExit(str(error)) from None
    if not running_on_managed_flink():
        result.wait()


if __name__ == "__main__":
    main()
