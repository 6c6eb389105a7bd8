package io.fraudstream.features;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.types.Row;

/**
 * Every card aggregate the features read, in one OVER operator per card.
 *
 * <p>Streaming: {@code card_features(et, amount, terminal_id, lat, lon) OVER (PARTITION BY
 * card_id ORDER BY pt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)}, pt the arrival
 * (processing time): each transaction is emitted as it arrives, with what arrived before it.
 * Batch: {@code ORDER BY et RANGE ...}, in event-time order, all peers of a millisecond
 * accumulated before any is emitted. Windows are half-open, (t - w, t], t being the event
 * time of the row emitted; entries are inserted where their time belongs, so a late arrival
 * counts for later rows. Entries at or before (latest time - 30 d - the out-of-order bound)
 * are evicted. The ROW fields are listed in {@link #OUTPUT}.
 */
@FunctionHint(
        accumulator =
                @DataTypeHint(
                        value = "RAW",
                        bridgedTo = CardHistory.class,
                        rawSerializer = CardHistorySerializer.class),
        output = @DataTypeHint(CardFeatures.OUTPUT))
public final class CardFeatures extends AggregateFunction<Row, CardHistory> {

    private static final long serialVersionUID = 1L;

    static final long MINUTE = 60_000L;
    static final long HOUR = 60 * MINUTE;
    static final long DAY = 24 * HOUR;
    /** 10 min, 1 h, 1 d, 7 d, 30 d: the names' suffixes in OUTPUT, in this order. */
    static final long[] WINDOWS = {10 * MINUTE, HOUR, DAY, 7 * DAY, 30 * DAY};
    static final long LONGEST = 30 * DAY;
    static final long DISTINCT_TERMINALS_WINDOW = DAY;
    static final long SMALL_WINDOW = 10 * MINUTE;
    static final double SMALL_AMOUNT = 5.0;

    static final String OUTPUT =
            "ROW<"
                    + "n_10m BIGINT, sum_10m DOUBLE, max_10m DOUBLE, "
                    + "n_1h BIGINT, sum_1h DOUBLE, max_1h DOUBLE, "
                    + "n_1d BIGINT, sum_1d DOUBLE, max_1d DOUBLE, "
                    + "n_7d BIGINT, sum_7d DOUBLE, max_7d DOUBLE, "
                    + "n_30d BIGINT, sum_30d DOUBLE, max_30d DOUBLE, "
                    + "small_n_10m BIGINT, sumsq_30d DOUBLE, terminals_1d BIGINT, "
                    + "repeat_terminals_30d ARRAY<BIGINT>, "
                    + "prev_n INT, prev_et TIMESTAMP(3), prev_lat DOUBLE, prev_lon DOUBLE>";

    /** How much longer than 30 days entries are kept for transactions arriving late. */
    private long outOfOrderBound;

    @Override
    public void open(FunctionContext context) {
        outOfOrderBound = OutOfOrderBound.fromJob(context);
    }

    @Override
    public CardHistory createAccumulator() {
        return new CardHistory();
    }

    public void accumulate(
            CardHistory acc,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData et,
            Double amount,
            String terminalId,
            Double lat,
            Double lon) {
        if (amount == null) { // a label on its way to the terminal aggregate: not a payment
            return;
        }
        long time = et.getMillisecond();
        boolean positioned = lat != null && lon != null;
        double rowLat = positioned ? lat : CardHistory.NO_POSITION;
        double rowLon = positioned ? lon : CardHistory.NO_POSITION;
        acc.insert(time, amount, KeyHash.of(terminalId), rowLat, rowLon);
        acc.rowTime = time;
        acc.rowLat = rowLat;
        acc.rowLon = rowLon;
        acc.evictUpTo(OutOfOrderBound.evictionEdge(acc.maxTime, LONGEST, outOfOrderBound));
    }

