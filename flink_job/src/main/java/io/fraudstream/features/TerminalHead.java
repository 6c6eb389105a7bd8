package io.fraudstream.features;

import java.nio.ByteBuffer;

/**
 * What every event of a terminal needs, kept small enough to read and write whole: the
 * entries of the recent hours (those from {@link #spillHour} on), a count of transactions
 * for every older hour, the label in force for each labelled transaction and the ones in
 * force as fraud, the labels waiting for their transaction, and the times in the older hours
 * the last event's window edges fell in. Older hours' entries live in map state
 * ({@link TerminalState#hours}).
 *
 * <p>Stored ({@link #encode}) in format version 2 ({@link StateFormat}), big-endian. Counts
 * name the rows that give them:
 *
 * <pre>
 * field           type      bytes
 * version         byte      1
 * delayMs         long      8
 * rowTime         long      8
 * maxTime         long      8
 * spillHour       long      8
 * nHours          int       4
 * hourCounts      varints   8 + varints      (none when nHours is 0; else the first hour, then
 *                                            per hour its gap and count: HourCounts)
 * nRecent         int       4
 * recent          entries   16 x nRecent     (times, card hashes: KeyedTimes)
 * nFrauds         int       4
 * frauds          entries   16 x nFrauds     (usable time, card hash of the frauds in force)
 * nVerdicts       int       4
 * verdicts        verdicts  25 x nVerdicts   (time, card, reported, fraud: LabelVerdicts)
 * nPending        int       4
 * pending         verdicts  25 x nPending    (labels whose transaction has not come yet)
 * nCached         int       4
 * cached          hours     12 x nCached     (hour, offset count) + 4 per offset, each: HourTimes
 * </pre>
 *
 * <p>Version 1 had no verdicts and kept pending fraud labels as entries (16 bytes: time,
 * card); read, its frauds and pending labels become verdicts reported at an unknown time
 * ({@link LabelVerdicts#UNKNOWN}: any label that comes later is in force). Version 0 is
 * version 1 without the version byte.
 */
final class TerminalHead {


    long delayMs;
    /** The event time of the row whose features are emitted next. */
    long rowTime;
    /** The latest transaction time accumulated (labels never move it); MIN_VALUE before. */
    long maxTime = Long.MIN_VALUE;
    /** Hours before this one are in map state, the rest in {@link #recent}. */
    long spillHour = Long.MIN_VALUE;

    /** Every spilled hour with transactions, and its count (recent hours count entries). */
    HourCounts hours = new HourCounts();

    KeyedTimes recent = new KeyedTimes();
    /** The transactions whose label in force is fraud, by usable time: the risk counts. */
    KeyedTimes frauds = new KeyedTimes();
    /** The label in force for each labelled transaction the terminal has. */
    LabelVerdicts verdicts = new LabelVerdicts();
    /** Fraud labels that came before their transaction (at their usable time, card). */
    LabelVerdicts pending = new LabelVerdicts();

    /** The times of the spilled hours the last event counted in (its window edges). */
    HourTimes[] cached = new HourTimes[0];

    static long hourOf(long time) {
        return Math.floorDiv(time, StateFormat.HOUR);
    }

    boolean isSpilled(long hour) {
        return hour < spillHour;
    }

    int count(long hour) {
        return hours.count(hour);
    }

    void addCount(long hour, int n) {
        hours.add(hour, n);
    }

    /** Transactions in the hours before {@code hour}. */
    long countBefore(long hour) {
        return hours.countBefore(hour);
    }

    /** Drops the spilled hours up to {@code lastHour}; returns them. */
    long[] dropHoursUpTo(long lastHour) {
        return hours.dropUpTo(lastHour);
    }

    HourTimes cached(long hour) {
        for (HourTimes times : cached) {
            if (times.hour == hour) {
                return times;
            }
        }
        return null;
    }

    byte[] encode() {
        int size = 4 * Long.BYTES + Integer.BYTES + hours.encodedSize();
        size += recent.encodedSize() + frauds.encodedSize() + verdicts.encodedSize();
        size += pending.encodedSize();
        for (HourTimes times : cached) {
            size += times.encodedSize();
        }
        ByteBuffer out = StateFormat.writer(StateFormat.Kind.TERMINAL_HEAD, size);
        out.putLong(delayMs).putLong(rowTime).putLong(maxTime).putLong(spillHour);
        hours.writeTo(out);
        recent.writeTo(out);
        frauds.writeTo(out);
        verdicts.writeTo(out);
        pending.writeTo(out);
        out.putInt(cached.length);
        for (HourTimes times : cached) {
            times.writeTo(out);
        }
        return out.array();
    }

    static TerminalHead decode(byte[] bytes) {
        TerminalHead h = new TerminalHead();
        if (bytes == null || bytes.length == 0) {
            return h;
        }
        int version = StateFormat.versionOf(bytes);
        ByteBuffer in = StateFormat.reader(StateFormat.Kind.TERMINAL_HEAD, bytes);
        h.delayMs = in.getLong();
        h.rowTime = in.getLong();
        h.maxTime = in.getLong();
        h.spillHour = in.getLong();
        h.hours = HourCounts.readFrom(in);
        h.recent = KeyedTimes.readFrom(in);
        h.frauds = KeyedTimes.readFrom(in);
        if (version >= 2) {
            h.verdicts = LabelVerdicts.readFrom(in);
            h.pending = LabelVerdicts.readFrom(in);
        } else { // fraud labels without a reported time, waiting ones as entries
            h.verdicts = LabelVerdicts.ofUnknownFrauds(h.frauds);
            h.pending = LabelVerdicts.ofUnknownFrauds(KeyedTimes.readFrom(in));
        }
        int cached = in.getInt();
        if (cached < 0 || cached > in.remaining() / Long.BYTES) {
            throw new IllegalStateException("corrupt terminal head: " + cached + " cached hours");
        }
        h.cached = new HourTimes[cached];
        for (int i = 0; i < cached; i++) {
            h.cached[i] = HourTimes.readFrom(in);
        }
        return h;
    }
}
