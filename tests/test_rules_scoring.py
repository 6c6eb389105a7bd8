"""The analysts' rules in the scoring UDF (udfs.rulesets, udfs.scoring.decide): outcomes by
priority on the model's batch, RULE_<name> in the reasons, every hit (shadow included) in
the decision; a rule set that cannot load or verify leaves the previous one in force and
is counted; an unreadable registry, a list entry's expiry and a failing evaluation never
stop scoring."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pyflink.fn_execution.metrics.process.metric_impl import GenericMetricGroup
from pyflink.table.udf import FunctionContext

from contracts.model import VERSIONS_DIR
from contracts.rules import LIST_FILE, LISTS_DIR
from flink_job.features import FEATURE_NAMES, feature_schema_hash
from local.aws import LocalAws, free_port
from model_export.rules_registry import RuleRegistry
from tests.test_registry import write_model
from tests.test_rules_registry import csv_bytes, rule, ruleset
from udfs.metrics import RULE_FAILURES, RULES_FETCH_FAILURES, RULESET_SWAPS, RULESETS_REFUSED
from udfs.model import ScoringModel, load_model
from udfs.rulesets import RuleServer, RuleSource
from udfs.scoring import TRANSACTION_INPUTS, ScoreTransactions, decide

ROWS = 6
CARDS = ["card_blocked", "card_test", "card_a", "card_b", "card_blocked", None]
CHANNELS = ["ecom", "ecom", "pos", "ecom", "pos", None]
AMOUNTS = [500.0, 900.0, 20.0, 350.0, 10.0, 0.0]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ScoringModel:
    """Scores every transaction 0.5; threshold 0.4 or 0.9 by test (see `with_threshold`)."""
    directory = write_model(tmp_path_factory.mktemp("model"), "m-1", threshold=0.9)
    return load_model(str(directory), FEATURE_NAMES, feature_schema_hash())


def with_threshold(model: ScoringModel, threshold: float) -> ScoringModel:
    raw = {**model.manifest.raw, "threshold": threshold}
    from udfs.model import Manifest

    return ScoringModel(Manifest.from_json(raw), model.onnx_bytes)


def transactions() -> dict[str, pd.Series]:
    return {
        "card_id": pd.Series(CARDS, dtype=object),
        "channel": pd.Series(CHANNELS, dtype=object),
        "amount": pd.Series(AMOUNTS),
    }


def matrix() -> np.ndarray[Any, Any]:
    return np.zeros((ROWS, len(FEATURE_NAMES)), dtype=np.float32)


def publish(registry: RuleRegistry, *rules: dict[str, Any]) -> str:
    if registry.list_current("blocked_cards") is None:
        entries = csv_bytes(
            "card_blocked,stolen,ana,", "card_gone,expired,ana,2020-01-01T00:00:00Z"
        )
        registry.promote_list(
            "blocked_cards", registry.publish_list("blocked_cards", "card_id", entries)
        )
        tests = csv_bytes("card_test,the acquirer's test card,ana,")
        registry.promote_list("test_cards", registry.publish_list("test_cards", "card_id", tests))
    version = registry.publish_ruleset(ruleset(*rules))
    registry.promote_ruleset(version)
    return version


def server(root: str, endpoint: str | None = None) -> RuleServer:
    return RuleServer(RuleSource(root, FEATURE_NAMES, endpoint), 60.0)


STANDARD = (
    rule("blocked", "card_id in list('blocked_cards')", priority=20, severity="medium"),
    rule("test_card", "card_id in list('test_cards')", outcome="suppress", priority=10),
    rule("big_ecom", "channel == 'ecom' && amount > 300.0", outcome="tag", priority=30),
    rule("shadow_pos", "channel == 'pos'", mode="shadow", priority=5),
    rule("never", "amount > 1000000.0", mode="disabled", priority=1),
)


def test_rules_alert_below_the_threshold_suppress_above_it_and_tag_their_alerts(
    model: ScoringModel, tmp_path: Path
) -> None:
    registry = RuleRegistry(str(tmp_path / "rules"))
    version = publish(registry, *STANDARD)
    rules = server(registry.root).rules
    assert rules is not None and rules.version == version
    assert [c.spec.name for c in rules.rules] == ["shadow_pos", "test_card", "blocked", "big_ecom"]

    low = decide(with_threshold(model, 0.4), matrix(), rules, transactions())  # model alerts all
    assert low["alerted"].tolist() == [True, False, True, True, True, True]  # test card: no
    assert low["rule_hits"].tolist() == [
        ["blocked", "big_ecom"],
        ["test_card", "big_ecom"],
        None,
        ["big_ecom"],
        ["blocked"],
        None,
    ]
    assert low["shadow_rule_hits"].tolist() == [
        None,
        None,
        ["shadow_pos"],
        None,
        ["shadow_pos"],
        None,
    ]
    assert low["codes"][0][:2] == ["RULE_BLOCKED", "RULE_BIG_ECOM"]  # rules first, then model's
    assert low["reasons"][0][:2] == ["matched rule blocked", "matched rule big_ecom"]
    assert low["contributions"][0][:2] == [0.0, 0.0]
    assert len(low["codes"][0]) > 2  # the score reached the threshold: the model's reasons too
    assert low["codes"][1] is None and low["severity"][1] is None  # suppressed
    assert low["codes"][3][0] == "RULE_BIG_ECOM" and low["codes"][2][0] != "RULE_SHADOW_POS"
    assert set(low["ruleset_version"]) == {version}

    high = decide(with_threshold(model, 0.9), matrix(), rules, transactions())  # model: none
    assert high["alerted"].tolist() == [True, False, False, False, True, False]
    assert high["codes"][0] == ["RULE_BLOCKED", "RULE_BIG_ECOM"]  # no model reason below it
    assert high["severity"][0] == "medium"  # the rule's
    assert high["rule_hits"][3] == ["big_ecom"] and high["codes"][3] is None  # a tag alone


def test_the_first_decisive_rule_by_priority_decides_and_suppress_wins_a_tie(
    model: ScoringModel, tmp_path: Path
) -> None:
    registry = RuleRegistry(str(tmp_path / "rules"))
    everything = "amount >= 0.0"
    cases = [  # (suppress priority, alert priority, alerted)
        (10, 20, False),
        (20, 10, True),
        (10, 10, False),
    ]
    for suppress, alert, expected in cases:
        publish(
            registry,
            rule("all_off", everything, outcome="suppress", priority=suppress),
            rule("all_on", everything, priority=alert, severity="low"),
        )
        rules = server(registry.root).rules
        decided = decide(with_threshold(model, 0.9), matrix(), rules, transactions())
        assert decided["alerted"].tolist() == [expected] * ROWS, (suppress, alert)
        assert decided["rule_hits"][0] == sorted(
            ["all_off", "all_on"],
            key=lambda n: (suppress if n == "all_off" else alert, n != "all_off"),
        )


def test_an_alert_rules_severity_raises_the_models_and_never_lowers_it(
    model: ScoringModel, tmp_path: Path
) -> None:
    registry = RuleRegistry(str(tmp_path / "rules"))
    publish(registry, rule("low_everywhere", "amount >= 0.0", severity="low"))
    rules = server(registry.root).rules
    model_only = decide(with_threshold(model, 0.05), matrix())
    with_rule = decide(with_threshold(model, 0.05), matrix(), rules, transactions())
    assert with_rule["severity"].tolist() == model_only["severity"].tolist()  # 0.5: medium
    assert set(model_only["severity"]) == {"medium"}


def test_an_expired_list_entry_leaves_the_list(model: ScoringModel, tmp_path: Path) -> None:
    registry = RuleRegistry(str(tmp_path / "rules"))
    publish(registry, rule("blocked", "card_id in list('blocked_cards')"))
    rules = server(registry.root).rules
    assert rules is not None
    blocked = rules.lists.get("blocked_cards").to_pylist()
    assert blocked == ["card_blocked"]  # card_gone expired in 2020


def tamper(registry: RuleRegistry, name: str) -> None:
    """Rewrites the current version of a list in place (what an attacker with write access
    to the bucket, or a torn copy, would leave): its manifest's sha256 no longer matches."""
    version = registry.list_current(name)
    store = registry.list_store(name)
    store.write(f"{VERSIONS_DIR}/{version}/{LIST_FILE}", csv_bytes("card_a,x,mallory,"))


