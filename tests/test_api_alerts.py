"""GET /alerts and GET /alerts/{alert_id} against moto, through the Lambda handler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api_support import ApiUnderTest, alert_record, recent, started_api

# 30 alerts, one every 10 minutes (index 0 the oldest), over 3 cards and 2 terminals.
CATALOGUE = [
    alert_record(
        index,
        recent(10 * (30 - index)),
        card=f"card_10000{index % 3}",
        terminal=f"term_2000{index % 2}",
        severity=("low", "medium", "high")[index % 3],
        score=round(0.5 + index / 100, 2),
        reason_codes=("AMOUNT",) if index % 4 else ("AMOUNT", "CARD_SECS_SINCE_PREV"),
    )
    for index in range(30)
]


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    for under_test in started_api():
        under_test.store(CATALOGUE)
        yield under_test


def ids(response_items: list[dict[str, Any]]) -> list[str]:
    return [item["alert_id"] for item in response_items]


def newest_first(records: list[dict[str, Any]]) -> list[str]:
    return [r["alert_id"] for r in sorted(records, key=lambda r: r["detected_at"], reverse=True)]


def test_the_queue_is_every_alert_newest_first(api: ApiUnderTest) -> None:
    response = api.get("/alerts", limit=200)
    assert response.status_code == 200
    body = response.json()
    assert ids(body["items"]) == newest_first(CATALOGUE)
    assert body["next_cursor"] is None
    first = body["items"][0]
    newest = CATALOGUE[-1]
    for name in ("transaction_id", "card_id", "terminal_id", "severity", "score", "reasons"):
        assert first[name] == newest[name]
    assert first["status"] == "new" and first["verdict"] is None


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"card_id": "card_100001"}, lambda r: r["card_id"] == "card_100001"),
        ({"terminal_id": "term_20000"}, lambda r: r["terminal_id"] == "term_20000"),
        ({"status": "new"}, lambda r: True),
        ({"status": "legitimate"}, lambda r: False),
        ({"severity": "medium"}, lambda r: r["severity"] == "medium"),
        ({"min_score": 0.7}, lambda r: r["score"] >= 0.7),
        ({"reason_code": "CARD_SECS_SINCE_PREV"}, lambda r: len(r["reason_codes"]) == 2),
        (
            {"card_id": "card_100002", "severity": "high", "min_score": 0.6},
            lambda r: r["card_id"] == "card_100002" and r["score"] >= 0.6,
        ),
        (
            {"terminal_id": "term_20001", "reason_code": "AMOUNT"},
            lambda r: r["terminal_id"] == "term_20001",
        ),
    ],
    ids=[
        "card",
        "terminal",
        "status-new",
        "status-legitimate",
        "severity",
        "min-score",
        "reason-code",
        "card+severity+score",
        "terminal+reason",
    ],
)
def test_each_filter_keeps_only_matching_alerts(
    api: ApiUnderTest, params: dict[str, Any], keep: Any
) -> None:
    response = api.get("/alerts", limit=200, **params)
    assert response.status_code == 200, response.text
    assert ids(response.json()["items"]) == newest_first([r for r in CATALOGUE if keep(r)])


def test_from_and_to_bound_the_detection_time(api: ApiUnderTest) -> None:
    start, end = CATALOGUE[10]["detected_at"], CATALOGUE[19]["detected_at"]
    response = api.get("/alerts", limit=200, **{"from": start, "to": end})
    assert ids(response.json()["items"]) == newest_first(CATALOGUE[10:20])
    by_card = api.get("/alerts", card_id="card_100000", **{"from": start, "to": end})
    assert ids(by_card.json()["items"]) == newest_first(
        [r for r in CATALOGUE[10:20] if r["card_id"] == "card_100000"]
    )


@pytest.mark.parametrize("params", [{}, {"severity": "high"}, {"card_id": "card_100001"}])
def test_pages_follow_the_cursor_without_gaps_or_repeats(
    api: ApiUnderTest, params: dict[str, Any]
) -> None:
    expected = ids(api.get("/alerts", limit=200, **params).json()["items"])
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = api.get("/alerts", limit=4, **params, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 4
        seen += ids(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_the_default_page_is_50_and_limit_is_1_to_200(api: ApiUnderTest) -> None:
    assert len(api.get("/alerts").json()["items"]) == 30
    assert len(api.get("/alerts", limit=1).json()["items"]) == 1
    for bad in (0, 201, "many"):
        response = api.get("/alerts", limit=bad)
        assert response.status_code == 422
        assert "limit" in response.json()["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"severity": "urgent"}, "severity"),
        ({"status": "open"}, "status"),
        ({"min_score": 1.5}, "min_score"),
        ({"min_score": "high"}, "min_score"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-11-30T10:00:00"}, "to"),  # RFC 3339 needs the offset
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJ0IjogMX0"}, "cursor"),  # base64 JSON, not ours
    ],
)
def test_bad_query_input_is_422_naming_the_field(
    api: ApiUnderTest, params: dict[str, Any], field: str
) -> None:
    response = api.get("/alerts", **params)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]


def test_the_alert_detail_carries_its_context(api: ApiUnderTest) -> None:
    record = CATALOGUE[20]
    response = api.get(f"/alerts/{record['alert_id']}")
    assert response.status_code == 200
    body = response.json()
    alert = body["alert"]
    assert alert["alert_id"] == record["alert_id"]
    assert alert["features"] == record["features"]
    assert alert["model_version"] == record["model_version"]
    assert alert["ingested_at"] == record["ingested_at"] and alert["late"] is False
    assert [(r["code"], r["text"]) for r in body["reasons"]] == list(
        zip(record["reason_codes"], record["reasons"], strict=True)
    )
    baselines = {b["feature"]: (b["value"], b["baseline"]) for b in body["baselines"]}
    assert baselines["amount"] == (812.5, 100.0)
    assert baselines["card_avg_amount_1d"] == (300.0, 100.0)
    assert baselines["card_txn_count_1h"] == (4.0, pytest.approx(2.0 / 24, abs=1e-4))  # 60/30 d
    same_card = [r for r in CATALOGUE if r["card_id"] == record["card_id"] and r is not record]
    assert ids(body["card_alerts"]) == newest_first(same_card)
    assert body["verdicts"] == []


def test_an_unknown_alert_is_404_and_a_malformed_id_422(api: ApiUnderTest) -> None:
    missing = api.get("/alerts/" + "0" * 32)
    assert missing.status_code == 404
    assert "no alert" in missing.json()["message"]
    malformed = api.get("/alerts/not-an-id")
    assert malformed.status_code == 422
    assert "alert_id" in malformed.json()["message"]


def test_listing_reads_indexes_never_scans(api: ApiUnderTest) -> None:
    from lambdas.api import services

    calls: list[str] = []
    client = services.services().repository._dynamodb
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    try:
        api.get("/alerts", limit=5)
        api.get("/alerts", card_id="card_100000", severity="low")
        api.get(f"/alerts/{CATALOGUE[3]['alert_id']}")
        api.get("/metrics")
    finally:
        client.meta.events.unregister("before-call.dynamodb")
    assert calls and set(calls) <= {"Query", "GetItem"}, calls


def test_an_unknown_query_parameter_is_422_naming_it(api: ApiUnderTest) -> None:
    response = api.get("/alerts", serverity="high")
    assert response.status_code == 422
    assert "serverity" in response.json()["message"]


def test_a_range_that_ends_before_it_starts_is_empty(api: ApiUnderTest) -> None:
    later, earlier = CATALOGUE[20]["detected_at"], CATALOGUE[10]["detected_at"]
    response = api.get("/alerts", **{"from": later, "to": earlier})
    assert response.status_code == 200 and response.json()["items"] == []


def test_a_tiny_minimum_score_is_a_number_dynamodb_reads(api: ApiUnderTest) -> None:
    response = api.get("/alerts", min_score=1e-05, limit=200)
    assert response.status_code == 200 and len(response.json()["items"]) == 30


def scanned_per_request(api: ApiUnderTest, path: str, **params: Any) -> tuple[int, Any]:
    """Items DynamoDB read (ScannedCount, before filters) answering one request, and the
    response's body."""
    from lambdas.api import services

    scanned: list[int] = []
    client = services.services().repository._dynamodb

    def count(parsed: dict[str, Any], **_: Any) -> None:
        scanned.append(int(parsed.get("ScannedCount", 0)))

    client.meta.events.register("after-call.dynamodb.Query", count)
    try:
        body = api.get(path, **params).json()
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", count)
    return sum(scanned), body


