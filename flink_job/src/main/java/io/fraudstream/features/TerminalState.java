package io.fraudstream.features;

import org.apache.flink.table.api.dataview.MapView;

/**
 * The accumulator of {@code terminal.TerminalFeatures}: a small head, stored whole in the
 * operator's value state, and the terminal's older hours of transactions in map state, one
 * entry per hour, read only when a window edge enters that hour.
 *
 * <p>A busy terminal's history can hold tens of thousands of transactions; RocksDB (Managed
 * Flink's only state backend) reads and writes a value whole, so keeping the history in the
 * value made each event cost as much as the terminal's history. The head holds what every
 * event needs (a count per hour, the recent entries, the labels, the hours at the window
 * edges); the rest is read once an hour per window edge. The code that reads and writes it is
 * in {@code io.fraudstream.features.terminal}.
 *
 * <p>This class stays in this package under this name: a savepoint's serializer snapshot of
 * the terminal aggregate's state names it (tests/savepoints/), and a build without it cannot
 * restore them.
 */
public class TerminalState {

    /** The terminal's head, as {@code terminal.TerminalHead#encode()} writes it. */
    public byte[] head = new byte[0];

    /** Hours spilled out of the head: hour number → {@code terminal.KeyedTimes#pack()}. */
    public MapView<Long, byte[]> hours = new MapView<>();
}
