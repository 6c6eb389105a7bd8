"""The demo's rules step (local.demo.rules) against the real local API: the list entry, the
approved active rule and the shadow rule land in the registry the demo's job reads, and the
decision log's rule hits are counted per rule."""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import pytest

from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws
from local.aws.api_resources import LOCAL_RULES_ROOT
from local.aws.fanout_resources import provision_fanout
from local.console.server import RunningConsole, running
from local.demo.rules import LIST_NAME, SHADOW, WATCHED, RulesStep, rule_counts, watched_card
from model_export.rules_registry import RuleRegistry


@pytest.fixture
def console() -> Iterator[tuple[LocalAws, RunningConsole]]:
    with LocalAws(streams=("labels",)) as aws:
        provision_fanout(aws.client, FanoutConfig())
        with running(aws.endpoint, alerts_table=FanoutConfig().alerts_table) as served:
            yield aws, served


def test_the_step_lists_the_card_and_publishes_the_approved_rule_and_the_shadow_rule(
    console: tuple[LocalAws, RunningConsole],
) -> None:
    aws, served = console
    step = RulesStep(served, "card_000105", delay_s=0.0)
    step.publish()
    assert not step.problems
    registry = RuleRegistry(LOCAL_RULES_ROOT, aws.endpoint)
    current = registry.ruleset_current()
    assert step.ruleset_version is not None
    assert current is not None and current != step.ruleset_version  # the shadow came after
    rules = {spec.name: spec for spec in registry.ruleset().rules}
    assert rules[str(WATCHED["name"])].mode == "active"
    assert rules[str(WATCHED["name"])].outcome == "alert"
    assert rules[str(SHADOW["name"])].mode == "shadow"
    assert str(WATCHED["name"]) in {s.name for s in registry.ruleset(step.ruleset_version).rules}
    assert registry.list_current(LIST_NAME) is not None


def test_a_step_whose_api_call_is_refused_reports_it_instead_of_raising(
    console: tuple[LocalAws, RunningConsole],
) -> None:
    step = RulesStep(console[1], "4111111111111111", delay_s=0.0)  # a card number: refused
    step.start().join(60)
    assert step.published_at is None
    assert step.problems and "422" in step.problems[0]


def test_the_watched_card_has_the_most_frauds_of_the_second_half_then_the_most_payments() -> None:
    cards = [("a", 1), ("b", 0), ("b", 0), ("b", 0), ("c", 0), ("c", 0), ("a", 1), ("c", 0)]
    cards += [("a", 0), ("a", 0), ("d", 1), ("b", 0)]
    records = [
        json.dumps({"transaction_id": f"t{i}", "card_id": c}) for i, (c, _) in enumerate(cards)
    ]
    frauds = {f"t{i}" for i, (_, label) in enumerate(cards) if label}
    records.append("not json")
    assert watched_card(records, 5, frauds) == "a"  # a: 1 fraud of 3 after the 5th; d: 1 of 1
    assert watched_card(records, 9, frauds) == "d"  # the only fraud after the 9th
    assert watched_card(records, 5) == "a"  # no labels: the busiest (a 3, b 1, c 2)


def test_rule_counts_count_active_hits_and_shadow_hits_and_the_alerts_among_them() -> None:
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE decisions (rule_hits VARCHAR[], shadow_rule_hits VARCHAR[], alerted BOOLEAN)"
    )
    watched, shadow = str(WATCHED["name"]), str(SHADOW["name"])
    connection.executemany(
        "INSERT INTO decisions VALUES (?, ?, ?)",
        [
            ([watched], None, True),
            ([watched, "other"], [shadow], True),
            (None, [shadow], False),
            (None, None, False),
            ([watched], None, False),
        ],
    )
    counts = {c.name: c for c in rule_counts(connection)}
    assert (counts[watched].matched, counts[watched].alerted) == (3, 2)
    assert (counts[shadow].matched, counts[shadow].alerted) == (2, 1)
    assert "matched     3 transactions,    2 of them alerted" in counts[watched].render()


def test_a_second_console_server_on_the_same_moto_starts_after_verdicts_were_audited(
    console: tuple[LocalAws, RunningConsole],
) -> None:
    """`make demo` calls the API during the replay, then serves the console again over the
    same moto: the audit bucket then holds records and keeps its retention."""
    aws, served = console
    RulesStep(served, "card_000105", delay_s=0.0).publish()  # audit records written
    with running(aws.endpoint, alerts_table=FanoutConfig().alerts_table) as again:
        assert again.origin.startswith("http://")
