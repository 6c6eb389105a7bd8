"""The analyst console in a real browser against the real local server.

Debian's Chromium (headless, `make chromium`) driven by Playwright; the built console
(`make console`) served by `local.console.server` with the API's Lambda code, the
development issuer and moto behind it. Alerts are Alert v1 records as the job writes them,
stored as the fan-out stores them. An analyst signs in, triages and marks an alert as
fraud; the Label v1 it writes is read back from the `labels` stream. A reader cannot.

The screenshots of the queue and of an alert go to the test's temporary folder, or to
docs/ (the README shows them) with UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from flink_job.features import FEATURE_NAMES
from lambdas.alert_fanout.alert import Alert, parse_alert
from lambdas.alert_fanout.config import FanoutConfig
from lambdas.alert_fanout.store import AlertStore
from lambdas.api import services as api_services
from lambdas.api.release import release_due
from local.aws import LocalAws, read_stream
from local.aws.fanout_resources import provision_fanout
from local.console import server as console_server
from tests.console_support import (
    chromium,
    fresh_page,
    require_built_console,
    screenshot_dir,
    sign_in,
)

pytestmark = pytest.mark.timeout(180)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Payment:
    transaction_id: str
    card_id: str
    terminal_id: str
    amount: float
    score: float
    severity: str
    minutes_ago: int
    reasons: tuple[tuple[str, str], ...]


# Six alerts over the last hours, three on one card (its timeline), as the job emits them:
# reason codes are the feature names in upper case, texts as udfs/reasons.py words them.
PAYMENTS = (
    Payment(
        "t-104211",
        "card_000731",
        "term_00412",
        1840.00,
        0.962,
        "high",
        12,
        (
            ("AMOUNT", "amount 1,840.00 is high (typical 41.30)"),
            ("CARD_TXN_COUNT_1H", "4 payments on the card in the last 1h (typical 0)"),
            ("TERMINAL_FRAUD_RISK_7D", "terminal_fraud_risk_7d is 0.31 (typical 0)"),
        ),
    ),
    Payment(
        "t-104188",
        "card_000731",
        "term_00412",
        920.50,
        0.874,
        "high",
        19,
        (
            (
                "AMOUNT_OVER_CARD_AVG_30D",
                "amount is 19.5× the card's 30-day average (typical 1.0×)",
            ),
            (
                "CARD_SECS_SINCE_PREV",
                "only 64 s since the card's previous payment (typical 86,400 s)",
            ),
        ),
    ),
    Payment(
        "t-104102",
        "card_000731",
        "term_00077",
        310.00,
        0.701,
        "medium",
        47,
        (("CARD_KM_FROM_PREV", "card_km_from_prev is 812 (typical 3.2)"),),
    ),
    Payment(
        "t-103977",
        "card_002214",
        "term_00921",
        74.99,
        0.522,
        "low",
        95,
        (("IS_NIGHT", "is_night is 1 (typical 0)"),),
    ),
    Payment(
        "t-103840",
        "card_005102",
        "term_00134",
        1299.00,
        0.811,
        "medium",
        160,
        (
            ("AMOUNT", "amount 1,299.00 is high (typical 41.30)"),
            ("CARD_DISTINCT_TERMINALS_1D", "card_distinct_terminals_1d is 6 (typical 1)"),
        ),
    ),
    Payment(
        "t-103702",
        "card_002214",
        "term_00921",
        18.40,
        0.498,
        "low",
        240,
        (("CARD_SMALL_TXN_COUNT_10M", "card_small_txn_count_10m is 5 (typical 0)"),),
    ),
)


def job_alert(payment: Payment, now: datetime) -> Alert:
    """Alert v1 JSON as the Flink job writes it to the `alerts` stream, parsed as the
    fan-out parses it."""
    detected = now - timedelta(minutes=payment.minutes_ago)
    features = {name: 0.0 for name in FEATURE_NAMES}
    features.update(
        amount=payment.amount,
        card_txn_count_10m=2.0,
        card_txn_count_1h=4.0,
        card_txn_count_1d=6.0,
        card_txn_count_7d=14.0,
        card_txn_count_30d=38.0,
        card_avg_amount_10m=round(payment.amount / 1.5, 2),
        card_avg_amount_1h=round(payment.amount / 2, 2),
        card_avg_amount_1d=round(payment.amount / 3, 2),
        card_avg_amount_7d=round(payment.amount / 8 + 40, 2),
        card_avg_amount_30d=47.2,
        card_sum_amount_30d=1793.6,
        amount_over_card_avg_30d=round(payment.amount / 47.2, 3),
        card_distinct_terminals_1d=3.0,
        card_secs_since_prev=64.0,
        terminal_txn_count_1d=57.0,
        terminal_fraud_risk_7d=0.31,
    )
    digest = hashlib.sha256(f"alert.v1:{payment.transaction_id}".encode()).hexdigest()
    document: dict[str, Any] = {
        "schema": "alert.v1",
        "alert_id": digest[:32],
        "transaction_id": payment.transaction_id,
        "event_time": _iso(detected - timedelta(milliseconds=240)),
        "card_id": payment.card_id,
        "terminal_id": payment.terminal_id,
        "amount": payment.amount,
        "currency": "EUR",
        "merchant_category": "5732",
        "country": "FR",
        "channel": "ecom",
        "score": payment.score,
        "threshold": 0.41,
        "severity": payment.severity,
        "model_version": "m-20261128-1200-3f2a9c1",
        "reasons": [text for _, text in payment.reasons],
        "reason_codes": [code for code, _ in payment.reasons],
        "reason_contributions": [
            round((payment.score - 0.41) / (2 + i), 4) for i in range(len(payment.reasons))
        ],
        "features": features,
        "late": False,
        "ingested_at": _iso(detected - timedelta(milliseconds=150)),
        "detected_at": _iso(detected),
    }
    return parse_alert(json.dumps(document))


@pytest.fixture(scope="module")
def alerts() -> list[Alert]:
    now = datetime.now(UTC)
    return [job_alert(payment, now) for payment in PAYMENTS]


@pytest.fixture(scope="module")
def aws(alerts: list[Alert]) -> Iterator[LocalAws]:
    """moto with the streams, the alert table (as the demo provisions it) and the alerts."""
    config = FanoutConfig()
    with LocalAws() as local:
        provision_fanout(local.client, config)
        store = AlertStore(local.client("dynamodb"), config.alerts_table)
        for alert in alerts:
            assert store.put_new(alert)
        yield local


@pytest.fixture(scope="module")
def origin(aws: LocalAws) -> Iterator[str]:
    require_built_console()
    with console_server.running(
        aws.endpoint, alerts_table=FanoutConfig().alerts_table, labels_stream="labels"
    ) as console:
        yield console.origin


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test: nobody is signed in."""
    with fresh_page(browser) as fresh:
        yield fresh


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    return screenshot_dir(tmp_path)


