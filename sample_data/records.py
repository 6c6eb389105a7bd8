"""Turning a simulated batch into Transaction v1 rows (see the README's Contracts section)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from contracts.fields import NUMBER, STRING, TIMESTAMP
from contracts.transaction import TRANSACTION_V1
from sample_data.batch import TransactionBatch
from sample_data.config import FRAUD_SCENARIOS, SCENARIOS, SimulationConfig
from sample_data.world import Terminals

CURRENCY = "EUR"

#: Transaction v1 fields the simulator has no model of (absent from its records).
NOT_SIMULATED: tuple[str, ...] = ("device_id",)
#: What the simulator knows beyond the contract: the truth.
TRUTH_COLUMNS: tuple[str, ...] = ("label", "scenario")
#: Column order of a simulated transaction frame: Transaction v1 fields, then the truth.
TRANSACTION_COLUMNS: tuple[str, ...] = (
    *(name for name in TRANSACTION_V1.names() if name not in NOT_SIMULATED),
    *TRUTH_COLUMNS,
)
STRING_COLUMNS: tuple[str, ...] = (
    *(
        f.name
        for f in TRANSACTION_V1.fields
        if f.type in (STRING, TIMESTAMP) and f.name not in NOT_SIMULATED
    ),
    "scenario",
)
FLOAT_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in TRANSACTION_V1.fields if f.type == NUMBER and f.name not in NOT_SIMULATED
)
INT_COLUMNS: tuple[str, ...] = ("label",)


def rfc3339_utc(time_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """Epoch milliseconds as RFC 3339 UTC strings with milliseconds: 2026-10-01T08:15:02.123Z."""
    text = np.datetime_as_string(time_ms.astype("datetime64[ms]"), unit="ms", timezone="UTC")
    return text.astype(object)


def card_token(index: npt.NDArray[np.int64], population: int) -> npt.NDArray[np.object_]:
    """``card_000123``: a token with a letter prefix, never a card-number-like digit string."""
    return _tokens("card", index, population, width=6)


def terminal_token(index: npt.NDArray[np.int64], population: int) -> npt.NDArray[np.object_]:
    """``term_00042``."""
    return _tokens("term", index, population, width=5)


def transaction_ids(count: int, seed: int) -> list[str]:
    """``tx-7-000000001``: the seed keeps ids of different runs apart; the number follows time."""
    width = max(9, len(str(count)))
    return [f"tx-{seed}-{i:0{width}d}" for i in range(1, count + 1)]


def to_transaction_frame(
    batch: TransactionBatch, terminals: Terminals, config: SimulationConfig
) -> pd.DataFrame:
    """Rows in time order (ties by transaction_id) with every Transaction v1 field."""
    rows = batch.in_time_order()
    where = rows.terminal
    scenario = np.array(SCENARIOS, dtype=object)[rows.scenario]
    frame = pd.DataFrame(
        {
            "transaction_id": transaction_ids(len(rows), config.seed),
            "event_time": rfc3339_utc(rows.time_ms),
            "card_id": card_token(rows.card, config.customers),
            "terminal_id": terminal_token(where, config.terminals),
            "amount": rows.amount,
            "currency": CURRENCY,
            "merchant_category": terminals.merchant_category[where],
            "country": terminals.country[where],
            "lat": terminals.lat[where],
            "lon": terminals.lon[where],
            "channel": np.where(terminals.is_ecom[where], "ecom", "pos").astype(object),
            "label": np.isin(scenario, FRAUD_SCENARIOS).astype(np.int64),
            "scenario": scenario,
        },
        columns=list(TRANSACTION_COLUMNS),
    )
    return frame


def _tokens(
    prefix: str, index: npt.NDArray[np.int64], population: int, width: int
) -> npt.NDArray[np.object_]:
    width = max(width, len(str(population - 1)))
    names = np.array([f"{prefix}_{i:0{width}d}" for i in range(population)], dtype=object)
    return np.asarray(names[index], dtype=object)
