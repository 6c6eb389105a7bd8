"""The console's Rules and Lists pages in Debian's Chromium, against the local server
(local.console.server: the API's Lambda handler in-process, the development issuer, moto).

An analyst writes a rule with an error and sees the checker's message inline, fixes it,
backtests it over a decision log delivered to moto's S3 as Firehose delivers it (the chart
and the figures beside the editor, each figure counted here from the same records), and
requests its activation; the analyst cannot approve it (the buttons say why; the API says
403), a rule-admin approves it, and it is in force, active. A rule-admin cannot approve their
own request (four eyes). On the Lists page a CSV upload adds entries that a prefix search
finds, and a CSV holding a card number is refused with the API's message beside the upload.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect

from contracts.decision import decision_id
from flink_job.features import FEATURE_NAMES
from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws
from local.aws.archive import ARCHIVE_BUCKET, deliver, deliver_decisions, ensure_bucket
from local.aws.fanout_resources import provision_fanout
from local.console import server as console_server
from model_export.archive import LABELS
from tests.console_support import (
    chromium,
    fresh_page,
    require_built_console,
    screenshot_dir,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.timeout(240)

# Decisions on the 12 days before today but the 7th: the label delay is 7 days, so labels
# count for the days 12 to 8 back and not for 6 to 1, whatever the time of day the test runs.
DAYS_BACK = (12, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1)
LABEL_DELAY = timedelta(days=7)
THRESHOLD = 0.5
EXPRESSION = "channel == 'ecom' && amount > 300.0 && card_txn_count_10m >= 3.0"
TYPO = "channel == 'ecom' && amount > 300.0 && card_txn_count_10mins >= 3.0"
# A Luhn-valid test card number (never a real card): what a hostile upload carries.
CARD_NUMBER = "4111111111111111"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def decision(index: int, event_time: datetime) -> dict[str, Any]:
    """A Decision v1 record as the job writes it: amounts, channels, burst counts and scores
    vary with `index`, so that the rule hits some decisions of every day, the model alerted
    some of those and not others."""
    channel = ("ecom", "pos", "ecom", "moto")[index % 4]
    amount = float(40 + (index * 37) % 700)
    score = round(((index * 53) % 100) / 100, 2)
    alerted = score >= THRESHOLD
    features = dict.fromkeys(FEATURE_NAMES, 0.0)
    features.update(amount=amount, card_txn_count_10m=float(index % 5))
    transaction_id = f"bt-{index:05d}"
    return {
        "schema": "decision.v1",
        "decision_id": decision_id(transaction_id),
        "transaction_id": transaction_id,
        "event_time": _stamp(event_time),
        "card_id": f"card_{index % 40:06d}",
        "terminal_id": f"term_{index % 25:05d}",
        "amount": amount,
        "currency": "EUR",
        "merchant_category": "5732",
        "country": "FR",
        "channel": channel,
        "features": features,
        "model_version": "m-1",
        "score": score,
        "threshold": THRESHOLD,
        "shadow_scores": None,
        "alerted": alerted,
        "severity": "high" if alerted else None,
        "reasons": ["amount far above the card's usual"] if alerted else None,
        "reason_codes": ["AMOUNT"] if alerted else None,
        "ruleset_version": None,
        "rule_hits": None,
        "shadow_rule_hits": None,
        "late": False,
        "ingested_at": _stamp(event_time + timedelta(milliseconds=100)),
        "decided_at": _stamp(event_time + timedelta(milliseconds=200)),
        "sample_weight": 1.0,
    }


def rule_matches(record: dict[str, Any]) -> bool:
    """EXPRESSION, evaluated here on the record (the test's own oracle)."""
    return bool(
        record["channel"] == "ecom"
        and record["amount"] > 300.0
        and record["features"]["card_txn_count_10m"] >= 3.0
    )


def is_fraud(record: dict[str, Any]) -> bool:
    """Which decisions a chargeback labels fraud (two days after the payment)."""
    return int(record["transaction_id"][3:]) % 3 == 0


def label_record(record: dict[str, Any]) -> str:
    reported = datetime.fromisoformat(record["event_time"].replace("Z", "+00:00")) + timedelta(
        days=2
    )
    return json.dumps(
        {
            "transaction_id": record["transaction_id"],
            "card_id": record["card_id"],
            "terminal_id": record["terminal_id"],
            "event_time": record["event_time"],
            "label": "fraud",
            "source": "chargeback",
            "reported_at": _stamp(reported),
        }
    )


@pytest.fixture(scope="module")
def decisions() -> list[dict[str, Any]]:
    """Forty decisions a day on the DAYS_BACK days before today (UTC)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for n, back in enumerate(DAYS_BACK):
        start = today - timedelta(days=back)
        out += [decision(n * 40 + i, start + timedelta(minutes=30 * i)) for i in range(40)]
    return out + recent_hits()


def recent_hits() -> list[dict[str, Any]]:
    """Three decisions of the last hours that the job logged as hits of `ecom_burst` (two of
    them alerted): the Rules page's 24-hour counts (GET /rules/hits). Point-of-sale payments,
    which the backtested expression does not match."""
    now = datetime.now(UTC)
    out = []
    for i, alerted in enumerate((True, True, False)):
        record = decision(9000 + i, now - timedelta(hours=i + 1))
        record.update(channel="pos", alerted=alerted, rule_hits=["ecom_burst"])
        record.update(severity="high" if alerted else None)
        record.update(reasons=["rule ecom_burst"] if alerted else None)
        record.update(reason_codes=["RULE_ECOM_BURST"] if alerted else None)
        out.append(record)
    return out


@pytest.fixture(scope="module")
def aws(decisions: list[dict[str, Any]]) -> Iterator[LocalAws]:
    """moto with the fan-out's resources and the decision log delivered as Firehose does."""
    with LocalAws() as local:
        provision_fanout(local.client, FanoutConfig())
        s3 = local.client("s3")
        ensure_bucket(s3, ARCHIVE_BUCKET)  # the local server's decision log (DECISIONS_ROOT)
        deliver_decisions(s3, ARCHIVE_BUCKET, [json.dumps(d) for d in decisions])
        frauds = [label_record(d) for d in decisions if is_fraud(d)]
        deliver(s3, ARCHIVE_BUCKET, LABELS, frauds)
        yield local


@pytest.fixture(scope="module")
def origin(aws: LocalAws) -> Iterator[str]:
    require_built_console()
    with console_server.running(aws.endpoint, alerts_table=FanoutConfig().alerts_table) as console:
        yield console.origin


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser) as fresh:
        yield fresh