def test_a_rule_set_that_fails_to_verify_leaves_the_previous_in_force_and_is_counted_once(
    model: ScoringModel, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = RuleRegistry(str(tmp_path / "rules"))
    good = publish(registry, rule("blocked", "card_id in list('blocked_cards')"))
    rules_server = server(registry.root)
    assert rules_server.drain_counts() == {RULESET_SWAPS: 1}

    # a list version whose file does not match its manifest
    entries = csv_bytes("card_blocked,stolen,ana,", "card_a,stolen,ana,")
    registry.promote_list(
        "blocked_cards", registry.publish_list("blocked_cards", "card_id", entries)
    )
    tamper(registry, "blocked_cards")
    with caplog.at_level(logging.ERROR, logger="udfs.rulesets"):
        rules_server.poll()
        rules_server.poll()  # the same refused combination is not counted again
    assert "the files do not belong together" in caplog.text
    assert rules_server.drain_counts() == {RULESETS_REFUSED: 1}
    assert rules_server.rules is not None and rules_server.rules.version == good
    decided = decide(with_threshold(model, 0.9), matrix(), rules_server.rules, transactions())
    assert decided["alerted"].tolist() == [True, False, False, False, True, False]  # old list

    # a rule set whose pointer names a list that is gone, then one that is not JSON
    (tmp_path / "rules" / LISTS_DIR / "test_cards" / "current.json").unlink()
    bad = registry.rulesets
    text = ruleset(rule("t", "card_id in list('blocked_cards')"))
    manifest = {"version": "r-broken", "rules": 1, "lists": [], "ruleset_sha256": "0" * 64}
    bad.write(f"{VERSIONS_DIR}/r-broken/ruleset.json", text)
    bad.write(f"{VERSIONS_DIR}/r-broken/manifest.json", json.dumps(manifest).encode())
    registry.promote_ruleset("r-broken")
    rules_server.poll()
    assert rules_server.drain_counts() == {RULESETS_REFUSED: 1}
    assert rules_server.rules.version == good

    # the registry fixed (a new list version): the next poll swaps
    entries = csv_bytes("card_blocked,stolen,ana,", "card_b,stolen,ana,")
    registry.promote_list(
        "blocked_cards", registry.publish_list("blocked_cards", "card_id", entries)
    )
    fixed = publish(registry, rule("blocked", "card_id in list('blocked_cards')", severity="low"))
    rules_server.poll()
    assert rules_server.drain_counts() == {RULESET_SWAPS: 1}
    assert rules_server.rules.version == fixed


def test_no_rule_set_published_decides_by_the_model_alone(
    model: ScoringModel, tmp_path: Path
) -> None:
    rules_server = server(str(tmp_path / "nothing"))
    assert rules_server.rules is None and rules_server.drain_counts() == {}
    decided = decide(with_threshold(model, 0.4), matrix(), rules_server.rules, transactions())
    assert decided["alerted"].all() and decided["ruleset_version"].isna().all()
    assert decided["rule_hits"].isna().all()


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=("rules",)) as local:
        yield local


