package io.fraudstream.features;

import org.apache.flink.table.api.dataview.MapView;

/**
 * The accumulator of {@code card.CardFeatures}: a small head, stored whole in the operator's
 * value state, and the card's older hours of transactions in map state, one entry per hour, read
 * only when a window edge enters that hour (see {@link TerminalState}: the same layout, for
 * the same reason: a card-testing bot or a corporate card can make thousands of payments a
 * day, and RocksDB reads and writes a value whole). The code that reads and writes it is in
 * {@code io.fraudstream.features.card}.
 *
 * <p>This class stays in this package under this name: a savepoint's serializer snapshot of
 * the card aggregate's state names it (tests/savepoints/), and a build without it cannot
 * restore them.
 */
public class CardState {

    /** The card's head, as {@code card.CardHead#encode()} writes it. */
    public byte[] head = new byte[0];

    /** Hours spilled out of the head: hour number → {@code card.CardEntries#pack()}. */
    public MapView<Long, byte[]> hours = new MapView<>();

    /**
     * Terminals moved out of the head (a card that used more than {@code
     * card.CardWindows#HEAD_TERMINALS} of them): terminal hash → its latest and second-latest
     * use.
     */
    public MapView<Long, byte[]> uses = new MapView<>();
}
