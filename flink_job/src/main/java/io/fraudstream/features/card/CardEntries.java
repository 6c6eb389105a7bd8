package io.fraudstream.features.card;

import java.nio.ByteBuffer;
import java.util.Arrays;

import io.fraudstream.features.state.Packing;
import io.fraudstream.features.state.StateFormat;

/**
 * A card's transactions (event time, amount, terminal hash, position), sorted by event time
 * in parallel primitive arrays; live entries are [start, end). An entry is inserted after the
 * entries of its millisecond (in order: an append).
 *
 * <p>An hour spilled to map state ({@link #pack}) is stored in format version 1
 * ({@link StateFormat}, kind CARD_HOUR), big-endian; version 0 is the same without the
 * version byte. Inside a head, the same body follows the head's own version.
 *
 * <pre>
 * field           type      bytes
 * version         byte      1
 * nEntries        int       4
 * times           long[]    8 x nEntries
 * amounts         double[]  8 x nEntries
 * terminals       long[]    8 x nEntries     (KeyHash of the terminal id)
 * lats            double[]  8 x nEntries     (NaN: no position)
 * lons            double[]  8 x nEntries
 * </pre>
 */
final class CardEntries {

    static final int BYTES_PER_ENTRY = 5 * Long.BYTES;

    long[] times = new long[4];
    double[] amounts = new double[4];
    long[] terminals = new long[4];
    double[] lats = new double[4];
    double[] lons = new double[4];
    int start;
    int end;

    int size() {
        return end - start;
    }

    void evictUpTo(long oldestExcluded) {
        while (start < end && times[start] <= oldestExcluded) {
            start++;
        }
    }

    void insert(long time, double amount, long terminal, double lat, double lon) {
        if (end == times.length) {
            makeRoom();
        }
        int at = end;
        while (at > start && times[at - 1] > time) {
            at--;
        }
        if (at < end) {
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

    int encodedSize() {
        return Integer.BYTES + BYTES_PER_ENTRY * size();
    }

    void writeTo(ByteBuffer out) {
        int n = size();
        out.putInt(n);
        Packing.putLongs(out, times, start, n);
        Packing.putDoubles(out, amounts, start, n);
        Packing.putLongs(out, terminals, start, n);
        Packing.putDoubles(out, lats, start, n);
        Packing.putDoubles(out, lons, start, n);
    }

    static CardEntries readFrom(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / BYTES_PER_ENTRY) {
            throw new IllegalStateException("corrupt card history: " + n + " entries");
        }
        CardEntries e = new CardEntries();
        e.times = Packing.getLongs(in, n);
        e.amounts = Packing.getDoubles(in, n);
        e.terminals = Packing.getLongs(in, n);
        e.lats = Packing.getDoubles(in, n);
        e.lons = Packing.getDoubles(in, n);
        e.end = n;
        return e;
    }

    /** An hour's entries as a map-state value ({@link CardState#hours}), versioned. */
    byte[] pack() {
        ByteBuffer out = StateFormat.writer(StateFormat.Kind.CARD_HOUR, encodedSize());
        writeTo(out);
        return out.array();
    }

    static CardEntries unpack(byte[] packed) {
        return readFrom(StateFormat.reader(StateFormat.Kind.CARD_HOUR, packed));
    }

    /** The entries of [from, to) of the live range as a new, independent copy. */
    CardEntries slice(int from, int to) {
        CardEntries e = new CardEntries();
        int n = to - from;
        int capacity = Math.max(n, 4);
        e.times = Arrays.copyOfRange(times, from, from + capacity);
        e.amounts = Arrays.copyOfRange(amounts, from, from + capacity);
        e.terminals = Arrays.copyOfRange(terminals, from, from + capacity);
        e.lats = Arrays.copyOfRange(lats, from, from + capacity);
        e.lons = Arrays.copyOfRange(lons, from, from + capacity);
        e.end = n;
        return e;
    }
}
