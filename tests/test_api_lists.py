"""Lists through the API, on the moto server and the local server: created, filled (JSON or
a CSV upload, up to 1 MiB on that route only), searched and paged, emptied; a hostile upload
(card numbers, malformed rows, values of the wrong shape) is a 422 naming the row and never
echoing a card number; an addition to a list an active suppress rule reads waits for a
second rule-admin, and the job loads the list version that is then published."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flink_job.features import FEATURE_NAMES
from lambdas.api.handler import MAX_BODY_BYTES, MAX_RULE_BYTES, MAX_UPLOAD_BYTES
from local.aws.api_resources import LOCAL_RULES_ROOT
from tests.api_support import ApiUnderTest, started_api
from udfs.rulesets import RuleServer, RuleSource

PAN = "4111111111111111"  # a test card number that passes the Luhn check


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    yield from started_api()


def make_list(api: ApiUnderTest, name: str, kind: str = "card_id") -> dict[str, Any]:
    response = api.post("/lists", {"name": name, "kind": kind})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def add(api: ApiUnderTest, name: str, body: dict[str, Any], user: str = "analyst") -> Any:
    return api.post(f"/lists/{name}/entries", {"reason": "compromised batch", **body}, user=user)


def delete(api: ApiUnderTest, name: str, values: list[str], user: str = "analyst") -> Any:
    return api.session.delete(
        f"{api.api}/lists/{name}/entries",
        json={"values": values, "reason": "cleared"},
        headers={"Authorization": f"Bearer {api.token(user)}"},
        timeout=30,
    )


def values(api: ApiUnderTest, name: str, **params: Any) -> list[str]:
    return [e["value"] for e in api.get(f"/lists/{name}/entries", **params).json()["items"]]


def test_a_list_is_created_filled_searched_and_emptied(api: ApiUnderTest) -> None:
    created = make_list(api, "blocked_cards")
    assert created["entries"] == 0 and created["suppressing"] is False
    assert api.post("/lists", {"name": "blocked_cards", "kind": "card_id"}).status_code == 409
    assert (
        api.post("/lists", {"name": "x_list", "kind": "card_id"}, user="reader").status_code == 403
    )
    entries = [{"value": f"card_{i:04d}", "reason": "seen in a dump"} for i in range(5)] + [
        {"value": "card_9999", "reason": "test", "expires_at": "2030-01-01T00:00:00Z"}
    ]
    response = add(api, "blocked_cards", {"entries": entries})
    assert response.status_code == 201, response.text
    change = response.json()
    assert change["status"] == "applied" and change["list_version"]
    assert change["diff"] == {"added": 6, "removed": 0}
    listed = {i["name"]: i for i in api.get("/lists").json()["items"]}
    assert listed["blocked_cards"]["entries"] == 6
    assert listed["blocked_cards"]["version"] == change["list_version"]
    page = api.get("/lists/blocked_cards/entries", q="card_000", limit=2).json()
    assert [e["value"] for e in page["items"]] == ["card_0000", "card_0001"]
    assert page["total"] == 5 and page["cursor"]
    assert page["items"][0]["added_by"] == api.subject("analyst")
    rest = values(api, "blocked_cards", q="card_000", limit=200, cursor=page["cursor"])
    assert rest == ["card_0002", "card_0003", "card_0004"]
    expiring = api.get("/lists/blocked_cards/entries", q="card_9").json()["items"][0]
    assert expiring["expires_at"] == "2030-01-01T00:00:00Z"
    removed = delete(api, "blocked_cards", ["card_0000", "card_0001", "not_there"])
    assert removed.status_code == 200, removed.text
    assert removed.json()["diff"] == {"added": 0, "removed": 2}
    assert values(api, "blocked_cards", q="card_000") == ["card_0002", "card_0003", "card_0004"]
    assert delete(api, "blocked_cards", ["not_there"]).status_code == 422
    assert api.get("/lists/no_such_list/entries").status_code == 404


def test_a_bulk_upload_takes_up_to_a_mebibyte_on_its_route_only(api: ApiUnderTest) -> None:
    make_list(api, "bulk_terminals", "terminal_id")
    rows = "".join(f"term_{i:06d},bulk run\n" for i in range(2000))
    body = {"csv": "value,reason\n" + rows}
    assert MAX_BODY_BYTES < len(rows) < MAX_UPLOAD_BYTES
    response = add(api, "bulk_terminals", body)
    assert response.status_code == 201, response.text
    assert response.json()["diff"]["added"] == 2000
    assert api.get("/lists/bulk_terminals/entries").json()["total"] == 2000
    padded = {"expression": "amount > 1.0" + " " * (MAX_RULE_BYTES + 1)}
    assert api.post("/rules/validate", padded).status_code == 413
    assert (
        api.post("/lists", {"name": "x" * (MAX_BODY_BYTES + 1), "kind": "card_id"}).status_code
        == 413
    )
    huge = {"csv": "value,reason\n" + "t,r\n" * (MAX_UPLOAD_BYTES // 4)}
    assert add(api, "bulk_terminals", huge).status_code == 413


@pytest.mark.parametrize(
    ("name", "kind", "csv", "row", "says"),
    [
        ("pan_cards", "card_id", f"value,reason\ncard_1,ok\n{PAN},oops\n", 3, "card number"),
        ("pan_reason", "card_id", f"value,reason\ncard_1,card {PAN}\n", 2, "card number"),
        ("bad_rows", "card_id", "value,reason\ncard_1,ok\ncard_2,ok,2030-01-01,extra\n", 3, "col"),
        ("bad_country", "country", "value,reason\nFR,ok\nfrance,no\n", 3, "two capital"),
        ("bad_expiry", "card_id", "value,reason,expires_at\ncard_1,ok,tomorrow\n", 2, "RFC 3339"),
        ("twice", "card_id", "value,reason\ncard_1,ok\ncard_1,again\n", 3, "twice"),
    ],
)
def test_a_hostile_upload_is_refused_naming_the_row(
    api: ApiUnderTest, name: str, kind: str, csv: str, row: int, says: str
) -> None:
    make_list(api, name, kind)
    response = add(api, name, {"csv": csv})
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert f"row {row}" in message and says in message
    assert PAN not in response.text
    assert api.get("/lists").json()["items"]  # nothing else broke
    assert api.get(f"/lists/{name}/entries").json()["total"] == 0


def test_a_hostile_json_entry_is_refused_naming_its_index(api: ApiUnderTest) -> None:
    make_list(api, "json_cards")
    entries = [{"value": "card_1", "reason": "ok"}, {"value": PAN, "reason": "oops"}]
    response = add(api, "json_cards", {"entries": entries})
    assert response.status_code == 422
    assert "body.entries[1]" in response.json()["message"] and PAN not in response.text
    header = add(api, "json_cards", {"csv": "card,why\ncard_1,ok\n"})
    assert header.status_code == 422 and "header" in header.json()["message"]


def test_adding_to_a_suppressing_list_waits_for_a_second_rule_admin(api: ApiUnderTest) -> None:
    make_list(api, "test_cards")
    add(api, "test_cards", {"entries": [{"value": "card_test_1", "reason": "QA card"}]})
    suppress = {
        "name": "known_test_cards",
        "expression": "card_id in list('test_cards')",
        "outcome": "suppress",
        "severity": None,
        "priority": 1,
        "mode": "active",
    }
    asked = api.post(
        "/rules/changes", {"action": "upsert", "rule": suppress, "reason": "QA cards"}
    ).json()
    approved = api.post(f"/rules/changes/{asked['change_id']}/approve", {"note": ""}, user="admin")
    assert approved.status_code == 200, approved.text
    listed = {i["name"]: i for i in api.get("/lists").json()["items"]}
    assert listed["test_cards"]["suppressing"] is True
    before = listed["test_cards"]["version"]
    response = add(api, "test_cards", {"entries": [{"value": "card_test_2", "reason": "new"}]})
    assert response.status_code == 201
    change = response.json()
    assert change["status"] == "pending" and change["base_version"] == before
    assert change["entries"][0]["value"] == "card_test_2"
    assert values(api, "test_cards") == ["card_test_1"]
    path = f"/rules/changes/{change['change_id']}"
    assert api.post(f"{path}/approve", {"note": ""}, user="analyst").status_code == 403
    applied = api.post(f"{path}/approve", {"note": "verified"}, user="senior")
    assert applied.status_code == 200, applied.text
    assert values(api, "test_cards") == ["card_test_1", "card_test_2"]
    version = applied.json()["list_version"]
    # removal never waits
    assert delete(api, "test_cards", ["card_test_1"]).json()["status"] == "applied"
    # the job loads the rule set with the list's current version
    source = RuleSource(LOCAL_RULES_ROOT, FEATURE_NAMES, endpoint=api.aws.endpoint)
    server = RuleServer(source, poll_interval_s=60.0)
    assert server.rules is not None
    loaded = {lst.name: lst for lst in server.rules.loaded_lists}
    assert loaded["test_cards"].version != version  # the removal came after
    assert loaded["test_cards"].values.to_pylist() == ["card_test_2"]


def test_a_rule_may_be_as_long_when_backtested_as_when_checked_or_asked_for() -> None:
    from lambdas.api.handler import body_limit

    for path in ("/rules/validate", "/rules/changes", "/rules/backtest"):
        assert body_limit("POST", path) == MAX_RULE_BYTES, path
    assert body_limit("POST", "/lists/x/entries") == MAX_UPLOAD_BYTES
    assert body_limit("POST", "/rules/changes/c-1/approve") == MAX_BODY_BYTES
