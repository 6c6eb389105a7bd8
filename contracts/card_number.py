"""The one card-number (PAN) rule, applied by the job's parser, its dead-letter masking, the
fan-out Lambda and the API.

A string *contains a card number* when it holds a run of 13 to 19 digits that passes the
Luhn check (a longer run: when any 13-19 digit window of it does), where any run of
separators between two digits (spaces, tabs, dots, dashes, commas, slashes, underscores) is
ignored: ``"4111 1111 1111 1111"``, ``"4111  1111\t1111, 1111"``, ``"4111.1111.1111.1111"``
and ``"card-4111111111111111"`` all do.
Strings are judged after JSON decoding, so digits written as ``\\u0034`` escapes count as
digits. The Java twin is
``io.fraudstream.parsing.CardNumbers``; ``tests/test_card_number.py`` holds both to one corpus.

Masking (for dead letters and logs, where the text may not be JSON at all) is stricter than
detection: any run of 13 to 19 digits with separators is replaced, Luhn-valid or not, so a
mistyped card number is not leaked either.
"""

from __future__ import annotations

import re

MIN_DIGITS = 13
MAX_DIGITS = 19
SEPARATORS = " \t-.,/_"
MASK = "[PAN REDACTED]"

# A run of digits in which any run of separators may stand between two digits.
_RUN = re.compile(r"\d(?:[ \t\-.,/_]*+\d)*")
_UNICODE_DIGIT_ESCAPE = re.compile(r"\\u003([0-9])", re.IGNORECASE)


def luhn_valid(digits: str) -> bool:
    """The Luhn check over a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digit_runs(text: str) -> list[str]:
    return [re.sub(r"[^0-9]", "", run.group()) for run in _RUN.finditer(text)]


def _run_has_card_number(digits: str) -> bool:
    """A run of 13-19 digits is judged whole; a longer run (a card number glued to other
    digits) by every 13-19 digit window of it, which flags nearly any such run."""
    if len(digits) < MIN_DIGITS:
        return False
    if len(digits) <= MAX_DIGITS:
        return luhn_valid(digits)
    for length in range(MIN_DIGITS, min(MAX_DIGITS, len(digits)) + 1):
        for start in range(len(digits) - length + 1):
            if luhn_valid(digits[start : start + length]):
                return True
    return False


def contains_card_number(text: str) -> bool:
    """True when `text` holds a Luhn-valid 13-19 digit run, separators ignored."""
    return any(_run_has_card_number(run) for run in _digit_runs(text))


def mask_card_numbers(text: str) -> str:
    """`text` with every 13-19+ digit run (separators ignored, Luhn or not) replaced by MASK.

    Works on raw text: JSON escapes of digits (``\\u0034``) are decoded first, so an escaped
    card number is masked too."""
    decoded = _UNICODE_DIGIT_ESCAPE.sub(lambda match: match.group(1), text)

    def replace(match: re.Match[str]) -> str:
        digits = sum(char.isdigit() for char in match.group())
        return MASK if digits >= MIN_DIGITS else match.group()

    return _RUN.sub(replace, decoded)