def open_alert(page: Page, alert: Alert) -> None:
    page.get_by_role("link", name=alert.transaction_id, exact=True).click()
    expect(page.get_by_role("heading", name=f"Alert on {alert.transaction_id}")).to_be_visible()


def labels(aws: LocalAws) -> list[dict[str, Any]]:
    return [json.loads(record["Data"]) for record in read_stream(aws, "labels")]


def test_an_analyst_marks_an_alert_as_fraud_and_its_label_reaches_the_labels_stream(
    page: Page, origin: str, aws: LocalAws, alerts: list[Alert], screenshots: Path
) -> None:
    sign_in(page, origin, "analyst")

    rows = page.get_by_role("table", name="Alerts, newest first").get_by_role("row")
    expect(rows).to_have_count(len(alerts) + 1)  # the header row and one per alert
    newest_first = sorted(alerts, key=lambda a: a.detected_at, reverse=True)
    for position, alert in enumerate(newest_first, start=1):
        expect(rows.nth(position)).to_contain_text(alert.transaction_id)
    expect(rows.nth(1).get_by_text("High")).to_have_class("badge severity-high")
    page.screenshot(path=str(screenshots / "console-queue.png"))

    alert = newest_first[0]
    open_alert(page, alert)
    status = page.get_by_role("status", name="Alert status")
    expect(status).to_have_text("New")
    expect(page.get_by_role("img", name="Reasons of this alert")).to_be_visible()
    expect(
        page.get_by_text("the score's drop when the feature is set to its baseline")
    ).to_be_visible()
    baselines = page.get_by_role("table", name="Features against the card's baselines")
    expect(baselines.get_by_role("row", name="amount", exact=False).first).to_contain_text("47.2")
    timeline = page.get_by_role("img", name=f"Timeline of 3 alerts on card {alert.card_id}")
    expect(timeline).to_be_visible()
    page.screenshot(path=str(screenshots / "console-alert.png"), full_page=True)

    page.get_by_role("button", name="Mark as fraud").click()
    expect(status).to_have_text("Confirmed fraud")
    # The history is read back from the API after it answered: the label is written by then.
    history = page.get_by_role("region", name="Verdict history")
    expect(history).to_contain_text("Fraud by analyst@example.com")
    expect(page.get_by_role("button", name="Mark as fraud")).to_have_attribute(
        "aria-pressed", "true"
    )

    # The label is held (lambdas/api/README.md, "Bounded influence"): nothing on the
    # stream until the scheduled release step finds the hold passed.
    mine = [label for label in labels(aws) if label["transaction_id"] == alert.transaction_id]
    assert mine == []
    current = api_services.current()
    assert current is not None
    later = datetime.now(UTC) + current.verdicts.bounds.hold + timedelta(seconds=1)
    assert release_due(current, later) >= 1
    written = [label for label in labels(aws) if label["transaction_id"] == alert.transaction_id]
    assert len(written) == 1
    assert written[0] == {
        "transaction_id": alert.transaction_id,
        "card_id": alert.card_id,
        "terminal_id": alert.terminal_id,
        "event_time": alert.event_time,
        "label": "fraud",
        "source": "analyst",
        "reported_at": written[0]["reported_at"],
        "actor": written[0]["actor"],
        "verdict_id": written[0]["verdict_id"],
    }
    assert "@" not in written[0]["actor"] and len(written[0]["verdict_id"]) == 32
    assert datetime.fromisoformat(written[0]["reported_at"].replace("Z", "+00:00")) > (
        alert.detected
    )

    page.get_by_role("link", name="← Alert queue").click()
    row = page.get_by_role("row").filter(has_text=alert.transaction_id)
    expect(row.get_by_text("Confirmed fraud")).to_be_visible()


