"""Transactions as parallel numpy arrays while they are being simulated."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from sample_data.geography import FloatArray, IntArray

MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000

ScenarioArray = npt.NDArray[np.int8]


@dataclass(frozen=True)
class TransactionBatch:
    """One row per transaction: card (= customer index), terminal index, time, amount, scenario."""

    card: IntArray
    terminal: IntArray
    time_ms: IntArray
    amount: FloatArray
    scenario: ScenarioArray

    def __len__(self) -> int:
        return len(self.card)

    @classmethod
    def of(
        cls,
        card: npt.ArrayLike,
        terminal: npt.ArrayLike,
        time_ms: npt.ArrayLike,
        amount: npt.ArrayLike,
        scenario: int,
    ) -> TransactionBatch:
        """A batch whose rows all belong to one scenario."""
        cards = np.asarray(card, dtype=np.int64)
        return cls(
            card=cards,
            terminal=np.asarray(terminal, dtype=np.int64),
            time_ms=np.asarray(time_ms, dtype=np.int64),
            amount=np.asarray(amount, dtype=np.float64),
            scenario=np.full(len(cards), scenario, dtype=np.int8),
        )

    def with_scenario(self, rows: npt.NDArray[np.bool_], scenario: int) -> TransactionBatch:
        """A copy where the selected rows are relabelled."""
        relabelled = self.scenario.copy()
        relabelled[rows] = scenario
        return replace(self, scenario=relabelled)

    def concat(self, other: TransactionBatch) -> TransactionBatch:
        return TransactionBatch(
            card=np.concatenate([self.card, other.card]),
            terminal=np.concatenate([self.terminal, other.terminal]),
            time_ms=np.concatenate([self.time_ms, other.time_ms]),
            amount=np.concatenate([self.amount, other.amount]),
            scenario=np.concatenate([self.scenario, other.scenario]),
        )

    def in_time_order(self) -> TransactionBatch:
        """Rows sorted by time; equal times keep their generation order (deterministic)."""
        order = np.argsort(self.time_ms, kind="stable")
        return TransactionBatch(
            card=self.card[order],
            terminal=self.terminal[order],
            time_ms=self.time_ms[order],
            amount=self.amount[order],
            scenario=self.scenario[order],
        )


def round_amount(amount: FloatArray) -> FloatArray:
    """Amounts in currency units with 2 decimals, never below 0.01."""
    return np.asarray(np.maximum(np.round(amount, 2), 0.01), dtype=np.float64)
