"""Run every figure's shared SQL against the lake view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from .figures import FIGURES, Figure
from .lake import VIEW


@dataclass(frozen=True)
class FigureResult:
    figure: Figure
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def compute(connection: duckdb.DuckDBPyConnection, figure: Figure) -> FigureResult:
    cursor = connection.execute(figure.sql(VIEW))
    description = cursor.description or []
    rows = tuple(tuple(row) for row in cursor.fetchall())
    return FigureResult(
        figure,
        columns=tuple(str(d[0]) for d in description),
        types=tuple(str(d[1]) for d in description),
        rows=rows,
    )


def compute_all(connection: duckdb.DuckDBPyConnection) -> dict[str, FigureResult]:
    return {figure.name: compute(connection, figure) for figure in FIGURES}
