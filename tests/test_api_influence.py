"""What one analyst account (or one stolen token) can do to the labels, against the API on
moto through the local server: verdicts are held, capped per analyst and per terminal,
counted in the metrics the alarms watch, written to an audit trail nobody can rewrite, and
an alert's history cannot be grown until its item breaks.

The bound: one token posting 1,000 fraud verdicts on one terminal's alerts gets at most
`verdict_quota` accepted (429 after), none reaches the stream before the hold, and at most
`terminal_label_budget` ever reach it without a second analyst."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.alert_fanout.config import FanoutConfig
from lambdas.api import services as api_services
from lambdas.api.audit import PREFIX
from lambdas.api.config import ApiConfig
from lambdas.api.services import Services
from lambdas.api.watch import ANALYST_FRAUD_LABELS, TERMINAL_FRAUD_LABELS
from tests.api_support import ApiUnderTest, alert_record, recent, started_api
from tests.test_terraform_wiring import MODULES, defaults

VERDICTS = 1_000
API_MODULE = MODULES / "api"


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    yield from started_api()


def services() -> Services:
    current = api_services.current()
    assert current is not None
    return current


def feedback(api: ApiUnderTest, record: dict[str, Any], body: Any, **kw: Any) -> Any:
    return api.post(f"/alerts/{record['alert_id']}/feedback", body, **kw)


def terminal_alerts(
    api: ApiUnderTest, terminal: str, count: int, first: int
) -> list[dict[str, Any]]:
    records = [
        alert_record(first + i, recent(2 + i / 100), card=f"card_{terminal}_{i}", terminal=terminal)
        for i in range(count)
    ]
    api.store(records)
    return records


def labels_of_terminal(api: ApiUnderTest, terminal: str) -> list[dict[str, Any]]:
    return [e["label"] for e in api.labels() if e["label"]["terminal_id"] == terminal]


def test_past_the_budget_a_label_waits_for_a_second_analyst(api: ApiUnderTest) -> None:
    terminal = "term_budget"
    budget = services().verdicts.bounds.terminal_label_budget
    records = terminal_alerts(api, terminal, budget + 2, 620_000)
    for record in records:
        assert feedback(api, record, {"label": "fraud"}, user="senior").status_code == 200
    api.release_held()
    assert len(labels_of_terminal(api, terminal)) == budget
    confirmed = feedback(api, records[-1], {"label": "fraud"}, user="analyst")
    assert confirmed.status_code == 200
    assert len(labels_of_terminal(api, terminal)) == budget + 1


def test_an_alerts_history_is_capped_with_a_422(api: ApiUnderTest) -> None:
    [record] = terminal_alerts(api, "term_history", 1, 630_000)
    cap = services().verdicts.bounds.history_cap
    for index in range(cap):
        response = feedback(api, record, {"label": "legit", "note": f"note {index}"}, user="senior")
        assert response.status_code == 200, response.text
    refused = feedback(api, record, {"label": "fraud", "note": "one more"}, user="senior")
    assert refused.status_code == 422
    assert "history is full" in refused.json()["message"]
    detail = api.get(f"/alerts/{record['alert_id']}").json()
    assert len(detail["verdicts"]) == cap and detail["alert"]["status"] == "legitimate"


def test_an_item_dynamodb_finds_too_large_is_a_422_not_a_500(api: ApiUnderTest) -> None:
    [record] = terminal_alerts(api, "term_big", 1, 640_000)
    api.aws.client("dynamodb").update_item(
        TableName=FanoutConfig().alerts_table,
        Key={"alert_id": {"S": record["alert_id"]}},
        UpdateExpression="SET padding = :padding",
        ExpressionAttributeValues={":padding": {"S": "x" * 403_500}},
    )
    response = feedback(api, record, {"label": "fraud", "note": "n" * 1000}, user="senior")
    assert response.status_code == 422, response.text


def test_every_verdict_is_in_an_audit_trail_the_api_cannot_rewrite(api: ApiUnderTest) -> None:
    [record] = terminal_alerts(api, "term_audit", 1, 650_000)
    verdict = feedback(api, record, {"label": "fraud", "note": "seen"}, user="senior").json()
    verdict = verdict["alert"]["verdict"]
    s3 = api.aws.client("s3")
    bucket = ApiConfig(jwt_issuer="i", jwt_audience="a").audit_bucket
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=PREFIX).get("Contents", [])
        if verdict["verdict_id"] in o["Key"]
    ]
    [key] = keys
    stored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert stored["actor"] == verdict["actor"] and "@" not in stored["actor"]
    assert stored["alert_id"] == record["alert_id"] and stored["label"] == "fraud"
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    [version] = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")  # what a stolen role could do
    original = s3.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert json.loads(original["Body"].read()) == stored, "the first version stays, locked"


def test_one_token_posting_1000_fraud_verdicts_on_one_terminal_moves_at_most_the_budget(
    api: ApiUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    bounds = services().verdicts.bounds
    terminal = "term_poisoned"
    records = terminal_alerts(api, terminal, VERDICTS, 610_000)
    actor = api.subject("analyst")
    day_ago = datetime.now(UTC) - timedelta(hours=24)
    used = services().ledger.verdicts_since(actor, day_ago, bounds.verdict_quota)
    started = time.monotonic()
    statuses = [feedback(api, record, {"label": "fraud"}).status_code for record in records]
    elapsed = time.monotonic() - started
    accepted = statuses.count(200)
    assert accepted == bounds.verdict_quota - used
    assert statuses.count(429) == VERDICTS - accepted
    assert set(statuses) == {200, 429}
    assert labels_of_terminal(api, terminal) == [], "nothing reaches the stream during the hold"
    api.release_held()
    released = labels_of_terminal(api, terminal)
    assert len(released) == bounds.terminal_label_budget
    assert {label["label"] for label in released} == {"fraud"}
    # The metrics the alarms watch counted every fraud label asked for, by analyst and terminal.
    watch = services().verdicts.watch
    assert {label["actor"] for label in released} == {actor}
    assert watch.counts[(ANALYST_FRAUD_LABELS, actor)] >= accepted
    assert watch.counts[(TERMINAL_FRAUD_LABELS, terminal)] == accepted
    thresholds = defaults(API_MODULE)
    alarms = [
        name
        for name, counted in (
            ("analyst-fraud-labels", watch.counts[(ANALYST_FRAUD_LABELS, actor)]),
            ("terminal-analyst-fraud-labels", watch.counts[(TERMINAL_FRAUD_LABELS, terminal)]),
        )
        if counted > thresholds["analyst_fraud_label_alarm_threshold"]
    ]
    assert alarms == ["analyst-fraud-labels", "terminal-analyst-fraud-labels"]
    with capsys.disabled():
        print(
            f"\none token: {VERDICTS} fraud verdicts on {terminal} in {elapsed:.1f} s: "
            f"accepted {accepted}, 429 {statuses.count(429)}, on the stream before the hold 0, "
            f"after it {len(released)} (budget {bounds.terminal_label_budget}); "
            f"alarms over threshold: {', '.join(alarms)}"
        )


def test_the_verdict_quota_is_per_analyst(api: ApiUnderTest) -> None:
    """The 1,000-verdict test used the analyst's quota: another analyst is not blocked."""
    [record] = terminal_alerts(api, "term_quota", 1, 660_000)
    assert feedback(api, record, {"label": "legit"}, user="analyst").status_code in (200, 429)
    assert feedback(api, record, {"label": "legit"}, user="senior").status_code == 200
