"""The rule budget in the job: the full job's throughput on RocksDB with 100 active rules and
three lists of 100,000 entries published to its rule registry, against the same job with
no rule set, interleaved round by round; put → alert latency with and without them under
the AWS job properties; and what a list costs the job's memory.

    python -m bench.run --only rules-job [--repeat 3 --copies 12]
    python -m bench.run --only rules-latency [--repeat 3 --latency-seconds 20]

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
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.rules_cost import LIST_FIELDS, list_entries, rule_texts
from bench.throughput import Run, ThroughputResult
from flink_job.config import JobConfig
from model_export.rules_registry import RuleRegistry
from rules.artefacts import ListEntry, list_bytes, parse_list
from udfs.rulesets import ActiveRules, LoadedList, build_rules, decide_with_rules

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
    us_per_transaction: float  # CPU of evaluating all the rules together, one core
    decide_us_per_transaction: float  # and applying them: outcomes, severities, rule hits


def bench_rules(rules: int = 100, entries: int = 100_000) -> ActiveRules:
    """The job bench's rule set as the scoring UDF holds it once loaded (publish_bench_rules'
    rules and lists, without the registry)."""
    from bench.rules_cost import schema
    from rules import compile_rule
    from rules.artefacts import CompiledRule, RuleSpec

    compiled = tuple(
        CompiledRule(
            RuleSpec(f"bench_{i:03d}", text, "tag", i, "active"), compile_rule(text, schema())
        )
        for i, text in enumerate(rule_texts(rules))
    )
    lists = [
        LoadedList.of(
            name, "l-bench", LIST_FIELDS[name], [ListEntry(v, "bench", "bench") for v in values]
        )
        for name, values in list_entries(entries).items()
    ]
    key = ("r-bench", tuple((name, "l-bench") for name in LIST_FIELDS))
    return build_rules(key, compiled, lists, datetime.now(UTC))


def batch_costs(sizes: tuple[int, ...] = (200, 1_000, 10_000), repeat: int = 5) -> list[BatchCost]:
    """The 100 rules and three lists of 100,000 entries over batches of each size, as the
    scoring UDF runs them: the rule set's plan compiled once, the batch's columns as the
    arrays the UDF holds; evaluation alone, then with the outcomes applied
    (udfs.rulesets.decide_with_rules). A step's fixed cost is paid per batch, and the job's
    bundles are as small as `scoring.bundle_time_ms` makes them (about 200 rows at 10,000
    transactions/s)."""
    from bench.rules_cost import batch

    rules = bench_rules()
    costs = []
    for rows in sizes:
        frame = batch(rows)
        columns = {name: frame[name] for name in rules.fields}
        scores = frame["score"].to_numpy()
        evaluate = partial(rules.plan.evaluate, columns, rules.lists)
        decide = partial(decide_with_rules, scores, 0.5, rules, columns)
        costs.append(
            BatchCost(rows, _cpu_us(evaluate, rows, repeat), _cpu_us(decide, rows, repeat))
        )
    return costs


def _cpu_us(run: Callable[[], object], rows: int, repeat: int) -> float:
    """Median CPU time of `run` (after one run not counted), in µs per row."""
    run()
    runs = []
    for _ in range(repeat):
        began = time.process_time()
        run()
        runs.append(time.process_time() - began)
    return statistics.median(runs) / rows * 1e6


def throughput(
    config: JobConfig, data: Path, rules_root: Path, repeat: int, flink: dict[str, str]
) -> dict[str, Any]:
    """Full-job steady rates without and with the rule set, `repeat` interleaved rounds
    (the order alternated round by round); and each run's CPU per event (this process's
    descendants: the JVM and the Python worker), which other jobs on a shared machine
    disturb less than the rate."""
    from bench.throughput import count_lines, steady_rate

    events = count_lines(data)
    with_rules = dataclasses.replace(config, rules_path=str(rules_root))
    without = dataclasses.replace(config, rules_path="")
    rounds = []
    for i in range(repeat):
        rates, cpu = {}, {}
        for name, variant in _alternated(i, (("without", without), ("with", with_rules))):
            began = descendants_cpu_s()
            rates[name] = steady_rate(_run(variant, flink), data, events)
            cpu[f"{name}_cpu_us_per_event"] = (descendants_cpu_s() - began) / events * 1e6
        cpu_ratio = cpu["without_cpu_us_per_event"] / cpu["with_cpu_us_per_event"]
        rounds.append({**rates, **cpu, "ratio": rates["with"] / rates["without"]})
        rounds[-1]["cpu_ratio"] = cpu_ratio
        print(
            f"rules-job: without {rates['without']:,.0f}, with {rates['with']:,.0f} events/s; "
            f"CPU per event without {cpu['without_cpu_us_per_event']:,.0f} µs, with "
            f"{cpu['with_cpu_us_per_event']:,.0f} µs",
            flush=True,
        )

    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in rounds))

    return {
        "events": events,
        "rounds": rounds,
        "without_events_per_s": median("without"),
        "with_events_per_s": median("with"),
        "ratio": median("ratio"),
        "without_cpu_us_per_event": median("without_cpu_us_per_event"),
        "with_cpu_us_per_event": median("with_cpu_us_per_event"),
        "cpu_ratio": median("cpu_ratio"),
    }


def _alternated(round_: int, pair: tuple[Any, Any]) -> tuple[Any, Any]:
    """The pair in one order on even rounds, the other on odd ones: the first job a process
    runs also pays for starting the JVM and compiling Flink's code (in one round measured
    before this, the first run used 2.3 times the CPU per event of the second)."""
    return pair if round_ % 2 == 0 else (pair[1], pair[0])


def descendants_cpu_s() -> float:
    """CPU seconds (user + system) of this process's descendants, living ones and those
    reaped (Linux /proc; only the reaped elsewhere). PyFlink's JVM is a child of this process
    and the Python worker a descendant of the JVM."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while listed
        pid = int(entry.parent.name)
        parents[pid] = int(fields[1])  # fields after the command: state, ppid, …
        times[pid] = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
    mine = {os.getpid()}
    reaped = os.times()  # children this process has waited for
    total = reaped.children_user + reaped.children_system
    changed = True
    while changed:  # every descendant, whatever order /proc lists them in
        changed = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                total += times[pid]
                changed = True
    return total


