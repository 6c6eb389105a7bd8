"""The rule compiler against hostile input: more than 10,000 generated expressions — random
text built from the language's tokens and junk, and random syntax trees of any shape and
type — go through parse and check. Never does an exception other than RuleError escape, and
every rule that checks evaluates without error in both evaluators, to the same result, over
rows of nulls, NaN, infinities, zeros and unicode."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import Rule, RuleError, compile_rule
from rules.language import NUMBER
from tests.rules_support import LIST_NAMES, Both, default_schema

SCHEMA = default_schema()
FIELDS = sorted(SCHEMA.fields)
# Hypothesis draws a seed (and junk text); a seeded generator builds several expressions
# from it: cheap per expression, so more than ten thousand fit the time budget.
PER_EXAMPLE = 4
TEXT_EXAMPLES = 1_300
TREE_EXAMPLES = 1_300
counted = {"text": 0, "trees": 0, "accepted": 0, "refused": 0}
_NUMBERS = [0.0, -0.0, math.nan, math.inf, -math.inf, None]
_STRINGS = ["", None, "ecom", "é👍🏽", "%_\\", "a\nb"]
ROWS = {
    name: (_NUMBERS if spec.type == NUMBER else _STRINGS) for name, spec in SCHEMA.fields.items()
}
TOKENS = [
    *FIELDS[:12],
    "amout",
    "score",
    "x",
    "&&",
    "||",
    "!",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "?",
    ":",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    " in ",
    "list('trusted_cards')",
    "list(",
    "has(",
    "size(",
    ".startsWith(",
    ".matches(",
    ".contains(",
    "'",
    '"',
    "r'",
    "\\",
    "\\u",
    "'ecom'",
    "'(a+)+'",
    "'[a-z]{2,4}'",
    "0",
    "1",
    "3.5",
    "1e308",
    "1e999",
    "0x1F",
    "99999999999999999999",
    "true",
    "false",
    "null",
    " ",
    "\n",
    "// comment\n",
    "\x00",
    "é",
    "\ud7ff",
]


def hostile_text(rng: random.Random, junk: str) -> str:
    """Text from the language's tokens and `junk` (hypothesis' unicode), in one of four
    shapes: a token soup, a deep prefix, a long chain, or the junk alone."""
    shape = rng.randrange(4)
    if shape == 0:
        pieces = [rng.choice(TOKENS) for _ in range(rng.randrange(40))]
        pieces.insert(rng.randrange(len(pieces) + 1), junk)
        return "".join(pieces)
    if shape == 1:
        return rng.choice(["(", "!", "-", "[", "size(", "-("]) * rng.randrange(400) + "amount"
    if shape == 2:
        return "amount > 1 && " * rng.randrange(300) + rng.choice(["true", junk])
    return junk


LEAVES = [*FIELDS, "nope", "card_idd", "event_time", "true", "false", "null", "0", "-1"]
LEAVES += ["2.5", "1e300", "''", "'é'", '"x"', "-0.0", "7", "'ecom'", "1e-300"]
OPERATORS = ["&&", "||", "==", "!=", "<", ">=", "+", "-", "*", "/", "%"]
LISTS = [*LIST_NAMES, "unknown", ""]
FUNCTIONS = ["has", "size", "list", "lower", "matches"]
METHODS = ["startsWith", "endsWith", "contains", "size", "has", "matches"]
PATTERN_CHARS = "()[]{}*+?|^$.\\-a1,:=!<>PkDdwsbz0123456789'"


def tree(rng: random.Random, depth: int) -> str:
    """A random syntax tree of any shape and type mix, as CEL text."""
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(LEAVES)
    below = depth - 1
    form = rng.randrange(9)
    if form == 0:
        return f"({tree(rng, below)} {rng.choice(OPERATORS)} {tree(rng, below)})"
    if form == 1:
        return f"{rng.choice(['!', '-', '!!', '--'])}{tree(rng, below)}"
    if form == 2:
        return f"({tree(rng, below)} ? {tree(rng, below)} : {tree(rng, below)})"
    if form == 3:
        items = ", ".join(tree(rng, below) for _ in range(rng.randrange(4)))
        return f"({tree(rng, below)} in [{items}])"
    if form == 4:
        return f"({tree(rng, below)} in list('{rng.choice(LISTS)}'))"
    if form == 5:
        args = ", ".join(tree(rng, below) for _ in range(rng.randrange(3)))
        return f"{rng.choice(FUNCTIONS)}({args})"
    if form == 6:
        args = ", ".join(tree(rng, below) for _ in range(rng.randrange(3)))
        return f"{tree(rng, below)}.{rng.choice(METHODS)}({args})"
    if form == 7:
        pattern = "".join(rng.choice(PATTERN_CHARS) for _ in range(rng.randrange(15)))
        quoted = pattern.replace("\\", "\\\\").replace("'", "\\'")
        return f"{tree(rng, below)}.matches('{quoted}')"
    return "(" * rng.randrange(1, 4) + tree(rng, below) + ")" * rng.randrange(1, 4)


@pytest.fixture(scope="module")
def both() -> Both:
    return Both(SCHEMA, ROWS, {name: ["ecom", "é👍🏽"] for name in LIST_NAMES})


def compiled(text: str) -> Rule | None:
    """The rule, or None when refused: any exception but RuleError fails the test."""
    try:
        rule = compile_rule(text, SCHEMA)
    except RuleError as refused:
        assert str(refused).startswith(f"{refused.line}:{refused.column}: ")
        counted["refused"] += 1
        return None
    counted["accepted"] += 1
    return rule


def evaluates_alike(both: Both, rule: Rule) -> None:
    assert both.vectorized(rule) == both.sql(rule), rule.source


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


@fuzz(TEXT_EXAMPLES)
@given(st.randoms(use_true_random=False), st.text(max_size=30))
def test_random_text_is_refused_with_a_rule_error_or_accepted_and_evaluable(
    both: Both, rng: random.Random, junk: str
) -> None:
    for _ in range(PER_EXAMPLE):
        counted["text"] += 1
        rule = compiled(hostile_text(rng, junk))
        if rule is not None:
            evaluates_alike(both, rule)


@fuzz(TREE_EXAMPLES)
@given(st.randoms(use_true_random=False))
def test_random_trees_are_refused_with_a_rule_error_or_accepted_and_evaluable(
    both: Both, rng: random.Random
) -> None:
    for _ in range(PER_EXAMPLE):
        counted["trees"] += 1
        rule = compiled(tree(rng, 6))
        if rule is not None:
            evaluates_alike(both, rule)


def test_more_than_ten_thousand_expressions_went_through_and_some_were_accepted() -> None:
    if not counted["text"] or not counted["trees"]:
        pytest.skip("counts what the two fuzz tests above ran: run the whole module")
    assert counted["text"] + counted["trees"] >= 10_000
    assert counted["accepted"] >= 50 and counted["refused"] >= 5_000, counted
