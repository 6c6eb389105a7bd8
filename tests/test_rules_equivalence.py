"""The two evaluators agree: generated well-typed rules over generated rows (nulls, NaN,
infinities, zeros and signed zeros as divisors, unicode and LIKE/regex metacharacters in
strings) give the same boolean per row from the vectorized evaluator and from DuckDB running
the compiled SQL over the same rows."""

from __future__ import annotations

import math

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import Schema, compile_rule
from rules.language import BOOL, NUMBER, STRING
from rules.schema import FieldSpec
from tests.rules_support import Both

NUMBERS = ("x", "y", "z")
STRINGS = ("s", "t")
SCHEMA = Schema(
    {
        **{n: FieldSpec(n, NUMBER, True, "test") for n in NUMBERS},
        **{n: FieldSpec(n, STRING, True, "test") for n in STRINGS},
    },
    frozenset({"listed"}),
)
SPECIAL_NUMBERS = [0.0, -0.0, 1.0, -1.0, 2.0, 3.0, 0.5, 7.0, 1e308, -1e308, 5e-324]
SPECIAL_NUMBERS += [math.inf, -math.inf, math.nan, None]
SPECIAL_STRINGS = ["", "ecom", "pos", "a", "ab", "%", "_", "\\", "a\nb", "é", "É", "👍🏽", "x y"]
PATTERNS = ["^a", "b$", ".", "^$", "[a-c]+", r"\d", "é", "(ab|cd)", "a.*b", "^.{2}$", r"\w+"]
PATTERNS += ["[^a]", r"\s", "👍", "^(?:a|b){1,3}$", "%", "_"]

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
number_values = st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.floats(width=64))
string_values = st.one_of(st.none(), st.sampled_from(SPECIAL_STRINGS), text)


def cel_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return "'" + escaped.replace("\r", "\\r") + "'"


number_literals = st.one_of(
    st.sampled_from(["0", "1", "3", "0.5", "2.5", "1e308", "0.0", "100", "7"]),
    st.integers(-1000, 1000).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
string_literals = st.one_of(st.sampled_from(SPECIAL_STRINGS), text).map(cel_string)


@st.composite
def expression(draw: st.DrawFn, kind: str, depth: int) -> str:
    """CEL text of type `kind`, nested at most `depth` deep."""
    leaf = depth == 0 or draw(st.integers(0, 3)) == 0
    if kind == NUMBER:
        if leaf:
            return draw(st.one_of(st.sampled_from(NUMBERS), number_literals))
        form = draw(st.sampled_from(["arithmetic", "negate", "size", "ternary"]))
        if form == "arithmetic":
            left, right = draw(expression(NUMBER, depth - 1)), draw(expression(NUMBER, depth - 1))
            return f"({left} {draw(st.sampled_from('+-*/%'))} {right})"
        if form == "negate":
            return f"-({draw(expression(NUMBER, depth - 1))})"
        if form == "size":
            return f"size({draw(expression(STRING, depth - 1))})"
        return draw(ternary(NUMBER, depth))
    if kind == STRING:
        if leaf:
            return draw(st.one_of(st.sampled_from(STRINGS), string_literals))
        return draw(ternary(STRING, depth))
    if leaf:
        return draw(
            st.one_of(
                st.sampled_from(["true", "false"]),
                st.sampled_from(NUMBERS + STRINGS).map(lambda f: f"has({f})"),
            )
        )
    below = depth - 1
    form = draw(st.sampled_from(sorted(BOOL_FORMS)))
    if form == "compare":
        kind = draw(st.sampled_from([NUMBER, STRING, BOOL]))
        ops = ["==", "!="] if kind == BOOL else ["==", "!=", "<", "<=", ">", ">="]
        left, right = draw(expression(kind, below)), draw(expression(kind, below))
        return f"({left} {draw(st.sampled_from(ops))} {right})"
    if form == "logic":
        left, right = draw(expression(BOOL, below)), draw(expression(BOOL, below))
        return f"({left} {draw(st.sampled_from(['&&', '||']))} {right})"
    if form == "not":
        return f"!({draw(expression(BOOL, below))})"
    if form == "text":
        function = draw(st.sampled_from(["startsWith", "endsWith", "contains"]))
        return f"{draw(expression(STRING, below))}.{function}({draw(string_literals)})"
    if form == "matches":
        pattern = cel_string(draw(st.sampled_from(PATTERNS)))
        return f"{draw(expression(STRING, below))}.matches({pattern})"
    if form == "in numbers":
        items = draw(st.lists(number_literals, min_size=1, max_size=4))
        return f"({draw(expression(NUMBER, below))} in [{', '.join(items)}])"
    if form == "in strings":
        items = draw(st.lists(string_literals, min_size=1, max_size=4))
        return f"({draw(expression(STRING, below))} in [{', '.join(items)}])"
    if form == "in list":
        return f"({draw(expression(STRING, below))} in list('listed'))"
    return draw(ternary(BOOL, depth))


BOOL_FORMS = {"compare", "logic", "not", "text", "matches", "in numbers", "in strings"}
BOOL_FORMS |= {"in list", "ternary"}


def ternary(kind: str, depth: int) -> st.SearchStrategy[str]:
    branch = st.one_of(expression(kind, depth - 1), st.just("null"))
    return st.tuples(expression(BOOL, depth - 1), branch, expression(kind, depth - 1)).map(
        lambda t: f"({t[0]} ? {t[1]} : {t[2]})"
    )


@st.composite
def batches(draw: st.DrawFn) -> dict[str, list[object]]:
    rows = draw(st.integers(1, 10))
    columns: dict[str, list[object]] = {}
    for name in NUMBERS:
        columns[name] = draw(st.lists(number_values, min_size=rows, max_size=rows))
    for name in STRINGS:
        columns[name] = draw(st.lists(string_values, min_size=rows, max_size=rows))
    return columns


CONNECTION = duckdb.connect()
checked = {"rules": 0, "rows": 0, "hits": 0}


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    expression(BOOL, 4),
    batches(),
    st.lists(st.one_of(st.sampled_from(SPECIAL_STRINGS), text), max_size=4),
)
def test_the_vectorized_evaluator_and_the_compiled_sql_agree(
    source: str, columns: dict[str, list[object]], listed: list[str]
) -> None:
    rule = compile_rule(source, SCHEMA)  # the generator writes well-typed rules only
    both = Both(SCHEMA, columns, {"listed": listed}, CONNECTION)
    vectorized, sql = both.vectorized(rule), both.sql(rule)
    assert vectorized == sql, f"{source}\nrows {columns}\nSQL {sql}"
    checked["rules"] += 1
    checked["rows"] += len(sql)
    checked["hits"] += sum(sql)


def test_the_comparison_ran_on_rules_that_match_and_rules_that_do_not() -> None:
    """Guards the generator: an all-false comparison would prove little."""
    if not checked["rules"]:
        test_the_vectorized_evaluator_and_the_compiled_sql_agree()
    assert checked["rules"] >= 350
    assert 0.05 < checked["hits"] / checked["rows"] < 0.95, checked
