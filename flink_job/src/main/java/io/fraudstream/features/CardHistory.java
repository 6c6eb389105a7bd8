package io.fraudstream.features;

import java.util.Arrays;

/**
 * One card's transactions of the last 30 days, oldest first, in parallel primitive arrays
 * (event time, amount, terminal hash: 24 bytes each), plus the position and time of the
 * card's latest transaction and of the one before it. Live entries are [start, end).
 */
public final class CardHistory {

    static final double NO_POSITION = Double.NaN;

    long[] times = new long[4];
    double[] amounts = new double[4];
    long[] terminals = new long[4];
    int start;
    int end;

    /** Event time and position of the latest transaction (all peers of that millisecond). */
    boolean hasCurrent;
    long currentTime;
    double currentLat = NO_POSITION;
    double currentLon = NO_POSITION;

    /** The latest transaction with an earlier event time than {@link #currentTime}. */
    boolean hasPrevious;
    long previousTime;
    double previousLat = NO_POSITION;
    double previousLon = NO_POSITION;

    int size() {
        return end - start;
    }

    /** Drops the entries at or before {@code oldestExcluded}: they left every window. */
    void evictUpTo(long oldestExcluded) {
        while (start < end && times[start] <= oldestExcluded) {
            start++;
        }
    }

    /** Appends a transaction; event times arrive in non-decreasing order. */
    void append(long time, double amount, long terminal) {
        if (end == times.length) {
            makeRoom();
        }
        times[end] = time;
        amounts[end] = amount;
        terminals[end] = terminal;
        end++;
    }

    /** Moves the live entries to the front, growing the arrays only when they are full. */
    private void makeRoom() {
        int n = size();
        int capacity = n * 2 > times.length ? times.length * 2 : times.length;
        times = shift(times, capacity);
        amounts = shift(amounts, capacity);
        terminals = shift(terminals, capacity);
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

    /** Records the position of a transaction at {@code time}, the latest so far. */
    void moveTo(long time, double lat, double lon) {
        if (hasCurrent && time > currentTime) {
            hasPrevious = true;
            previousTime = currentTime;
            previousLat = currentLat;
            previousLon = currentLon;
        }
        hasCurrent = true;
        currentTime = time;
        currentLat = lat;
        currentLon = lon;
    }

    CardHistory copy() {
        CardHistory c = new CardHistory();
        int n = size();
        c.times = Arrays.copyOfRange(times, start, start + Math.max(n, 1));
        c.amounts = Arrays.copyOfRange(amounts, start, start + Math.max(n, 1));
        c.terminals = Arrays.copyOfRange(terminals, start, start + Math.max(n, 1));
        c.start = 0;
        c.end = n;
        c.hasCurrent = hasCurrent;
        c.currentTime = currentTime;
        c.currentLat = currentLat;
        c.currentLon = currentLon;
        c.hasPrevious = hasPrevious;
        c.previousTime = previousTime;
        c.previousLat = previousLat;
        c.previousLon = previousLon;
        return c;
    }
}
