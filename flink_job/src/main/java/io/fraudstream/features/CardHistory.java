package io.fraudstream.features;

import java.util.Arrays;

/**
 * One card's transactions (event time, amount, terminal hash, position), sorted by event
 * time in parallel primitive arrays; live entries are [start, end). Transactions arrive in
 * any order: each is inserted where its time belongs (after the entries of the same
 * millisecond), so a transaction that arrives late still counts for every later one.
 *
 * <p>Also kept: the row being emitted (its time and position), the latest transaction time
 * seen (eviction follows it, never a single late row) and the latest evicted transaction,
 * which stays the "previous transaction" of a card quiet for more than 30 days.
 */
public final class CardHistory {

    static final double NO_POSITION = Double.NaN;

    long[] times = new long[4];
    double[] amounts = new double[4];
    long[] terminals = new long[4];
    double[] lats = new double[4];
    double[] lons = new double[4];
    int start;
    int end;

    /** The transaction whose features are emitted next. */
    long rowTime;
    double rowLat = NO_POSITION;
    double rowLon = NO_POSITION;

    /** The latest event time accumulated; Long.MIN_VALUE before the first. */
    long maxTime = Long.MIN_VALUE;

    /** The latest transaction evicted (older than every live entry). */
    boolean hasEvicted;
    long evictedTime;
    double evictedLat = NO_POSITION;
    double evictedLon = NO_POSITION;

    int size() {
        return end - start;
    }

    /** Drops the entries at or before {@code oldestExcluded}: they left every window. */
    void evictUpTo(long oldestExcluded) {
        int from = start;
        while (start < end && times[start] <= oldestExcluded) {
            start++;
        }
        if (start > from) {
            int last = start - 1;
            hasEvicted = true;
            evictedTime = times[last];
            evictedLat = lats[last];
            evictedLon = lons[last];
        }
    }

    /** Inserts a transaction after every entry with a time at or before its own. */
    void insert(long time, double amount, long terminal, double lat, double lon) {
        if (end == times.length) {
            makeRoom();
        }
        int at = end;
        while (at > start && times[at - 1] > time) {
            at--;
        }
        if (at < end) { // arrived after a later transaction: rare, shift those up by one
            int later = end - at;
            System.arraycopy(times, at, times, at + 1, later);
            System.arraycopy(amounts, at, amounts, at + 1, later);
            System.arraycopy(terminals, at, terminals, at + 1, later);
            System.arraycopy(lats, at, lats, at + 1, later);
            System.arraycopy(lons, at, lons, at + 1, later);
        }
        times[at] = time;
        amounts[at] = amount;
        terminals[at] = terminal;
        lats[at] = lat;
        lons[at] = lon;
        end++;
        maxTime = Math.max(maxTime, time);
    }

    /** Index of the first live entry with a time after {@code time}. */
    int firstAfter(long time) {
        int lo = start;
        int hi = end;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (times[mid] <= time) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Moves the live entries to the front, growing the arrays only when they are full. */
    private void makeRoom() {
        int n = size();
        int capacity = n * 2 > times.length ? times.length * 2 : times.length;
        times = shift(times, capacity);
        amounts = shift(amounts, capacity);
        terminals = shift(terminals, capacity);
        lats = shift(lats, capacity);
        lons = shift(lons, capacity);
        start = 0;
        end = n;
    }

    private long[] shift(long[] values, int capacity) {
        long[] out = capacity == values.length ? values : new long[capacity];
        System.arraycopy(values, start, out, 0, size());
        return out;
    }

    private double[] shift(double[] values, int capacity) {
        double[] out = capacity == values.length ? values : new double[capacity];
        System.arraycopy(values, start, out, 0, size());
        return out;
    }

    CardHistory copy() {
        CardHistory c = new CardHistory();
        int n = size();
        int capacity = Math.max(n, 4);
        c.times = Arrays.copyOfRange(times, start, start + capacity);
        c.amounts = Arrays.copyOfRange(amounts, start, start + capacity);
        c.terminals = Arrays.copyOfRange(terminals, start, start + capacity);
        c.lats = Arrays.copyOfRange(lats, start, start + capacity);
        c.lons = Arrays.copyOfRange(lons, start, start + capacity);
        c.start = 0;
        c.end = n;
        c.rowTime = rowTime;
        c.rowLat = rowLat;
        c.rowLon = rowLon;
        c.maxTime = maxTime;
        c.hasEvicted = hasEvicted;
        c.evictedTime = evictedTime;
        c.evictedLat = evictedLat;
        c.evictedLon = evictedLon;
        return c;
    }
}
