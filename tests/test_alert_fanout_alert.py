"""Alert v1 parsing, the lake's key and row, the e-mail template and the configuration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.alert_fanout.alert import MalformedAlertError, parse_alert
from lambdas.alert_fanout.config import ConfigError, FanoutConfig
from lambdas.alert_fanout.lake import lake_key, lake_line
from lambdas.alert_fanout.mail import AlertNotice, template_data
from lambdas.alert_fanout.mail_template import TemplateError, load_template, render
from lambdas.alert_fanout.store import alert_item
from local.traffic.demo_alerts import example_alert


def alert_json(**changes: Any) -> str:
    document = example_alert("t-000123", "card_000123")
    document.update(changes)
    return json.dumps(document)


def test_a_valid_alert_keeps_every_contract_field() -> None:
    document = example_alert("t-000123", "card_000123")
    alert = parse_alert(json.dumps(document))
    assert alert.to_record() == {**document, "schema": "alert.v1"}


def test_unknown_fields_are_ignored() -> None:
    alert = parse_alert(alert_json(added_in_v2="whatever"))
    assert "added_in_v2" not in alert.to_record()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"schema": "alert.v0"}, "schema must be 'alert.v1'"),
        ({"alert_id": "not-hex"}, "alert_id must be 32 lowercase hex characters"),
        ({"amount": -3.0}, "amount must be a number ≥ 0"),
        ({"amount": "812.50"}, "amount must be a finite number"),
        ({"amount": True}, "amount must be a finite number"),
        ({"score": 1.2}, "score must be a number in [0, 1]"),
        ({"severity": "critical"}, "severity must be one of low, medium, high"),
        ({"card_id": "4111111111111111"}, "card_id must not contain a card number"),
        ({"detected_at": "2026-11-28T13:00:00+01:00"}, "detected_at must be an RFC 3339"),
        ({"reasons": "too high"}, "reasons must be a list of strings"),
        ({"features": {"x": "1"}}, "features values must be finite numbers"),
        ({"terminal_id": None}, "terminal_id is required"),
        ({"country": 250}, "country must be a string or null"),
    ],
)
def test_a_malformed_alert_names_the_field_and_the_rule(
    change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(MalformedAlertError, match=reason.replace("[", r"\[")):
        parse_alert(alert_json(**change))


PAN = "4111111111111111"  # Luhn-valid test card number


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("card_id", PAN),
        ("card_id", " " + PAN),
        ("card_id", "4111.1111.1111.1111"),
        ("card_id", "4111 1111 1111 1111"),
        ("card_id", "card-" + PAN),
        ("terminal_id", PAN),
        ("terminal_id", "term_4111-1111-1111-1111"),
        ("transaction_id", "t-" + PAN),
        ("merchant_category", "5411/" + PAN),
        ("country", PAN),
        ("channel", "pos " + PAN),
        ("reasons", ["amount is high", f"card {PAN} seen before"]),
        ("reason_codes", [PAN]),
    ],
)
def test_an_alert_with_a_card_number_in_any_text_field_is_malformed(
    field: str, value: str | list[str]
) -> None:
    with pytest.raises(MalformedAlertError, match=f"{field} must not contain a card number"):
        parse_alert(alert_json(**{field: value}))


def test_a_card_number_written_as_json_escaped_digits_is_found_after_decoding() -> None:
    raw = alert_json(card_id="CARD").replace('"CARD"', '"\\u0034111111111111111"')
    assert "\\u0034111111111111111" in raw  # the raw record holds no 16-digit run
    with pytest.raises(MalformedAlertError, match="card_id must not contain a card number"):
        parse_alert(raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("card_id", "card_000123"),
        ("card_id", "tok_4111111111111112"),  # 16 digits, not Luhn-valid: a token
        ("card_id", "c_123456789012"),  # 12 digits: too short for a card number
        ("terminal_id", "term_00042"),
        ("transaction_id", "t-000001"),
        ("merchant_category", "5411"),
        ("reasons", ["amount is 8.2 times the card's 30-day average"]),
    ],
)
def test_tokens_and_ordinary_text_pass(field: str, value: str | list[str]) -> None:
    assert getattr(parse_alert(alert_json(**{field: value})), field) == (
        tuple(value) if isinstance(value, list) else value
    )


@pytest.mark.parametrize("data", [b"\xff\xfe", b"not json", b"[1, 2]"])
def test_a_record_that_is_not_a_json_object_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedAlertError):
        parse_alert(data)


@given(
    happened=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
    detection_delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_the_lake_key_is_partitioned_by_the_event_hour_whatever_the_detection_time(
    happened: datetime, detection_delay: timedelta
) -> None:
    document = example_alert("t-1", "card_1")
    document["event_time"] = happened.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    first = parse_alert(json.dumps(document))
    document["detected_at"] = (happened + detection_delay).isoformat().replace("+00:00", "Z")
    replayed = parse_alert(json.dumps(document))  # the job detects it again, later
    key = lake_key(first, "alerts/")
    assert key == f"alerts/dt={happened:%Y-%m-%d}/hour={happened:%H}/{first.alert_id}.json"
    assert lake_key(replayed, "alerts/") == key
    assert alert_item(replayed)["day"] == alert_item(first)["day"] == f"{happened:%Y-%m-%d}"


def test_a_lake_object_is_one_json_line() -> None:
    alert = parse_alert(alert_json())
    line = lake_line(alert)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["alert_id"] == alert.alert_id


def notice(transaction_id: str) -> AlertNotice:
    alert = parse_alert(json.dumps(example_alert(transaction_id, "card_<7>")))
    return AlertNotice.from_alert(alert, "https://console.example")


def test_the_email_shows_amount_card_terminal_score_reasons_and_a_console_link() -> None:
    headline = notice("t-1")
    email = load_template().render(template_data(headline, []))
    for part in (email.text, email.html):
        assert "812.50 EUR" in part
        assert headline.terminal_id in part and headline.score in part
        assert "terminal not used by this card in 30 days" in part
        assert f"https://console.example/alerts/{headline.alert_id}" in part
        assert "earlier alert" not in part
    assert "card_&lt;7&gt;" in email.html and "card_<7>" in email.text
    assert headline.card_id in email.subject


def test_the_email_summarises_the_alerts_held_back_since_the_last_one() -> None:
    earlier = [notice("t-2"), notice("t-3")]
    email = load_template().render(template_data(notice("t-1"), earlier))
    assert "2 earlier alert(s)" in email.text and "(+2 earlier)" in email.subject
    assert all(n.alert_id in email.text and n.alert_id in email.html for n in earlier)


def test_a_value_missing_from_the_template_data_fails_rendering() -> None:
    with pytest.raises(TemplateError, match="'card_id' is missing"):
        render("card {{card_id}}", {}, escape=str)
    with pytest.raises(TemplateError, match="never closed"):
        render("{{#each reasons}}{{this}}", {"reasons": []}, escape=str)


def test_configuration_comes_from_the_environment_with_documented_defaults() -> None:
    assert FanoutConfig.from_env({}) == FanoutConfig()
    config = FanoutConfig.from_env(
        {"EMAIL_TO": "a@x.org, b@x.org", "EMAIL_MIN_SEVERITY": "medium", "ALERTS_BUCKET": "b"}
    )
    assert config.email_to == ("a@x.org", "b@x.org")
    assert (config.email_min_severity, config.alerts_bucket) == ("medium", "b")
    assert FanoutConfig().alerts_table == "fraud-alerts"
    assert FanoutConfig().email_card_interval_s == 900


@pytest.mark.parametrize(
    "env",
    [
        {"EMAIL_MIN_SEVERITY": "urgent"},
        {"EMAIL_CARD_INTERVAL_SECONDS": "soon"},
        {"EMAIL_TO": " , "},
        {"EMAIL_RENDERING": "pdf"},
    ],
)
def test_an_invalid_environment_is_refused_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        FanoutConfig.from_env(env)
