package io.fraudstream.features.card;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.table.api.dataview.MapView;

import io.fraudstream.features.CardState;
import io.fraudstream.features.KeyHash;
import io.fraudstream.features.state.StateFormat;

/**
 * One event's view of a card's history: the decoded {@link CardHead} and the map state of its
 * spilled hours. Sums, counts and maxima over (from, to] are exact: recent hours from their
 * entries; spilled ones from the head's per-hour figures, the hour at each edge from its
 * entries.
 */
final class CardWindows {

    /** Recent entries kept in the head before older hours are spilled to map state. */
    static final int HEAD_ENTRIES = 128;
    /** Terminals a head keeps uses of before those unused for a day go to map state. */
    static final int HEAD_TERMINALS = 64;
    /** How often map state is swept of uses older than the longest window. */
    static final long SWEEP_EVERY = 24 * StateFormat.HOUR;

    final CardHead head;
    private final MapView<Long, byte[]> spilled;
    private final MapView<Long, byte[]> oldUses;
    private final Map<Long, CardEntries> used = new LinkedHashMap<>();

    CardWindows(CardState state) {
        this.head = CardHead.decode(state.head);
        this.spilled = state.hours;
        this.oldUses = state.uses;
    }

    void store(CardState state) {
        head.cacheBlocks(used);
        state.head = head.encode();
    }

    private CardEntries block(long hour) throws Exception {
        CardEntries block = used.get(hour);
        if (block == null) {
            block = head.cached(hour);
        }
        if (block == null) {
            byte[] packed = spilled.get(hour);
            block = packed == null ? new CardEntries() : CardEntries.unpack(packed);
        }
        used.put(hour, block);
        return block;
    }

    /** Count, sum, sum of squares and maximum of the amounts in (from, to]. */
    static final class Stats {
        long n;
        double sum;
        double sumsq;
        double max = Double.NEGATIVE_INFINITY;

        void add(double amount) {
            n++;
            sum += amount;
            sumsq += amount * amount;
            max = Math.max(max, amount);
        }
    }

    /**
     * Recent hours from their entries; spilled ones from the entries of the hour at each edge
     * and the figures of the whole hours between.
     */
    Stats statsIn(long from, long to) throws Exception {
        Stats s = new Stats();
        CardEntries recent = head.recent;
        for (int i = recent.firstAfter(from); i < recent.firstAfter(to); i++) {
            s.add(recent.amounts[i]);
        }
        long first = CardHead.hourOf(from + 1);
        if (!head.isSpilled(first)) {
            return s;
        }
        addSpilledEntries(s, first, from, to);
        long last = CardHead.hourOf(to);
        boolean lastSpilled = head.isSpilled(last);
        long wholeUpTo = lastSpilled ? last - 1 : head.lastSpilledHour();
        for (int i = 0; i < head.nHours && head.hours[i] <= wholeUpTo; i++) {
            if (head.hours[i] > first) {
                s.n += head.counts[i];
                s.sum += head.sums[i];
                s.sumsq += head.sumsqs[i];
                s.max = Math.max(s.max, head.maxes[i]);
            }
        }
        if (lastSpilled && last > first) {
            addSpilledEntries(s, last, from, to);
        }
        return s;
    }

    private void addSpilledEntries(Stats s, long hour, long from, long to) throws Exception {
        if (head.count(hour) == 0) {
            return;
        }
        CardEntries e = block(hour);
        for (int i = e.firstAfter(from); i < e.firstAfter(to); i++) {
            s.add(e.amounts[i]);
        }
    }

    /** Entries in (from, to] with an amount below {@code below}. */
    long smallIn(long from, long to, double below) throws Exception {
        long n = countBelow(head.recent, from, to, below);
        long last = Math.min(CardHead.hourOf(to), head.lastSpilledHour());
        for (long hour = CardHead.hourOf(from + 1); hour <= last; hour++) {
            if (head.count(hour) > 0) {
                n += countBelow(block(hour), from, to, below);
            }
        }
        return n;
    }

    private static long countBelow(CardEntries e, long from, long to, double below) {
        long n = 0;
        for (int i = e.firstAfter(from); i < e.firstAfter(to); i++) {
            if (e.amounts[i] < below) {
                n++;
            }
        }
        return n;
    }

