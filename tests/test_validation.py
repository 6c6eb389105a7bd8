"""Transaction v1 validation through the job's own views (Flink batch over a file, the
training path): every malformed record gets a reason that says what is wrong, a card number
never leaves the job unmasked, and good records are untouched. The arrival rules (future and
old event times, the amount cap), which need a Kinesis arrival, are in test_parser_rules.py."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from contracts.card_number import MASK
from flink_job.parsing import deadletter_payload_sql
from model_export.feature_table import batch_environment

GOOD = {
    "transaction_id": "t-1",
    "event_time": "2026-10-05T10:00:00.123Z",
    "card_id": "card_000001",
    "terminal_id": "term_00001",
    "amount": 12.5,
    "currency": "EUR",
}

CASES: list[tuple[str, str | None]] = [
    (json.dumps(GOOD), None),
    (json.dumps({**GOOD, "event_time": "2026-10-05T10:00:00+00:00"}), None),
    (json.dumps({**GOOD, "surprise": {"nested": True}}), None),  # unknown fields are ignored
    (json.dumps({**GOOD, "lat": 48.85, "lon": 2.35, "channel": "pos"}), None),
    ("this is not json", "record is not a JSON object"),
    ("[1, 2, 3]", "record is not a JSON object"),
    (
        json.dumps({k: v for k, v in GOOD.items() if k != "card_id"}),
        "missing required field card_id",
    ),
    (json.dumps({**GOOD, "terminal_id": ""}), "missing required field terminal_id"),
    (json.dumps({**GOOD, "amount": "12.5"}), "amount must be a number"),
    (json.dumps({**GOOD, "amount": -1}), "amount must be >= 0"),
    (json.dumps({**GOOD, "amount": 0}), None),  # an account verification: a card-testing signal
    (json.dumps({**GOOD, "amount": 0.0, "transaction_id": "t-zero"}), None),
    (json.dumps(GOOD).replace("12.5", "1e400"), "amount must be a finite number"),
    (json.dumps(GOOD).replace("12.5", "-1e400"), "amount must be a finite number"),
    (json.dumps(GOOD).replace("12.5", "1" + "0" * 400), "amount must be a finite number"),
    (json.dumps(GOOD).replace('"t-1"', '"t-1", "card_id": "card_2"'), "record has a duplicate"),
    (json.dumps({**GOOD, "transaction_id": "x" * 20_000}), "record is larger than"),
    (json.dumps({**GOOD, "terminal_id": 42}), "terminal_id must be a string"),
    (json.dumps({**GOOD, "lat": "north"}), "lat must be a number"),
    (json.dumps({**GOOD, "lat": 123.0, "lon": 2.0}), "lat/lon out of range"),
    (json.dumps({**GOOD, "currency": "euro"}), "currency must be a 3-letter ISO 4217 code"),
    (json.dumps({**GOOD, "event_time": "05/10/2026 10:00"}), "event_time must be RFC 3339 in UTC"),
    (
        json.dumps({**GOOD, "event_time": "2026-10-05T10:00:00+02:00"}),
        "event_time must be RFC 3339",
    ),
    (json.dumps({**GOOD, "event_time": "2026-13-45T10:00:00Z"}), "event_time is not a valid"),
    (json.dumps({**GOOD, "card_id": "4111 1111 1111 1111"}), "card_id contains a card number"),
    (json.dumps({**GOOD, "card_id": "4111111111111111"}), "card_id contains a card number"),
    (json.dumps({**GOOD, "card_id": " 4111111111111111"}), "card_id contains a card number"),
    (json.dumps({**GOOD, "card_id": "4111.1111.1111.1111"}), "card_id contains a card number"),
    (json.dumps({**GOOD, "card_id": "card-4111111111111111"}), "card_id contains a card number"),
    (
        json.dumps({**GOOD, "terminal_id": "5500 0000 0000 0004"}),
        "terminal_id contains a card number",
    ),
    (
        json.dumps({**GOOD, "card_id": "4111111111111111"}, ensure_ascii=True).replace(
            "4111", "\\u0034111"
        ),
        "card_id contains a card number",
    ),
    (json.dumps({**GOOD, "device_id": "dev 4111-1111-1111-1111"}), "device_id contains a card"),
    (json.dumps({**GOOD, "card_id": "card_4111111111111112"}), None),  # not Luhn-valid
]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("validation") / "records.jsonl"
    path.write_text("\n".join(payload for payload, _ in CASES) + "\n")
    t_env, _ = batch_environment(path)
    result = t_env.execute_sql(
        f"SELECT payload, reject_reason, {deadletter_payload_sql()}.payload AS redacted "
        "FROM parsed_transactions"
    )
    with result.collect() as rows:
        return pd.DataFrame(
            [tuple(row) for row in rows], columns=["payload", "reject_reason", "redacted"]
        )


@pytest.mark.parametrize(("payload", "reason"), CASES)
def test_record_gets_the_expected_verdict(
    verdicts: pd.DataFrame, payload: str, reason: str | None
) -> None:
    row = verdicts[verdicts["payload"] == payload]
    assert len(row) == 1
    actual = row["reject_reason"].iloc[0]
    if reason is None:
        assert actual is None or pd.isna(actual)
    else:
        assert isinstance(actual, str) and actual.startswith(reason), actual


def test_card_numbers_are_masked_in_what_goes_to_the_dead_letter_stream(
    verdicts: pd.DataFrame,
) -> None:
    rejected = verdicts[verdicts["reject_reason"].notna()]
    redacted = " ".join(rejected["redacted"])
    assert "4111" not in redacted
    assert "5500" not in redacted
    assert redacted.count(MASK) == 9
    assert "card_000001" in redacted  # tokens are kept
