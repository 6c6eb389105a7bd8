"""Every stored value of the feature state (a card's or terminal's head, each map-state
value) begins with its format version (io.fraudstream.features.StateFormat); a build reads
the versions before its own and refuses a newer one with a message naming it. The
end-to-end proof, a savepoint of an earlier build restored, is
tests/test_savepoint_compatibility.py."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.feature_state_support import (
    busy_card,
    busy_terminal,
    card_function,
    same_card_after_one_more,
    same_terminal_after_one_more,
    state_copy,
    stored_values,
    terminal_function,
)

CURRENT_VERSION = 1


def _without_version(stored: bytes) -> bytes:
    """A value as the builds before versions wrote it: the same body, no version byte."""
    return stored[1:]


def _as_version(version: int) -> Any:
    return lambda stored: bytes([version]) + stored[1:]


def test_every_stored_card_and_terminal_value_begins_with_its_format_version(jvm: Any) -> None:
    for _, state in (busy_card(jvm), busy_terminal(jvm)):
        values = stored_values(state)
        assert len(values) > 100
        assert {v[0] for v in values} == {CURRENT_VERSION}


def test_a_card_stored_before_format_versions_reads_and_goes_on_like_the_original(
    jvm: Any,
) -> None:
    function, original = busy_card(jvm)
    old = state_copy(jvm.io.fraudstream.features.CardState, original, _without_version)
    assert {v[0] for v in stored_values(old)} == {0}
    assert same_card_after_one_more(jvm, function, original, old)
    assert stored_values(old)[0][0] == CURRENT_VERSION  # the head is rewritten as it is used


def test_a_terminal_stored_before_format_versions_reads_and_goes_on_like_the_original(
    jvm: Any,
) -> None:
    function, original = busy_terminal(jvm)
    old = state_copy(jvm.io.fraudstream.features.TerminalState, original, _without_version)
    assert same_terminal_after_one_more(jvm, function, original, old)


@pytest.mark.parametrize("which", ["card", "terminal"])
def test_a_format_newer_than_the_build_is_refused_naming_its_version(jvm: Any, which: str) -> None:
    from py4j.protocol import Py4JJavaError

    build, state_class = {
        "card": (busy_card, jvm.io.fraudstream.features.CardState),
        "terminal": (busy_terminal, jvm.io.fraudstream.features.TerminalState),
    }[which]
    function, original = build(jvm)
    newer = state_copy(state_class, original, _as_version(CURRENT_VERSION + 1))
    with pytest.raises(Py4JJavaError) as refused:
        function.getValue(newer)
    assert f"{which} head in format version {CURRENT_VERSION + 1}" in str(refused.value)


FEATURES_JAVA = (
    Path(__file__).resolve().parent.parent / "flink_job/src/main/java/io/fraudstream/features"
)
ROW = re.compile(r"^\s*\*\s+(\w+)\s+\S+\s+(\d+)(?: x (\w+))?(?:\s\s|$)")


def _table(java_file: str, after: str = "") -> list[tuple[str, int, str | None]]:
    """(field, bytes, count field) of each fixed or counted row of the format table in a
    class's comment (the first <pre> block after `after`); variable rows are left out."""
    text = (FEATURES_JAVA / java_file).read_text()
    block = text[text.index(after) :] if after else text
    table = block[block.index("<pre>") : block.index("</pre>")]
    rows = []
    for line in table.splitlines()[2:]:  # the header row, then the fields
        match = ROW.match(line)
        if match:
            rows.append((match[1], int(match[2]), match[3]))
    return rows


def _size(rows: list[tuple[str, int, str | None]], counts: dict[str, int]) -> int:
    return sum(size * (counts[count] if count else 1) for _, size, count in rows)


def test_the_card_formats_written_are_the_tables_in_their_classes(jvm: Any) -> None:
    from py4j.java_gateway import get_field

    function = card_function(jvm)
    card = function.createAccumulator()
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    function.accumulate(card, at(1_800_000_000_000), 12.5, "term_1", 48.1, 2.3)
    head = bytes(get_field(card, "head"))
    one_payment = {"nHours": 0, "nRecent": 1, "nTerminals": 1, "nCached": 0}
    assert len(head) == _size(_table("CardHead.java"), one_payment)

    _, busy = busy_card(jvm)
    hours = stored_values(busy)[1:]
    hour_rows = _table("CardEntries.java")
    uses_rows = _table("CardHead.java", after="two latest uses as a map-state value")
    uses_size = _size(uses_rows, {})
    for value in hours:
        if len(value) != uses_size:
            entries = struct.unpack(">i", value[1:5])[0]
            assert len(value) == _size(hour_rows, {"nEntries": entries})
    assert uses_size == 17 and sum(len(v) == uses_size for v in hours) > 100


def test_the_terminal_formats_written_are_the_tables_in_their_classes(jvm: Any) -> None:
    from py4j.java_gateway import get_field

    function = terminal_function(jvm)
    terminal = function.createAccumulator()
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    function.accumulate(terminal, at(1_800_000_000_000), 1, 0, "card_1", 604_800_000)
    head = bytes(get_field(terminal, "head"))
    one = {"nHours": 0, "nRecent": 1, "nFrauds": 0, "nPending": 0, "nCached": 0}
    assert len(head) == _size(_table("TerminalHead.java"), one)

    _, busy = busy_terminal(jvm)
    hour_rows = _table("KeyedTimes.java")
    for value in stored_values(busy)[1:]:
        entries = struct.unpack(">i", value[1:5])[0]
        assert len(value) == _size(hour_rows, {"nEntries": entries})
