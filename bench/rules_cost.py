"""Rule evaluation cost: 100 rules over a 10,000-row batch (the scoring UDF's batch size),
vectorized, in microseconds per transaction per rule; with three lists of 100,000 entries
and without; and the same rules compiled to SQL in DuckDB on one thread (the backtest's
engine).

    python -m bench.rules_cost [--rules 100 --rows 10000 --list-entries 100000]

Every column of the schema is filled: the features log-normal with NaN in 1 %, the
optional fields null in 10 %. Medians of --repeat runs on one core."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import pandas as pd

from contracts.transaction import TRANSACTION_V1
from flink_job.features import FEATURE_NAMES
from rules import Schema, compile_rule
from rules.sql import LISTS_TABLE, to_sql
from rules.vectorized import Lists, evaluate_all

LIST_FIELDS = {"trusted_cards": "card_id", "blocked_terminals": "terminal_id"}
LIST_FIELDS["risky_devices"] = "device_id"
CHANNELS = ("pos", "ecom", "atm")
COUNTRIES = ("FR", "DE", "NG", "US", "GB", "ES", "IT", "BR")


@dataclass(frozen=True)
class RulesCost:
    """Microseconds of CPU (this process, one core) per transaction per rule; `*_wall`
    the same in wall-clock time, which a loaded machine inflates."""

    rules: int
    rows: int
    list_entries: int  # per list, three lists
    with_lists_us_per_transaction_per_rule: float
    without_lists_us_per_transaction_per_rule: float
    duckdb_us_per_transaction_per_rule: float
    with_lists_us_per_transaction_per_rule_wall: float
    duckdb_us_per_transaction_per_rule_wall: float

    @property
    def with_lists_us_per_transaction(self) -> float:
        """All the rules together, per transaction."""
        return self.with_lists_us_per_transaction_per_rule * self.rules


def schema() -> Schema:
    return Schema.build(TRANSACTION_V1, FEATURE_NAMES, numbers=("score",), lists=LIST_FIELDS)


def rule_texts(count: int, seed: int = 7, lists: bool = True) -> list[str]:
    """`count` rules of the shapes analysts write: thresholds on features, the channel,
    ratios, patterns, and (with `lists`) membership of the three lists."""
    rng = random.Random(seed)
    features = [f for f in FEATURE_NAMES if f != "amount"]
    shapes: list[Callable[[], str]] = [
        lambda: (
            f"amount > {rng.randint(50, 900)}.0 && {rng.choice(features)} >= {rng.randint(1, 9)}"
        ),
        lambda: f"channel == '{rng.choice(CHANNELS)}' && score > 0.{rng.randint(1, 9)}",
        lambda: f"{rng.choice(features)} / {rng.choice(features)} > {rng.randint(2, 5)}",
        lambda: (
            f"country in ['{rng.choice(COUNTRIES)}', '{rng.choice(COUNTRIES)}'] && "
            f"{rng.choice(features)} < {rng.randint(1, 50)}"
        ),
        lambda: f"merchant_category.startsWith('5{rng.randint(0, 9)}') && amount >= 100",
        lambda: (
            f"device_id.matches('^dev-{rng.randint(0, 9)}[0-9]+$') || "
            f"{rng.choice(features)} > {rng.randint(100, 1000)}"
        ),
        lambda: "(has(country) ? country : 'none') != 'FR' && amount % 100 == 0",
    ]
    if lists:
        shapes += [
            lambda: (
                f"!(card_id in list('trusted_cards')) && {rng.choice(features)} > "
                f"{rng.randint(1, 20)}"
            ),
            lambda: (
                "terminal_id in list('blocked_terminals') || device_id in list('risky_devices')"
            ),
        ]
    return [rng.choice(shapes)() for _ in range(count)]


def batch(rows: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {name: rng.lognormal(1.0, 1.0, rows) for name in (*FEATURE_NAMES, "score")}
    )
    frame["score"] = rng.random(rows)
    for name in FEATURE_NAMES:
        frame.loc[rng.random(rows) < 0.01, name] = np.nan
    frame["card_id"] = [f"card_{i:07d}" for i in rng.integers(0, 200_000, rows)]
    frame["terminal_id"] = [f"term_{i:06d}" for i in rng.integers(0, 200_000, rows)]
    frame["currency"] = "EUR"
    optional = {
        "channel": pd.Series(rng.choice(CHANNELS, rows), dtype=object),
        "country": pd.Series(rng.choice(COUNTRIES, rows), dtype=object),
        "merchant_category": pd.Series([str(m) for m in rng.integers(1000, 9999, rows)]),
        "device_id": pd.Series([f"dev-{i}" for i in rng.integers(0, 100_000, rows)]),
        "lat": pd.Series(rng.uniform(-90, 90, rows)),
        "lon": pd.Series(rng.uniform(-180, 180, rows)),
    }
    for name, column in optional.items():
        column[rng.random(rows) < 0.10] = None  # a missing optional field
        frame[name] = column
    return frame


def list_entries(entries: int) -> dict[str, list[str]]:
    return {
        "trusted_cards": [f"card_{i:07d}" for i in range(0, 2 * entries, 2)],
        "blocked_terminals": [f"term_{i:06d}" for i in range(entries)],
        "risky_devices": [f"dev-{i}" for i in range(0, 2 * entries, 2)],
    }


def measure(
    rules: int = 100, rows: int = 10_000, entries: int = 100_000, repeat: int = 5
) -> RulesCost:
    the_schema = schema()
    frame = batch(rows)
    with_lists = [compile_rule(t, the_schema) for t in rule_texts(rules)]
    without_lists = [compile_rule(t, the_schema) for t in rule_texts(rules, lists=False)]
    lists = Lists(list_entries(entries))  # built once, as the job holds them

    def timed(run: Callable[[], object]) -> tuple[float, float]:
        """Median CPU and wall seconds of `run`, each per transaction per rule in µs."""
        cpu, wall = [], []
        for _ in range(repeat):
            began, began_cpu = time.perf_counter(), time.process_time()
            run()
            cpu.append(time.process_time() - began_cpu)
            wall.append(time.perf_counter() - began)
        scale = 1e6 / rows / rules
        return statistics.median(cpu) * scale, statistics.median(wall) * scale

    listed = timed(lambda: evaluate_all(with_lists, frame, lists))
    plain = timed(lambda: evaluate_all(without_lists, frame, lists))
    connection = duckdb.connect()
    connection.execute("SET threads = 1")
    connection.register("frame", frame)
    connection.execute("CREATE TABLE decisions AS SELECT * FROM frame")
    connection.execute(f"CREATE TABLE {LISTS_TABLE} (list_name VARCHAR, entry VARCHAR)")
    for name, values in list_entries(entries).items():
        connection.execute(f"INSERT INTO {LISTS_TABLE} SELECT ?, unnest(?)", [name, values])
    query = "SELECT " + ", ".join(f"{to_sql(r)} AS r{i}" for i, r in enumerate(with_lists))
    query += " FROM decisions"
    sql = timed(lambda: connection.execute(query).fetchall())
    return RulesCost(rules, rows, entries, listed[0], plain[0], sql[0], listed[1], sql[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--list-entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    cost = measure(args.rules, args.rows, args.list_entries, args.repeat)
    for name, value in asdict(cost).items():
        print(f"{name}: {value:,.3f}" if isinstance(value, float) else f"{name}: {value:,}")
    print(f"with lists, all {cost.rules} rules: {cost.with_lists_us_per_transaction:,.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