def latency(
    data: Path, model_path: str, rules_root: Path, rate: float, seconds: float, repeat: int
) -> dict[str, Any]:
    """Put → readable alert at `rate`/s without and with the rule set at `rules_root`, a
    fresh job each, under the AWS job properties (bench.latency.measure_aws's: RocksDB,
    incremental checkpoints every 10 s, event time = the wall clock at send, the Terraform
    default out-of-order bound), `repeat` interleaved rounds (the order alternated);
    ratios within a round. One
    20-second run's p99 rests on its few slowest alerts: compare the rounds' medians."""
    from bench.latency import AWS_BOUND_MS, AWS_FLINK, measure

    rounds = []
    for i in range(repeat):
        results = {}
        for name, rules_path in _alternated(i, (("without", ""), ("with", str(rules_root)))):
            (result,) = measure(
                data,
                model_path,
                (rate,),
                seconds,
                flink=AWS_FLINK,
                stamp_now=True,
                watermark_max_out_of_orderness_ms=AWS_BOUND_MS,
                rules_path=rules_path,
            )
            results[name] = dataclasses.asdict(result)
        ratios = {
            f"{p}_ratio": results["with"][f"{p}_ms"] / results["without"][f"{p}_ms"]
            for p in ("p50", "p99")
        }
        rounds.append({**results, **ratios})
        print(
            f"rules-latency: p50 / p99 without {results['without']['p50_ms']:.0f} / "
            f"{results['without']['p99_ms']:.0f} ms, with {results['with']['p50_ms']:.0f} / "
            f"{results['with']['p99_ms']:.0f} ms",
            flush=True,
        )

    def median(variant: str, key: str) -> float:
        return float(statistics.median(r[variant][key] for r in rounds))

    return {
        "rate": rate,
        "seconds": seconds,
        "rounds": rounds,
        **{
            f"{v}_{p}_ms": median(v, f"{p}_ms") for v in ("without", "with") for p in ("p50", "p99")
        },
        "p50_ratio": statistics.median(r["p50_ratio"] for r in rounds),
        "p99_ratio": statistics.median(r["p99_ratio"] for r in rounds),
    }


def _run(config: JobConfig, flink: dict[str, str]) -> Run:
    from bench.throughput import run_full_job

    def run(data: Path, events: int, rest: dict[str, str]) -> ThroughputResult:
        return run_full_job(config, data, events, {**flink, **rest})

    return run
