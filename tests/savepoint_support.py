"""Savepoints of earlier builds, committed under tests/savepoints/, that every later build
must restore (tests/test_savepoint_compatibility.py).

Each savepoint was taken by `python -m tests.savepoint_support <name>` with the build of its
day: the job on a fresh local stack (moto, one shard per stream), fed the probe the runner
sends and the first BEFORE valid transactions of the committed sample in event-time order,
then stopped with a savepoint on RocksDB (as deployed), in Flink's canonical format. moto
numbers a shard's records 1, 2, 3, ... so a later test rebuilds the same stream (the same
records, in the same order) and the restored source reads on after the savepoint's offsets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from local.aws import LocalAws
from local.flink.running import PROBE, RunningPipeline, wait_for
from local.traffic.replay import read_records, replay
from tests.test_registry import write_model

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "sample_transactions.jsonl"
SAVEPOINTS = Path(__file__).resolve().parent / "savepoints"
BEFORE, AFTER = 600, 400  # transactions before the savepoint, and after the restore
ROCKSDB = {"state.backend.type": "rocksdb", "state.backend.incremental": "true"}
MODEL_VERSION = "m-savepoint"


def sample_records() -> tuple[list[str], list[str]]:
    """The transactions before the savepoint and those sent after the restore."""
    valid = [r for r in read_records(SAMPLE) if r.startswith("{")]
    ordered = sorted(valid, key=lambda r: json.loads(r)["event_time"])[: BEFORE + AFTER]
    return ordered[:BEFORE], ordered[BEFORE:]


# The only state an upgrade may leave unclaimed: a Kinesis sink writer's buffer of requests not
# yet sent (sink.max_buffer_ms of records at most). docs/deployment.md says why.
DISPOSABLE_STATE = frozenset({"writer_raw_states"})


def stateful_operators(location: str) -> dict[str, frozenset[str]]:
    """Operator id → the names of its state, for every operator of a savepoint that holds
    some (KEYED for keyed state), read with Flink's own metadata reader."""
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    path = location.removeprefix("file:")
    stream = jvm.java.io.DataInputStream(jvm.java.io.FileInputStream(f"{path}/_metadata"))
    loader = jvm.Thread.currentThread().getContextClassLoader()
    try:
        meta = jvm.org.apache.flink.runtime.checkpoint.Checkpoints.loadCheckpointMetadata(
            stream, loader, path
        )
    finally:
        stream.close()
    operators: dict[str, frozenset[str]] = {}
    for operator in meta.getOperatorStates():
        names: set[str] = set()
        for subtask in operator.getSubtaskStates().values():  # a py4j map: Python views
            handles = subtask.getManagedOperatorState().iterator()
            while handles.hasNext():
                keys = handles.next().getStateNameToPartitionOffsets().keySet().iterator()
                while keys.hasNext():
                    names.add(str(keys.next()))
            if not subtask.getManagedKeyedState().isEmpty():
                names.add("KEYED")
        if names:
            operators[operator.getOperatorID().toHexString()] = frozenset(names)
    return operators


def rebuild_stream(aws: LocalAws, stream: str, records: list[str]) -> None:
    """The transactions stream as the savepoint's job read it: the probe, then `records`."""
    kinesis = aws.client("kinesis")
    replay(kinesis, stream, [PROBE], rate=1, progress=False)
    replay(kinesis, stream, records, rate=5_000, progress=False)


def take_savepoint(name: str) -> Path:
    """Run today's build on the sample's first BEFORE transactions and commit-ready copy its
    savepoint to tests/savepoints/<name>/ (with recipe.json saying how it was made)."""
    before, _ = sample_records()
    target = SAVEPOINTS / name
    if target.exists():
        raise SystemExit(f"{target} exists: savepoints of earlier builds are never replaced")
    with tempfile.TemporaryDirectory(prefix="savepoint-") as work:
        model = write_model(Path(work) / "model", MODEL_VERSION, threshold=0.01)
        with LocalAws() as aws, RunningPipeline(aws, str(model), flink=ROCKSDB) as job:
            job.send(before, rate=2_000, progress=False)
            ids = {json.loads(r)["transaction_id"] for r in before}
            wait_for(
                lambda: ids <= {a.record["transaction_id"] for a in job.alerts.received},
                180,
                "an alert for every transaction",
            )
            location = job.rest.stop_with_savepoint(
                job.job_ids()[0], (Path(work) / "savepoints").as_uri()
            )
        shutil.copytree(Path(location.removeprefix("file:")), target / "savepoint")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    recipe = {"commit": commit, "before": BEFORE, "backend": "rocksdb", "format": "canonical"}
    (target / "recipe.json").write_text(json.dumps(recipe, indent=2) + "\n")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tests.savepoint_support NAME (e.g. v1)")
    print(take_savepoint(sys.argv[1]))
