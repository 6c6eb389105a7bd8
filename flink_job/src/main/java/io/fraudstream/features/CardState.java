package io.fraudstream.features;

import org.apache.flink.table.api.dataview.MapView;

/**
 * The accumulator of {@link CardFeatures}: a small head, stored whole in the operator's value
 * state, and the card's older hours of transactions in map state, one entry per hour, read
 * only when a window edge enters that hour (see {@link TerminalState}: the same layout, for
 * the same reason: a card-testing bot or a corporate card can make thousands of payments a
 * day, and RocksDB reads and writes a value whole).
 */
public class CardState {

    /** {@link CardHead}, as {@link CardHead#encode()} writes it. */
    public byte[] head = new byte[0];

    /** Hours spilled out of the head: hour number → {@link CardEntries#pack()}. */
    public MapView<Long, byte[]> hours = new MapView<>();

    /**
     * Terminals moved out of the head (a card that used more than {@link
     * CardWindows#HEAD_TERMINALS} of them): terminal hash → its latest and second-latest use.
     */
    public MapView<Long, byte[]> uses = new MapView<>();
}
