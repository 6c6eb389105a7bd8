package io.fraudstream.features.terminal;

import java.nio.ByteBuffer;
import java.util.Arrays;

import io.fraudstream.features.state.Packing;
import io.fraudstream.features.state.StateFormat;

/**
 * The times of one spilled hour's entries without their keys, as milliseconds into the hour:
 * all that counting up to a window edge in that hour needs. A terminal keeps these for the
 * hours its window edges are in, at 4 bytes an entry instead of 16.
 */
final class HourTimes {

    final long hour;
    /** Milliseconds after the hour's start, ascending. */
    private final int[] offsets;

    private HourTimes(long hour, int[] offsets) {
        this.hour = hour;
        this.offsets = offsets;
    }

    static HourTimes of(long hour, KeyedTimes block) {
        long start = hour * StateFormat.HOUR;
        int[] offsets = new int[block.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = Math.toIntExact(block.times[block.start + i] - start);
        }
        return new HourTimes(hour, offsets);
    }

    /** Entries with a time at or before {@code time}. */
    int countUpTo(long time) {
        long offset = time - hour * StateFormat.HOUR;
        if (offset < 0) {
            return 0;
        }
        if (offset >= StateFormat.HOUR) {
            return offsets.length;
        }
        int at = Arrays.binarySearch(offsets, (int) offset);
        if (at < 0) {
            return -at - 1;
        }
        while (at < offsets.length && offsets[at] == offset) { // after equal times
            at++;
        }
        return at;
    }

    int encodedSize() {
        return Long.BYTES + Integer.BYTES + offsets.length * Integer.BYTES;
    }

    void writeTo(ByteBuffer out) {
        out.putLong(hour);
        out.putInt(offsets.length);
        Packing.putInts(out, offsets, offsets.length);
    }

    static HourTimes readFrom(ByteBuffer in) {
        long hour = in.getLong();
        int n = in.getInt();
        if (n < 0 || n > in.remaining() / Integer.BYTES) {
            throw new IllegalStateException("corrupt hour times: " + n + " entries");
        }
        return new HourTimes(hour, Arrays.copyOf(Packing.getInts(in, n), n));
    }
}