def test_the_console_is_served_with_its_security_headers_and_runs_under_them(
    page: Page, origin: str
) -> None:
    """The headers Amplify serves on AWS (local.console.server.console_headers, held equal
    to Terraform's by tests/test_api_terraform.py), here from the local server: the console
    signs in and works under its CSP, and no CSP violation is reported."""
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    response = page.goto(origin + "/")
    assert response is not None
    expected = console_server.console_headers(origin, origin)
    served = response.headers
    for name, value in expected.items():
        assert served.get(name.lower()) == value, name
    assert "frame-ancestors 'none'" in served["content-security-policy"]
    sign_in(page, origin, "analyst")
    expect(page.get_by_role("table", name="Alerts, newest first")).to_be_visible()
    assert violations == []


def test_the_card_timeline_leads_to_the_cards_other_alerts(
    page: Page, origin: str, alerts: list[Alert]
) -> None:
    newest, previous = alerts[0], alerts[1]  # the same card
    sign_in(page, origin, "analyst")
    open_alert(page, newest)
    timeline = page.get_by_role("region", name="Card timeline")
    timeline.get_by_role("link", name=previous.transaction_id).click()
    expect(page.get_by_role("heading", name=f"Alert on {previous.transaction_id}")).to_be_visible()
    expect(page.get_by_role("region", name="Payment")).to_contain_text(previous.terminal_id)
    expect(
        page.get_by_role("region", name="Card timeline").get_by_role(
            "link", name=newest.transaction_id
        )
    ).to_be_visible()


def test_a_reader_sees_the_verdict_buttons_disabled_and_the_api_refuses_a_verdict(
    page: Page, origin: str, aws: LocalAws, alerts: list[Alert]
) -> None:
    alert = alerts[3]
    sign_in(page, origin, "reader")
    open_alert(page, alert)
    expect(page.get_by_role("button", name="Mark as fraud")).to_be_disabled()
    expect(page.get_by_role("button", name="Mark as legitimate")).to_be_disabled()
    expect(page.get_by_text("You are signed in as a reader")).to_be_visible()

    # The reader's own token, as the browser holds it, posted straight to the API.
    token = page.evaluate(
        "() => JSON.parse(sessionStorage.getItem('fraud-console.session')).idToken"
    )
    response = page.request.post(
        f"{origin}/api/alerts/{alert.alert_id}/feedback",
        headers={"Authorization": f"Bearer {token}"},
        data={"label": "fraud", "note": None},
    )
    assert response.status == 403
    assert all(label["transaction_id"] != alert.transaction_id for label in labels(aws))
    expect(page.get_by_role("status", name="Alert status")).to_have_text("New")


def test_a_verdict_the_api_does_not_save_is_rolled_back_with_a_visible_error(
    page: Page, origin: str, alerts: list[Alert]
) -> None:
    alert = alerts[4]
    sign_in(page, origin, "analyst")
    open_alert(page, alert)
    page.route(
        "**/api/alerts/*/feedback",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"statusCode": 503, "message": "labels stream unavailable"}),
        ),
    )
    page.get_by_role("button", name="Mark as legitimate").click()
    expect(page.get_by_role("alert")).to_contain_text("labels stream unavailable")
    expect(page.get_by_role("status", name="Alert status")).to_have_text("New")
    expect(page.get_by_role("button", name="Mark as legitimate")).to_be_enabled()


