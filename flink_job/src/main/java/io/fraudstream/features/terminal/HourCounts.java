package io.fraudstream.features.terminal;

import java.nio.ByteBuffer;
import java.util.Arrays;

import io.fraudstream.features.state.Packing;

/**
 * A key's transactions counted per hour, for every hour that has any, ascending. Counts
 * before an hour come from prefix sums built once per change, so the windows of one event cost
 * a binary search each, not a pass over the hours.
 *
 * <p>Written as varints: per hour its distance from the hour before and its count, about 2
 * bytes an hour for a busy key (12 as a long and an int).
 */
final class HourCounts {

    long[] hours = new long[4];
    int[] counts = new int[4];
    int size;
    /** prefix[i] = counts[0] + ... + counts[i - 1]; null after a change. */
    private long[] prefix;

    private int indexOf(long hour) {
        return Arrays.binarySearch(hours, 0, size, hour);
    }

    int count(long hour) {
        int i = indexOf(hour);
        return i >= 0 ? counts[i] : 0;
    }

    void add(long hour, int n) {
        prefix = null;
        int i = indexOf(hour);
        if (i >= 0) {
            counts[i] += n;
            return;
        }
        insertAt(-i - 1, hour, n);
    }

    private void insertAt(int at, long hour, int count) {
        if (size == hours.length) {
            hours = Arrays.copyOf(hours, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
        }
        System.arraycopy(hours, at, hours, at + 1, size - at);
        System.arraycopy(counts, at, counts, at + 1, size - at);
        hours[at] = hour;
        counts[at] = count;
        size++;
    }

    /** Transactions in the hours before {@code hour}. */
    long countBefore(long hour) {
        if (prefix == null) {
            prefix = new long[size + 1];
            for (int i = 0; i < size; i++) {
                prefix[i + 1] = prefix[i] + counts[i];
            }
        }
        int i = indexOf(hour);
        return prefix[i >= 0 ? i : -i - 1];
    }

    /** Drops the hours up to {@code lastHour}; returns them, ascending. */
    long[] dropUpTo(long lastHour) {
        int n = 0;
        while (n < size && hours[n] <= lastHour) {
            n++;
        }
        if (n == 0) {
            return new long[0];
        }
        prefix = null;
        long[] dropped = Arrays.copyOf(hours, n);
        System.arraycopy(hours, n, hours, 0, size - n);
        System.arraycopy(counts, n, counts, 0, size - n);
        size -= n;
        return dropped;
    }

    int encodedSize() {
        int bytes = Integer.BYTES + (size > 0 ? Long.BYTES : 0);
        for (int i = 0; i < size; i++) {
            bytes += Packing.varintSize(i == 0 ? 0 : hours[i] - hours[i - 1]);
            bytes += Packing.varintSize(counts[i]);
        }
        return bytes;
    }

    /** The number of hours, the first hour, then per hour its distance from the one before
     * and its count, as varints. */
    void writeTo(ByteBuffer out) {
        out.putInt(size);
        if (size == 0) {
            return;
        }
        out.putLong(hours[0]);
        for (int i = 0; i < size; i++) {
            Packing.putVarint(out, i == 0 ? 0 : hours[i] - hours[i - 1]);
            Packing.putVarint(out, counts[i]);
        }
    }

    static HourCounts readFrom(ByteBuffer in) {
        HourCounts h = new HourCounts();
        int size = in.getInt();
        if (size < 0 || size > in.remaining() / 2) {
            throw new IllegalStateException("corrupt hour counts: " + size + " hours");
        }
        if (size == 0) {
            return h;
        }
        h.hours = new long[Math.max(size, 4)];
        h.counts = new int[h.hours.length];
        long hour = in.getLong();
        for (int i = 0; i < size; i++) {
            hour += Packing.getVarint(in);
            h.hours[i] = hour;
            h.counts[i] = Math.toIntExact(Packing.getVarint(in));
        }
        h.size = size;
        return h;
    }
}
