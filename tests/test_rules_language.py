"""The rule language on written examples: what it accepts, what it refuses and where, and
the defined behaviours (nulls, NaN, division by zero) in both evaluators — the vectorized
one and DuckDB running the compiled SQL — on the same rows."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES
from rules import RuleError, compile_rule
from rules.language import MAX_CHARS, MAX_DEPTH, MAX_NODES
from rules.sql import to_sql
from rules.vectorized import Lists, evaluate
from tests.rules_support import Both, default_schema

SCHEMA = default_schema()
EXAMPLE = (
    "channel == 'ecom' && amount > 300.0 && card_txn_count_10m >= 3 "
    "&& !(card_id in list('trusted_cards'))"
)
NAN = math.nan
# Rows with a missing channel and country, a NaN feature, a zero amount, unicode.
ROWS = {
    "card_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
    "channel": ["ecom", "ecom", "pos", None, "ecom", "ecom"],
    "country": ["FR", None, "NG", "DE", "ÉÊ", "FR"],
    "amount": [450.0, 450.0, 450.0, 450.0, 0.0, 301.0],
    "card_txn_count_10m": [3.0, 5.0, 4.0, 3.0, 9.0, NAN],
    "card_avg_amount_30d": [100.0, 0.0, NAN, 50.0, 0.0, 10.0],
    "score": [0.9, NAN, 0.2, 0.5, 0.0, 0.99],
}
LISTS = {"trusted_cards": ["c2"], "compromised_cards": [], "risky_countries": ["NG", "ÉÊ"]}


@pytest.fixture(scope="module")
def both() -> Both:
    return Both(SCHEMA, ROWS, LISTS)


def hits(both: Both, text: str) -> list[bool]:
    rule = compile_rule(text, SCHEMA)
    vectorized, sql = both.vectorized(rule), both.sql(rule)
    assert vectorized == sql, f"{text}: vectorized {vectorized} != SQL {sql}"
    return vectorized


def test_the_schema_has_the_transaction_fields_the_features_and_the_score() -> None:
    assert set(FEATURE_NAMES) <= set(SCHEMA.fields)
    assert {"card_id", "terminal_id", "currency", "channel", "country", "score"} <= set(
        SCHEMA.fields
    )
    assert "event_time" not in SCHEMA.fields  # timestamps are read through the time features
    assert SCHEMA.fields["country"].optional and not SCHEMA.fields["amount"].optional
    assert len(SCHEMA.fields) == len(FEATURE_NAMES) + 11 - 1 + 1  # amount is both; + score


def test_the_issue_example_matches_ecommerce_over_300_on_a_busy_untrusted_card(
    both: Both,
) -> None:
    # c2 is trusted, c3 is pos, c4 has no channel, c5 is 0.0, c6's count is NaN
    assert hits(both, EXAMPLE) == [True, False, False, False, False, False]


def test_a_pandas_frame_gives_what_the_arrow_table_gives(both: Both) -> None:
    rule = compile_rule(EXAMPLE, SCHEMA)
    frame = pd.DataFrame(ROWS)
    assert list(evaluate(rule, frame, Lists(LISTS))) == both.vectorized(rule)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a missing optional field is null: comparisons of it are null, so no match either way
        ("channel == 'pos'", [False, False, True, False, False, False]),
        ("channel != 'pos'", [True, True, False, False, True, True]),
        ("!has(channel) || channel != 'pos'", [True, True, False, True, True, True]),
        # Kleene: false && null is false, true || null is true
        ("!(channel == 'pos' && amount > 1000)", [True, True, True, True, True, True]),
        ("channel == 'pos' || amount > 400", [True, True, True, True, False, False]),
        # NaN reads as null: a NaN feature neither passes nor fails a comparison
        ("card_txn_count_10m >= 0", [True, True, True, True, True, False]),
        ("!(card_txn_count_10m >= 0)", [False, False, False, False, False, False]),
        ("has(card_txn_count_10m)", [True, True, True, True, True, False]),
        ("has(score) && score > 0.5", [True, False, False, False, False, True]),
        # division and remainder by zero are null
        ("amount / card_avg_amount_30d > 3", [True, False, False, True, False, True]),
        (
            "amount / card_avg_amount_30d >= 0 || amount / card_avg_amount_30d < 0",
            [True, False, False, True, False, True],
        ),
        (
            "amount % card_avg_amount_30d >= 0 || amount % card_avg_amount_30d < 0",
            [True, False, False, True, False, True],
        ),
        ("amount % 7 == 2", [True, True, True, True, False, False]),
        # membership is never null: a null item is in no list (as in CEL)
        ("country in list('risky_countries')", [False, False, True, False, True, False]),
        ("!(country in ['FR', 'DE'])", [False, True, True, False, True, False]),
        ("!(country in list('risky_countries'))", [True, True, False, True, False, True]),
        ("country.startsWith('É') && size(country) == 2", [False] * 4 + [True, False]),
        ("card_id.matches('^c[2-4]$')", [False, True, True, True, False, False]),
        # a ternary with a null condition is null
        ("(has(channel) ? channel : 'none') == 'none'", [False, False, False, True, False, False]),
        ("(channel == 'ecom' ? score : null) > 0.5", [True, False, False, False, False, True]),
    ],
)
def test_nulls_nan_and_zero_divisors_behave_as_documented_in_both_evaluators(
    both: Both, text: str, expected: list[bool]
) -> None:
    assert hits(both, text) == expected


def test_a_column_absent_from_the_batch_reads_as_null(both: Both) -> None:
    rule = compile_rule("has(device_id) || device_id == 'x'", SCHEMA)
    assert both.vectorized(rule) == [False] * 6


@pytest.mark.parametrize(
    ("text", "line", "column", "quoted", "reason"),
    [
        ("amout > 300", 1, 1, "amout", "unknown field 'amout'; did you mean 'amount'?"),
        ("amount > 'high'", 1, 1, "amount > 'high'", "`>` takes number > number"),
        ("channel == 'ecom' &&\n  amount + 'x' > 1", 2, 3, "amount + 'x'", "`+` takes"),
        ("card_id in list('trusted')", 1, 12, "list('trusted')", "unknown list 'trusted'"),
        ("card_id.matches('(a+)+')", 1, 17, "'(a+)+'", "unbounded quantifier"),
        ("card_id.matches('(x)\\\\1')", 1, 17, "'(x)\\\\1'", "backreference"),
        ("card_id.matches('(?<=a)b')", 1, 17, "'(?<=a)b'", "lookahead or lookbehind"),
        ("card_id.matches('[')", 1, 17, "'['", "bad regular expression"),
        ("card_id.matches('a{500}')", 1, 17, "'a{500}'", "repetition count above 100"),
        ("amount + 1", 1, 1, "amount + 1", "a rule must be true or false, not a number"),
        ("country == null", 1, 1, "country == null", "use has(field)"),
        ("amount > 3 &&", 1, 14, "amount > 3 &&", "ends too early"),
        ("amount >> 3", 1, 9, "amount >> 3", "unexpected `>`"),
        ("amount > 3 ; drop", 1, 12, "amount > 3 ; drop", "unexpected character ';'"),
        ("lower(channel) == 'ecom'", 1, 1, "lower(channel)", "unknown function 'lower'"),
        ("channel.startsWith(country)", 1, 1, "channel.startsWith(country)", "string literal"),
        ("amount in ['a', 'b']", 1, 12, "'a'", "a number is compared with a list of string"),
        ("amount in list('trusted_cards')", 1, 1, "amount in list", "named lists hold strings"),
        ("has(amount + 1)", 1, 1, "has(amount + 1)", "has() takes a field name"),
        ("amount > 1e999", 1, 10, "1e999", "too large for a double"),
        ("(amount > 3 ? 'a' : 1) == 1", 1, 2, "amount > 3 ? 'a' : 1", "one type"),
        ("(has(country) ? null : null) == 1", 1, 2, "has(country) ? null : null", "both"),
    ],
)
def test_a_refused_rule_names_the_place_and_the_offending_text(
    text: str, line: int, column: int, quoted: str, reason: str
) -> None:
    with pytest.raises(RuleError) as refused:
        compile_rule(text, SCHEMA)
    error = refused.value
    assert (error.line, error.column) == (line, column), str(error)
    assert error.text.startswith(quoted), str(error)
    assert reason.replace("use has(field)", "has(field)") in str(error)
    assert str(error).startswith(f"{line}:{column}: ")


def test_a_rule_longer_than_the_limit_is_refused_before_parsing() -> None:
    text = " || ".join(f"amount > {i}" for i in range(400))
    assert len(text) > MAX_CHARS
    with pytest.raises(RuleError, match=f"more than the limit of {MAX_CHARS:,}"):
        compile_rule(text, SCHEMA)


def test_a_rule_nested_deeper_than_the_limit_is_refused_with_the_deep_place() -> None:
    depth = MAX_DEPTH + 5
    text = "(" * depth + "amount" + ")" * depth + " > 1"  # parentheses add no depth
    assert compile_rule(text, SCHEMA)
    text = "-" * depth + "amount > 1"
    with pytest.raises(RuleError, match=f"deeper than the limit of {MAX_DEPTH}") as refused:
        compile_rule(text, SCHEMA)
    assert refused.value.column == MAX_DEPTH  # the first node past the limit


def test_a_rule_with_more_nodes_than_the_limit_is_refused() -> None:
    text = "amount in [" + ",".join("1" for _ in range(MAX_NODES)) + "]"
    assert len(text) <= MAX_CHARS
    with pytest.raises(RuleError, match=f"more than {MAX_NODES} nodes"):
        compile_rule(text, SCHEMA)


def test_a_long_chain_of_conditions_counts_as_one_level() -> None:
    text = " && ".join(f"amount > {i}" for i in range(MAX_DEPTH * 2))
    assert compile_rule(text, SCHEMA).root.type == "bool"


def test_the_sql_reads_numbers_as_doubles_and_never_yields_null() -> None:
    sql = to_sql(compile_rule('amount > 300 && country == "it\'s"', SCHEMA))
    assert sql.startswith("COALESCE(") and sql.endswith(", FALSE)")
    assert "300.0E0" in sql and "'it''s'" in sql  # a DOUBLE literal, a quoted quote


def test_cel_escapes_raw_strings_and_comments_are_read() -> None:
    both = Both(SCHEMA, {"card_id": ["a\\b", "a'b\n", "é"]}, {})
    assert hits(both, "card_id == r'a\\b'  // raw: the backslash stays") == [True, False, False]
    assert hits(both, "card_id == 'a\\'b\\n'") == [False, True, False]
    assert hits(both, "card_id == '\\u00e9' || card_id == \"\\u00E9\"") == [False, False, True]


def test_an_empty_batch_and_a_column_of_nothing_but_nulls_evaluate() -> None:
    rule = compile_rule("amount > 0 && !(country == 'FR')", SCHEMA)
    empty = pd.DataFrame(
        {"amount": pd.Series([], dtype=float), "country": pd.Series([], dtype=object)}
    )
    assert list(evaluate(rule, empty)) == []
    nulls = pd.DataFrame({"amount": [1, 2], "country": [None, None]})  # ints, an all-null column
    assert list(evaluate(rule, nulls)) == [False, False]
