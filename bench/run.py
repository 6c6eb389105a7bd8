"""`make bench`: throughput, latency, scoring cost, state and what the tuning options are
worth, as JSON and a markdown table.

    python -m bench.run [--days 30 --customers 3000 --repeat 3 --rates 500,1000,2000]
                        [--state-days 45 --state-customers 500 --state-every 15]
                        [--backend-copies 2 --backend-repeat 1]
                        [--only throughput|backends|aws-latency|latency|scoring|state|options
                               |rules|rules-job|rules-latency|shadows-job]

Figures are medians of --repeat runs, and ratios are taken within one run, because this
machine is shared and noisy. Results go to build/bench/results.json and results.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import site
import statistics
import subprocess
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from local.aws import flink_env

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    from importlib.metadata import version

    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "java": java.splitlines()[0] if java else "unknown",
        "apache-flink": version("apache-flink"),
        "onnxruntime": version("onnxruntime"),
    }


def bench_data(days: int, customers: int) -> Path:
    from sample_data.simulate import main as simulate

    path = OUT / f"transactions-{days}d-{customers}c.jsonl"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        simulate(
            [
                "--out",
                str(path),
                "--days",
                str(days),
                "--customers",
                str(customers),
                "--terminals",
                str(customers),
                "--seed",
                "3",
                "--no-progress",
            ]
        )
    return path


def throughput(data: Path, model: str, repeat: int) -> dict[str, Any]:
    from bench.throughput import count_lines, run_ceiling, run_full_job, steady_rate
    from flink_job.config import load_config

    config = dataclasses.replace(load_config(), model_path=model, parallelism=1)
    events = count_lines(data)
    rounds = []
    for _ in range(repeat):  # interleaved, so both see the same machine conditions
        ceiling = steady_rate(lambda p, n, flink: run_ceiling(config, p, n, flink), data, events)
        full = steady_rate(lambda p, n, flink: run_full_job(config, p, n, flink), data, events)
        rounds.append({"ceiling": ceiling, "full": full, "ratio": full / ceiling})
        print(f"throughput: ceiling {ceiling:,.0f}, full {full:,.0f} events/s", flush=True)
    return {
        "events": events,
        "rounds": rounds,
        "ceiling_events_per_s": statistics.median(r["ceiling"] for r in rounds),
        "full_events_per_s": statistics.median(r["full"] for r in rounds),
        "ratio": statistics.median(r["ratio"] for r in rounds),
    }


def backends(data: Path, model: str, repeat: int, checkpoint_interval: str = "") -> dict[str, Any]:
    """The JVM-only ceiling on the heap and RocksDB backends, over the data as it is, with
    one terminal carrying 30 % of the transactions and with one card carrying 10 %; and the
    full job on both backends over the data as it is. Interleaved, `repeat` rounds; ratios
    within a round. Checkpoints every `checkpoint_interval` (by default
    BENCH_CHECKPOINT_INTERVAL, production's), incremental on RocksDB."""
    from bench.throughput import (
        BACKENDS,
        BENCH_CHECKPOINT_INTERVAL,
        HOT_CARD,
        HOT_TERMINAL,
        count_lines,
        hot_key_file,
        run_ceiling,
        run_full_job,
        steady_run,
    )
    from flink_job.config import load_config

    config = dataclasses.replace(load_config(), model_path=model, parallelism=1)
    scenarios = {
        "uniform": data,
        "hot terminal 30 %": hot_key_file(data, "terminal_id", HOT_TERMINAL, 0.30),
        "hot card 10 %": hot_key_file(data, "card_id", HOT_CARD, 0.10),
    }
    events = count_lines(data)
    rounds: list[list[dict[str, Any]]] = []
    for _ in range(repeat):
        runs: list[dict[str, Any]] = []
        for backend, settings in BACKENDS.items():
            for job, run in (("ceiling", run_ceiling), ("full", run_full_job)):
                for scenario, path in scenarios.items():
                    if job == "full" and scenario != "uniform":
                        continue
                    with tempfile.TemporaryDirectory(prefix="bench-checkpoints-") as directory:
                        flink = {
                            **settings,
                            "execution.checkpointing.interval": checkpoint_interval
                            or BENCH_CHECKPOINT_INTERVAL,
                            "state.checkpoints.dir": Path(directory).as_uri(),
                        }
                        stats = steady_run(_with(run, config, flink), path, events)
                    runs.append(
                        {"backend": backend, "job": job, "scenario": scenario, **asdict(stats)}
                    )
                    print(
                        f"backends: {backend} {job} {scenario}: "
                        f"{stats.events_per_second:,.0f} events/s, checkpoints {stats.checkpoints}",
                        flush=True,
                    )
        rounds.append(runs)
    return {
        "events": events,
        "checkpoint_interval": checkpoint_interval or BENCH_CHECKPOINT_INTERVAL,
        "rounds": rounds,
        "median": _median_runs(rounds),
    }


def rules_job(data: Path, model: str, repeat: int) -> dict[str, Any]:
    """bench.rules_job on RocksDB with incremental checkpoints every 60 s, as deployed; the
    memory a list costs."""
    from bench.rules_job import batch_costs, list_memory, publish_bench_rules
    from bench.rules_job import throughput as rules_throughput
    from bench.throughput import BACKENDS, BENCH_CHECKPOINT_INTERVAL
    from flink_job.config import load_config

    config = dataclasses.replace(load_config(), model_path=model, parallelism=1)
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as directory:
        root = Path(directory) / "rules"
        version = publish_bench_rules(root)
        flink = {
            **BACKENDS["rocksdb"],
            "execution.checkpointing.interval": BENCH_CHECKPOINT_INTERVAL,
            "state.checkpoints.dir": (Path(directory) / "checkpoints").as_uri(),
        }
        result = rules_throughput(config, data, root, repeat, flink)
    memory = [asdict(list_memory(n)) for n in (100_000, 1_000_000)]
    batches = [asdict(c) for c in batch_costs()]
    return {
        "ruleset": version,
        "rules": 100,
        "list_entries": 100_000,
        **result,
        "memory": memory,
        "batches": batches,
    }


def shadows_job(
    long_run: Path, data: Path, model: Path, repeat: int, latency_seconds: float
) -> dict[str, Any]:
    """bench.shadows_job: throughput on RocksDB with incremental checkpoints every 60 s, as
    deployed, over `long_run`; put-to-alert latency at 1,000/s over `data`."""
    from bench.shadows_job import latency as shadows_latency
    from bench.shadows_job import throughput as shadows_throughput
    from bench.throughput import BACKENDS, BENCH_CHECKPOINT_INTERVAL
    from flink_job.config import load_config

    config = dataclasses.replace(load_config(), parallelism=1)
    with tempfile.TemporaryDirectory(prefix="bench-shadows-") as directory:
        flink = {
            **BACKENDS["rocksdb"],
            "execution.checkpointing.interval": BENCH_CHECKPOINT_INTERVAL,
            "state.checkpoints.dir": (Path(directory) / "checkpoints").as_uri(),
        }
        work = Path(directory)
        result = shadows_throughput(config, long_run, model, repeat, flink, work)
        result["latency"] = shadows_latency(data, model, work, 1000.0, latency_seconds, repeat)
        return result


def rules_latency(
    data: Path, model: str, repeat: int, seconds: float, rate: float = 1000.0
) -> dict[str, Any]:
    """bench.rules_job.latency at `rate` events/s with the rules-job bench's rule set."""
    from bench.rules_job import latency, publish_bench_rules

    with tempfile.TemporaryDirectory(prefix="bench-rules-") as directory:
        root = Path(directory) / "rules"
        version = publish_bench_rules(root)
        result = latency(data, model, root, rate, seconds, repeat)
    return {"ruleset": version, "rules": 100, "list_entries": 100_000, **result}


def _with(run: Any, config: Any, flink: dict[str, str]) -> Any:
    return lambda path, events, rest: run(config, path, events, {**flink, **rest})


def _median_runs(rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per (backend, job, scenario): the median rate, its ratio to the same round's heap
    ceiling on the uniform data, and the worst checkpoint seen."""
    out = []
    for i, first in enumerate(rounds[0]):
        rates = [r[i]["events_per_second"] for r in rounds]
        base = [
            next(
                x["events_per_second"]
                for x in r
                if (x["backend"], x["job"], x["scenario"]) == ("heap", "ceiling", "uniform")
            )
            for r in rounds
        ]
        same = [
            next(
                x["events_per_second"]
                for x in r
                if (x["backend"], x["job"], x["scenario"])
                == (first["backend"], first["job"], "uniform")
            )
            for r in rounds
        ]
        checkpoints = [r[i]["checkpoints"] for r in rounds if r[i]["checkpoints"]]
        out.append(
            {
                "backend": first["backend"],
                "job": first["job"],
                "scenario": first["scenario"],
                "events_per_second": statistics.median(rates),
                "vs_heap_ceiling": statistics.median(
                    a / b for a, b in zip(rates, base, strict=True)
                ),
                "vs_uniform": statistics.median(a / b for a, b in zip(rates, same, strict=True)),
                "checkpoint_max_ms": max((c["max_duration_ms"] for c in checkpoints), default=None),
                "checkpoint_avg_ms": statistics.median(c["avg_duration_ms"] for c in checkpoints)
                if checkpoints
                else None,
                "checkpoint_full_bytes": max(
                    (c["latest_full_size_bytes"] for c in checkpoints), default=None
                ),
            }
        )
    return out


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}, {m['java']}, "
        f"apache-flink {m['apache-flink']}, onnxruntime {m['onnxruntime']}",
        "",
    ]
    if "throughput" in results:
        t = results["throughput"]
        lines += [
            f"| throughput at parallelism 1 ({t['events']:,} events; steady state: the "
            f"second half of each run; median of {len(t['rounds'])}) | events/s |",
            "|---|---|",
            f"| JVM-only ceiling (parse, validate, features; no Python) | "
            f"{t['ceiling_events_per_s']:,.0f} |",
            f"| full job (+ ONNX scoring, decision, alerts) | {t['full_events_per_s']:,.0f} |",
            f"| ratio full / ceiling (median of per-round ratios) | {t['ratio']:.2f} |",
            "",
        ]
    if "backends" in results:
        b = results["backends"]
        lines += [
            f"| parallelism 1, {b['events']:,} events, median of {len(b['rounds'])}, "
            f"checkpoints every {b['checkpoint_interval']} | backend "
            "| events/s | vs heap ceiling (uniform) | vs uniform | checkpoint avg / max ms "
            "| state |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in b["median"]:
            ms = (
                f"{r['checkpoint_avg_ms']:,.0f} / {r['checkpoint_max_ms']:,.0f}"
                if r["checkpoint_max_ms"] is not None
                else "none completed"
            )
            size = (
                f"{r['checkpoint_full_bytes'] / 2**20:,.1f} MiB"
                if r["checkpoint_full_bytes"]
                else "—"
            )
            lines.append(
                f"| {r['job']}, {r['scenario']} | {r['backend']} | "
                f"{r['events_per_second']:,.0f} | {r['vs_heap_ceiling']:.2f} | "
                f"{r['vs_uniform']:.2f} | {ms} | {size} |"
            )
        lines.append("")
    if "aws_latency" in results:
        lines += [
            "| latency, AWS job properties (RocksDB, checkpoints every 10 s, event time = wall "
            "clock at send) | achieved | alerts | p50 ms | p99 ms | kept up |",
            "|---|---|---|---|---|---|",
        ]
        for a in results["aws_latency"]:
            r = a["result"]
            lines.append(
                f"| {r['offered_rate']:,.0f}/s, out-of-order bound {a['bound_ms']:,} ms | "
                f"{r['achieved_rate']:,.0f}/s | {r['alerts']} | "
                f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {'yes' if r['kept_up'] else 'no'} |"
            )
        lines.append("")
    if "latency" in results:
        lines += [
            "| offered rate | achieved | events | alerts | p50 ms | p95 ms | p99 ms | kept up |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in results["latency"]:
            lines.append(
                f"| {r['offered_rate']:,.0f}/s | {r['achieved_rate']:,.0f}/s | {r['events']:,} | "
                f"{r['alerts']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | "
                f"{'yes' if r['kept_up'] else 'no'} |"
            )
        lines.append("")
    if "state" in results:
        lines += [
            "| simulated days | events | active cards | active terminals | bytes/card "
            "| bytes/terminal | other state | job peak RSS |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in results["state"]:
            lines.append(
                f"| {r['day']} | {r['events']:,} | {r['active_cards']:,} | "
                f"{r['active_terminals']:,} | {r['bytes_per_card']:,.0f} | "
                f"{r['bytes_per_terminal']:,.0f} | {r['other_state_bytes'] / 1024:,.0f} KiB | "
                f"{r['peak_rss_mb']:,.0f} MiB |"
            )
        lines.append("")
    if "options" in results:
        lines += [
            "| option (full job, parallelism 1) | events/s | vs as shipped |",
            "|---|---|---|",
        ]
        for o in results["options"]["throughput"]:
            if o["events_per_second"] is None:
                lines.append(f"| {o['option']} | failed: {o['error']} | — |")
            else:
                lines.append(
                    f"| {o['option']} | {o['events_per_second']:,.0f} | {o['vs_shipped']:.2f} |"
                )
        lines += ["", "| option (latency at 1,000/s) | p50 ms | p99 ms | kept up |"]
        lines.append("|---|---|---|---|")
        for o in results["options"]["latency"]:
            kept = "yes" if o["kept_up"] else "no"
            lines.append(f"| {o['option']} | {o['p50_ms']:.0f} | {o['p99_ms']:.0f} | {kept} |")
        lines.append("")
    if "rules" in results:
        r = results["rules"]
        lines += [
            f"| {r['rules']} rules, {r['rows']:,}-row batch (CPU, one core) "
            "| µs per transaction per rule | wall |",
            "|---|---|---|",
            f"| vectorized, three lists of {r['list_entries']:,} entries "
            f"| {r['with_lists_us_per_transaction_per_rule']:.3f} "
            f"| {r['with_lists_us_per_transaction_per_rule_wall']:.3f} |",
            f"| vectorized, no lists | {r['without_lists_us_per_transaction_per_rule']:.3f} | |",
            "| DuckDB, the compiled SQL, one thread "
            f"| {r['duckdb_us_per_transaction_per_rule']:.3f} "
            f"| {r['duckdb_us_per_transaction_per_rule_wall']:.3f} |",
            "",
        ]
    if "rules_job" in results:
        r = results["rules_job"]
        lines += [
            f"| full job, RocksDB, {r['events']:,} events, median of {len(r['rounds'])} "
            "| events/s |",
            "|---|---|",
            f"| no rule set | {r['without_events_per_s']:,.0f} |",
            f"| {r['rules']} active rules, three lists of {r['list_entries']:,} entries "
            f"| {r['with_events_per_s']:,.0f} |",
            f"| ratio with / without (median of per-round ratios) | {r['ratio']:.2f} |",
            "",
            "| CPU of the job's processes per event (JVM and Python worker) | µs |",
            "|---|---|",
            f"| no rule set | {r['without_cpu_us_per_event']:,.0f} |",
            f"| {r['rules']} active rules | {r['with_cpu_us_per_event']:,.0f} |",
            f"| without / with (median of per-round ratios) | {r['cpu_ratio']:.2f} |",
            "",
            "| list size | CSV | held by the job, per 100,000 | peak while loading, per 100,000 "
            "| load time, per 100,000 |",
            "|---|---|---|---|---|",
        ]
        for m in r["memory"]:
            lines.append(
                f"| {m['entries']:,} | {m['csv_bytes'] / 2**20:,.1f} MiB "
                f"| {m['resident_bytes_per_100k'] / 2**20:,.2f} MiB "
                f"| {m['load_peak_bytes_per_100k'] / 2**20:,.1f} MiB "
                f"| {m['load_seconds_per_100k']:,.2f} s |"
            )
        lines += [
            "",
            "| rows per batch | 100 rules, µs per transaction (CPU): evaluated | and applied |",
            "|---|---|---|",
        ]
        for c in r.get("batches", []):
            lines.append(
                f"| {c['rows']:,} | {c['us_per_transaction']:,.1f} "
                f"| {c['decide_us_per_transaction']:,.1f} |"
            )
        lines.append("")
    if "shadows_job" in results:
        r = results["shadows_job"]
        lines += [
            f"| full job, RocksDB, {r['events']:,} events, median of {len(r['rounds'])} "
            "| events/s |",
            "|---|---|",
            f"| serving model only | {r['without_events_per_s']:,.0f} |",
            f"| and {r['shadows']} shadow models (budget {r['shadow_budget_ms']} ms) "
            f"| {r['with_events_per_s']:,.0f} |",
            f"| ratio with / without (median of per-round ratios) | {r['ratio']:.2f} |",
            f"| shadow rows skipped (late) / failed, all rounds | {r['shadow_skips']:,.0f} / "
            f"{r['shadow_failures']:,.0f} |",
            "",
        ]
        if "latency" in r:
            lat = r["latency"]
            lines += [
                f"| put → alert at {lat['rate']:,.0f}/s, AWS properties, median of "
                f"{len(lat['rounds'])} | p99 ms |",
                "|---|---|",
                f"| serving model only | {lat['without_p99_ms']:,.0f} |",
                f"| and {r['shadows']} shadow models | {lat['with_p99_ms']:,.0f} |",
                f"| ratio with / without (median of per-round ratios) | {lat['p99_ratio']:.2f} |",
                "",
            ]
    if "rules_latency" in results:
        r = results["rules_latency"]
        lines += [
            f"| put → alert at {r['rate']:,.0f}/s, AWS job properties, median of "
            f"{len(r['rounds'])} rounds | p50 ms | p99 ms |",
            "|---|---|---|",
            f"| no rule set | {r['without_p50_ms']:.0f} | {r['without_p99_ms']:.0f} |",
            f"| {r['rules']} active rules, three lists of {r['list_entries']:,} entries "
            f"| {r['with_p50_ms']:.0f} | {r['with_p99_ms']:.0f} |",
            f"| ratio with / without (median of per-round ratios) | {r['p50_ratio']:.2f} "
            f"| {r['p99_ratio']:.2f} |",
            "",
        ]
    if "scoring" in results:
        lines += ["| ONNX batch size | µs per event |", "|---|---|"]
        for r in results["scoring"]:
            lines.append(f"| {r['batch_size']:,} | {r['microseconds_per_event']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def bench_environment() -> None:
    """The process environment `make bench` runs in, set by its entry point (never on import:
    a test importing this module must not hand PYTHONPATH to every later subprocess)."""
    os.environ.update(flink_env())  # before the first PyFlink call: the JVM inherits it
    # Python thread mode runs the UDFs in an interpreter embedded in the JVM (pemja), which
    # sees the virtualenv's packages and ours only through PYTHONPATH.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [*site.getsitepackages(), str(Path(__file__).resolve().parent.parent)]
    )


def main(argv: list[str] | None = None) -> int:
    bench_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=12, help="throughput: the data repeated")
    parser.add_argument("--rates", default="500,1000,2000")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--state-days", type=int, default=45)
    parser.add_argument("--state-customers", type=int, default=500)
    parser.add_argument("--state-every", type=int, default=15)
    parser.add_argument(
        "--backend-copies", type=int, default=2, help="backends: the data repeated this often"
    )
    parser.add_argument("--backend-repeat", type=int, default=1)
    parser.add_argument(
        "--checkpoint-interval", default="", help="backends: e.g. '10 s' (default: 60 s)"
    )
    parser.add_argument(
        "--aws-bounds", default="300000,1000", help="aws-latency: out-of-order bounds, ms"
    )
    every = ["throughput", "backends", "aws-latency", "latency", "scoring", "state", "options"]
    every += ["rules", "rules-job", "rules-latency", "shadows-job"]
    parser.add_argument("--only", choices=every, action="append")
    args = parser.parse_args(argv)
    parts = set(args.only or every)

    results: dict[str, Any] = {"machine": machine()}
    if "rules" in parts:  # needs neither the simulated data nor the model
        from bench.rules_cost import measure as rules_cost

        results["rules"] = asdict(rules_cost())
        print(f"rules: {results['rules']}", flush=True)
    if not parts - {"rules"}:
        return _report(results)

    from bench.throughput import repeated_file
    from model_export.cached import trained_model

    data = bench_data(args.days, args.customers)
    model_dir = OUT / "model"
    trained_model(data, model_dir)
    # Throughput runs over the data repeated, so that its rate, not the fixed cost of
    # starting a job, dominates each run.
    long_run = repeated_file(data, args.copies, args.days)
    results["data"] = str(data.relative_to(ROOT))
    results["throughput_data"] = str(long_run.relative_to(ROOT))
    if "scoring" in parts:
        from bench.scoring_cost import measure as scoring

        results["scoring"] = [asdict(r) for r in scoring(str(model_dir))]
    if "throughput" in parts:
        results["throughput"] = throughput(long_run, str(model_dir), args.repeat)
    if "backends" in parts:
        backend_data = repeated_file(data, args.backend_copies, args.days)
        results["backends"] = backends(
            backend_data, str(model_dir), args.backend_repeat, args.checkpoint_interval
        )
    if "aws-latency" in parts:
        from bench.latency import measure_aws

        bounds = tuple(int(b) for b in args.aws_bounds.split(","))
        results["aws_latency"] = [
            asdict(r)
            for r in measure_aws(data, str(model_dir), 1000.0, args.latency_seconds, bounds)
        ]
    if "latency" in parts:
        from bench.latency import measure as latency

        rates = tuple(float(r) for r in args.rates.split(","))
        results["latency"] = [
            asdict(r) for r in latency(data, str(model_dir), rates, args.latency_seconds)
        ]
    if "options" in parts:
        from bench.options import latency_options, throughput_options
        from flink_job.config import load_config

        config = dataclasses.replace(load_config(), model_path=str(model_dir), parallelism=1)
        results["options"] = {
            "throughput": [asdict(r) for r in throughput_options(config, long_run)],
            "latency": [
                asdict(r)
                for r in latency_options(data, str(model_dir), 1000.0, args.latency_seconds)
            ],
        }
    if "rules-job" in parts:
        results["rules_job"] = rules_job(long_run, str(model_dir), args.repeat)
    if "shadows-job" in parts:
        results["shadows_job"] = shadows_job(
            long_run, data, model_dir, args.repeat, args.latency_seconds
        )
    if "rules-latency" in parts:
        results["rules_latency"] = rules_latency(
            data, str(model_dir), args.repeat, args.latency_seconds
        )
    if "state" in parts:
        from bench.state import measure as state

        history = bench_data(args.state_days, args.state_customers)
        results["state"] = [asdict(r) for r in state(history, str(model_dir), args.state_every)]
    return _report(results)


def _report(results: dict[str, Any]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = render(results)
    (OUT / "results.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
