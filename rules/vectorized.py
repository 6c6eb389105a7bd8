"""A checked rule evaluated over a whole batch with numpy, never a loop over rows in the
interpreter (but for a named list's membership: one hash lookup per row, and `size`). The
batch is a pandas DataFrame, a pyarrow Table / RecordBatch or a mapping of column names to
arrays (what the scoring UDF passes).

A set of rules is compiled once (`Plan`) into a list of steps over whole columns: a
sub-expression that appears in several rules (a field read, `amount > 300`, a membership of
a named list) is one step, computed once per batch. Each step is a numpy operation on
arrays of the batch's length (at the scoring UDF's batch sizes, a few hundred rows, an
Arrow compute call per node cost more in fixed overhead than in work); the string
functions are Arrow's kernels over one Arrow copy of each string read.

Semantics (language.SEMANTICS, the same as sql.py's): NaN reads as null, null propagates
through comparisons, arithmetic and functions, `&&` `||` `!` are Kleene, division and
remainder by zero are null, a null item is in no list, and a row matches only where the
rule is true. How values are held while a batch is evaluated:

- a number: float64, null as NaN (a NaN read or computed is null, so the two are one);
- a string: the values with '' where null, and a validity mask;
- a bool: two masks, where it is true and where it is false (neither: null); Kleene
  `a && b` is then true where both are true and false where either is false."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

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
Batch: TypeAlias = pd.DataFrame | pa.Table | pa.RecordBatch | Mapping[str, Any]
Mask = np.ndarray[Any, np.dtype[np.bool_]]
Numbers = np.ndarray[Any, np.dtype[np.float64]]


class Lists:
    """Named lists of strings as Arrow arrays, built once and reused for every batch; a
    list it does not hold is empty. Membership is looked up in a hash set built once per
    list (`members`), not rebuilt for every batch: a batch of 200 rows against a list of
    100,000 entries then costs 200 lookups, not 100,000 insertions."""

    def __init__(self, lists: Mapping[str, Iterable[str]] | None = None) -> None:
        self.arrays: dict[str, pa.Array] = {
            name: pa.array(list(entries), pa.string()) for name, entries in (lists or {}).items()
        }
        self._members: dict[str, frozenset[str]] = {}

    @classmethod
    def of_arrays(cls, arrays: Mapping[str, pa.Array]) -> Lists:
        lists = cls()
        lists.arrays.update(arrays)
        return lists

    def get(self, name: str) -> pa.Array:
        return self.arrays.get(name, pa.array([], pa.string()))

    def members(self, name: str) -> frozenset[str]:
        """The list's non-null entries as a hash set (built on the first call: the job
        calls it when a version is loaded, off the scoring thread)."""
        if name not in self._members:
            self._members[name] = frozenset(pc.drop_null(self.get(name)).to_pylist())
        return self._members[name]


@dataclass(frozen=True)
class Strings:
    """Strings of a batch: the values ('' where null) and where they are not null."""

    values: np.ndarray[Any, np.dtype[np.object_]]
    valid: Mask


@dataclass(frozen=True)
class Bools:
    """Three-valued: where the value is true, where it is false; null where neither. Each
    a bool array, or a numpy bool scalar for a constant (numpy broadcasts it)."""

    true: Any
    false: Any


class Context:
    """One batch as the steps read it: its length, its columns, the lists."""

    def __init__(self, batch: Batch, lists: Lists) -> None:
        self.columns: Mapping[str, Any]
        if isinstance(batch, pd.DataFrame):
            self.rows = len(batch)
            self.columns = cast(Mapping[str, Any], batch)  # `in` and [] read its columns
        elif isinstance(batch, pa.Table | pa.RecordBatch):
            self.rows = batch.num_rows
            self.columns = {name: _array(batch.column(name)) for name in batch.schema.names}
        else:
            self.columns = batch
            self.rows = len(next(iter(batch.values()))) if batch else 0
        self.lists = lists

    def has(self, name: str) -> bool:
        return name in self.columns


Value = Any  # Numbers (or a float scalar), Strings or Bools
Step = Callable[[list[Value], Context], Value]


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def read_numbers(values: Any) -> Numbers:
    """A column as float64 with null as NaN."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = _array(values)
        if values.type != pa.float64():
            values = pc.cast(values, pa.float64())
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    if isinstance(values, pd.Series):
        return values.to_numpy(np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)  # None reads as NaN


