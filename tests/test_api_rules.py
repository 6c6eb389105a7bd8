"""Rules through the API, on the moto server and the local server (the Lambda handler): a
draft is applied at once and the job's RuleSource loads the version published; an active
rule waits for another rule-admin (four eyes), is refused to readers, to plain analysts as
approvers and to its own requester; a stale base is a 409; the quota a 429; every step is in
the audit trail and read back as the rule's history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flink_job.features import FEATURE_NAMES
from lambdas.api import rulestore
from lambdas.api import services as api_services
from lambdas.api.config import ApiConfig
from local.aws.api_resources import LOCAL_RULES_ROOT
from model_export.rules_registry import RuleRegistry
from tests.api_support import ApiUnderTest, started_api
from udfs.rulesets import RuleServer, RuleSource

AUDIT_BUCKET = ApiConfig(jwt_issuer="i", jwt_audience="a").audit_bucket


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    yield from started_api()


def rule(name: str, mode: str = "shadow", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "expression": "channel == 'ecom' && amount > 300.0 && card_txn_count_10m >= 3.0",
        "outcome": "alert",
        "severity": "high",
        "priority": 10,
        "mode": mode,
        **fields,
    }


def ask(api: ApiUnderTest, body: dict[str, Any], user: str = "analyst") -> Any:
    return api.post("/rules/changes", {"reason": "Friday night attack", **body}, user=user)


def current_version(api: ApiUnderTest) -> str | None:
    version: str | None = api.get("/rules").json()["version"]
    return version


def test_the_apis_feature_names_are_the_jobs() -> None:
    assert rulestore.FEATURE_NAMES == FEATURE_NAMES


def test_a_draft_is_applied_at_once_and_the_job_loads_the_version(api: ApiUnderTest) -> None:
    response = ask(api, {"action": "upsert", "rule": rule("ecom_burst")})
    assert response.status_code == 201, response.text
    change = response.json()
    assert change["status"] == "applied" and change["ruleset_version"]
    assert change["requested_by"] == api.subject("analyst")
    assert change["diff"] == {"before": None, "after": rule("ecom_burst")}
    listed = api.get("/rules").json()
    assert listed["version"] == change["ruleset_version"]
    assert rule("ecom_burst") in listed["rules"]
    # the job's own loader, on the root the API published to
    source = RuleSource(LOCAL_RULES_ROOT, FEATURE_NAMES, endpoint=api.aws.endpoint)
    server = RuleServer(source, poll_interval_s=60.0)
    assert server.rules is not None
    assert server.rules.version == change["ruleset_version"]
    assert [c.spec.name for c in server.rules.rules] == ["ecom_burst"]
    registry = RuleRegistry(LOCAL_RULES_ROOT, api.aws.endpoint)
    assert registry.ruleset_current() == change["ruleset_version"]


def test_activating_a_rule_waits_for_another_rule_admin(api: ApiUnderTest) -> None:
    response = ask(api, {"action": "upsert", "rule": rule("big_ecom", "active")}, "senior")
    assert response.status_code == 201, response.text
    change = response.json()
    assert change["status"] == "pending" and change["ruleset_version"] is None
    before = current_version(api)
    assert change["base_version"] == before
    assert "big_ecom" not in [r["name"] for r in api.get("/rules").json()["rules"]]
    path = f"/rules/changes/{change['change_id']}"
    own = api.post(f"{path}/approve", {"note": "mine"}, user="senior")
    assert own.status_code == 403 and "four eyes" in own.json()["message"]
    assert api.post(f"{path}/approve", {"note": "ok"}, user="analyst").status_code == 403
    assert api.post(f"{path}/approve", {"note": "ok"}, user="reader").status_code == 403
    pending = api.get("/rules/changes", status="pending").json()["items"]
    assert change["change_id"] in [c["change_id"] for c in pending]
    approved = api.post(f"{path}/approve", {"note": "backtest looks right"}, user="admin")
    assert approved.status_code == 200, approved.text
    applied = approved.json()
    assert applied["status"] == "applied" and applied["decided_by"] == api.subject("admin")
    assert applied["ruleset_version"] == current_version(api) != before
    assert rule("big_ecom", "active") in api.get("/rules").json()["rules"]
    again = api.post(f"{path}/approve", {"note": "twice"}, user="admin")
    assert again.status_code == 409
    assert api.get(path).json()["status"] == "applied"


def test_readers_may_not_ask_for_changes(api: ApiUnderTest) -> None:
    response = ask(api, {"action": "upsert", "rule": rule("reader_rule")}, "reader")
    assert response.status_code == 403
    assert api.get("/rules", user="reader").status_code == 200


def test_an_approval_on_a_stale_rule_set_is_a_conflict(api: ApiUnderTest) -> None:
    first = ask(api, {"action": "upsert", "rule": rule("stale_a", "active")}).json()
    second = ask(api, {"action": "upsert", "rule": rule("stale_b", "active")}).json()
    assert first["base_version"] == second["base_version"]
    ok = api.post(f"/rules/changes/{first['change_id']}/approve", {"note": ""}, user="senior")
    assert ok.status_code == 200, ok.text
    late = api.post(f"/rules/changes/{second['change_id']}/approve", {"note": ""}, user="senior")
    assert late.status_code == 409, late.text
    assert "changed since" in late.json()["message"]
    assert api.get(f"/rules/changes/{second['change_id']}").json()["status"] == "pending"
    # the refused approval left no record: the trail says only what happened
    actions = [i["action"] for i in api.get("/rules/stale_b/history").json()["items"]]
    assert actions == ["requested"]
    rejected = api.post(
        f"/rules/changes/{second['change_id']}/reject", {"note": "stale"}, user="senior"
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_a_rule_that_does_not_type_check_is_refused_naming_the_place(api: ApiUnderTest) -> None:
    bad = rule("typo", expression="amount > 300.0 && chanel == 'ecom'")
    response = ask(api, {"action": "upsert", "rule": bad})
    assert response.status_code == 422
    assert "chanel" in response.json()["message"]
    checked = api.post("/rules/validate", {"expression": "amount > 300.0 && chanel == 'ecom'"})
    assert checked.status_code == 200
    body = checked.json()
    assert body["ok"] is False and body["errors"][0]["position"] == 18
    good = api.post("/rules/validate", {"expression": "amount > 300.0"}).json()
    assert good == {"ok": True, "errors": []}
    unknown_list = api.post("/rules/validate", {"expression": "card_id in list('nope')"}).json()
    assert unknown_list["ok"] is False


def test_removing_an_active_rule_needs_approval_and_a_missing_one_is_404(
    api: ApiUnderTest,
) -> None:
    missing = ask(api, {"action": "remove", "rule": {"name": "never_was"}})
    assert missing.status_code == 404
    ask(api, {"action": "upsert", "rule": rule("to_remove", "active")}, "admin")
    pending = api.get("/rules/changes", status="pending").json()["items"]
    change = next(c for c in pending if c["rule"] == "to_remove")
    api.post(f"/rules/changes/{change['change_id']}/approve", {"note": ""}, user="senior")
    removal = ask(api, {"action": "remove", "rule": {"name": "to_remove"}}).json()
    assert removal["status"] == "pending"
    assert removal["diff"]["after"] is None and removal["diff"]["before"]["name"] == "to_remove"


def test_every_step_is_audited_and_read_back_as_the_rules_history(api: ApiUnderTest) -> None:
    change = ask(api, {"action": "upsert", "rule": rule("audited", "active")}).json()
    api.post(f"/rules/changes/{change['change_id']}/approve", {"note": "seen"}, user="senior")
    history = api.get("/rules/audited/history")
    assert history.status_code == 200, history.text
    items = history.json()["items"]
    assert [i["action"] for i in items] == ["applied", "approved", "requested"]
    assert [i["actor"] for i in items] == [
        api.subject("senior"),
        api.subject("senior"),
        api.subject("analyst"),
    ]
    assert {i["change_id"] for i in items} == {change["change_id"]}
    assert items[1]["note"] == "seen" and items[2]["reason"] == "Friday night attack"
    assert items[2]["diff"]["after"]["mode"] == "active"
    s3 = api.aws.client("s3")
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=AUDIT_BUCKET, Prefix="rules/rule=audited/")["Contents"]
    ]
    assert len(keys) == 3 and all(k.endswith(".json") for k in keys)
    record = json.loads(s3.get_object(Bucket=AUDIT_BUCKET, Key=keys[0])["Body"].read())
    assert record["rule"] == "audited"
    assert api.get("/rules/never_was/history").json() == {"items": []}


def test_past_the_quota_an_analyst_is_refused_with_429(api: ApiUnderTest) -> None:
    current = api_services.current()
    assert current is not None and current.rulebook is not None
    quota = current.rulebook.quota
    requesters = [
        c["requested_by"]
        for status in ("pending", "applied", "rejected")
        for c in api.get("/rules/changes", status=status).json()["items"]
    ]
    current.rulebook.quota = requesters.count(api.subject("admin")) + 2
    assert requesters.count(api.subject("senior")) < current.rulebook.quota
    try:
        for index in range(2):
            made = ask(api, {"action": "upsert", "rule": rule(f"quota_{index}")}, "admin")
            assert made.status_code == 201, made.text
        refused = ask(api, {"action": "upsert", "rule": rule("quota_2")}, "admin")
        assert refused.status_code == 429
        assert "quota" in refused.json()["message"]
        # another analyst is not affected
        assert ask(api, {"action": "upsert", "rule": rule("quota_3")}, "senior").status_code == 201
    finally:
        current.rulebook.quota = quota
