"""A checked rule compiled to a SQL boolean expression, for backtests over the decision log
in DuckDB: `SELECT … FROM decisions WHERE <to_sql(rule)>`. Same semantics as vectorized.py
(language.SEMANTICS): NaN reads as null (DuckDB orders NaN above every number and makes it
equal to itself, so every number read or computed passes NULLIF(x, NaN)), division and
remainder by zero are null, a null item is in no list, and the expression is TRUE only
where the rule matches.

Literals are typed: numbers as DOUBLE (`3E0`, never DECIMAL), strings quoted with `''`.
Athena (Trino) differs in two places only, named in docs/rules.md: `regexp_like` for
`regexp_matches`, and NaN is not equal to itself there (`trino_nan_guard`); the backtests
(rules/backtest.py) compile with both."""

from __future__ import annotations

from collections.abc import Callable

from rules.check import Rule
from rules.language import BOOL, NUMBER
from rules.nodes import (
    Binary,
    Call,
    Conditional,
    Field,
    ListLiteral,
    Literal,
    Logical,
    NamedList,
    Node,
    Unary,
)

LISTS_TABLE = "rule_list_entries"  # (list_name VARCHAR, entry VARCHAR): every list's entries
NAN = "CAST('NaN' AS DOUBLE)"
_COMPARE = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SQL_TYPES = {NUMBER: "DOUBLE", BOOL: "BOOLEAN"}
_LIKE = {"startsWith": "{}%", "endsWith": "%{}", "contains": "%{}%"}


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def number(value: float) -> str:
    """A DOUBLE literal: DuckDB reads `0.1` as DECIMAL, `0.1E0` as DOUBLE."""
    text = repr(float(value))
    return text if "e" in text else f"{text}E0"


def list_query(name: str) -> str:
    return f"SELECT entry FROM {LISTS_TABLE} WHERE list_name = {quote_string(name)}"


def to_sql(
    rule: Rule,
    column: Callable[[str], str] = quote_identifier,
    named_list: Callable[[str], str] = list_query,
    regex: str = "regexp_matches",
    nan_guard: Callable[[str], str] | None = None,
) -> str:
    """TRUE where `rule` matches a row, FALSE elsewhere (never NULL). `column` turns a field
    name into its SQL (by default the quoted column of that name); `named_list` a list name
    into a query of its entries (by default from LISTS_TABLE); `regex` names the function
    of `matches` (DuckDB's `regexp_matches`, Athena's `regexp_like`); `nan_guard` turns a
    number's SQL into one that is null where it is NaN (by default `NULLIF(x, NaN)`, which
    only DuckDB honours; `trino_nan_guard` for Athena)."""
    compiler = _Compiler(column, named_list, regex, nan_guard or _no_nan)
    return f"COALESCE({compiler.node(rule.root)}, FALSE)"


def _no_nan(sql: str) -> str:
    return f"NULLIF({sql}, {NAN})"


def trino_nan_guard(sql: str) -> str:
    """Null where NaN, in Trino (`is_nan`; NaN is not equal to itself there, so NULLIF
    would keep it); DuckDB runs it with a macro `is_nan` over `isnan`."""
    return f"(CASE WHEN is_nan({sql}) THEN NULL ELSE {sql} END)"


class _Compiler:
    def __init__(
        self,
        column: Callable[[str], str],
        named_list: Callable[[str], str],
        regex: str,
        nan_guard: Callable[[str], str],
    ) -> None:
        self.column = column
        self.named_list = named_list
        self.regex = regex
        self.no_nan = nan_guard

    def node(self, node: Node) -> str:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Field):
            if node.type == NUMBER:
                return self.no_nan(f"CAST({self.column(node.name)} AS DOUBLE)")
            return self.column(node.name)
        if isinstance(node, Unary):
            return f"(NOT {self.node(node.operand)})" if node.op == "!" else self.negate(node)
        if isinstance(node, Logical):
            joiner = " AND " if node.op == "&&" else " OR "
            return "(" + joiner.join(self.node(o) for o in node.operands) + ")"
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Conditional):
            test = self.node(node.test)
            then, otherwise = (self.branch(n, node.type) for n in (node.then, node.otherwise))
            return f"(CASE {test} WHEN TRUE THEN {then} WHEN FALSE THEN {otherwise} END)"
        raise TypeError(f"no SQL for {type(node).__name__}")  # unreachable once checked

    def branch(self, node: Node, kind: str) -> str:
        """A ternary's branch; a null literal takes the ternary's type."""
        if isinstance(node, Literal) and node.value is None:
            return f"CAST(NULL AS {_SQL_TYPES.get(kind, 'VARCHAR')})"
        return self.node(node)

    def literal(self, node: Literal) -> str:
        if node.value is None:
            return "CAST(NULL AS BOOLEAN)"  # only a `c ? null : null` rule, refused as not bool
        if isinstance(node.value, bool):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node.value, str):
            return quote_string(node.value)
        return number(node.value)

    def negate(self, node: Unary) -> str:
        return f"(- {self.node(node.operand)})"

    def binary(self, node: Binary) -> str:
        left = self.node(node.left)
        if node.op == "in":
            if isinstance(node.right, NamedList):
                return f"COALESCE({left} IN ({self.named_list(node.right.name)}), FALSE)"
            assert isinstance(node.right, ListLiteral)
            items = ", ".join(self.node(item) for item in node.right.items)
            return f"COALESCE({left} IN ({items}), FALSE)"
        right = self.node(node.right)
        if node.op in _COMPARE:
            return f"({left} {_COMPARE[node.op]} {right})"
        if node.op in ("/", "%"):
            right = f"NULLIF({right}, 0E0)"
        return self.no_nan(f"({left} {node.op} {right})")

    def call(self, node: Call) -> str:
        value = self.node(node.args[0])
        if node.function == "has":
            return f"({value} IS NOT NULL)"
        if node.function == "size":
            return f"CAST(length({value}) AS DOUBLE)"
        pattern = node.args[1]
        assert isinstance(pattern, Literal) and isinstance(pattern.value, str)
        if node.function == "matches":
            return f"{self.regex}({value}, {quote_string(pattern.value)})"
        escaped = pattern.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = _LIKE[node.function].format(escaped)
        return f"({value} LIKE {quote_string(like)} ESCAPE '\\')"
