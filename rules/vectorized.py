"""A checked rule evaluated over a whole batch: one Arrow compute kernel (or one numpy
operation) per node of the tree, over whole columns, never a loop over rows. The batch is
a pandas DataFrame (the scoring UDF's) or a pyarrow Table / RecordBatch.

Semantics (language.SEMANTICS, the same as sql.py's): NaN reads as null, null propagates
through comparisons, arithmetic and functions, `&&` `||` `!` are Kleene, division and
remainder by zero are null, a null item is in no list, and a row matches only where the
rule is true."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rules.check import Rule
from rules.language import BOOL, NUMBER, STRING
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

ARROW_TYPES = {NUMBER: pa.float64(), STRING: pa.string(), BOOL: pa.bool_()}
_COMPARE = {
    "==": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}
_ARITHMETIC = {"+": pc.add, "-": pc.subtract, "*": pc.multiply, "/": pc.divide}
_TEXT = {
    "startsWith": pc.starts_with,
    "endsWith": pc.ends_with,
    "contains": pc.match_substring,
    "matches": pc.match_substring_regex,
}


class Lists:
    """Named lists of strings as Arrow arrays, built once and reused for every batch; a
    list it does not hold is empty. Membership is looked up in a hash table built once per
    list (a pandas Index, `index`), not rebuilt for every batch as Arrow's `is_in` would: a
    batch of 200 rows against a list of 100,000 entries then costs 200 lookups, not 100,000
    insertions."""

    def __init__(self, lists: Mapping[str, Iterable[str]] | None = None) -> None:
        self.arrays: dict[str, pa.Array] = {
            name: pa.array(list(entries), pa.string()) for name, entries in (lists or {}).items()
        }
        self._indexes: dict[str, pd.Index] = {}

    @classmethod
    def of_arrays(cls, arrays: Mapping[str, pa.Array]) -> Lists:
        lists = cls()
        lists.arrays.update(arrays)
        return lists

    def get(self, name: str) -> pa.Array:
        return self.arrays.get(name, pa.array([], pa.string()))

    def index(self, name: str) -> pd.Index:
        """The list's distinct non-null entries as a hash-indexed pandas Index."""
        if name not in self._indexes:
            values = pc.unique(pc.drop_null(self.get(name))).to_pandas()
            index = pd.Index(values, dtype=object)
            index.get_indexer([])  # builds the hash table now, not on the first batch
            self._indexes[name] = index
        return self._indexes[name]


def as_table(batch: pd.DataFrame | pa.Table | pa.RecordBatch) -> pa.Table:
    if isinstance(batch, pd.DataFrame):
        return pa.Table.from_pandas(batch, preserve_index=False)
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    return batch


