"""Feature state built through the Java aggregates in the gateway JVM (the `jvm` fixture of
tests/conftest.py): keys busy enough to spill hours and terminals to map state, and copies of
their state as a checkpoint restores it, optionally with every stored value rewritten."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.features import DEFAULT_LAYOUT, FeatureLayout

MINUTE = 60 * 1000
LABEL_DELAY_MS = 7 * 24 * 3600 * 1000
CARD_DAYS, TERMINAL_DAYS = 40, 45


def card_function(jvm: Any, layout: FeatureLayout = DEFAULT_LAYOUT) -> Any:
    """The card aggregate of `layout`, as the job builds it."""
    return jvm.io.fraudstream.features.card.CardFeatures(layout.card_spec())


def terminal_function(jvm: Any, layout: FeatureLayout = DEFAULT_LAYOUT) -> Any:
    """The terminal aggregate of `layout`, as the job builds it."""
    return jvm.io.fraudstream.features.terminal.TerminalFeatures(layout.terminal_spec())


def card_field(name: str, layout: FeatureLayout = DEFAULT_LAYOUT) -> int:
    """The position of a card ROW field, by name."""
    return [f.name for f in layout.card_fields()].index(name)


def terminal_field(name: str, layout: FeatureLayout = DEFAULT_LAYOUT) -> int:
    """The position of a terminal ROW field, by name."""
    return [f.name for f in layout.terminal_fields()].index(name)


def busy_card(jvm: Any) -> tuple[Any, Any]:
    """(CardFeatures, its accumulator) after 40 days of a payment every 30 minutes at more
    terminals than a head keeps: hours spilled and evicted, terminals moved to map state."""
    function = card_function(jvm)
    card = function.createAccumulator()
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    for i in range(CARD_DAYS * 24 * 2):
        position = (48.0 + i / 1000, 2.0) if i % 3 else (None, None)
        terminal = f"term_{i % 9}" if i % 2 else f"shop_{i % 311}"
        function.accumulate(card, at(i * 30 * MINUTE + i), 10.0 + i % 50, terminal, *position)
    return function, card


def busy_terminal(jvm: Any) -> tuple[Any, Any]:
    """(TerminalFeatures, its accumulator) after 45 days of a transaction every 15 minutes
    and a fraud label now and then: most hours spilled to map state."""
    function = terminal_function(jvm)
    terminal = function.createAccumulator()
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    for i in range(TERMINAL_DAYS * 24 * 4):
        function.accumulate(terminal, at(i * 15 * MINUTE), 1, 0, f"c{i % 7}", LABEL_DELAY_MS, None)
        labelled = i - 7 * 24 * 4  # a fraud label of a transaction a week ago
        if i % 50 == 0 and labelled >= 0:
            usable = at(labelled * 15 * MINUTE + LABEL_DELAY_MS)
            reported = i * 15 * MINUTE  # a label reported now, of a transaction a week ago
            function.accumulate(
                terminal, usable, 0, 1, f"c{labelled % 7}", LABEL_DELAY_MS, reported
            )
    return function, terminal


def map_size(state: Any, view: str = "hours") -> int:
    from py4j.java_gateway import get_field

    return int(get_field(state, view).getMap().size())


def views_of(state: Any) -> tuple[str, ...]:
    """The map-state fields of a card's or a terminal's accumulator."""
    card = state.getClass().getSimpleName() == "CardState"
    return ("hours", "uses") if card else ("hours",)


def state_copy(jvm_class: Any, state: Any, rewrite: Callable[[bytes], bytes] = lambda b: b) -> Any:
    """An accumulator as a checkpoint restores it: its head's bytes and its map state's
    entries copied into a new one, each stored value passed through `rewrite`."""
    from py4j.java_gateway import get_field, set_field

    copy = jvm_class()
    set_field(copy, "head", rewrite(bytes(get_field(state, "head"))))
    for view in views_of(state):
        entries = get_field(copy, view).getMap()
        entries.putAll(get_field(state, view).getMap())  # keys stay java.lang.Long
        for entry in _entries(entries):
            entry.setValue(rewrite(bytes(entry.getValue())))
    return copy


def _entries(java_map: Any) -> list[Any]:
    iterator = java_map.entrySet().iterator()
    entries = []
    while iterator.hasNext():
        entries.append(iterator.next())
    return entries


def stored_values(state: Any) -> list[bytes]:
    """The head and every map-state value of an accumulator, as stored."""
    from py4j.java_gateway import get_field

    values = [bytes(get_field(state, "head"))]
    for view in views_of(state):
        values += [bytes(e.getValue()) for e in _entries(get_field(state, view).getMap())]
    return values


def same_card_after_one_more(jvm: Any, function: Any, original: Any, restored: Any) -> bool:
    """Both accumulators give the same features now and after one more payment, at a
    terminal whose uses were moved to map state."""
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    if function.getValue(restored).toString() != function.getValue(original).toString():
        return False
    for accumulator in (original, restored):
        function.accumulate(
            accumulator, at(CARD_DAYS * 24 * 60 * MINUTE), 99.0, "shop_2", None, None
        )
    return bool(function.getValue(restored).toString() == function.getValue(original).toString())


def same_terminal_after_one_more(jvm: Any, function: Any, original: Any, restored: Any) -> bool:
    """Both accumulators give the same features now and after one more transaction."""
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    if function.getValue(restored).toString() != function.getValue(original).toString():
        return False
    later = at(TERMINAL_DAYS * 24 * 60 * MINUTE)
    for accumulator in (original, restored):
        function.accumulate(accumulator, later, 1, 0, "c1", LABEL_DELAY_MS, None)
    return bool(function.getValue(restored).toString() == function.getValue(original).toString())