def open_rules(page: Page) -> Locator:
    """The Rules page; its editor form."""
    page.get_by_role("link", name="Rules", exact=True).click()
    expect(page.get_by_role("heading", name="Rules", exact=True)).to_be_visible()
    return page.get_by_role("form", name="Rule editor")


def write_rule(editor: Locator, name: str, expression: str, mode: str) -> None:
    editor.get_by_label("Name", exact=True).fill(name)
    editor.get_by_label("Expression").fill(expression)
    editor.get_by_label("Outcome").select_option("alert")
    editor.get_by_label("Severity").select_option(label="High")
    editor.get_by_label("Priority").fill("20")
    editor.get_by_label("Mode").select_option(mode)


def request_of(page: Page, rule: str) -> Locator:
    return page.get_by_role("listitem", name=f"Request: upsert rule {rule}")


def token_of(page: Page) -> str:
    token = page.evaluate(
        "() => JSON.parse(sessionStorage.getItem('fraud-console.session')).idToken"
    )
    assert isinstance(token, str)
    return token


def figure(page: Page, term: str) -> Locator:
    """The <dd> after the <dt> named `term` in the backtest's figures."""
    region = page.get_by_role("region", name="Backtest result")
    return region.locator(f'dt:text-is("{term}") + dd')


def test_an_analyst_writes_backtests_and_requests_a_rule_that_a_rule_admin_activates(
    page: Page, origin: str, decisions: list[dict[str, Any]], tmp_path: Path
) -> None:
    sign_in(page, origin, "analyst")
    editor = open_rules(page)
    write_rule(editor, "ecom_burst", TYPO, "active")
    check = page.locator("#expression-check")
    # The checker's own message, naming the unknown field, while the analyst types.
    expect(check).to_contain_text("card_txn_count_10mins")
    expect(editor.get_by_label("Expression")).to_have_attribute("aria-invalid", "true")
    expect(editor.get_by_role("button", name="Request change")).to_be_disabled()

    editor.get_by_label("Expression").fill(EXPRESSION)
    expect(check).to_have_text("The expression type-checks.")

    page.get_by_label("Window").select_option(label="Last 14 days")
    page.get_by_role("button", name="Backtest", exact=True).click()
    expect(page.get_by_role("img", name="Backtest hits per day")).to_be_visible(timeout=30_000)
    hits = [d for d in decisions if rule_matches(d)]
    added = [d for d in hits if not d["alerted"]]
    assert hits and added and len(added) < len(hits)  # the data can tell the figures apart
    expect(figure(page, "Hits")).to_have_text(f"{len(hits):,}")
    expect(figure(page, "Alerts added")).to_have_text(f"{len(added):,}")
    expect(figure(page, "Overlap with the model's alerts")).to_have_text(
        f"{len(hits) - len(added):,}"
    )
    # precision and recall over the decisions whose labels have matured (12 to 8 days back)
    cutoff = datetime.now(UTC) - LABEL_DELAY
    matured = [d for d in decisions if datetime.fromisoformat(d["event_time"]) <= cutoff]
    matured_hits = [d for d in matured if rule_matches(d)]
    frauds = [d for d in matured if is_fraud(d)]
    caught = [d for d in matured_hits if is_fraud(d)]
    assert 0 < len(caught) < min(len(matured_hits), len(frauds))
    expect(figure(page, "Labelled hits")).to_have_text(f"{len(matured_hits):,}")
    expect(figure(page, "Precision")).to_have_text(f"{100 * len(caught) / len(matured_hits):.1f} %")
    expect(figure(page, "Recall")).to_have_text(f"{100 * len(caught) / len(frauds):.1f} %")
    days = page.get_by_role("img", name="Backtest hits per day").locator("g")
    expect(days).to_have_count(len({d["event_time"][:10] for d in decisions}))  # a group a day
    page.screenshot(path=str(screenshot_dir(tmp_path) / "console-rules.png"), full_page=True)

    editor.get_by_label("Reason for the change (required)").fill("ecom bursts since Friday")
    expect(editor).to_contain_text("The backtest below is attached.")
    editor.get_by_role("button", name="Request change").click()
    expect(editor.get_by_role("status")).to_have_text(
        "Requested: waiting for a rule-admin's approval"
    )
    request = request_of(page, "ecom_burst")
    expect(request).to_contain_text("by you")
    expect(request).to_contain_text(f"Backtest attached: {len(hits):,} hits")
    expect(request.get_by_role("button", name="Approve")).to_be_disabled()
    expect(request).to_contain_text("only members of the rule-admins group can approve")

    # The analyst's own token, as the browser holds it, posted straight to the API.
    change_id = page.request.get(
        f"{origin}/api/rules/changes?status=pending",
        headers={"Authorization": f"Bearer {token_of(page)}"},
    ).json()["items"][0]["change_id"]
    refused = page.request.post(
        f"{origin}/api/rules/changes/{change_id}/approve",
        headers={"Authorization": f"Bearer {token_of(page)}"},
        data={"note": "mine"},
    )
    assert refused.status == 403

    sign_out(page)
    sign_in(page, origin, "senior")
    open_rules(page)
    request = request_of(page, "ecom_burst")
    request.get_by_label("Note").fill("backtest looks right")
    request.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_contain_text("Approved: upsert rule ecom_burst")
    row = page.get_by_role("row", name="ecom_burst")
    expect(row.get_by_text("active", exact=True)).to_be_visible()
    hits_24h, alerts_24h = row.get_by_role("cell").nth(3), row.get_by_role("cell").nth(4)
    expect(hits_24h).to_have_text("3")  # recent_hits: the decision log's last 24 h
    expect(alerts_24h).to_have_text("2")
    expect(request_of(page, "ecom_burst")).to_have_count(0)

    page.get_by_role("button", name="History of ecom_burst").click()
    history = page.get_by_role("region", name="History of ecom_burst")
    expect(history).to_contain_text("ecom bursts since Friday")


