package io.fraudstream.features;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.table.api.dataview.MapView;

/**
 * One event's view of a card's history: the decoded {@link CardHead} and the map state of its
 * spilled hours. Sums, counts and maxima over (from, to] are exact: whole hours from the
 * head's per-hour figures, the hour at each edge from its entries.
 */
final class CardWindows {

    /** Recent entries kept in the head before older hours are spilled to map state. */
    static final int HEAD_ENTRIES = 256;

    final CardHead head;
    private final MapView<Long, byte[]> spilled;
    private final Map<Long, CardEntries> used = new LinkedHashMap<>();

    CardWindows(CardState state) {
        this.head = CardHead.decode(state.head);
        this.spilled = state.hours;
    }

    void store(CardState state) {
        head.cachedHours = new long[used.size()];
        head.cachedBlocks = new CardEntries[used.size()];
        int i = 0;
        for (Map.Entry<Long, CardEntries> entry : used.entrySet()) {
            head.cachedHours[i] = entry.getKey();
            head.cachedBlocks[i++] = entry.getValue();
        }
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

    /** The entries of one hour: the recent ones or that hour's block. */
    private CardEntries entriesOf(long hour) throws Exception {
        if (!head.isSpilled(hour)) {
            return head.recent;
        }
        return head.count(hour) == 0 ? new CardEntries() : block(hour);
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

    Stats statsIn(long from, long to) throws Exception {
        Stats s = new Stats();
        long first = CardHead.hourOf(from + 1);
        long last = CardHead.hourOf(to);
        addEntries(s, first, from, to);
        if (last == first) {
            return s;
        }
        for (int i = 0; i < head.nHours; i++) { // whole hours strictly between the edges
            long hour = head.hours[i];
            if (hour > first && hour < last) {
                s.n += head.counts[i];
                s.sum += head.sums[i];
                s.sumsq += head.sumsqs[i];
                s.max = Math.max(s.max, head.maxes[i]);
            }
        }
        addEntries(s, last, from, to);
        return s;
    }

    private void addEntries(Stats s, long hour, long from, long to) throws Exception {
        if (head.count(hour) == 0) {
            return;
        }
        CardEntries e = entriesOf(hour);
        long hourStart = hour * CardHead.HOUR;
        int lo = e.firstAfter(Math.max(from, hourStart - 1));
        int hi = e.firstAfter(Math.min(to, hourStart + CardHead.HOUR - 1));
        for (int i = lo; i < hi; i++) {
            s.add(e.amounts[i]);
        }
    }

    /** Entries in (from, to] with an amount below {@code below}. */
    long smallIn(long from, long to, double below) throws Exception {
        long n = 0;
        for (long hour = CardHead.hourOf(from + 1); hour <= CardHead.hourOf(to); hour++) {
            if (head.count(hour) == 0) {
                continue;
            }
            CardEntries e = entriesOf(hour);
            long hourStart = hour * CardHead.HOUR;
            int hi = e.firstAfter(Math.min(to, hourStart + CardHead.HOUR - 1));
            for (int i = e.firstAfter(Math.max(from, hourStart - 1)); i < hi; i++) {
                if (e.amounts[i] < below) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Terminal hashes of the entries in (from, to], read hour by hour (the slow path). */
    private long[] terminalsIn(long from, long to) throws Exception {
        long[] out = new long[0];
        for (int i = 0; i < head.nHours; i++) {
            long hour = head.hours[i];
            if (hour < CardHead.hourOf(from + 1) || hour > CardHead.hourOf(to)) {
                continue;
            }
            CardEntries e = entriesOf(hour);
            long hourStart = hour * CardHead.HOUR;
            int lo = e.firstAfter(Math.max(from, hourStart - 1));
            int hi = e.firstAfter(Math.min(to, hourStart + CardHead.HOUR - 1));
            long[] more = Arrays.copyOfRange(e.terminals, lo, Math.max(lo, hi));
            long[] joined = Arrays.copyOf(out, out.length + more.length);
            System.arraycopy(more, 0, joined, out.length, more.length);
            out = joined;
        }
        return out;
    }

    /** Distinct terminals used in (from, to], to = the row's time. */
    long distinctTerminalsIn(long from, long to) throws Exception {
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
        if (i < 0) {
            return false;
        }
        if (head.latest[i] <= to) {
            return head.second[i] > from;
        }
        long uses = 0;
        for (long hash : terminalsIn(from, to)) { // a later use: count them in the window
            uses += hash == terminal ? 1 : 0;
        }
        return uses >= 2;
    }

    /** The latest entry with a time before {@code t}: {time, lat, lon}, or null. */
    double[] previousBefore(long t) throws Exception {
        long hour = CardHead.hourOf(t);
        int upTo = head.hourIndex(hour);
        int i = upTo >= 0 ? upTo : -upTo - 1; // hours before index i are before t's hour
        if (upTo >= 0) {
            double[] found = lastBefore(entriesOf(hour), t);
            if (found != null) {
                return found;
            }
        }
        for (int h = i - 1; h >= 0; h--) {
            double[] found = lastBefore(entriesOf(head.hours[h]), t);
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
        head.addToHour(hour, amount);
        head.use(terminal, time);
        head.maxTime = Math.max(head.maxTime, time);
        if (!head.isSpilled(hour)) {
            head.recent.insert(time, amount, terminal, lat, lon);
            return;
        }
        CardEntries block = block(hour); // a late arrival for an hour already spilled
        block.insert(time, amount, terminal, lat, lon);
        spilled.put(hour, block.pack());
    }

    /** Drops every hour that ends at or before {@code edge}, remembering the latest entry. */
    void evictUpTo(long edge) throws Exception {
        if (edge == Long.MIN_VALUE) {
            return;
        }
        long lastHour = CardHead.hourOf(edge + 1) - 1;
        if (head.nHours == 0 || head.hours[0] > lastHour) {
            return;
        }
        long[] dropped = head.dropHoursUpTo(lastHour);
        long newest = dropped[dropped.length - 1];
        CardEntries e = head.isSpilled(newest) ? block(newest) : head.recent;
        int p = e.firstAfter((newest + 1) * CardHead.HOUR - 1) - 1;
        if (p >= e.start) {
            head.hasEvicted = true;
            head.evictedTime = e.times[p];
            head.evictedLat = e.lats[p];
            head.evictedLon = e.lons[p];
        }
        for (long hour : dropped) {
            if (head.isSpilled(hour)) {
                spilled.remove(hour);
                used.remove(hour);
            }
        }
        head.recent.evictUpTo((lastHour + 1) * CardHead.HOUR - 1);
        head.forgetUsesUpTo((lastHour + 1) * CardHead.HOUR - 1);
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
            int next = recent.firstAfter((hour + 1) * CardHead.HOUR - 1);
            spilled.put(hour, recent.slice(i, next).pack());
            head.spillHour = hour + 1;
            i = next;
        }
        recent.evictUpTo(head.spillHour * CardHead.HOUR - 1);
    }
}
