package io.fraudstream.features.terminal;

import java.nio.ByteBuffer;
import java.util.Arrays;

import io.fraudstream.features.state.Packing;

/**
 * The label in force for each labelled transaction of a terminal: at its usable time (the
 * transaction's event time + the label delay) and card hash, the verdict of the label
 * reported last (ties: fraud), and when it was reported. A label reported earlier than the
 * one in force changes nothing, whatever order they arrive in, so both engines agree: the
 * label in force for a transaction at T is the one with the latest {@code reported_at} at
 * or before T (only labels reported by the usable time reach the aggregate).
 *
 * <p>Entries are sorted by time, in parallel arrays. Inside a terminal head (format version 2,
 * {@link TerminalHead}) they are written as:
 *
 * <pre>
 * field           type      bytes
 * nVerdicts       int       4
 * times           long[]    8 x nVerdicts
 * keys            long[]    8 x nVerdicts
 * reported        long[]    8 x nVerdicts    (Long.MIN_VALUE: before versions, unknown)
 * fraud           byte[]    1 x nVerdicts    (1 fraud, 0 legit)
 * </pre>
 */
final class LabelVerdicts {

    static final int BYTES_PER_ENTRY = 3 * Long.BYTES + 1;
    /** The reported time of a verdict kept before verdicts had one: any later label wins. */
    static final long UNKNOWN = Long.MIN_VALUE;

    long[] times = new long[0];
    long[] keys = new long[0];
    long[] reported = new long[0];
    boolean[] fraud = new boolean[0];
    int size;

    /** Index of the verdict of (time, key), or -1. */
    int find(long time, long key) {
        int i = Arrays.binarySearch(times, 0, size, time);
        if (i < 0) {
            return -1;
        }
        while (i > 0 && times[i - 1] == time) {
            i--;
        }
        for (; i < size && times[i] == time; i++) {
            if (keys[i] == key) {
                return i;
            }
        }
        return -1;
    }

    /** Whether a label reported at {@code at} with this verdict replaces the one at index i. */
    boolean supersedes(int i, long at, boolean isFraud) {
        return at > reported[i] || (at == reported[i] && isFraud && !fraud[i]);
    }

    /** The label at {@code at} with this verdict replaces the one at index i if it
     * {@link #supersedes} it; whether it did. */
    boolean revise(int i, long at, boolean isFraud) {
        if (!supersedes(i, at, isFraud)) {
            return false;
        }
        reported[i] = at;
        fraud[i] = isFraud;
        return true;
    }

    /** Adds the verdict of a transaction that had none. */
    void add(long time, long key, long at, boolean isFraud) {
        if (size == times.length) {
            int capacity = Math.max(4, size * 2);
            times = Arrays.copyOf(times, capacity);
            keys = Arrays.copyOf(keys, capacity);
            reported = Arrays.copyOf(reported, capacity);
            fraud = Arrays.copyOf(fraud, capacity);
        }
        int pos = size;
        while (pos > 0 && times[pos - 1] > time) {
            pos--;
        }
        int later = size - pos;
        System.arraycopy(times, pos, times, pos + 1, later);
        System.arraycopy(keys, pos, keys, pos + 1, later);
        System.arraycopy(reported, pos, reported, pos + 1, later);
        System.arraycopy(fraud, pos, fraud, pos + 1, later);
        times[pos] = time;
        keys[pos] = key;
        reported[pos] = at;
        fraud[pos] = isFraud;
        size++;
    }

    /** Removes the verdict at index i. */
    void removeAt(int i) {
        int later = size - i - 1;
        System.arraycopy(times, i + 1, times, i, later);
        System.arraycopy(keys, i + 1, keys, i, later);
        System.arraycopy(reported, i + 1, reported, i, later);
        System.arraycopy(fraud, i + 1, fraud, i, later);
        size--;
    }

    /** Drops the verdicts with a time at or before {@code oldestExcluded}. */
    void evictUpTo(long oldestExcluded) {
        int n = 0;
        while (n < size && times[n] <= oldestExcluded) {
            n++;
        }
        for (int k = 0; k < n; k++) {
            removeAt(0);
        }
    }

    /** Verdicts of fraud labels kept before verdicts had a reported time (version 1). */
    static LabelVerdicts ofUnknownFrauds(KeyedTimes frauds) {
        LabelVerdicts v = new LabelVerdicts();
        for (int i = frauds.start; i < frauds.end; i++) {
            v.add(frauds.times[i], frauds.keys[i], UNKNOWN, true);
        }
        return v;
    }

    int encodedSize() {
        return Integer.BYTES + BYTES_PER_ENTRY * size;
    }

    void writeTo(ByteBuffer out) {
        out.putInt(size);
        Packing.putLongs(out, times, 0, size);
        Packing.putLongs(out, keys, 0, size);
        Packing.putLongs(out, reported, 0, size);
        for (int i = 0; i < size; i++) {
            out.put((byte) (fraud[i] ? 1 : 0));
        }
    }

    static LabelVerdicts readFrom(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / BYTES_PER_ENTRY) {
            throw new IllegalStateException("corrupt label verdicts: " + n + " entries");
        }
        LabelVerdicts v = new LabelVerdicts();
        v.times = Packing.getLongs(in, n);
        v.keys = Packing.getLongs(in, n);
        v.reported = Packing.getLongs(in, n);
        v.fraud = new boolean[v.times.length];
        for (int i = 0; i < n; i++) {
            v.fraud[i] = in.get() == 1;
        }
        v.size = n;
        return v;
    }
}