def test_a_rule_admin_cannot_approve_their_own_request(page: Page, origin: str) -> None:
    sign_in(page, origin, "senior")
    editor = open_rules(page)
    write_rule(editor, "senior_own", "amount > 5000.0", "active")
    expect(page.locator("#expression-check")).to_have_text("The expression type-checks.")
    editor.get_by_label("Reason for the change (required)").fill("large amounts")
    editor.get_by_role("button", name="Request change").click()
    request = request_of(page, "senior_own")
    expect(request.get_by_role("button", name="Approve")).to_be_disabled()
    expect(request).to_contain_text("four eyes: you requested this change")

    token = token_of(page)
    pending = page.request.get(
        f"{origin}/api/rules/changes?status=pending", headers={"Authorization": f"Bearer {token}"}
    ).json()["items"]
    mine = next(c for c in pending if c["rule"] == "senior_own")
    refused = page.request.post(
        f"{origin}/api/rules/changes/{mine['change_id']}/approve",
        headers={"Authorization": f"Bearer {token}"},
        data={"note": "self"},
    )
    assert refused.status == 403
    assert "four eyes" in refused.json()["message"]


def test_a_shadow_rule_applies_at_once_and_its_removal_too(page: Page, origin: str) -> None:
    sign_in(page, origin, "analyst")
    editor = open_rules(page)
    write_rule(editor, "watch_pos", "channel == 'pos' && amount > 900.0", "shadow")
    expect(page.locator("#expression-check")).to_have_text("The expression type-checks.")
    expect(editor).to_contain_text("A shadow or disabled rule is applied at once.")
    editor.get_by_label("Reason for the change (required)").fill("watch large pos payments")
    editor.get_by_role("button", name="Request change").click()
    expect(editor.get_by_role("status")).to_contain_text("Applied: rule set r-")
    row = page.get_by_role("row", name="watch_pos")
    expect(row.get_by_text("shadow", exact=True)).to_be_visible()
    expect(request_of(page, "watch_pos")).to_have_count(0)

    page.get_by_role("button", name="Edit watch_pos").click()
    expect(page.get_by_role("heading", name="Edit watch_pos")).to_be_visible()
    editor.get_by_label("Reason for the change (required)").fill("not useful")
    editor.get_by_role("button", name="Request removal").click()
    expect(editor.get_by_role("status")).to_contain_text("Applied: rule set r-")
    expect(page.get_by_role("row", name="watch_pos")).to_have_count(0)


