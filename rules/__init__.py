"""The rule language: analysts' expressions (a subset of CEL) parsed and type-checked once
against a Schema, then evaluated vectorized over a batch (vectorized.py) or compiled to SQL
for backtests (sql.py). Imports only `contracts`.

    rule = compile_rule("channel == 'ecom' && amount > 300.0", schema)
    hits = evaluate(rule, batch, lists)      # numpy bool array, one per row
    where = to_sql(rule)                     # a DuckDB boolean expression

Everything refused raises RuleError, naming the place."""

from __future__ import annotations

from rules.check import Rule, check
from rules.errors import RuleError
from rules.parse import parse
from rules.schema import FieldSpec, Schema


def compile_rule(source: str, schema: Schema) -> Rule:
    """Parse and type-check `source`; a RuleError names what is wrong and where."""
    if not isinstance(source, str):
        raise RuleError(f"a rule is text, not {type(source).__name__}")
    return check(parse(source), schema, source)


__all__ = ["FieldSpec", "Rule", "RuleError", "Schema", "compile_rule"]
