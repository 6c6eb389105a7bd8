package io.fraudstream.features;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What every event of a terminal needs, kept small enough to read and write whole: a count
 * of transactions per hour for every hour kept, the entries of the recent hours (those from
 * {@link #spillHour} on), the usable fraud labels, and the spilled hours the last event's
 * window edges fell in. Older hours' entries live in map state ({@link TerminalState#hours}).
 */
final class TerminalHead {

    static final long HOUR = 3_600_000L;

    long delayMs;
    /** The event time of the row whose features are emitted next. */
    long rowTime;
    /** The latest transaction time accumulated (labels never move it); MIN_VALUE before. */
    long maxTime = Long.MIN_VALUE;
    /** Hours before this one are in map state, the rest in {@link #recent}. */
    long spillHour = Long.MIN_VALUE;

    /** Every kept hour that has transactions, ascending, with its count. */
    long[] hours = new long[4];
    int[] counts = new int[4];
    int nHours;

    KeyedTimes recent = new KeyedTimes();
    KeyedTimes frauds = new KeyedTimes();
    /** Fraud labels that came before their transaction (at their usable time, card). */
    KeyedTimes pending = new KeyedTimes();

    /** Spilled hours read for the last event, with their entries. */
    long[] cachedHours = new long[0];
    KeyedTimes[] cachedBlocks = new KeyedTimes[0];

    static long hourOf(long time) {
        return Math.floorDiv(time, HOUR);
    }

    boolean isSpilled(long hour) {
        return hour < spillHour;
    }

    private int hourIndex(long hour) {
        return Arrays.binarySearch(hours, 0, nHours, hour);
    }

    int count(long hour) {
        int i = hourIndex(hour);
        return i >= 0 ? counts[i] : 0;
    }

    void addCount(long hour) {
        int i = hourIndex(hour);
        if (i >= 0) {
            counts[i]++;
            return;
        }
        int at = -i - 1;
        if (nHours == hours.length) {
            hours = Arrays.copyOf(hours, nHours * 2);
            counts = Arrays.copyOf(counts, nHours * 2);
        }
        System.arraycopy(hours, at, hours, at + 1, nHours - at);
        System.arraycopy(counts, at, counts, at + 1, nHours - at);
        hours[at] = hour;
        counts[at] = 1;
        nHours++;
    }

    /** Transactions in the hours before {@code hour}. */
    long countBefore(long hour) {
        long total = 0;
        for (int i = 0; i < nHours && hours[i] < hour; i++) {
            total += counts[i];
        }
        return total;
    }

    /** Drops the hours up to {@code lastHour}; returns the spilled ones among them. */
    long[] dropHoursUpTo(long lastHour) {
        int n = 0;
        while (n < nHours && hours[n] <= lastHour) {
            n++;
        }
        long[] spilled = new long[n];
        int nSpilled = 0;
        for (int i = 0; i < n; i++) {
            if (isSpilled(hours[i])) {
                spilled[nSpilled++] = hours[i];
            }
        }
        System.arraycopy(hours, n, hours, 0, nHours - n);
        System.arraycopy(counts, n, counts, 0, nHours - n);
        nHours -= n;
        return Arrays.copyOf(spilled, nSpilled);
    }

    KeyedTimes cached(long hour) {
        for (int i = 0; i < cachedHours.length; i++) {
            if (cachedHours[i] == hour) {
                return cachedBlocks[i];
            }
        }
        return null;
    }

    byte[] encode() {
        int size = 5 * Long.BYTES + 2 * Integer.BYTES + nHours * (Long.BYTES + Integer.BYTES);
        size += recent.encodedSize() + frauds.encodedSize() + pending.encodedSize();
        for (KeyedTimes block : cachedBlocks) {
            size += Long.BYTES + block.encodedSize();
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putLong(delayMs).putLong(rowTime).putLong(maxTime).putLong(spillHour);
        out.putInt(nHours);
        Packing.putLongs(out, hours, 0, nHours);
        Packing.putInts(out, counts, nHours);
        recent.writeTo(out);
        frauds.writeTo(out);
        pending.writeTo(out);
        out.putInt(cachedHours.length);
        out.putLong(0L); // reserved
        for (int i = 0; i < cachedHours.length; i++) {
            out.putLong(cachedHours[i]);
            cachedBlocks[i].writeTo(out);
        }
        return out.array();
    }

    static TerminalHead decode(byte[] bytes) {
        TerminalHead h = new TerminalHead();
        if (bytes == null || bytes.length == 0) {
            return h;
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        h.delayMs = in.getLong();
        h.rowTime = in.getLong();
        h.maxTime = in.getLong();
        h.spillHour = in.getLong();
        h.nHours = in.getInt();
        if (h.nHours < 0 || h.nHours > in.remaining() / (Long.BYTES + Integer.BYTES)) {
            throw new IllegalStateException("corrupt terminal head: " + h.nHours + " hours");
        }
        h.hours = Packing.getLongs(in, h.nHours);
        h.counts = Packing.getInts(in, h.nHours);
        h.recent = KeyedTimes.readFrom(in);
        h.frauds = KeyedTimes.readFrom(in);
        h.pending = KeyedTimes.readFrom(in);
        int cached = in.getInt();
        in.getLong();
        h.cachedHours = new long[cached];
        h.cachedBlocks = new KeyedTimes[cached];
        for (int i = 0; i < cached; i++) {
            h.cachedHours[i] = in.getLong();
            h.cachedBlocks[i] = KeyedTimes.readFrom(in);
        }
        return h;
    }
}