def csv_file(name: str, text: str) -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_an_uploaded_list_is_searched_and_a_card_number_upload_is_refused(
    page: Page, origin: str, tmp_path: Path
) -> None:
    sign_in(page, origin, "analyst")
    page.get_by_role("link", name="Lists", exact=True).click()
    expect(page.get_by_role("heading", name="Lists", exact=True)).to_be_visible()
    new = page.get_by_role("form", name="New list")
    new.get_by_label("List name").fill("compromised_cards")
    new.get_by_label("Kind").select_option("card_id")
    new.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", name="List compromised_cards")).to_be_visible()

    cards = [f"card_{n:06d}" for n in (12, 13, 140, 141, 142, 900)]
    expires = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [f"{card},breach 2026-12,{expires if card.endswith('900') else ''}" for card in cards]
    upload = page.get_by_role("form", name="Upload entries")
    upload.get_by_label("CSV file").set_input_files(
        csv_file("breach.csv", "value,reason,expires_at\n" + "\n".join(rows) + "\n")
    )
    upload.get_by_label("Reason for the upload").fill("breach at a merchant")
    upload.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Change applied")
    expect(page.get_by_text(f"{len(cards)} matching")).to_be_visible()

    page.get_by_label("Search (prefix of the value)").fill("card_00014")
    entries = page.get_by_role("table", name="List entries")
    expect(entries.get_by_role("row")).to_have_count(3 + 1)
    for card in ("card_000140", "card_000141", "card_000142"):
        expect(entries.get_by_role("rowheader", name=card)).to_be_visible()
    page.get_by_label("Search (prefix of the value)").fill("card_000900")
    expect(entries.get_by_role("row", name="card_000900")).to_contain_text(expires[:10])
    expect(entries.get_by_role("row", name="card_000900")).to_contain_text("you")  # added_by

    hostile = f"value,reason,expires_at\ncard_000777,ok,\n{CARD_NUMBER},stolen,\n"
    upload.get_by_label("CSV file").set_input_files(csv_file("hostile.csv", hostile))
    upload.get_by_label("Reason for the upload").fill("more")
    upload.get_by_role("button", name="Upload", exact=True).click()
    refusal = upload.get_by_role("alert")
    expect(refusal).to_contain_text("The upload was refused")
    expect(refusal).to_contain_text("row 3: holds a card number")  # the header is row 1
    page.get_by_label("Search (prefix of the value)").fill("")
    expect(page.get_by_text(f"{len(cards)} matching")).to_be_visible()  # nothing of it kept
    assert CARD_NUMBER not in page.content()  # the refusal names the row, not the number
    page.screenshot(path=str(screenshot_dir(tmp_path) / "console-lists.png"), full_page=True)
