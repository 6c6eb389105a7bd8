"""The rule-cost bench measures what it says: its rules compile against the job's schema,
read every list, and its batch has the nulls and NaN the evaluators must handle."""

from __future__ import annotations

import math
from pathlib import Path

from bench.rules_cost import LIST_FIELDS, batch, measure, rule_texts, schema
from rules import compile_rule
from rules.vectorized import Lists, evaluate_all


def test_the_bench_rules_compile_read_every_list_and_match_some_transactions() -> None:
    rules = [compile_rule(text, schema()) for text in rule_texts(100)]
    assert set().union(*(r.lists for r in rules)) == set(LIST_FIELDS)
    frame = batch(2_000)
    assert frame["channel"].isna().any() and frame["card_txn_count_10m"].isna().any()
    hits = evaluate_all(rules, frame, Lists({name: ["NG"] for name in LIST_FIELDS}))
    per_rule = hits.mean(axis=0)
    assert (per_rule > 0).sum() >= 50 and (per_rule < 1).all()


def test_the_cost_is_reported_per_transaction_per_rule() -> None:
    cost = measure(rules=10, rows=500, entries=1_000, repeat=1)
    figures = (
        cost.with_lists_us_per_transaction_per_rule,
        cost.without_lists_us_per_transaction_per_rule,
        cost.duckdb_us_per_transaction_per_rule_wall,
    )
    assert all(math.isfinite(f) and f > 0 for f in figures)
    assert cost.with_lists_us_per_transaction == cost.with_lists_us_per_transaction_per_rule * 10


def test_make_bench_prints_the_rule_cost_table() -> None:
    from dataclasses import asdict

    from bench.run import render

    cost = measure(rules=5, rows=200, entries=100, repeat=1)
    machine = {"cores": 2, "cpu": "x", "python": "3.11", "java": "17"}
    machine |= {"apache-flink": "1.20.3", "onnxruntime": "1"}
    table = render({"machine": machine, "rules": asdict(cost)})
    assert (
        "| 5 rules, 200-row batch (CPU, one core) | µs per transaction per rule | wall |" in table
    )
    expected = f"| {cost.with_lists_us_per_transaction_per_rule:.3f} "
    assert "| vectorized, three lists of 100 entries " + expected in table


def test_the_job_bench_publishes_active_rules_and_lists_the_job_loads(tmp_path: Path) -> None:
    from bench.rules_job import publish_bench_rules
    from flink_job.features import FEATURE_NAMES
    from udfs.rulesets import RuleServer, RuleSource

    version = publish_bench_rules(tmp_path / "rules", rules=20, entries=1_000)
    rules = RuleServer(RuleSource(str(tmp_path / "rules"), FEATURE_NAMES), 60.0).rules
    assert rules is not None and rules.version == version
    assert len(rules.rules) == 20 and {c.spec.mode for c in rules.rules} == {"active"}
    assert {name: len(rules.lists.get(name)) for name in LIST_FIELDS} == dict.fromkeys(
        LIST_FIELDS, 1_000
    )


def test_list_memory_is_reported_per_100k_entries() -> None:
    from bench.rules_job import list_memory

    small, large = list_memory(2_000), list_memory(20_000)
    assert small.resident_bytes_per_100k > 0 and large.load_peak_bytes_per_100k > 0
    # the values are held as one Arrow array: the held bytes grow with the entries
    assert abs(small.resident_bytes_per_100k - large.resident_bytes_per_100k) < (
        0.2 * large.resident_bytes_per_100k
    )


def test_the_rule_cost_is_reported_by_batch_size() -> None:
    from bench.rules_job import batch_costs

    costs = batch_costs((50, 500), repeat=1)
    assert [c.rows for c in costs] == [50, 500]
    assert all(math.isfinite(c.us_per_transaction) and c.us_per_transaction > 0 for c in costs)


def test_the_rule_cost_applied_includes_the_evaluation() -> None:
    from bench.rules_job import batch_costs

    (cost,) = batch_costs((2_000,), repeat=3)
    assert cost.decide_us_per_transaction > 0.5 * cost.us_per_transaction > 0


def test_the_cpu_of_the_jobs_processes_counts_descendants_and_what_they_reaped() -> None:
    import subprocess
    import sys

    from bench.rules_job import descendants_cpu_s

    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    began = descendants_cpu_s()
    # a grandchild, reaped by its parent (the Python worker under the JVM is one)
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{burn}"; true'], check=True)
    assert descendants_cpu_s() - began >= 0.25


def test_make_bench_prints_the_latency_pair_with_and_without_rules() -> None:
    from bench.run import render

    rounds = [
        {"without": {"p50_ms": 100.0, "p99_ms": 200.0}, "with": {"p50_ms": 110.0, "p99_ms": 210.0}}
    ]
    result = {"rate": 1000.0, "rounds": rounds, "rules": 100, "list_entries": 100_000}
    result |= {"without_p50_ms": 100.0, "without_p99_ms": 200.0}
    result |= {"with_p50_ms": 110.0, "with_p99_ms": 210.0, "p50_ratio": 1.1, "p99_ratio": 1.05}
    machine = {"cores": 2, "cpu": "x", "python": "3.11", "java": "17"}
    machine |= {"apache-flink": "1.20.3", "onnxruntime": "1"}
    table = render({"machine": machine, "rules_latency": result})
    assert "| no rule set | 100 | 200 |" in table
    assert "| 100 active rules, three lists of 100,000 entries | 110 | 210 |" in table
    assert "| ratio with / without (median of per-round ratios) | 1.10 | 1.05 |" in table


def test_the_job_bench_alternates_which_variant_runs_first() -> None:
    from bench.rules_job import _alternated

    pair = ("without", "with")
    assert [_alternated(i, pair)[0] for i in range(4)] == ["without", "with", "without", "with"]
