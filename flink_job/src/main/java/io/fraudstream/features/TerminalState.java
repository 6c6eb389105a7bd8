package io.fraudstream.features;

import org.apache.flink.table.api.dataview.MapView;

/**
 * The accumulator of {@link TerminalFeatures}: a small head, stored whole in the operator's
 * value state, and the terminal's older hours of transactions in map state, one entry per
 * hour, read only when a window edge enters that hour.
 *
 * <p>A busy terminal's history can hold tens of thousands of transactions; RocksDB (Managed
 * Flink's only state backend) reads and writes a value whole, so keeping the history in the
 * value made each event cost as much as the terminal's history. The head holds what every
 * event needs (a count per hour, the recent entries, the labels, the hours at the window
 * edges); the rest is read once an hour per window edge.
 */
public class TerminalState {

    /** {@link TerminalHead}, as {@link TerminalHead#encode()} writes it. */
    public byte[] head = new byte[0];

    /** Hours spilled out of the head: hour number → {@link KeyedTimes#pack()} of its entries. */
    public MapView<Long, byte[]> hours = new MapView<>();
}
