package io.fraudstream.features.terminal;

import java.nio.ByteBuffer;

import io.fraudstream.features.state.StateFormat;

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

    /** Fraud labels a terminal holds for transactions it has not seen yet, at most. */
    static final int MAX_PENDING = 1024;

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

    /**
     * The row whose features are emitted next, with the label delay of the job; only a
     * transaction moves the latest time (a label's time, its transaction's + the delay,
     * moves nothing).
     */
    void row(long time, long delay, boolean transaction) {
        delayMs = delay;
        rowTime = time;
        if (transaction) {
            maxTime = Math.max(maxTime, time);
        }
    }

    /** Drops the frauds in force and the verdicts at or before {@code edge}. */
    void evictLabelsUpTo(long edge) {
        frauds.evictUpTo(edge);
        verdicts.evictUpTo(edge);
    }

    /**
     * A label of a transaction the terminal has: in force when reported after the one in
     * force (a fraud wins a tie), and the fraud count follows the label in force: a legit
     * label reported after a fraud takes the fraud back. Returns whether it was a fraud
     * label of a transaction already labelled fraud.
     */
    boolean applyVerdict(long time, long card, boolean fraud, long at) {
        int i = verdicts.find(time, card);
        boolean wasFraud = i >= 0 && verdicts.fraud[i];
        boolean duplicate = fraud && wasFraud;
        if (i < 0) {
            verdicts.add(time, card, at, fraud);
        } else if (!verdicts.revise(i, at, fraud)) {
            return duplicate;
        }
        if (fraud && !wasFraud) {
            frauds.insert(time, card);
        } else if (!fraud && wasFraud) {
            frauds.remove(time, card);
        }
        return duplicate;
    }

    /**
     * The transaction of (usable time, card) came: the label that waited for it, if any, is
     * applied ({@link #applyVerdict}). Returns whether that was a duplicate fraud.
     */
    boolean applyPending(long time, long card) {
        int waiting = pending.find(time, card);
        if (waiting < 0) {
            return false;
        }
        boolean fraud = pending.fraud[waiting];
        long reported = pending.reported[waiting];
        pending.removeAt(waiting);
        return applyVerdict(time, card, fraud, reported);
    }

    /**
     * A label whose transaction the terminal does not have: it takes the place of a label
     * of the same transaction already waiting by the rule of {@link #applyVerdict}, else
     * waits if its transaction {@code mayStillCome} and fewer than {@link #MAX_PENDING} wait.
     * Returns false when it is not held (an unknown transaction).
     */
    boolean holdLabel(long time, long card, boolean fraud, long reported, boolean mayStillCome) {
        int waiting = pending.find(time, card);
        if (waiting >= 0) {
            pending.revise(waiting, reported, fraud);
            return true;
        }
        if (mayStillCome && pending.size < MAX_PENDING) {
            pending.add(time, card, reported, fraud);
            return true;
        }
        return false;
    }

    /**
     * Drops the waiting labels whose transaction can no longer come (older than the latest
     * transaction time minus {@code outOfOrderBound}); returns how many.
     */
    int expirePending(long outOfOrderBound) {
        if (maxTime == Long.MIN_VALUE) {
            return 0;
        }
        long edge = maxTime - outOfOrderBound + delayMs; // label time of that edge
        int dropped = 0;
        while (pending.size > 0 && pending.times[0] < edge) {
            pending.removeAt(0);
            dropped++;
        }
        return dropped;
    }

    /** A transaction of an hour not spilled yet, kept with the recent entries. */
    void insertRecent(long time, long card) {
        recent.insert(time, card);
    }

    /** An hour moved to map state with {@code n} transactions: hours up to it are spilled. */
    void spilled(long hour, int n) {
        addCount(hour, n);
        spillHour = hour + 1;
    }

    /** Drops the recent entries at or before {@code edge}. */
    void evictRecentUpTo(long edge) {
        recent.evictUpTo(edge);
    }

    /** Keeps these spilled hours' times (the last event's window edges) in the head. */
    void cache(HourTimes[] times) {
        cached = times;
    }

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