    @Override
    public Row getValue(CardHistory acc) {
        long t = acc.rowTime;
        int upTo = acc.firstAfter(t); // entries after t arrived earlier but are not in its windows
        int windows = WINDOWS.length;
        long[] n = new long[windows];
        double[] sum = new double[windows];
        double[] max = new double[windows];
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        long small = 0;
        double sumsq = 0.0;
        for (int i = acc.start; i < upTo; i++) {
            long age = t - acc.times[i];
            double amount = acc.amounts[i];
            for (int w = 0; w < windows; w++) {
                if (age < WINDOWS[w]) {
                    n[w]++;
                    sum[w] += amount;
                    max[w] = Math.max(max[w], amount);
                }
            }
            if (age < SMALL_WINDOW && amount < SMALL_AMOUNT) {
                small++;
            }
            if (age < LONGEST) {
                sumsq += amount * amount;
            }
        }
        Object[] fields = new Object[23];
        for (int w = 0; w < windows; w++) {
            fields[3 * w] = n[w];
            fields[3 * w + 1] = sum[w];
            fields[3 * w + 2] = max[w];
        }
        fields[15] = small;
        fields[16] = sumsq;
        fields[17] = (long) distinctTerminals(acc, t - DISTINCT_TERMINALS_WINDOW, upTo);
        fields[18] = repeatedTerminals(acc, t - LONGEST, upTo);
        // The previous transaction: the latest with an earlier event time (peers share it;
        // among entries of that millisecond, the one accumulated last), live or evicted.
        int previous = acc.firstAfter(t - 1) - 1;
        boolean live = previous >= acc.start;
        boolean hasPrevious = live || (acc.hasEvicted && acc.evictedTime < t);
        long previousTime = live ? acc.times[previous] : hasPrevious ? acc.evictedTime : t;
        double previousLat = live ? acc.lats[previous] : hasPrevious ? acc.evictedLat : acc.rowLat;
        double previousLon = live ? acc.lons[previous] : hasPrevious ? acc.evictedLon : acc.rowLon;
        fields[19] = hasPrevious ? 2 : 1;
        fields[20] = LocalDateTime.ofEpochSecond(
                Math.floorDiv(previousTime, 1000L),
                (int) Math.floorMod(previousTime, 1000L) * 1_000_000,
                ZoneOffset.UTC);
        fields[21] = positionOrMissing(previousLat);
        fields[22] = positionOrMissing(previousLon);
        return Row.of(fields);
    }

    /** Missing positions as -999, the value the feature SQL tests for (NO_POSITION there). */
    private static double positionOrMissing(double value) {
        return Double.isNaN(value) ? -999.0 : value;
    }

    /** Sorted terminal hashes of the entries after {@code after}, before index {@code upTo}. */
    private static long[] terminalsAfter(CardHistory acc, long after, int upTo) {
        long[] hashes = Arrays.copyOfRange(acc.terminals, Math.min(acc.firstAfter(after), upTo), upTo);
        Arrays.sort(hashes);
        return hashes;
    }

    static int distinctTerminals(CardHistory acc, long after, int upTo) {
        long[] hashes = terminalsAfter(acc, after, upTo);
        int distinct = 0;
        for (int i = 0; i < hashes.length; i++) {
            if (i == 0 || hashes[i] != hashes[i - 1]) {
                distinct++;
            }
        }
        return distinct;
    }

    /** Terminals used at least twice after {@code after}: "seen before" for any of them. */
    static Long[] repeatedTerminals(CardHistory acc, long after, int upTo) {
        long[] hashes = terminalsAfter(acc, after, upTo);
        int repeated = 0;
        Long[] out = new Long[hashes.length / 2];
        for (int i = 1; i < hashes.length; i++) {
            boolean firstRepeat = hashes[i] == hashes[i - 1] && (i < 2 || hashes[i - 2] != hashes[i]);
            if (firstRepeat) {
                out[repeated++] = hashes[i];
            }
        }
        return Arrays.copyOf(out, repeated);
    }
}
