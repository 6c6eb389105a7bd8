"""Simulate labelled card transactions (Transaction v1 rows plus ``label`` and ``scenario``).

python -m sample_data.simulate --out transactions.jsonl --customers 5000 --days 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sample_data import scenarios
from sample_data.config import FRAUD_SCENARIOS, SimulationConfig
from sample_data.formats import FORMATS, write_frame
from sample_data.legit import legit_transactions
from sample_data.records import to_transaction_frame
from sample_data.world import build_customers, build_terminals

__all__ = ["SimulationConfig", "main", "simulate"]

#: Independent random streams, so that changing one scenario leaves the others unchanged.
_STREAMS = (
    "terminals",
    "customers",
    "legit",
    "compromised_terminal",
    "compromised_card",
    "card_testing",
    "impossible_travel",
)
PROGRESS_MIN_ROWS = 200_000


def simulate(config: SimulationConfig, *, progress: bool = False) -> pd.DataFrame:
    """Simulate ``config`` into a frame sorted by event_time (ties by transaction_id).

    The same config always gives the same rows, in the same order, with the same ids.
    """
    rngs = dict(
        zip(
            _STREAMS,
            (
                np.random.default_rng(s)
                for s in np.random.SeedSequence(config.seed).spawn(len(_STREAMS))
            ),
            strict=True,
        )
    )
    with tqdm(
        total=7, desc="simulating", unit="step", file=sys.stderr, disable=not progress
    ) as bar:
        terminals = build_terminals(rngs["terminals"], config)
        customers = build_customers(rngs["customers"], config, terminals)
        bar.update()
        batch = legit_transactions(rngs["legit"], customers, config.days, config.start_ms)
        bar.update()
        batch = scenarios.compromise_terminals(
            rngs["compromised_terminal"], batch, terminals, config
        )
        bar.update()
        batch = scenarios.compromise_cards(rngs["compromised_card"], batch, customers, config)
        batch = scenarios.flag_high_amounts(batch, config)
        bar.update()
        batch = batch.concat(
            scenarios.card_testing_bursts(rngs["card_testing"], customers, terminals, config)
        )
        bar.update()
        batch = batch.concat(
            scenarios.impossible_travel(
                rngs["impossible_travel"], batch, customers, terminals, config
            )
        )
        bar.update()
        frame = to_transaction_frame(batch, terminals, config)
        bar.update()
    return frame


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.required:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    defaults = SimulationConfig()
    parser = argparse.ArgumentParser(
        prog="python -m sample_data.simulate",
        description=(
            "Simulate card transactions with labelled fraud scenarios (high_amount, "
            "compromised_terminal, compromised_card, card_testing, impossible_travel) and write "
            "them as Transaction v1 rows plus 'label' (0/1) and 'scenario'. Same arguments and "
            "seed give byte-identical output. Rates are expected events per day per terminal "
            "or per card (e.g. 0.001 = one in a thousand each day)."
        ),
        formatter_class=_HelpWithDefaults,
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output file (.jsonl, .csv or .parquet)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: from --out's extension)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=defaults.customers,
        help="number of customers (one card each)",
    )
    parser.add_argument(
        "--terminals", type=int, default=defaults.terminals, help="number of merchant terminals"
    )
    parser.add_argument("--days", type=int, default=defaults.days, help="number of simulated days")
    parser.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=defaults.start,
        help="first day, YYYY-MM-DD (UTC)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed (>= 0)")
    parser.add_argument(
        "--high-amount-threshold",
        type=float,
        default=defaults.high_amount_threshold,
        help="(a) genuine amounts above this are labelled high_amount fraud",
    )
    parser.add_argument(
        "--compromised-terminal-rate",
        type=float,
        default=defaults.compromised_terminal_rate,
        help=f"(b) expected share of terminals compromised per day; all their transactions for "
        f"{defaults.compromised_terminal_days} days are fraud",
    )
    parser.add_argument(
        "--compromised-card-rate",
        type=float,
        default=defaults.compromised_card_rate,
        help=f"(c) expected share of cards compromised per day; a third of their transactions "
        f"for {defaults.compromised_card_days} days are fraud at "
        f"{defaults.compromised_card_amount_factor:g}x the amount",
    )
    parser.add_argument(
        "--card-testing-rate",
        type=float,
        default=defaults.card_testing_rate,
        help=f"(d) expected card-testing bursts per card per day ("
        f"{defaults.card_testing_min_attempts}-{defaults.card_testing_max_attempts} small "
        f"amounts at different online terminals within {defaults.card_testing_window_minutes:g} "
        "minutes)",
    )
    parser.add_argument(
        "--impossible-travel-rate",
        type=float,
        default=defaults.impossible_travel_rate,
        help=f"(e) expected impossible-travel uses per card per day (a card-present use more than "
        f"{defaults.impossible_travel_min_km:g} km from the previous one, faster than "
        f"{defaults.impossible_travel_max_speed_kmh:g} km/h)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr "
        f"(default: on for more than {PROGRESS_MIN_ROWS:,} expected rows)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    return SimulationConfig(
        customers=args.customers,
        terminals=args.terminals,
        days=args.days,
        start=args.start,
        seed=args.seed,
        high_amount_threshold=args.high_amount_threshold,
        compromised_terminal_rate=args.compromised_terminal_rate,
        compromised_card_rate=args.compromised_card_rate,
        card_testing_rate=args.card_testing_rate,
        impossible_travel_rate=args.impossible_travel_rate,
    )


def expected_rows(config: SimulationConfig) -> float:
    """Rough size of a run (1.4 transactions per customer per day on average)."""
    return 1.4 * config.customers * config.days


def summary(frame: pd.DataFrame) -> str:
    """One line: rows, fraud rate and rows per fraud scenario."""
    counts = frame["scenario"].value_counts()
    per_scenario = ", ".join(f"{name} {int(counts.get(name, 0))}" for name in FRAUD_SCENARIOS)
    rate = float(frame["label"].mean()) if len(frame) else 0.0
    return f"{len(frame):,} transactions, fraud rate {rate:.2%} ({per_scenario})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    progress = (
        args.progress if args.progress is not None else expected_rows(config) > PROGRESS_MIN_ROWS
    )
    try:
        frame = simulate(config, progress=progress)
        write_frame(frame, args.out, args.format, progress=progress)
    except ValueError as error:
        parser.error(str(error))
    print(f"{args.out}: {summary(frame)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
