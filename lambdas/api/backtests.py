"""Backtests for the API: a draft rule checked against what the decision log holds and run
by an engine over a window (rules/backtest.py builds the query): Athena on AWS, DuckDB
locally (model_export.backtest's engine, which the local server sets: the Lambda ships
neither duckdb nor pandas)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from contracts.features import FEATURE_NAMES
from rules import Rule, compile_rule
from rules.backtest import Window, backtest_schema


class BacktestEngine(Protocol):
    def backtest(
        self,
        rule: Rule,
        outcome: str,
        window: Window,
        as_of: datetime,
        label_delay: timedelta,
        lists: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, Any]: ...

    def rule_hits(self, hours: int, now: datetime) -> dict[str, Any]: ...


class BacktestUnavailableError(RuntimeError):
    """No engine is configured, or it failed: the message says which."""


@dataclass
class Backtests:
    engine: BacktestEngine | None
    label_delay: timedelta

    def run(
        self, expression: str, outcome: str, start: str, end: str, now: datetime
    ) -> dict[str, Any]:
        """The BacktestResult; RuleError or BacktestError (bad input) name the field."""
        window = Window.parse(start, end)
        rule = compile_rule(expression, backtest_schema(FEATURE_NAMES))
        return self._engine().backtest(rule, outcome, window, now, self.label_delay)

    def hits(self, hours: int, now: datetime) -> dict[str, Any]:
        return self._engine().rule_hits(hours, now)

    def _engine(self) -> BacktestEngine:
        if self.engine is None:
            raise BacktestUnavailableError("backtests: no engine is configured (BACKTEST_ENGINE)")
        return self.engine
