"""Configuration of a simulation run and the names of the labelled scenarios."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

LEGIT = "legit"
HIGH_AMOUNT = "high_amount"
COMPROMISED_TERMINAL = "compromised_terminal"
COMPROMISED_CARD = "compromised_card"
CARD_TESTING = "card_testing"
IMPOSSIBLE_TRAVEL = "impossible_travel"

#: Every scenario name; a row's scenario code is its index in this tuple.
SCENARIOS: tuple[str, ...] = (
    LEGIT,
    HIGH_AMOUNT,
    COMPROMISED_TERMINAL,
    COMPROMISED_CARD,
    CARD_TESTING,
    IMPOSSIBLE_TRAVEL,
)
FRAUD_SCENARIOS: tuple[str, ...] = SCENARIOS[1:]


def scenario_code(name: str) -> int:
    """The integer code stored per row for a scenario name."""
    return SCENARIOS.index(name)


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulated data set: same config, same bytes.

    Rates are expectations per day: ``compromised_terminal_rate=0.0005`` compromises on
    average one terminal in 2,000 each day (the daily count is Poisson distributed).
    """

    customers: int = 5_000
    terminals: int = 5_000
    days: int = 30
    start: dt.date = dt.date(2026, 10, 1)
    seed: int = 7
    #: (a) legit amounts strictly above this are relabelled ``high_amount`` fraud.
    high_amount_threshold: float = 220.0
    #: (b) expected share of terminals compromised per day, and how long it lasts.
    compromised_terminal_rate: float = 0.0005
    compromised_terminal_days: int = 28
    #: (c) expected share of cards compromised per day, how long, and the amount factor.
    compromised_card_rate: float = 0.001
    compromised_card_days: int = 14
    compromised_card_amount_factor: float = 5.0
    #: (d) expected card-testing bursts per card per day, burst size and duration.
    card_testing_rate: float = 0.0005
    card_testing_min_attempts: int = 3
    card_testing_max_attempts: int = 8
    card_testing_window_minutes: float = 4.0
    card_testing_min_amount: float = 0.5
    card_testing_max_amount: float = 3.0
    #: (e) expected impossible-travel injections per card per day, and what "impossible" is.
    impossible_travel_rate: float = 0.0005
    impossible_travel_min_km: float = 1_000.0
    impossible_travel_max_speed_kmh: float = 900.0
    #: Share of terminals that are e-commerce (``channel == "ecom"``).
    ecom_terminal_share: float = 0.2
    #: Each customer shops at this many terminals near home.
    terminals_per_customer: int = 8
    #: Terminals of a customer lie within this distance of the customer's nearest one.
    neighbourhood_km: float = 60.0

    def __post_init__(self) -> None:
        _require(self.customers >= 1, "customers must be >= 1")
        _require(self.terminals >= 1, "terminals must be >= 1")
        _require(self.days >= 1, "days must be >= 1")
        _require(self.seed >= 0, "seed must be >= 0")
        _require(self.high_amount_threshold > 0, "high_amount_threshold must be > 0")
        for name in (
            "compromised_terminal_rate",
            "compromised_card_rate",
            "card_testing_rate",
            "impossible_travel_rate",
        ):
            _require(0 <= getattr(self, name) <= 1, f"{name} must be in [0, 1]")
        _require(self.compromised_terminal_days >= 1, "compromised_terminal_days must be >= 1")
        _require(self.compromised_card_days >= 1, "compromised_card_days must be >= 1")
        _require(self.compromised_card_amount_factor > 1, "amount factor must be > 1")
        _require(
            2 <= self.card_testing_min_attempts <= self.card_testing_max_attempts,
            "card testing attempts need 2 <= min <= max",
        )
        _require(self.card_testing_window_minutes > 0, "card_testing_window_minutes must be > 0")
        _require(
            0 < self.card_testing_min_amount <= self.card_testing_max_amount,
            "card testing amounts need 0 < min <= max",
        )
        _require(self.impossible_travel_min_km > 0, "impossible_travel_min_km must be > 0")
        _require(self.impossible_travel_max_speed_kmh > 0, "max speed must be > 0")
        _require(0 <= self.ecom_terminal_share <= 1, "ecom_terminal_share must be in [0, 1]")
        _require(self.terminals_per_customer >= 1, "terminals_per_customer must be >= 1")
        _require(self.neighbourhood_km > 0, "neighbourhood_km must be > 0")

    @property
    def start_ms(self) -> int:
        """Milliseconds since the Unix epoch at 00:00 UTC of the first day."""
        midnight = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        return int(midnight.timestamp()) * 1000


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
