package io.fraudstream.features.terminal;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.table.api.dataview.MapView;

import io.fraudstream.features.KeyHash;
import io.fraudstream.features.TerminalState;
import io.fraudstream.features.state.StateFormat;

/**
 * One event's view of a terminal's history: the decoded {@link TerminalHead} and the map
 * state of its spilled hours. Counts in (from, to] are exact: whole hours from the head's
 * counts, the hour at each edge from its entries (the head's recent entries, or the times of
 * that hour's block, read once and kept in the head while an edge stays in it).
 */
final class TerminalWindows {

    /** Recent entries kept in the head before older hours are spilled to map state. */
    static final int HEAD_ENTRIES = 128;

    final TerminalHead head;
    private final MapView<Long, byte[]> spilled;
    /** The spilled hours this event read whole. */
    private final Map<Long, KeyedTimes> read = new HashMap<>();
    /** The spilled hours this event counted in: the head's cache once the event is done. */
    private final Map<Long, HourTimes> counted = new LinkedHashMap<>();

    TerminalWindows(TerminalState state) {
        this.head = TerminalHead.decode(state.head);
        this.spilled = state.hours;
    }

    /** Writes the head back, caching the times of the spilled hours this event counted in. */
    void store(TerminalState state) {
        head.cache(counted.values().toArray(new HourTimes[0]));
        state.head = head.encode();
    }

    /** A spilled hour's entries, from map state (once per event). */
    private KeyedTimes block(long hour) throws Exception {
        KeyedTimes block = read.get(hour);
        if (block == null) {
            byte[] packed = spilled.get(hour);
            block = packed == null ? new KeyedTimes() : KeyedTimes.unpack(packed);
            read.put(hour, block);
        }
        return block;
    }

    /** A spilled hour's times: kept in the head while a window edge stays in that hour. */
    private HourTimes timesOf(long hour) throws Exception {
        HourTimes times = counted.get(hour);
        if (times == null) {
            times = head.cached(hour);
        }
        if (times == null) {
            times = HourTimes.of(hour, block(hour));
        }
        counted.put(hour, times);
        return times;
    }

    /** Transactions with a time at or before {@code time}. */
    long countUpTo(long time) throws Exception {
        long hour = TerminalHead.hourOf(time);
        if (!head.isSpilled(hour)) {
            return head.countBefore(head.spillHour) + head.recent.countUpTo(time);
        }
        long before = head.countBefore(hour);
        return head.count(hour) == 0 ? before : before + timesOf(hour).countUpTo(time);
    }

    long countIn(long from, long to) throws Exception {
        return countUpTo(to) - countUpTo(from);
    }

    /** Distinct card hashes of the transactions in (from, to]. */
    long distinctCardsIn(long from, long to) throws Exception {
        long[] keys = new long[0];
        for (long hour = TerminalHead.hourOf(from + 1); hour <= TerminalHead.hourOf(to); hour++) {
            if (!head.isSpilled(hour)) {
                keys = concat(keys, head.recent.keysIn(from, to));
                break; // the recent entries cover this hour and every later one
            }
            if (head.count(hour) > 0) {
                keys = concat(keys, block(hour).keysIn(from, to));
            }
        }
        return KeyHash.distinct(keys);
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Whether a transaction of this card at exactly this time is kept. */
    boolean contains(long time, long card) throws Exception {
        long hour = TerminalHead.hourOf(time);
        if (!head.isSpilled(hour)) {
            return head.recent.contains(time, card);
        }
        return head.count(hour) > 0 && block(hour).contains(time, card);
    }

    void insert(long time, long card) throws Exception {
        long hour = TerminalHead.hourOf(time);
        if (!head.isSpilled(hour)) {
            head.insertRecent(time, card);
            return;
        }
        head.addCount(hour, 1);
        KeyedTimes block = block(hour); // a late arrival for an hour already spilled
        block.insert(time, card);
        spilled.put(hour, block.pack());
        if (counted.containsKey(hour) || head.cached(hour) != null) {
            counted.put(hour, HourTimes.of(hour, block));
        }
    }

    /** Drops every hour that ends at or before {@code edge}. */
    void evictUpTo(long edge) throws Exception {
        if (edge == Long.MIN_VALUE) {
            return;
        }
        long lastHour = TerminalHead.hourOf(edge + 1) - 1;
        for (long hour : head.dropHoursUpTo(lastHour)) {
            spilled.remove(hour);
            read.remove(hour);
            counted.remove(hour);
        }
        head.evictRecentUpTo((lastHour + 1) * StateFormat.HOUR - 1);
    }

    /** Moves the oldest recent hours to map state once the head holds too many entries;
     * the hour of the latest transaction always stays. */
    void spillIfFull() throws Exception {
        KeyedTimes recent = head.recent;
        if (recent.size() <= HEAD_ENTRIES) {
            return;
        }
        long newest = TerminalHead.hourOf(head.maxTime);
        int i = recent.start;
        while (recent.end - i > HEAD_ENTRIES / 2) {
            long hour = TerminalHead.hourOf(recent.times[i]);
            if (hour >= newest) {
                break;
            }
            int next = recent.firstAfter((hour + 1) * StateFormat.HOUR - 1);
            KeyedTimes block = new KeyedTimes();
            for (int j = i; j < next; j++) {
                block.insert(recent.times[j], recent.keys[j]);
            }
            spilled.put(hour, block.pack());
            head.spilled(hour, next - i);
            i = next;
        }
        head.evictRecentUpTo(head.spillHour * StateFormat.HOUR - 1);
    }
}
