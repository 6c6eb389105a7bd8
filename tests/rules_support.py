"""What the rule tests share: the schema the job will give rules (Transaction v1, the 38
features from flink_job.features, the model's score; built here because `rules` may not
import flink_job), and DuckDB running a compiled rule over the same rows the vectorized
evaluator sees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from contracts.transaction import TRANSACTION_V1
from flink_job.features import FEATURE_NAMES
from rules import Rule, Schema
from rules.language import NUMBER
from rules.sql import LISTS_TABLE, quote_identifier, to_sql
from rules.vectorized import ARROW_TYPES, Lists, evaluate

LIST_NAMES = ("trusted_cards", "compromised_cards", "compromised_terminals", "risky_countries")


def default_schema() -> Schema:
    return Schema.build(TRANSACTION_V1, FEATURE_NAMES, numbers=("score",), lists=LIST_NAMES)


class Both:
    """One batch of rows as an Arrow table (for the vectorized evaluator) and as DuckDB rows
    of the same values, bound as query parameters (NaN kept as NaN, null as NULL), with the
    lists in both."""

    def __init__(
        self,
        schema: Schema,
        columns: Mapping[str, Sequence[Any]],
        lists: Mapping[str, Sequence[str]],
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.connection = connection or duckdb.connect()
        kinds = {name: schema.fields[name].type for name in columns}
        self.table = pa.table(
            {
                name: pa.array(list(values), ARROW_TYPES[kinds[name]])
                for name, values in columns.items()
            }
        )
        self.rows = self.table.num_rows
        self.lists = Lists(lists)
        sql_types = ["BIGINT", *("DOUBLE" if k == NUMBER else "VARCHAR" for k in kinds.values())]
        row = "(" + ", ".join(f"CAST(? AS {t})" for t in sql_types) + ")"
        names = ", ".join(["row_number", *(quote_identifier(n) for n in columns)])
        rows = [[i, *values] for i, values in enumerate(zip(*columns.values(), strict=True))]
        entries = [[name, entry] for name, values in lists.items() for entry in values]
        entry_rows = ", ".join("(CAST(? AS VARCHAR), CAST(? AS VARCHAR))" for _ in entries)
        list_source = f"VALUES {entry_rows}" if entries else "SELECT NULL, NULL WHERE FALSE"
        self.template = (
            f"WITH {LISTS_TABLE} (list_name, entry) AS ({list_source}), "
            f"batch ({names}) AS (VALUES {', '.join(row for _ in rows)}) "
            "SELECT {predicate} FROM batch ORDER BY row_number"
        )
        self.parameters = [v for pair in entries for v in pair] + [v for r in rows for v in r]

    def vectorized(self, rule: Rule) -> list[bool]:
        return [bool(v) for v in evaluate(rule, self.table, self.lists)]

    def sql(self, rule: Rule) -> list[bool]:
        query = self.template.replace("{predicate}", to_sql(rule))
        result = self.connection.execute(query, self.parameters).fetchall()
        return [bool(row[0]) for row in result]
