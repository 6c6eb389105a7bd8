package io.fraudstream.features.terminal;

import java.nio.ByteBuffer;
import java.util.Arrays;

import io.fraudstream.features.state.Packing;
import io.fraudstream.features.state.StateFormat;

/**
 * Event times in non-decreasing order, each with a 64-bit key hash (a card at a terminal),
 * in two primitive arrays; live entries are [start, end). An entry is inserted where its
 * time belongs, after the entries of the same millisecond (in order: an append). Counting
 * the entries in a window is a binary search, so a busy terminal costs no more per event
 * than a quiet one.
 *
 * <p>A terminal hour spilled to map state ({@link #pack}) is stored in format version 1
 * ({@link StateFormat}, kind TERMINAL_HOUR), big-endian; version 0 is the same without the
 * version byte. Inside a terminal head, the same body follows the head's own version.
 *
 * <pre>
 * field           type      bytes
 * version         byte      1
 * nEntries        int       4
 * times           long[]    8 x nEntries
 * keys            long[]    8 x nEntries     (KeyHash of the card id)
 * </pre>
 */
final class KeyedTimes {

    long[] times = new long[4];
    long[] keys = new long[4];
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

    void insert(long time, long key) {
        if (end == times.length) {
            int n = size();
            int capacity = n * 2 > times.length ? times.length * 2 : times.length;
            times = moved(times, capacity);
            keys = moved(keys, capacity);
            start = 0;
            end = n;
        }
        int at = end;
        while (at > start && times[at - 1] > time) {
            at--;
        }
        if (at < end) { // arrived after a later entry: shift those up by one
            System.arraycopy(times, at, times, at + 1, end - at);
            System.arraycopy(keys, at, keys, at + 1, end - at);
        }
        times[at] = time;
        keys[at] = key;
        end++;
    }

    private long[] moved(long[] values, int capacity) {
        long[] out = capacity == values.length ? values : new long[capacity];
        System.arraycopy(values, start, out, 0, size());
        return out;
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

    /** Whether an entry has exactly this time and key. */
    boolean contains(long time, long key) {
        for (int i = firstAfter(time - 1); i < end && times[i] == time; i++) {
            if (keys[i] == key) {
                return true;
            }
        }
        return false;
    }

    /** Entries with a time in (from, to]. */
    long countIn(long from, long to) {
        return firstAfter(to) - firstAfter(from);
    }

    /** Removes one entry with exactly this time and key; whether there was one. */
    boolean remove(long time, long key) {
        for (int i = firstAfter(time - 1); i < end && times[i] == time; i++) {
            if (keys[i] == key) {
                System.arraycopy(times, i + 1, times, i, end - i - 1);
                System.arraycopy(keys, i + 1, keys, i, end - i - 1);
                end--;
                return true;
            }
        }
        return false;
    }

    /** Entries with a time at or before {@code time}. */
    int countUpTo(long time) {
        return firstAfter(time) - start;
    }

    /** The keys of the entries with a time in (from, to], in time order. */
    long[] keysIn(long from, long to) {
        int lo = firstAfter(from);
        return Arrays.copyOfRange(keys, lo, Math.max(lo, firstAfter(to)));
    }

    /** Entries per hour are written as: count, times, keys (the head and map state). */
    void writeTo(ByteBuffer out) {
        int n = size();
        out.putInt(n);
        Packing.putLongs(out, times, start, n);
        Packing.putLongs(out, keys, start, n);
    }

    int encodedSize() {
        return Integer.BYTES + 2 * Long.BYTES * size();
    }

    static KeyedTimes readFrom(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / (2 * Long.BYTES)) {
            throw new IllegalStateException("corrupt feature history: " + n + " entries");
        }
        KeyedTimes entries = new KeyedTimes();
        entries.times = Packing.getLongs(in, n);
        entries.keys = Packing.getLongs(in, n);
        entries.end = n;
        return entries;
    }

    /** A terminal hour's entries as a map-state value ({@link TerminalState#hours}),
     * versioned. */
    byte[] pack() {
        ByteBuffer out = StateFormat.writer(StateFormat.Kind.TERMINAL_HOUR, encodedSize());
        writeTo(out);
        return out.array();
    }

    static KeyedTimes unpack(byte[] packed) {
        return readFrom(StateFormat.reader(StateFormat.Kind.TERMINAL_HOUR, packed));
    }
}
