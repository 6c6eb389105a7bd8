"""The rule budget in the job: the full job's throughput on RocksDB with 100 active rules and
three lists of 100,000 entries published to its rule registry, against the same job with
no rule set, interleaved round by round; and what a list costs the job's memory.

    python -m bench.run --only rules-job [--repeat 3 --copies 12]

The rules are bench.rules_cost's generator (thresholds, the channel, ratios, list
literals, prefixes, patterns, ternaries and the three lists), published active as `tag`
rules: every rule is evaluated on every transaction and adds a reason code to an alert, and
the alert volume stays the model's, so both runs write the same records.

Memory is measured in this process, as the UDF holds a list: the Arrow string array of its
values and the array of expiries (`resident`), and the peak of Python allocations while a
list version is read and verified from its CSV (`load_peak`), per 100,000 entries."""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.rules_cost import LIST_FIELDS, list_entries, rule_texts
from bench.throughput import Run, ThroughputResult
from flink_job.config import JobConfig
from model_export.rules_registry import RuleRegistry
from rules.artefacts import ListEntry, list_bytes, parse_list
from udfs.rulesets import LoadedList

PER = 100_000  # memory is reported per this many entries


def publish_bench_rules(root: Path, rules: int = 100, entries: int = 100_000) -> str:
    """The bench's lists and rules in a rule registry at `root`; the rule set's version."""
    registry = RuleRegistry(str(root))
    for name, values in list_entries(entries).items():
        rows = tuple(ListEntry(value, "bench", "bench") for value in values)
        version = registry.publish_entries(name, LIST_FIELDS[name], rows)
        registry.promote_list(name, version)
    documents = [
        {
            "name": f"bench_{i:03d}",
            "expression": text,
            "outcome": "tag",
            "priority": i,
            "mode": "active",
        }
        for i, text in enumerate(rule_texts(rules))
    ]
    version = registry.publish_ruleset(json.dumps({"rules": documents}).encode())
    registry.promote_ruleset(version)
    return version


@dataclass(frozen=True)
class ListMemory:
    entries: int
    csv_bytes: int
    resident_bytes_per_100k: float  # the values' Arrow array and the expiries, as held
    load_peak_bytes_per_100k: float  # Python allocations while reading and verifying it
    load_seconds_per_100k: float


def list_memory(entries: int = 100_000) -> ListMemory:
    values = list_entries(entries)["trusted_cards"]
    data = list_bytes(tuple(ListEntry(v, "bench", "bench") for v in values))
    began = time.perf_counter()
    loaded = LoadedList.of("trusted_cards", "l-bench", "card_id", parse_list(data, "card_id"))
    seconds = time.perf_counter() - began
    del loaded
    tracemalloc.start()  # a second load, traced (tracing slows it down many times)
    loaded = LoadedList.of("trusted_cards", "l-bench", "card_id", parse_list(data, "card_id"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    resident = loaded.values.nbytes + loaded.expires.nbytes
    scale = PER / entries
    return ListMemory(entries, len(data), resident * scale, peak * scale, seconds * scale)


@dataclass(frozen=True)
class BatchCost:
    rows: int
    us_per_transaction: float  # CPU of all the rules together, one core


def batch_costs(sizes: tuple[int, ...] = (200, 1_000, 10_000), repeat: int = 5) -> list[BatchCost]:
    """The 100 rules and three lists of 100,000 entries over batches of each size: a
    kernel's fixed cost is paid per batch, and the job's bundles are as small as
    `scoring.bundle_time_ms` makes them (about 200 rows at 10,000 transactions/s)."""
    from bench.rules_cost import batch, schema
    from rules import compile_rule
    from rules.vectorized import Lists, evaluate_all

    compiled = [compile_rule(text, schema()) for text in rule_texts(100)]
    lists = Lists(list_entries(100_000))
    costs = []
    for rows in sizes:
        frame = batch(rows)
        evaluate_all(compiled, frame, lists)  # the lists' lookup tables are built once
        runs = []
        for _ in range(repeat):
            began = time.process_time()
            evaluate_all(compiled, frame, lists)
            runs.append(time.process_time() - began)
        costs.append(BatchCost(rows, statistics.median(runs) / rows * 1e6))
    return costs


def throughput(
    config: JobConfig, data: Path, rules_root: Path, repeat: int, flink: dict[str, str]
) -> dict[str, Any]:
    """Full-job steady rates without and with the rule set, `repeat` interleaved rounds."""
    from bench.throughput import count_lines, steady_rate

    events = count_lines(data)
    with_rules = dataclasses.replace(config, rules_path=str(rules_root))
    without = dataclasses.replace(config, rules_path="")
    rounds = []
    for _ in range(repeat):
        rates = {}
        for name, variant in (("without", without), ("with", with_rules)):
            rates[name] = steady_rate(_run(variant, flink), data, events)
        rounds.append({**rates, "ratio": rates["with"] / rates["without"]})
        print(
            f"rules-job: without {rates['without']:,.0f}, with {rates['with']:,.0f} events/s",
            flush=True,
        )
    return {
        "events": events,
        "rounds": rounds,
        "without_events_per_s": statistics.median(r["without"] for r in rounds),
        "with_events_per_s": statistics.median(r["with"] for r in rounds),
        "ratio": statistics.median(r["ratio"] for r in rounds),
    }


def _run(config: JobConfig, flink: dict[str, str]) -> Run:
    from bench.throughput import run_full_job

    def run(data: Path, events: int, rest: dict[str, str]) -> ThroughputResult:
        return run_full_job(config, data, events, {**flink, **rest})

    return run