def read_strings(values: Any) -> Strings:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = _array(values)
        if values.type != pa.string():
            values = pc.cast(values, pa.string())
        objects = values.to_numpy(zero_copy_only=False)
    elif isinstance(values, pd.Series):
        objects = values.to_numpy(object)
    else:
        objects = np.asarray(values, dtype=object)
    valid = ~pd.isna(objects)  # None, NaN and pd.NA are null
    if valid.all():
        return Strings(objects, valid)
    return Strings(np.where(valid, objects, ""), valid)


def read_bools(values: Any) -> Bools:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = _array(values).to_numpy(zero_copy_only=False)
    objects = np.asarray(values, dtype=object)
    valid = ~pd.isna(objects)
    truth = np.zeros(len(objects), dtype=bool)
    truth[valid] = objects[valid].astype(bool)
    return Bools(truth & valid, ~truth & valid)


def _compare(op: str, left: Any, right: Any) -> Any:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _each(values: np.ndarray[Any, Any], function: Callable[[str], Any], kind: Any) -> Any:
    return np.fromiter(map(function, values), dtype=kind, count=len(values))


class Plan:
    """A set of rules compiled into steps, each sub-expression once (by its structure)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.steps: list[Step] = []
        self._slots: dict[tuple[Any, ...], int] = {}
        self.roots = [self._compile(rule.root) for rule in rules]

    def evaluate(self, batch: Batch, lists: Lists | None = None) -> Mask:
        """One column per rule, one row per row of the batch: true where that rule
        matches. The batch's columns hold the schema's types (numbers of any width,
        strings); a column it lacks reads as null."""
        context = Context(batch, lists or Lists())
        slots: list[Value] = []
        with np.errstate(all="ignore"):  # inf - inf, 0 / 0: NaN, read as null
            for step in self.steps:
                slots.append(step(slots, context))
        out = np.zeros((context.rows, len(self.roots)), dtype=bool)
        for i, root in enumerate(self.roots):
            out[:, i] = slots[root].true  # a scalar (a constant rule) broadcasts
        return out

    # ---- compilation: a node to the index of the step that computes it ----------------

    def _compile(self, node: Node) -> int:
        key = _key(node)
        if key not in self._slots:
            self.steps.append(self._step(node))
            self._slots[key] = len(self.steps) - 1
        return self._slots[key]

    def _step(self, node: Node) -> Step:
        if isinstance(node, Literal):
            return _literal(node)
        if isinstance(node, Field):
            return _field(node)
        if isinstance(node, Unary):
            operand = self._compile(node.operand)
            if node.op == "!":
                return lambda s, c: Bools(s[operand].false, s[operand].true)
            return lambda s, c: -s[operand]
        if isinstance(node, Logical):
            return _logical(node.op, [self._compile(o) for o in node.operands])
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Conditional):
            test, then, otherwise = (
                self._compile(n) for n in (node.test, node.then, node.otherwise)
            )
            return _conditional(node.type, test, then, otherwise)
        raise TypeError(f"no evaluation for {type(node).__name__}")  # unreachable once checked

    def _binary(self, node: Binary) -> Step:
        left = self._compile(node.left)
        if node.op == "in":
            return _membership(left, node.left.type, node.right)
        right = self._compile(node.right)
        op = node.op
        if op in ("==", "!=", "<", "<=", ">", ">="):
            if node.left.type == NUMBER:
                known = self._known([n for n in (node.left, node.right) if not _constant(n)])
                return lambda s, c: _number_compare(op, s[left], s[right], s[known])
            if node.left.type == STRING:
                return lambda s, c: _string_compare(op, s[left], s[right])
            return lambda s, c: _bool_compare(op, s[left], s[right])
        return _arithmetic(op, left, right)

    def _known(self, numbers: list[Node]) -> int:
        """The step of where none of these numbers is NaN (null): one per set of operands,
        shared by every comparison of them (`amount > 300` and `amount <= 50` share one)."""
        slots = sorted({self._compile(n) for n in numbers})
        key = ("known", *slots)
        if key not in self._slots:
            if slots:
                self.steps.append(lambda s, c: _not_nan(*(s[i] for i in slots)))
            else:  # literals only: a number literal is never null
                self.steps.append(lambda s, c: np.bool_(True))
            self._slots[key] = len(self.steps) - 1
        return self._slots[key]

    def _call(self, node: Call) -> Step:
        argument = self._compile(node.args[0])
        if node.function == "has":
            if node.args[0].type == NUMBER:
                return lambda s, c: _known(~np.isnan(s[argument]))
            if node.args[0].type == STRING:
                return lambda s, c: _known(s[argument].valid)
            return lambda s, c: _known(s[argument].true | s[argument].false)
        if node.function == "size":

            def size(s: list[Value], c: Context) -> Numbers:
                text: Strings = s[argument]
                lengths: Numbers = _each(text.values, len, np.float64)
                lengths[~text.valid] = np.nan
                return lengths

            return size
        pattern = node.args[1]
        assert isinstance(pattern, Literal) and isinstance(pattern.value, str)
        key = ("arrow", argument)  # the string's values ('' where null) as an Arrow array
        if key not in self._slots:
            self.steps.append(lambda s, c: pa.array(s[argument].values, pa.string()))
            self._slots[key] = len(self.steps) - 1
        return _text(node.function, argument, self._slots[key], pattern.value)


def evaluate(rule: Rule, batch: Batch, lists: Lists | None = None) -> Mask:
    """True where the rule matches a row (false where it is false or null)."""
    return Plan([rule]).evaluate(batch, lists)[:, 0]


def evaluate_all(rules: Sequence[Rule], batch: Batch, lists: Lists | None = None) -> Mask:
    """Plan(rules).evaluate(batch, lists): a caller that evaluates the same rules on many
    batches keeps the Plan instead (compiling costs about as much as one small batch)."""
    return Plan(rules).evaluate(batch, lists)


def _key(node: Node) -> tuple[Any, ...]:
    """What a node computes: equal keys, equal values (the structure, not the place)."""
    if isinstance(node, Literal):
        return ("literal", node.type, type(node.value).__name__, repr(node.value))
    if isinstance(node, Field):
        return ("field", node.type, node.name)
    if isinstance(node, NamedList):
        return ("list", node.name)
    if isinstance(node, Unary):
        return ("unary", node.op, _key(node.operand))
    if isinstance(node, Logical):
        return ("logical", node.op, *(_key(o) for o in node.operands))
    if isinstance(node, Binary):
        return ("binary", node.op, _key(node.left), _key(node.right))
    if isinstance(node, Call):
        return ("call", node.function, *(_key(a) for a in node.args))
    if isinstance(node, ListLiteral):
        return ("items", node.type, *(_key(i) for i in node.items))
    if isinstance(node, Conditional):
        return ("if", node.type, _key(node.test), _key(node.then), _key(node.otherwise))
    raise TypeError(f"no evaluation for {type(node).__name__}")  # unreachable once checked


def _constant(node: Node) -> bool:
    """A number literal, or the negation of one: never null."""
    while isinstance(node, Unary):
        node = node.operand
    return isinstance(node, Literal) and node.value is not None


def _not_nan(*numbers: Any) -> Any:
    known = ~np.isnan(numbers[0])
    for other in numbers[1:]:
        known = known & ~np.isnan(other)
    return known


def _known(mask: Mask) -> Bools:
    return Bools(mask, ~mask)


def _literal(node: Literal) -> Step:
    value = node.value
    if node.type == BOOL:
        truth = np.bool_(value)
        return lambda s, c: Bools(truth, ~truth)
    if node.type == STRING:
        assert isinstance(value, str)
        return lambda s, c: Strings(np.full(c.rows, value, dtype=object), np.ones(c.rows, bool))
    # a number, or the null branch of a ternary (the ternary's step reads it as null)
    number = np.float64(np.nan if value is None else value)
    return lambda s, c: number


def _field(node: Field) -> Step:
    name, kind = node.name, node.type

    def read(s: list[Value], c: Context) -> Value:
        if not c.has(name):  # an optional field absent from the batch
            if kind == NUMBER:
                return np.full(c.rows, np.nan)
            if kind == STRING:
                return Strings(np.full(c.rows, "", dtype=object), np.zeros(c.rows, bool))
            return Bools(np.zeros(c.rows, bool), np.zeros(c.rows, bool))
        if kind == NUMBER:
            return read_numbers(c.columns[name])
        if kind == STRING:
            return read_strings(c.columns[name])
        return read_bools(c.columns[name])

    return read


def _logical(op: str, operands: list[int]) -> Step:
    first, rest = operands[0], operands[1:]

    def combine(s: list[Value], c: Context) -> Bools:
        value: Bools = s[first]
        true, false = value.true, value.false
        for i in rest:
            other: Bools = s[i]
            if op == "&&":
                true, false = true & other.true, false | other.false
            else:
                true, false = true | other.true, false & other.false
        return Bools(true, false)

    return combine


def _number_compare(op: str, left: Any, right: Any, known: Any) -> Bools:
    """`known`: where neither side is NaN (null). A comparison with NaN is false, but for
    `!=`, so only `!=` needs it for its true part."""
    result = _compare(op, left, right)
    if op == "!=":
        return Bools(result & known, ~result)
    return Bools(result, ~result & known)


def _string_compare(op: str, left: Strings, right: Strings) -> Bools:
    result = np.asarray(_compare(op, left.values, right.values), dtype=bool)
    known = left.valid & right.valid
    return Bools(result & known, ~result & known)


def _bool_compare(op: str, left: Bools, right: Bools) -> Bools:
    known = (left.true | left.false) & (right.true | right.false)
    same = (left.true & right.true) | (left.false & right.false)
    result = same if op == "==" else ~same
    return Bools(result & known, ~result & known)


def _arithmetic(op: str, left: int, right: int) -> Step:
    def compute(s: list[Value], c: Context) -> Any:  # an array, or a scalar of literals
        a, b = s[left], s[right]
        if op == "+":
            return np.add(a, b)
        if op == "-":
            return np.subtract(a, b)
        if op == "*":
            return np.multiply(a, b)
        if op == "/":
            return np.where(b == 0, np.nan, np.divide(a, b))
        return np.where(b == 0, np.nan, np.fmod(a, b))  # C's fmod: the dividend's sign

    return compute


def _membership(item: int, kind: str, collection: Node) -> Step:
    """Never null: a null item is in no list."""
    if isinstance(collection, NamedList):
        name = collection.name

        def named(s: list[Value], c: Context) -> Bools:
            text: Strings = s[item]
            members = c.lists.members(name)
            return _known(_each(text.values, members.__contains__, bool) & text.valid)

        return named
    assert isinstance(collection, ListLiteral)
    values = [i.value for i in collection.items if isinstance(i, Literal)]

    def literal(s: list[Value], c: Context) -> Bools:
        found = np.zeros(c.rows, dtype=bool)
        if kind == NUMBER:  # NaN (null) equals nothing; -0.0 equals 0.0
            for value in values:
                found |= s[item] == value
        else:
            text: Strings = s[item]
            for value in values:
                found |= text.values == value
            found &= text.valid
        return _known(found)

    return literal


def _conditional(kind: str, test: int, then: int, otherwise: int) -> Step:
    """`c ? a : b`: a where c is true, b where false, null where c is null."""

    def choose(s: list[Value], c: Context) -> Value:
        condition: Bools = s[test]
        a, b = s[then], s[otherwise]
        if kind == NUMBER or kind == "null":
            return np.where(condition.true, a, np.where(condition.false, b, np.nan))
        if kind == STRING:
            a, b = _strings(a, c), _strings(b, c)
            values = np.where(condition.true, a.values, b.values)
            valid = (condition.true & a.valid) | (condition.false & b.valid)
            return Strings(values, valid)
        a, b = _bools(a), _bools(b)
        true = (condition.true & a.true) | (condition.false & b.true)
        false = (condition.true & a.false) | (condition.false & b.false)
        return Bools(true, false)

    return choose


def _strings(value: Value, c: Context) -> Strings:
    """A ternary's string branch; the null literal (a NaN number) reads as null."""
    if isinstance(value, Strings):
        return value
    return Strings(np.full(c.rows, "", dtype=object), np.zeros(c.rows, bool))


def _bools(value: Value) -> Bools:
    """A ternary's bool branch; the null literal (a NaN number) reads as null."""
    if isinstance(value, Bools):
        return value
    return Bools(np.bool_(False), np.bool_(False))


_TEXT = {
    "startsWith": pc.starts_with,
    "endsWith": pc.ends_with,
    "contains": pc.match_substring,
    "matches": pc.match_substring_regex,  # RE2, as DuckDB's regexp_matches
}


def _text(function: str, argument: int, arrow: int, pattern: str) -> Step:
    """A string function with a literal pattern: Arrow's kernel over the string's Arrow
    form (`arrow`, one per string, shared by every function of it): one C loop, not a
    Python call per row."""
    kernel = _TEXT[function]

    def test(s: list[Value], c: Context) -> Bools:
        valid = s[argument].valid
        result = kernel(s[arrow], pattern=pattern).to_numpy(zero_copy_only=False)
        return Bools(result & valid, ~result & valid)

    return test
