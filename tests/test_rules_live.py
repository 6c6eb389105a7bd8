"""Rules live on the Flink mini-cluster, with the rule registry on moto's S3: a rule set and
a list published while the job runs change the decisions of the transactions that arrive
`rules.poll_interval_ms` later, without a restart; a rule set that fails verification
afterwards is refused and counted while the one before stays in force.

The test's model scores every transaction 0.5 with a threshold of 0.99: nothing alerts but
what a rule raises, so each alert and each decision shows which rules were in force."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from contracts.model import MANIFEST_FILE, VERSIONS_DIR
from contracts.rules import RULESET_FILE
from local.aws import LocalAws
from local.flink.running import RunningPipeline, wait_for
from local.traffic.replay import read_records
from model_export.rules_registry import RuleRegistry
from tests.test_registry import write_model
from tests.test_rules_registry import csv_bytes, rule, ruleset
from udfs.metrics import RULESET_SWAPS, RULESETS_REFUSED

pytestmark = pytest.mark.integration

ROOT = "s3://rules/live"
POLL_MS = 1000  # rules.poll_interval_ms of this run
MARGIN_S = 0.5  # after a promote, a transaction sent POLL_MS + this later is decided by it
BATCH = 150


def decisions_of(pipeline: RunningPipeline, records: list[str]) -> list[dict[str, Any]]:
    ids = {json.loads(r)["transaction_id"] for r in records}
    return [d for d in pipeline.decision_records() if d["transaction_id"] in ids]


def test_a_rule_published_while_the_job_runs_decides_the_transactions_after_one_poll(
    tmp_path: Path, sample_path: Path
) -> None:
    records = read_records(sample_path)[: 3 * BATCH]
    before, after, refused = records[:BATCH], records[BATCH : 2 * BATCH], records[2 * BATCH :]
    blocked = sorted({json.loads(r)["card_id"] for r in after[::3]})
    model = write_model(tmp_path / "model", "m-quiet", threshold=0.99)
    with LocalAws(buckets=("rules",)) as aws:
        registry = RuleRegistry(ROOT, aws.endpoint)
        overrides = {"rules_path": ROOT, "rules_poll_interval_ms": POLL_MS}
        with RunningPipeline(aws, str(model), **overrides) as pipeline:

            def send_and_decide(batch: list[str]) -> list[dict[str, Any]]:
                assert pipeline.send(batch, rate=2_000, progress=False).failed == 0
                wait_for(lambda: len(decisions_of(pipeline, batch)) >= len(batch), 120, "decisions")
                return decisions_of(pipeline, batch)

            first = send_and_decide(before)  # no rule set yet: the model alone, no alert

            entries = [f"{card},compromised at a test terminal,analyst-a," for card in blocked]
            listed = registry.publish_list("blocked_cards", "card_id", csv_bytes(*entries))
            registry.promote_list("blocked_cards", listed)
            version = registry.publish_ruleset(
                ruleset(
                    rule("blocked", "card_id in list('blocked_cards')", severity="high"),
                    rule("big", "amount > 100.0", outcome="tag", priority=20),
                    rule("watch_ecom", "channel == 'ecom'", mode="shadow", priority=30),
                )
            )
            registry.promote_ruleset(version)
            promoted = time.monotonic()
            time.sleep(POLL_MS / 1000 + MARGIN_S)
            sent_after_s = time.monotonic() - promoted
            second = send_and_decide(after)

            # a rule set that does not verify: its file is not the one its manifest hashed
            bad = registry.publish_ruleset(ruleset(rule("everything", "amount >= 0.0")))
            registry.rulesets.write(
                f"{VERSIONS_DIR}/{bad}/{RULESET_FILE}",
                ruleset(rule("everything", "amount >= 0.0", outcome="suppress")),
            )
            registry.promote_ruleset(bad)
            time.sleep(POLL_MS / 1000 + MARGIN_S)
            third = send_and_decide(refused)

            expected = {RULESET_SWAPS: 1, RULESETS_REFUSED: 1}
            with contextlib.suppress(TimeoutError):  # the REST API's metrics lag a little
                wait_for(
                    lambda: {n: pipeline.metric(n) for n in expected} == expected, 30, "metrics"
                )
            metrics = {n: pipeline.metric(n) for n in expected}
            alerts = {a.record["transaction_id"]: a.record for a in pipeline.alerts.received}
            stored = json.loads(registry.rulesets.read(f"{VERSIONS_DIR}/{bad}/{MANIFEST_FILE}"))

    assert stored["version"] == bad
    assert all(not d["alerted"] and d["ruleset_version"] is None for d in first)
    assert all(d["rule_hits"] is None for d in first)
    print(
        f"rule set promoted; transactions sent {sent_after_s:.2f} s later "
        f"(poll interval {POLL_MS / 1000:.1f} s): {len(second)} decided"
    )
    for batch in (second, third):  # the refused set left the first one in force
        assert {d["ruleset_version"] for d in batch} == {version}
        for decision in batch:
            on_list = decision["card_id"] in blocked
            assert decision["alerted"] is on_list, decision["transaction_id"]
            hits = decision["rule_hits"] or []
            assert ("blocked" in hits) is on_list
            assert ("big" in hits) is (decision["amount"] > 100.0)
            shadow = decision["shadow_rule_hits"] or []
            assert ("watch_ecom" in shadow) is (decision["channel"] == "ecom")
            alert = alerts.get(decision["transaction_id"])
            assert (alert is not None) is on_list
            if alert is not None:
                assert alert["reason_codes"][0] == "RULE_BLOCKED"
                assert ("RULE_BIG" in alert["reason_codes"]) is (decision["amount"] > 100.0)
                assert "RULE_WATCH_ECOM" not in alert["reason_codes"]  # shadow: no effect
                assert alert["severity"] == "high" and alert["score"] < alert["threshold"]
                assert decision["reason_codes"] == alert["reason_codes"]
    assert sum(d["alerted"] for d in second) > 0 and sum(d["alerted"] for d in third) > 0
    assert len(alerts) == sum(d["alerted"] for d in second + third)
    assert metrics == {RULESET_SWAPS: 1, RULESETS_REFUSED: 1}
