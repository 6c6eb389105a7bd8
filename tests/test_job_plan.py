"""The job's plan, as Flink optimizes it: the decision log is one more sink on the decided
rows, not a second path. Each transaction is aggregated once per key and scored once, and
the alerts and the decisions both read that one scoring (with plain SQL views each INSERT
re-planned the features and the scoring, and the planner did not merge the copies)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.throughput import file_tables
from flink_job import pipeline
from flink_job.config import load_config
from flink_job.main import create_environment
from tests.test_registry import write_model

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "sample_transactions.jsonl"


def test_alerts_and_decisions_share_one_scoring_and_one_aggregate_per_key(
    tmp_path: Path,
) -> None:
    model = write_model(tmp_path / "model", "m-plan")
    config = dataclasses.replace(load_config(), model_path=str(model), decisions_sample_rate=0.5)
    data = tmp_path / "one.jsonl"
    data.write_text(SAMPLE.read_text().splitlines()[0] + "\n")
    t_env = create_environment(config)
    statements = t_env.create_statement_set()
    for insert in pipeline.build_statements(t_env, config, file_tables(config, data)):
        statements.add_insert_sql(insert)
    plan = statements.explain()
    optimized = plan[plan.index("== Optimized Execution Plan ==") :]
    assert optimized.count("PythonCalc(") == 1, optimized
    assert optimized.count("OverAggregate(partitionBy=[card_id]") == 1
    assert optimized.count("OverAggregate(partitionBy=[terminal_id]") == 1
    for sink in ("alerts_sink", "decisions_sink", "deadletter_sink"):
        assert f"default_database.{sink}]" in optimized
