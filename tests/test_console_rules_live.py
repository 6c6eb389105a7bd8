"""The whole loop of issue 24 from the console: an analyst writes a rule in the browser, a
rule-admin approves it, the running job (the Flink mini-cluster, `rules.path` = the rule
registry the API publishes to) applies it within a poll, and the transaction it alerts on
reaches the alert queue through the fan-out's real handler, where the analyst sees it.

The job's model scores every transaction 0.5 with a threshold of 0.99: nothing alerts but
what the rule raises."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws
from local.aws.api_resources import LOCAL_RULES_ROOT
from local.aws.lambda_poller import provision_fanout, run_fanout
from local.console import server as console_server
from local.flink.running import RunningPipeline, wait_for
from local.traffic.replay import read_records
from tests.console_support import chromium, fresh_page, require_built_console, sign_in, sign_out
from tests.test_registry import write_model

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

POLL_MS = 1000  # rules.poll_interval_ms of this run
MARGIN_S = 1.0
BATCH = 120
RULE = "watched_card"


def test_a_rule_approved_in_the_console_alerts_a_transaction_that_the_queue_then_shows(
    tmp_path: Path, sample_path: Path
) -> None:
    require_built_console()
    records = read_records(sample_path)
    before, after = records[:BATCH], records[BATCH : 2 * BATCH]
    seen = {json.loads(r)["card_id"] for r in before}
    cards = Counter(json.loads(r)["card_id"] for r in after)
    card = max((c for c in cards if c not in seen), key=lambda c: (cards[c], c))
    targets = [json.loads(r)["transaction_id"] for r in after if json.loads(r)["card_id"] == card]
    model = write_model(tmp_path / "model", "m-quiet", threshold=0.99)
    config = FanoutConfig()
    with (
        LocalAws() as aws,
        console_server.running(aws.endpoint, alerts_table=config.alerts_table) as console,
        chromium() as browser,
        fresh_page(browser) as page,
    ):
        queue_url = provision_fanout(aws.client, config)
        overrides: dict[str, Any] = {
            "rules_path": LOCAL_RULES_ROOT,
            "rules_poll_interval_ms": POLL_MS,
        }
        with RunningPipeline(aws, str(model), **overrides) as pipeline:

            def send_and_decide(batch: list[str]) -> list[dict[str, Any]]:
                assert pipeline.send(batch, rate=2_000, progress=False).failed == 0
                ids = {json.loads(r)["transaction_id"] for r in batch}

                def decided() -> list[dict[str, Any]]:
                    return [d for d in pipeline.decision_records() if d["transaction_id"] in ids]

                wait_for(lambda: len(decided()) >= len(batch), 120, "decisions")
                return decided()

            quiet = send_and_decide(before)  # no rule yet: the model alone alerts nothing
            assert not any(d["alerted"] for d in quiet)

            origin = console.origin
            sign_in(page, origin, "analyst")
            page.get_by_role("link", name="Rules", exact=True).click()
            editor = page.get_by_role("form", name="Rule editor")
            editor.get_by_label("Name", exact=True).fill(RULE)
            editor.get_by_label("Expression").fill(f"card_id == '{card}'")
            expect(page.locator("#expression-check")).to_have_text("The expression type-checks.")
            editor.get_by_label("Mode").select_option("active")
            editor.get_by_label("Reason for the change (required)").fill("card seen at a breach")
            editor.get_by_role("button", name="Request change").click()
            expect(editor.get_by_role("status")).to_contain_text("waiting for a rule-admin")
            sign_out(page)

            sign_in(page, origin, "senior")
            page.get_by_role("link", name="Rules", exact=True).click()
            request = page.get_by_role("listitem", name=f"Request: upsert rule {RULE}")
            request.get_by_role("button", name="Approve").click()
            expect(page.get_by_role("status").first).to_contain_text(
                f"Approved: upsert rule {RULE}"
            )
            approved = time.monotonic()

            time.sleep(POLL_MS / 1000 + MARGIN_S)
            decided = send_and_decide(after)
            sent_after_s = time.monotonic() - approved
            _, stats = run_fanout(aws, config, queue_url, batch_size=100, timeout_s=120)

        alerted = sorted(d["transaction_id"] for d in decided if d["alerted"])
        assert alerted == sorted(targets), "the rule alerts its card's transactions, only those"
        assert all(f"RULE_{RULE.upper()}" in d["reason_codes"] for d in decided if d["alerted"])

        page.get_by_role("link", name="Alert queue").click()
        page.get_by_label("Card", exact=True).fill(card)
        page.get_by_role("button", name="Apply filters").click()
        rows = page.get_by_role("table", name="Alerts, newest first").get_by_role("row")
        expect(rows).to_have_count(len(targets) + 1)
        for transaction_id in targets:
            row = page.get_by_role("row").filter(has_text=transaction_id)
            expect(row).to_contain_text(f"RULE_{RULE.upper()}")
    print(
        f"rule approved; transactions sent {sent_after_s:.1f} s later were decided by it: "
        f"{len(targets)} alerts on {card} reached the queue "
        f"({stats.records_processed} processed by the fan-out)"
    )
