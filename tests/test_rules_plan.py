"""A rule set compiled once into a plan: evaluated together the rules give what each gives
alone, a sub-expression they share is computed once, and the batch may be pandas, Arrow or
the scoring UDF's arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bench.rules_cost import LIST_FIELDS, batch, list_entries, rule_texts, schema
from rules import compile_rule
from rules.vectorized import Lists, Plan, evaluate

LISTS = Lists({name: values[:500] for name, values in list_entries(1_000).items()})


def test_rules_evaluated_together_match_each_rule_evaluated_alone() -> None:
    rules = [compile_rule(text, schema()) for text in rule_texts(100)]
    frame = batch(500)
    together = Plan(rules).evaluate(frame, LISTS)
    alone = np.column_stack([evaluate(rule, frame, LISTS) for rule in rules])
    assert together.shape == (500, 100)
    assert (together == alone).all()
    assert together.any() and not together.all()  # rules that match and rules that do not


def test_a_sub_expression_shared_by_rules_is_computed_once() -> None:
    first = compile_rule("amount > 300 && channel == 'ecom'", schema())
    second = compile_rule("amount > 300 || card_id in list('trusted_cards')", schema())
    apart = len(Plan([first]).steps) + len(Plan([second]).steps)
    # shared: reading amount, the literal 300, amount's null mask and the comparison
    assert len(Plan([first, second]).steps) == apart - 4


def test_the_batch_may_be_pandas_arrow_or_the_udfs_arrays() -> None:
    rules = [compile_rule(text, schema()) for text in rule_texts(40)]
    frame = batch(300)
    plan = Plan(rules)
    expected = plan.evaluate(frame, LISTS)
    arrays = {name: frame[name].to_numpy() for name in frame.columns}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert (plan.evaluate(arrays, LISTS) == expected).all()
    assert (plan.evaluate(table, LISTS) == expected).all()
    assert (plan.evaluate(table.to_batches()[0], LISTS) == expected).all()
    assert set(LIST_FIELDS) <= set().union(*(r.lists for r in rules))