def test_the_queue_filters_by_card_and_severity(
    page: Page, origin: str, alerts: list[Alert]
) -> None:
    sign_in(page, origin, "analyst")
    page.get_by_label("Card", exact=True).fill("card_000731")
    page.get_by_label("Severity", exact=True).select_option(label="High")
    page.get_by_role("button", name="Apply filters").click()
    expected = [a for a in alerts if a.card_id == "card_000731" and a.severity == "high"]
    rows = page.get_by_role("table", name="Alerts, newest first").get_by_role("row")
    expect(rows).to_have_count(len(expected) + 1)
    for alert in expected:
        expect(page.get_by_role("link", name=alert.transaction_id, exact=True)).to_be_visible()
    expect(page).to_have_url(f"{origin}/?severity=high&card_id=card_000731")


def test_the_queue_filters_by_detection_time(page: Page, origin: str, alerts: list[Alert]) -> None:
    sign_in(page, origin, "analyst")
    since = datetime.now(UTC) - timedelta(minutes=30)
    page.get_by_label("From (UTC)").fill(f"{since:%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Apply filters").click()
    expected = [a for a in alerts if a.detected >= since.replace(second=0, microsecond=0)]
    rows = page.get_by_role("table", name="Alerts, newest first").get_by_role("row")
    expect(rows).to_have_count(len(expected) + 1)
    query = urllib.parse.urlencode({"from": f"{since:%Y-%m-%dT%H:%M}:00Z"})
    expect(page).to_have_url(f"{origin}/?{query}")


def test_the_overview_charts_the_metrics(page: Page, origin: str, alerts: list[Alert]) -> None:
    sign_in(page, origin, "analyst")
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    for chart in ("Alerts per hour", "Alerts by severity", "Alerts by reason code"):
        expect(page.get_by_role("img", name=chart)).to_be_visible()
    expect(page.get_by_role("img", name="Alerts by model version")).to_contain_text(
        "m-20261128-1200-3f2a9c1"
    )


def test_signing_out_forgets_the_token(page: Page, origin: str) -> None:
    sign_in(page, origin, "analyst")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('fraud-console.session')") is None
    page.reload()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def test_a_token_the_api_refuses_sends_the_user_back_to_sign_in(page: Page, origin: str) -> None:
    sign_in(page, origin, "analyst")
    # As after a restart of the local server: the stored token's signature no longer verifies.
    page.evaluate(
        """() => {
            const key = 'fraud-console.session';
            const session = JSON.parse(sessionStorage.getItem(key));
            session.idToken = session.idToken.slice(0, -8) + 'AAAAAAAA';
            sessionStorage.setItem(key, JSON.stringify(session));
        }"""
    )
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("alert")).to_contain_text("sign in again")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def test_the_queue_shows_a_new_alert_without_a_reload(
    page: Page, origin: str, aws: LocalAws
) -> None:
    sign_in(page, origin, "analyst")
    expect(page.get_by_role("checkbox", name="Live refresh")).to_be_checked()
    newcomer = job_alert(
        Payment("t-104300", "card_009999", "term_00555", 61.0, 0.47, "low", 0, ()),
        datetime.now(UTC),
    )
    AlertStore(aws.client("dynamodb"), FanoutConfig().alerts_table).put_new(newcomer)
    # The queue polls every 5 s: within three polls.
    expect(page.get_by_role("link", name="t-104300", exact=True)).to_be_visible(timeout=15_000)


def test_load_more_follows_the_api_cursor(page: Page, origin: str, aws: LocalAws) -> None:
    store = AlertStore(aws.client("dynamodb"), FanoutConfig().alerts_table)
    now = datetime.now(UTC)
    bulk = [
        Payment(f"t-2{i:05d}", "card_007777", "term_00321", 25.0 + i, 0.45, "low", 600 + i, ())
        for i in range(51)  # one more than the console's page of 50
    ]
    for payment in bulk:
        assert store.put_new(job_alert(payment, now))
    sign_in(page, origin, "analyst")
    page.get_by_label("Card", exact=True).fill("card_007777")
    page.get_by_role("button", name="Apply filters").click()
    rows = page.get_by_role("table", name="Alerts, newest first").get_by_role("row")
    expect(rows).to_have_count(50 + 1)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(51 + 1)
    expect(rows.last).to_contain_text(bulk[-1].transaction_id)  # the oldest, last
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
