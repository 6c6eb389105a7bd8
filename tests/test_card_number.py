"""One card-number rule (contracts/card_number.py) in Python and in the job's Java parser:
the same verdict and the same masking on one corpus, and on generated strings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.card_number import MASK, contains_card_number, mask_card_numbers

CARD_NUMBERS = [
    "4111111111111111",
    " 4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111.1111.1111.1111",
    "4111/1111/1111/1111",
    "4111_1111_1111_1111",
    "card-4111111111111111",
    "term 5500000000000004 x",
    "378282246310005",  # 15-digit Amex
    "6011111111111117",
    "4222222222222",  # 13 digits
    "ref 12 4111111111111111 99",  # glued into a longer run by separators
    "4111  1111  1111  1111",  # runs of separators: two spaces,
    "4111\t1111\t1111\t1111",  # tabs,
    "4111, 1111, 1111, 1111",  # comma-space,
    "4111 - 1111 - 1111 - 1111",  # spaced dashes,
    "4111 / 1111 / 1111 / 1111",  # spaced slashes,
    "4111,1111,1111,1111",  # commas,
    "4111 \t.-,/_111111111111",  # any mix, any length
    "note: 5500  0000\t0000, 0004 refunded",
]
TOKENS = [
    "card_000001",
    "term_00116",
    "tx-2-000000001",
    "4111111111111112",  # not Luhn-valid
    "411111111111",  # 12 digits
    "4111 1111 1111 111",  # 15 digits, not Luhn-valid
    "amount 12,50 x 3",  # short runs with separators
    "4111 1111 1111 x 1111",  # a letter ends the run: 12 digits
    "550e8400-e29b-41d4-a716-446655440000",
    "",
]


@pytest.mark.parametrize("text", CARD_NUMBERS)
def test_a_card_number_in_any_shape_is_found(text: str) -> None:
    assert contains_card_number(text)
    assert "1111" not in mask_card_numbers(text).replace(MASK, "")


@pytest.mark.parametrize("text", TOKENS)
def test_tokens_and_short_or_invalid_numbers_are_not_card_numbers(text: str) -> None:
    assert not contains_card_number(text)


def test_json_escaped_digits_are_masked_in_raw_text() -> None:
    raw = '{"card_id": "\\u00341111111111111111"}'
    assert mask_card_numbers(raw) == f'{{"card_id": "{MASK}"}}'


@pytest.mark.parametrize("text", CARD_NUMBERS + TOKENS)
def test_java_and_python_give_the_same_verdict_and_mask(java_parsing: Any, text: str) -> None:
    assert java_parsing.CardNumbers.contains(text) == contains_card_number(text)
    assert java_parsing.CardNumbers.mask(text) == mask_card_numbers(text)


_PIECES = st.sampled_from(
    ["4", "1", "0", "5", "9", " ", "\t", ",", "-", ".", "/", "_", "a", "\\u0034", "é"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_java_and_python_agree_on_generated_digit_strings(java_parsing: Any, text: str) -> None:
    assert java_parsing.CardNumbers.contains(text) == contains_card_number(text)
    assert java_parsing.CardNumbers.mask(text) == mask_card_numbers(text)