def test_a_selective_filter_reads_a_bounded_number_of_items_and_goes_on_by_cursor(
    api: ApiUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdas.api import repository

    monkeypatch.setattr(repository, "ITEMS_READ_PER_REQUEST", 9)
    pages, seen, cursor = 0, [], None
    while True:
        params = {"reason_code": "CARD_SECS_SINCE_PREV", "limit": 2}
        scanned, body = scanned_per_request(
            api, "/alerts", **params, **({"cursor": cursor} if cursor else {})
        )
        assert scanned <= 3 * (9 // 3), scanned  # three status partitions, 3 items each
        seen += ids(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    wanted = [r for r in CATALOGUE if "CARD_SECS_SINCE_PREV" in r["reason_codes"]]
    assert seen == newest_first(wanted) and pages > 2


def test_metrics_read_a_bounded_number_of_alerts_and_say_from_when_they_count(
    api: ApiUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdas.api import metrics

    whole, body = scanned_per_request(api, "/metrics", days=90)
    assert body["complete_from"] is None
    assert sum(d["count"] for d in body["alerts_per_day"]) >= len(CATALOGUE)
    monkeypatch.setattr(metrics, "MAX_ALERTS_PER_STATUS", 4)
    monkeypatch.setattr(metrics.read_alerts, "__defaults__", (4,))
    scanned, capped = scanned_per_request(api, "/metrics", days=90)
    assert scanned <= 3 * 4 < whole
    assert capped["complete_from"] is not None
    counted = sum(d["count"] for d in capped["alerts_per_day"])
    assert 4 <= counted <= 12
    newest = sorted((r["detected_at"] for r in CATALOGUE), reverse=True)[:4]
    assert capped["complete_from"] <= newest[-1]