def evaluate(
    rule: Rule,
    batch: pd.DataFrame | pa.Table | pa.RecordBatch,
    lists: Lists | None = None,
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """True where the rule matches a row (false where it is false or null)."""
    return evaluate_all([rule], batch, lists)[:, 0]


def evaluate_all(
    rules: Sequence[Rule],
    batch: pd.DataFrame | pa.Table | pa.RecordBatch,
    lists: Lists | None = None,
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """One column per rule, one row per row of the batch: true where that rule matches.
    The rules share the batch's columns as read (NaN made null) and each membership of a
    field in a named list, computed once for the batch. The batch's columns hold the
    schema's types (numbers of any width, strings); a column it lacks reads as null."""
    table = as_table(batch)
    evaluator = _Evaluator(table, lists or Lists())
    out = np.zeros((table.num_rows, len(rules)), dtype=bool)
    for i, rule in enumerate(rules):
        value = pc.fill_null(_array(evaluator.node(rule.root), table.num_rows), False)
        out[:, i] = value.to_numpy(zero_copy_only=False)
    return out


def _array(value: Any, rows: int) -> pa.Array:
    """A kernel's result as an array of `rows` values (a constant is repeated)."""
    if isinstance(value, pa.Scalar):
        return pa.repeat(value, rows)
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    return value


def _nan_to_null(value: Any) -> Any:
    return pc.if_else(pc.is_nan(value), pa.scalar(None, pa.float64()), value)


class _Evaluator:
    def __init__(self, table: pa.Table, lists: Lists) -> None:
        self.table = table
        self.rows = table.num_rows
        self.lists = lists
        self.shared: dict[tuple[str, ...], Any] = {}  # columns and memberships, per batch

    def node(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return pa.scalar(node.value, ARROW_TYPES.get(node.type, pa.float64()))
        if isinstance(node, Field):
            return self.column(node)
        if isinstance(node, Unary):
            operand = self.node(node.operand)
            return pc.invert(operand) if node.op == "!" else pc.negate(operand)
        if isinstance(node, Logical):
            combine = pc.and_kleene if node.op == "&&" else pc.or_kleene
            value = self.node(node.operands[0])
            for operand in node.operands[1:]:
                value = combine(value, self.node(operand))
            return value
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Conditional):
            kind = ARROW_TYPES.get(node.type, pa.bool_())
            then, otherwise = (self.typed(n, kind) for n in (node.then, node.otherwise))
            return pc.if_else(self.node(node.test), then, otherwise)
        raise TypeError(f"no evaluation for {type(node).__name__}")  # unreachable once checked

    def typed(self, node: Node, kind: pa.DataType) -> Any:
        """A ternary's branch; a null literal takes the other branch's type."""
        if isinstance(node, Literal) and node.value is None:
            return pa.scalar(None, kind)
        return self.node(node)

    def column(self, node: Field) -> Any:
        key = ("field", node.name)
        if key not in self.shared:
            self.shared[key] = self.read(node)
        return self.shared[key]

    def read(self, node: Field) -> Any:
        kind = ARROW_TYPES[node.type]
        if node.name not in self.table.column_names:  # an optional field absent from the batch
            return pa.nulls(self.rows, kind)
        values = self.table.column(node.name)
        if values.type != kind:
            values = pc.cast(values, kind)
        return _nan_to_null(values) if node.type == NUMBER else values

    def binary(self, node: Binary) -> Any:
        if node.op == "in" and isinstance(node.left, Field) and isinstance(node.right, NamedList):
            key = ("in", node.left.name, node.right.name)
            if key not in self.shared:
                self.shared[key] = self.membership(self.column(node.left), node.right)
            return self.shared[key]
        left = self.node(node.left)
        if node.op == "in":
            return self.membership(left, node.right)
        right = self.node(node.right)
        if node.op in _COMPARE:
            return _COMPARE[node.op](left, right)
        if node.op == "%":
            return self.remainder(left, right)
        result = _ARITHMETIC[node.op](left, right)
        if node.op == "/":
            zero = pc.equal(right, pa.scalar(0.0))
            result = pc.if_else(zero, pa.scalar(None, pa.float64()), result)
        return _nan_to_null(result)

    def remainder(self, left: Any, right: Any) -> Any:
        """C's fmod, null where either side is null or the divisor is zero (Arrow has no
        remainder kernel: one numpy call over the columns)."""
        a, b = (_array(v, self.rows) for v in (left, right))
        a_values = a.to_numpy(zero_copy_only=False)
        b_values = b.to_numpy(zero_copy_only=False)
        with np.errstate(all="ignore"):
            values = np.fmod(a_values, b_values)
        invalid = a.is_null().to_numpy(zero_copy_only=False) | b.is_null().to_numpy(
            zero_copy_only=False
        )
        invalid |= (b_values == 0) | np.isnan(values)
        return pa.array(values, pa.float64(), mask=invalid)

    def membership(self, item: Any, collection: Node) -> Any:
        if isinstance(collection, NamedList):
            items = _array(item, self.rows).to_pandas()  # null: None, in no list's index
            found = self.lists.index(collection.name).get_indexer(items) >= 0
            return pa.array(found, pa.bool_())
        else:
            assert isinstance(collection, ListLiteral)
            kind = ARROW_TYPES[collection.type]
            values = pa.array([i.value for i in collection.items if isinstance(i, Literal)], kind)
            if collection.type == NUMBER:  # -0.0 hashes apart from 0.0 but equals it
                values, item = pc.add(values, 0.0), pc.add(item, 0.0)
        return pc.is_in(_array(item, self.rows), value_set=values)  # null is in no list

    def call(self, node: Call) -> Any:
        if node.function == "has":
            return pc.is_valid(_array(self.node(node.args[0]), self.rows))
        text = _array(self.node(node.args[0]), self.rows)
        if node.function == "size":
            return pc.cast(pc.utf8_length(text), pa.float64())
        pattern = node.args[1]
        assert isinstance(pattern, Literal) and isinstance(pattern.value, str)
        return _TEXT[node.function](text, pattern=pattern.value)