    /** Terminal hashes of the entries in (from, to], spilled hours read one by one (slow). */
    private long[] terminalsIn(long from, long to) throws Exception {
        long[] out = new long[0];
        for (int i = 0; i < head.nHours; i++) {
            long hour = head.hours[i];
            if (hour >= CardHead.hourOf(from + 1) && hour <= CardHead.hourOf(to)) {
                out = concat(out, terminalsOf(block(hour), from, to));
            }
        }
        return concat(out, terminalsOf(head.recent, from, to));
    }

    private static long[] terminalsOf(CardEntries e, long from, long to) {
        int lo = e.firstAfter(from);
        return Arrays.copyOfRange(e.terminals, lo, Math.max(lo, e.firstAfter(to)));
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Distinct terminals used in (from, to], to = the row's time. */
    long distinctTerminalsIn(long from, long to) throws Exception {
        if (head.usesSpilled && from < head.usesMovedUpTo) { // a late row: read the entries
            return KeyHash.distinct(terminalsIn(from, to));
        }
        long distinct = 0;
        for (int i = 0; i < head.nTerminals; i++) {
            long latest = head.latest[i];
            long second = head.second[i];
            if (latest <= to) {
                distinct += latest > from ? 1 : 0;
            } else if (second <= to) {
                distinct += second > from ? 1 : 0;
            } else {
                return KeyHash.distinct(terminalsIn(from, to)); // two uses after the row: read
            }
        }
        return distinct;
    }

    /** The distinct terminals of the entries at exactly {@code t} (the row and its peers). */
    long[] terminalsAt(long t) throws Exception {
        return distinctArray(terminalsIn(t - 1, t));
    }

    private static long[] distinctArray(long[] hashes) {
        Arrays.sort(hashes);
        int n = 0;
        for (int i = 0; i < hashes.length; i++) {
            if (n == 0 || hashes[i] != hashes[n - 1]) {
                hashes[n++] = hashes[i];
            }
        }
        return Arrays.copyOf(hashes, n);
    }

    /** Whether the card used this terminal at least twice in (from, to]. */
    boolean usedTwiceIn(long terminal, long from, long to) throws Exception {
        int i = head.terminalIndex(terminal);
        long[] uses = i >= 0 ? new long[] {head.latest[i], head.second[i]} : oldUsesOf(terminal);
        if (uses == null) {
            return false;
        }
        if (uses[0] <= to) {
            return uses[1] > from;
        }
        long inWindow = 0;
        for (long hash : terminalsIn(from, to)) { // a later use: count them in the window
            inWindow += hash == terminal ? 1 : 0;
        }
        return inWindow >= 2;
    }

    /** The latest entry with a time before {@code t}: {time, lat, lon}, or null. */
    double[] previousBefore(long t) throws Exception {
        double[] found = lastBefore(head.recent, t); // recent hours come after spilled ones
        if (found != null) {
            return found;
        }
        int at = head.hourIndex(CardHead.hourOf(t));
        for (int h = at >= 0 ? at : -at - 2; h >= 0; h--) { // spilled hours up to t's
            found = lastBefore(block(head.hours[h]), t);
            if (found != null) {
                return found;
            }
        }
        if (head.hasEvicted && head.evictedTime < t) {
            return new double[] {head.evictedTime, head.evictedLat, head.evictedLon};
        }
        return null;
    }

    private static double[] lastBefore(CardEntries e, long t) {
        int p = e.firstAfter(t - 1) - 1;
        if (p < e.start) {
            return null;
        }
        return new double[] {e.times[p], e.lats[p], e.lons[p]};
    }

    void insert(long time, double amount, long terminal, double lat, double lon) throws Exception {
        long hour = CardHead.hourOf(time);
        use(terminal, time);
        head.advanceTo(time);
        if (!head.isSpilled(hour)) {
            head.insertRecent(time, amount, terminal, lat, lon);
            return;
        }
        head.addToHour(hour, 1, amount, amount * amount, amount); // a late arrival, hour spilled
        CardEntries block = block(hour);
        block.insert(time, amount, terminal, lat, lon);
        spilled.put(hour, block.pack());
    }

    /** A use of a terminal: its earlier uses come back from map state first. */
    private void use(long terminal, long time) throws Exception {
        if (head.usesSpilled && head.terminalIndex(terminal) < 0) {
            long[] old = oldUsesOf(terminal);
            if (old != null) {
                oldUses.remove(terminal);
                head.use(terminal, old[0]);
                if (old[1] != Long.MIN_VALUE) {
                    head.use(terminal, old[1]);
                }
            }
        }
        head.use(terminal, time);
    }

    /** {latest, second} use of a terminal moved to map state, or null. */
    private long[] oldUsesOf(long terminal) throws Exception {
        if (!head.usesSpilled) {
            return null;
        }
        byte[] packed = oldUses.get(terminal);
        if (packed == null) {
            return null;
        }
        return CardHead.unpackUses(packed);
    }

    /**
     * Once the head holds more than {@link #HEAD_TERMINALS} terminals, moves those last used
     * at or before {@code unusedSince} to map state: the distinct-terminal window of a row
     * within the out-of-order bound starts after them, and "used twice in 30 days" reads the
     * one being used back (a later row's distinct count reads its entries instead). Once a
     * day, forgets the moved ones last used at or before {@code forgetUpTo}.
     */
    void spillUses(long unusedSince, long forgetUpTo) throws Exception {
        if (head.nTerminals > HEAD_TERMINALS && unusedSince != Long.MIN_VALUE) {
            for (Map.Entry<Long, byte[]> moved : head.removeUsesUpTo(unusedSince).entrySet()) {
                oldUses.put(moved.getKey(), moved.getValue());
            }
        }
        boolean due = head.usesSweptAt == Long.MIN_VALUE
                || head.maxTime - head.usesSweptAt >= SWEEP_EVERY;
        if (head.usesSpilled && due && forgetUpTo != Long.MIN_VALUE) {
            List<Long> old = new ArrayList<>();
            for (Map.Entry<Long, byte[]> entry : oldUses.entries()) {
                if (CardHead.unpackUses(entry.getValue())[0] <= forgetUpTo) {
                    old.add(entry.getKey());
                }
            }
            for (Long terminal : old) {
                oldUses.remove(terminal);
            }
            head.sweptUses(!oldUses.isEmpty());
        }
    }

    /** Drops every hour that ends at or before {@code edge}, remembering the latest entry. */
    void evictUpTo(long edge) throws Exception {
        if (edge == Long.MIN_VALUE) {
            return;
        }
        long lastHour = CardHead.hourOf(edge + 1) - 1;
        long lastDropped = (lastHour + 1) * StateFormat.HOUR - 1;
        CardEntries recent = head.recent;
        int p = recent.firstAfter(lastDropped) - 1; // the newest recent entry dropped
        boolean spilledToDrop = head.nHours > 0 && head.hours[0] <= lastHour;
        if (p < recent.start && !spilledToDrop) {
            return;
        }
        long[] dropped = head.dropHoursUpTo(lastHour);
        if (p >= recent.start) {
            head.rememberEvicted(recent, p);
        } else {
            CardEntries e = block(dropped[dropped.length - 1]);
            if (e.size() > 0) {
                head.rememberEvicted(e, e.end - 1);
            }
        }
        for (long hour : dropped) {
            spilled.remove(hour);
            used.remove(hour);
        }
        head.forgetUpTo(lastDropped);
    }

    void spillIfFull() throws Exception {
        CardEntries recent = head.recent;
        if (recent.size() <= HEAD_ENTRIES) {
            return;
        }
        long newest = CardHead.hourOf(head.maxTime);
        int i = recent.start;
        while (recent.end - i > HEAD_ENTRIES / 2) {
            long hour = CardHead.hourOf(recent.times[i]);
            if (hour >= newest) {
                break;
            }
            int next = recent.firstAfter((hour + 1) * StateFormat.HOUR - 1);
            CardEntries block = recent.slice(i, next);
            spilled.put(hour, block.pack());
            Stats figures = new Stats();
            for (int j = block.start; j < block.end; j++) {
                figures.add(block.amounts[j]);
            }
            head.spilled(hour, (int) figures.n, figures.sum, figures.sumsq, figures.max);
            i = next;
        }
        head.dropSpilledRecent();
    }
}
