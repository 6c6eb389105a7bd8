package io.fraudstream.features;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A key's transactions counted per hour, for every hour that has any, ascending. Counts
 * before an hour come from prefix sums built once per change, so the windows of one event cost
 * a binary search each, not a pass over the hours.
 *
 * <p>Written in whichever form is smaller: sparse (an offset and a count per hour with
 * transactions: a quiet key's few hours) or dense (a count for every hour from the first: a
 * busy key, which has transactions in nearly every hour, at 4 bytes an hour).
 */
final class HourCounts {

    private static final int SPARSE = -1;

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

    private int span() {
        return size == 0 ? 0 : Math.toIntExact(hours[size - 1] - hours[0] + 1);
    }

    private boolean dense() {
        return span() <= 2 * size; // 4 bytes an hour against 8 an hour with transactions
    }

    int encodedSize() {
        if (size == 0) {
            return Integer.BYTES;
        }
        int body = dense() ? span() * Integer.BYTES : size * 2 * Integer.BYTES;
        return 2 * Integer.BYTES + Long.BYTES + body;
    }

    /** count, then (if any) the first hour, the form (the span, or SPARSE) and the body. */
    void writeTo(ByteBuffer out) {
        out.putInt(size);
        if (size == 0) {
            return;
        }
        long first = hours[0];
        out.putLong(first);
        if (dense()) {
            int span = span();
            int[] all = new int[span];
            for (int i = 0; i < size; i++) {
                all[(int) (hours[i] - first)] = counts[i];
            }
            out.putInt(span);
            Packing.putInts(out, all, span);
            return;
        }
        out.putInt(SPARSE);
        int[] offsets = new int[size];
        for (int i = 0; i < size; i++) {
            offsets[i] = (int) (hours[i] - first);
        }
        Packing.putInts(out, offsets, size);
        Packing.putInts(out, counts, size);
    }

    static HourCounts readFrom(ByteBuffer in) {
        HourCounts h = new HourCounts();
        int size = in.getInt();
        if (size == 0) {
            return h;
        }
        long first = in.getLong();
        int form = in.getInt();
        int body = form == SPARSE ? 2 * size : form;
        if (size < 0 || form < SPARSE || form == 0 || body > in.remaining() / Integer.BYTES) {
            throw new IllegalStateException("corrupt hour counts: " + size + " hours, " + form);
        }
        if (form == SPARSE) {
            int[] offsets = Packing.getInts(in, size);
            h.counts = Packing.getInts(in, size);
            h.hours = new long[h.counts.length];
            for (int i = 0; i < size; i++) {
                h.hours[i] = first + offsets[i];
            }
            h.size = size;
            return h;
        }
        int[] all = Packing.getInts(in, form);
        h.hours = new long[Math.max(size, 4)];
        h.counts = new int[h.hours.length];
        for (int i = 0; i < form; i++) {
            if (all[i] != 0) {
                if (h.size == size) {
                    throw new IllegalStateException("corrupt hour counts: more than " + size);
                }
                h.hours[h.size] = first + i;
                h.counts[h.size++] = all[i];
            }
        }
        return h;
    }
}
