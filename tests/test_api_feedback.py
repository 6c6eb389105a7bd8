"""POST /alerts/{alert_id}/feedback, GET /metrics, the tokens, and the handler's event
contract, against moto through the Lambda handler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from contracts.label import LABEL_V1
from lambdas.api import handler
from local.console.dev_issuer import DevIssuer
from local.console.server import api_gateway_event
from tests.api_support import ApiUnderTest, alert_record, recent, started_api

LABEL_V1_FIELDS = set(LABEL_V1.names())


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    yield from started_api()


_next = iter(range(500_000, 600_000))


def fresh_alert(api: ApiUnderTest, **overrides: Any) -> dict[str, Any]:
    """A new alert of its own card, stored; each test gets its own."""
    index = next(_next)
    overrides.setdefault("terminal", f"term_{index}")
    record = alert_record(index, recent(5), card=f"card_{index}", **overrides)
    api.store([record])
    return record


def labels_of(api: ApiUnderTest, record: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in api.labels() if e["label"]["transaction_id"] == record["transaction_id"]]


def feedback(api: ApiUnderTest, record: dict[str, Any], body: Any, **kw: Any) -> Any:
    return api.post(f"/alerts/{record['alert_id']}/feedback", body, **kw)


def test_a_verdict_sets_the_status_and_its_label_v1_reaches_the_stream_after_the_hold(
    api: ApiUnderTest,
) -> None:
    record = fresh_alert(api)
    response = feedback(api, record, {"label": "fraud", "note": "customer denies it"})
    assert response.status_code == 200, response.text
    alert = response.json()["alert"]
    assert alert["status"] == "confirmed_fraud"
    verdict = alert["verdict"]
    assert verdict["label"] == "fraud" and verdict["note"] == "customer denies it"
    assert verdict["by"] == "analyst@example.com" and verdict["revision"] == 1
    assert verdict["actor"] == api.subject("analyst") and len(verdict["verdict_id"]) == 32
    assert labels_of(api, record) == [], "held: not on the stream before the hold has passed"
    assert api.release_held(after=timedelta(0)) == 0
    assert api.release_held() >= 1
    [entry] = labels_of(api, record)
    label = entry["label"]
    assert set(label) == LABEL_V1_FIELDS
    assert label == {
        "transaction_id": record["transaction_id"],
        "card_id": record["card_id"],
        "terminal_id": record["terminal_id"],
        "event_time": record["event_time"],
        "label": "fraud",
        "source": "analyst",
        "reported_at": verdict["at"],
        "actor": verdict["actor"],
        "verdict_id": verdict["verdict_id"],
    }
    assert "@" not in label["actor"], "the token's sub, never an e-mail"
    assert entry["partition_key"] == record["card_id"]
    detail = api.get(f"/alerts/{record['alert_id']}").json()
    assert detail["alert"]["status"] == "confirmed_fraud"
    assert detail["verdicts"] == [verdict]


def test_the_same_verdict_twice_writes_once(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    first = feedback(api, record, {"label": "legit", "note": None})
    second = feedback(api, record, {"label": "legit"})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.json()["alert"]["status"] == "legitimate"
    api.release_held()
    assert len(labels_of(api, record)) == 1
    assert len(api.get(f"/alerts/{record['alert_id']}").json()["verdicts"]) == 1


def test_a_verdict_changed_within_the_hold_replaces_its_held_label(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    feedback(api, record, {"label": "fraud"})
    changed = feedback(api, record, {"label": "legit", "note": "cardholder was travelling"})
    assert changed.status_code == 200
    verdict = changed.json()["alert"]["verdict"]
    assert verdict["revision"] == 2 and changed.json()["alert"]["status"] == "legitimate"
    api.release_held()
    assert [e["label"]["label"] for e in labels_of(api, record)] == ["legit"]
    history = api.get(f"/alerts/{record['alert_id']}").json()["verdicts"]
    assert [(v["revision"], v["label"]) for v in history] == [(1, "fraud"), (2, "legit")]


def test_a_verdict_changed_after_its_label_was_released_sends_the_new_label(
    api: ApiUnderTest,
) -> None:
    record = fresh_alert(api)
    feedback(api, record, {"label": "fraud"})
    api.release_held()
    feedback(api, record, {"label": "legit"})
    api.release_held()
    assert [e["label"]["label"] for e in labels_of(api, record)] == ["fraud", "legit"]


def test_flipping_a_verdict_four_times_puts_one_label_not_five(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    for label in ("fraud", "legit", "fraud", "legit", "fraud"):
        assert feedback(api, record, {"label": label}).status_code == 200
    assert labels_of(api, record) == []
    api.release_held()
    assert [e["label"]["label"] for e in labels_of(api, record)] == ["fraud"]


def test_a_second_analysts_same_label_sends_it_at_once(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    first = feedback(api, record, {"label": "fraud"}).json()["alert"]["verdict"]
    assert labels_of(api, record) == []
    again = feedback(api, record, {"label": "fraud"})  # the same analyst: not a confirmation
    assert again.status_code == 200 and labels_of(api, record) == []
    confirmed = feedback(api, record, {"label": "fraud", "note": "agreed"}, user="senior")
    assert confirmed.status_code == 200
    [entry] = labels_of(api, record)
    assert entry["label"]["actor"] == first["actor"]
    assert entry["label"]["verdict_id"] == first["verdict_id"]
    api.release_held()
    assert len(labels_of(api, record)) == 1, "confirmed once, never released again"


def test_a_changed_note_alone_is_a_revision_without_a_second_label(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    feedback(api, record, {"label": "fraud", "note": "first look"})
    again = feedback(api, record, {"label": "fraud", "note": "confirmed by phone"})
    assert again.json()["alert"]["verdict"]["revision"] == 2
    api.release_held()
    assert len(labels_of(api, record)) == 1


def test_a_card_number_in_a_note_is_masked_before_it_is_stored(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    response = feedback(api, record, {"label": "fraud", "note": "pan 4111 1111 1111 1111 seen"})
    note = response.json()["alert"]["verdict"]["note"]
    assert "4111" not in note and "1111 1111" not in note


def test_a_reader_may_read_but_not_give_verdicts(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    assert api.get(f"/alerts/{record['alert_id']}", user="reader").status_code == 200
    assert api.get("/metrics", user="reader").status_code == 200
    response = feedback(api, record, {"label": "fraud"}, user="reader")
    assert response.status_code == 403
    assert "analysts" in response.json()["message"]
    assert labels_of(api, record) == []


def test_a_verdict_on_an_unknown_alert_is_404(api: ApiUnderTest) -> None:
    response = api.post(f"/alerts/{'a' * 32}/feedback", {"label": "fraud"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label": "maybe"}, "label"),
        ({}, "label"),
        ({"label": "fraud", "note": "x" * 1001}, "note"),
        ({"label": "fraud", "note": 7}, "note"),
        ({"label": "fraud", "extra": 1}, "extra"),
        ("{not json", "body"),
        ([1, 2], "body"),
    ],
)
def test_a_bad_verdict_is_422_naming_the_field(api: ApiUnderTest, body: Any, field: str) -> None:
    record = fresh_alert(api)
    response = feedback(api, record, body)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert labels_of(api, record) == []


def test_requests_without_a_valid_token_are_401(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    stranger = DevIssuer(api.origin)  # same issuer URL, another key
    other_client = DevIssuer(api.origin, client_id="another-client")
    other_issuer = DevIssuer("http://127.0.0.1:1")
    bad = {
        "none": {},
        "basic": {"Authorization": "Basic YTpi"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "foreign key": {"Authorization": f"Bearer {stranger.token_for('analyst')}"},
        "other audience": {"Authorization": f"Bearer {other_client.token_for('analyst')}"},
        "other issuer": {"Authorization": f"Bearer {other_issuer.token_for('analyst')}"},
    }
    for name, headers in bad.items():
        for method, path in (
            ("GET", "/alerts?limit=0"),  # 401 before the bad limit is looked at
            ("GET", f"/alerts/{record['alert_id']}"),
            ("POST", f"/alerts/{record['alert_id']}/feedback"),
            ("GET", "/metrics"),
        ):
            response = requests.request(
                method, f"{api.api}{path}", headers=headers, json={"label": "fraud"}, timeout=30
            )
            assert response.status_code == 401, (name, method, path, response.text)
    assert labels_of(api, record) == []


def test_an_access_token_is_accepted_like_an_id_token(api: ApiUnderTest) -> None:
    token = api.console.server.issuer.access_token_for("analyst")
    response = requests.get(
        f"{api.api}/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 200


def test_metrics_count_alerts_and_reviews(api: ApiUnderTest) -> None:
    before = api.get("/metrics", days=1).json()
    frauds = [fresh_alert(api, severity="high", model_version="m-metrics") for _ in range(3)]
    legit = fresh_alert(api, severity="low", model_version="m-metrics")
    for record in frauds:
        feedback(api, record, {"label": "fraud"})
    feedback(api, legit, {"label": "legit"})
    after = api.get("/metrics", days=1).json()
    assert sum(d["count"] for d in after["alerts_per_day"]) == (
        sum(d["count"] for d in before["alerts_per_day"]) + 4
    )
    assert sum(h["count"] for h in after["alerts_per_hour"]) == sum(
        d["count"] for d in after["alerts_per_day"]
    )
    assert after["model_versions"]["m-metrics"] == 4
    assert after["by_severity"]["high"] - before["by_severity"].get("high", 0) == 3
    assert after["by_reason_code"]["AMOUNT"] - before["by_reason_code"].get("AMOUNT", 0) == 4
    assert after["reviewed"] - before["reviewed"] >= 4
    assert 0.0 < after["reviewed_precision"] < 1.0
    assert after["median_time_to_review_s"] >= 0.0
    for days in (0, 91, "week"):
        response = api.get("/metrics", days=days)
        assert response.status_code == 422 and "days" in response.json()["message"]


def test_the_openapi_document_is_public_and_lists_every_route(api: ApiUnderTest) -> None:
    response = requests.get(f"{api.api}/openapi.json", timeout=30)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/alerts",
        "/alerts/{alert_id}",
        "/alerts/{alert_id}/feedback",
        "/metrics",
        "/rules",
        "/rules/validate",
        "/rules/changes",
        "/rules/changes/{change_id}",
        "/rules/changes/{change_id}/approve",
        "/rules/changes/{change_id}/reject",
        "/rules/{name}/history",
        "/rules/backtest",
        "/rules/hits",
        "/lists",
        "/lists/{name}/entries",
    }
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_handler_answers_an_api_gateway_v2_event(api: ApiUnderTest) -> None:
    """What the HTTP API sends the Lambda: the local server builds the same event."""
    token = api.token("analyst")
    event = api_gateway_event(
        "GET", "/api/alerts?limit=1", {"Authorization": f"Bearer {token}"}, b"", "127.0.0.1"
    )
    assert event["rawPath"] == "/alerts" and event["queryStringParameters"] == {"limit": "1"}
    assert event["requestContext"]["http"]["method"] == "GET"
    response = handler.lambda_handler(event, None)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"


def test_a_422_does_not_echo_a_card_number_the_caller_sent(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    response = feedback(api, record, {"label": "fraud", "4111 1111 1111 1111": "x"})
    assert response.status_code == 422
    assert "4111" not in response.text


def test_a_body_that_is_not_utf8_is_422_not_a_crash(api: ApiUnderTest) -> None:
    record = fresh_alert(api)
    token = api.token("analyst")
    event = api_gateway_event(
        "POST",
        f"/api/alerts/{record['alert_id']}/feedback",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        b'{"label": "fraud", "note": "\xbd\xff"}',
        "127.0.0.1",
    )
    assert event["isBase64Encoded"] is True
    response = handler.lambda_handler(event, None)
    assert response["statusCode"] == 422
    assert "UTF-8" in response["body"]
