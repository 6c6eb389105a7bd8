"""Every stored value of the feature state (a card's or terminal's head, each map-state
value) begins with its format version (io.fraudstream.features.state.StateFormat); a build reads
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
    terminal_field,
    terminal_function,
)

CURRENT_VERSION = 1  # of every stored kind but the terminal head
TERMINAL_HEAD_VERSION = 2  # label verdicts, with when each label was reported


def _without_version(stored: bytes) -> bytes:
    """A value as the builds before versions wrote it: the same body, no version byte."""
    return stored[1:]


def _as_version(version: int) -> Any:
    return lambda stored: bytes([version]) + stored[1:]


def test_every_stored_card_and_terminal_value_begins_with_its_format_version(jvm: Any) -> None:
    _, card = busy_card(jvm)
    _, terminal = busy_terminal(jvm)
    assert {v[0] for v in stored_values(card)} == {CURRENT_VERSION}
    head, *hours = stored_values(terminal)
    assert head[0] == TERMINAL_HEAD_VERSION and len(hours) > 100
    assert {v[0] for v in hours} == {CURRENT_VERSION}


def _varint_end(data: bytes, at: int) -> int:
    while data[at] & 0x80:
        at += 1
    return at + 1


def _terminal_head_as_version_1(head: bytes) -> bytes:
    """A version-2 terminal head as version 1 wrote it: no verdicts, the waiting fraud
    labels as (time, card) entries (the format tables in TerminalHead and LabelVerdicts)."""
    assert head[0] == TERMINAL_HEAD_VERSION
    at = 1 + 4 * 8
    hours = struct.unpack_from(">i", head, at)[0]
    at += 4
    if hours:
        at += 8
        for _ in range(2 * hours):
            at = _varint_end(head, at)
    for _ in range(2):  # recent, frauds: (time, key) entries
        at += 4 + 16 * struct.unpack_from(">i", head, at)[0]
    kept = head[1:at]
    verdicts = struct.unpack_from(">i", head, at)[0]
    at += 4 + 25 * verdicts
    n = struct.unpack_from(">i", head, at)[0]
    times = struct.unpack_from(f">{n}q", head, at + 4)
    keys = struct.unpack_from(f">{n}q", head, at + 4 + 8 * n)
    fraud = head[at + 4 + 24 * n : at + 4 + 25 * n]
    waiting = [(t, k) for t, k, f in zip(times, keys, fraud, strict=True) if f == 1]
    pending = struct.pack(">i", len(waiting))
    pending += struct.pack(f">{len(waiting)}q", *(t for t, _ in waiting))
    pending += struct.pack(f">{len(waiting)}q", *(k for _, k in waiting))
    return bytes([1]) + kept + pending + head[at + 4 + 25 * n :]


def test_a_card_stored_before_format_versions_reads_and_goes_on_like_the_original(
    jvm: Any,
) -> None:
    function, original = busy_card(jvm)
    old = state_copy(jvm.io.fraudstream.features.CardState, original, _without_version)
    assert {v[0] for v in stored_values(old)} == {0}
    assert same_card_after_one_more(jvm, function, original, old)
    assert stored_values(old)[0][0] == CURRENT_VERSION  # the head is rewritten as it is used


@pytest.mark.parametrize("version", [0, 1])
def test_a_terminal_stored_before_label_verdicts_reads_and_goes_on_like_the_original(
    jvm: Any, version: int
) -> None:
    function, original = busy_terminal(jvm)
    assert function.getValue(original).getField(terminal_field("fraud_30d")) > 0

    def as_old(stored: bytes) -> bytes:
        old = _terminal_head_as_version_1(stored) if stored[0] == TERMINAL_HEAD_VERSION else stored
        return old if version == 1 else _without_version(old)

    old = state_copy(jvm.io.fraudstream.features.TerminalState, original, as_old)
    assert {v[0] for v in stored_values(old)} == {version}
    assert same_terminal_after_one_more(jvm, function, original, old)
    assert stored_values(old)[0][0] == TERMINAL_HEAD_VERSION  # rewritten as it is used


@pytest.mark.parametrize("which", ["card", "terminal"])
def test_a_format_newer_than_the_build_is_refused_naming_its_version(jvm: Any, which: str) -> None:
    from py4j.protocol import Py4JJavaError

    build, state_class = {
        "card": (busy_card, jvm.io.fraudstream.features.CardState),
        "terminal": (busy_terminal, jvm.io.fraudstream.features.TerminalState),
    }[which]
    function, original = build(jvm)
    newest = {"card": CURRENT_VERSION, "terminal": TERMINAL_HEAD_VERSION}[which]
    newer = state_copy(state_class, original, _as_version(newest + 1))
    with pytest.raises(Py4JJavaError) as refused:
        function.getValue(newer)
    assert f"{which} head in format version {newest + 1}" in str(refused.value)


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
    assert len(head) == _size(_table("card/CardHead.java"), one_payment)

    _, busy = busy_card(jvm)
    hours = stored_values(busy)[1:]
    hour_rows = _table("card/CardEntries.java")
    uses_rows = _table("card/CardHead.java", after="two latest uses as a map-state value")
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
    function.accumulate(terminal, at(1_800_000_000_000), 1, 0, "card_1", 604_800_000, None)
    head = bytes(get_field(terminal, "head"))
    one = {"nHours": 0, "nRecent": 1, "nFrauds": 0, "nVerdicts": 0, "nPending": 0, "nCached": 0}
    assert len(head) == _size(_table("terminal/TerminalHead.java"), one)

    _, busy = busy_terminal(jvm)
    hour_rows = _table("terminal/KeyedTimes.java")
    for value in stored_values(busy)[1:]:
        entries = struct.unpack(">i", value[1:5])[0]
        assert len(value) == _size(hour_rows, {"nEntries": entries})