class Counted:
    """Stands in for a PyFlink counter, which counts only inside a Beam worker."""

    def __init__(self) -> None:
        self.count = 0

    def inc(self, n: int = 1) -> None:
        self.count += n


def scorer(model_dir: Path, rules_root: str, endpoint: str | None) -> ScoreTransactions:
    features = (tuple(FEATURE_NAMES), feature_schema_hash())
    udf = ScoreTransactions(str(model_dir), features, 60_000, endpoint, rules=(rules_root, 50))
    udf.open(FunctionContext(GenericMetricGroup(None, None), {}))
    udf._counters = {name: Counted() for name in udf._counters}
    udf._scored = Counted()
    return udf


def columns() -> list[pd.Series]:
    values = transactions()
    return [values.get(name, pd.Series([None] * ROWS, dtype=object)) for name in TRANSACTION_INPUTS]


def test_the_udf_applies_the_rules_from_s3_and_from_its_local_copy_when_s3_is_unreachable(
    aws: LocalAws, tmp_path: Path
) -> None:
    root = f"s3://rules/{tmp_path.name}"
    publish(RuleRegistry(root, aws.endpoint), rule("blocked", "card_id in list('blocked_cards')"))
    model_dir = write_model(tmp_path / "model", "m-1", threshold=0.9)
    vectors = pd.Series([np.zeros(len(FEATURE_NAMES), "<f4").tobytes()] * ROWS)

    udf = scorer(model_dir, root, aws.endpoint)
    try:
        decided = udf.eval(vectors, *columns())
    finally:
        udf.close()
    assert decided["alerted"].tolist() == [True, False, False, False, True, False]

    dead = f"http://127.0.0.1:{free_port()}"
    udf = scorer(model_dir, root, dead)  # S3 unreachable: the worker's local copy
    try:
        again = udf.eval(vectors, *columns())
        assert again["alerted"].tolist() == decided["alerted"].tolist()
        assert set(again["ruleset_version"]) == set(decided["ruleset_version"])
        assert udf._counters[RULES_FETCH_FAILURES].count >= 1  # counted on eval
    finally:
        udf.close()


def test_a_rule_that_fails_on_a_batch_falls_back_to_the_model_and_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = RuleRegistry(str(tmp_path / "rules"))
    publish(registry, rule("blocked", "card_id in list('blocked_cards')"))
    udf = scorer(write_model(tmp_path / "model", "m-1", threshold=0.4), registry.root, None)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("an evaluator bug")

    monkeypatch.setattr("rules.vectorized.Plan.evaluate", broken)
    vectors = pd.Series([np.zeros(len(FEATURE_NAMES), "<f4").tobytes()] * ROWS)
    try:
        decided = udf.eval(vectors, *columns())
        failures = udf._counters[RULE_FAILURES].count
    finally:
        udf.close()
    assert decided["alerted"].all()  # the model's decisions (threshold 0.4, score 0.5)
    assert decided["ruleset_version"].isna().all()
    assert failures == ROWS


def test_a_worker_that_starts_while_s3_is_unreachable_applies_the_cached_rules(
    aws: LocalAws, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = f"s3://rules/{tmp_path.name}"
    registry = RuleRegistry(root, aws.endpoint)
    old = publish(registry, rule("old", "amount > 1.0"))
    version = publish(registry, rule("blocked", "card_id in list('blocked_cards')"))
    cache = tmp_path / "cache"
    online = RuleServer(RuleSource(root, FEATURE_NAMES, aws.endpoint, cache), 60.0)
    assert online.rules is not None and online.rules.version == version  # and cached

    dead = f"http://127.0.0.1:{free_port()}"
    cached = RuleSource(str(cache), FEATURE_NAMES)
    with caplog.at_level(logging.WARNING, logger="udfs.rulesets"):
        offline = RuleServer(RuleSource(root, FEATURE_NAMES, dead, cache), 60.0, cached)
    assert "starting with the cached rule set" in caplog.text
    assert offline.rules is not None and offline.rules.key == online.rules.key
    assert offline.drain_counts() == {RULES_FETCH_FAILURES: 1, RULESET_SWAPS: 1}
    assert sorted(p.name for p in (cache / "rulesets" / VERSIONS_DIR).iterdir()) == [version]
    assert old != version
    decided = decide(
        with_threshold(model_for(tmp_path), 0.9), matrix(), offline.rules, transactions()
    )
    assert decided["alerted"].tolist() == [True, False, False, False, True, False]

    empty = RuleSource(str(tmp_path / "no-cache"), FEATURE_NAMES)
    nothing = RuleServer(RuleSource(root, FEATURE_NAMES, dead), 60.0, empty)
    assert nothing.rules is None  # no copy: the model decides alone


def model_for(tmp_path: Path) -> ScoringModel:
    directory = write_model(tmp_path / "cached-model", "m-1", threshold=0.9)
    return load_model(str(directory), FEATURE_NAMES, feature_schema_hash())
