package io.fraudstream.features;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
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
        accumulator = @DataTypeHint(bridgedTo = CardState.class),
        output = @DataTypeHint(CardFeatures.OUTPUT))
public final class CardFeatures extends AggregateFunction<Row, CardState> {

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

    /** The features of the row accumulated last, computed while its history was at hand. */
    private transient CardState lastState;
    private transient Row lastRow;

    @Override
    public void open(FunctionContext context) {
        outOfOrderBound = OutOfOrderBound.fromJob(context);
    }

    @Override
    public CardState createAccumulator() {
        return new CardState();
    }

    public void accumulate(
            CardState acc,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData et,
            Double amount,
            String terminalId,
            Double lat,
            Double lon)
            throws Exception {
        if (amount == null) { // a label on its way to the terminal aggregate: not a payment
            return;
        }
        CardWindows windows = new CardWindows(acc);
        CardHead head = windows.head;
        long time = et.getMillisecond();
        boolean positioned = lat != null && lon != null;
        head.rowTime = time;
        head.rowLat = positioned ? lat : CardHead.NO_POSITION;
        head.rowLon = positioned ? lon : CardHead.NO_POSITION;
        windows.insert(time, amount, KeyHash.of(terminalId), head.rowLat, head.rowLon);
        long forgetUpTo = OutOfOrderBound.evictionEdge(head.maxTime, LONGEST, outOfOrderBound);
        windows.evictUpTo(forgetUpTo);
        windows.spillIfFull();
        long unusedSince = OutOfOrderBound.evictionEdge(
                head.maxTime, DISTINCT_TERMINALS_WINDOW, outOfOrderBound);
        windows.spillUses(unusedSince, forgetUpTo);
        lastRow = features(windows);
        lastState = acc;
        windows.store(acc);
    }

    @Override
    public Row getValue(CardState acc) {
        if (acc == lastState && lastRow != null) {
            return lastRow;
        }
        try {
            return features(new CardWindows(acc));
        } catch (Exception e) {
            throw new IllegalStateException("reading a card's history failed", e);
        }
    }

    private static Row features(CardWindows windows) throws Exception {
        CardHead head = windows.head;
        long t = head.rowTime;
        Object[] fields = new Object[23];
        CardWindows.Stats longest = null;
        for (int w = 0; w < WINDOWS.length; w++) {
            CardWindows.Stats s = windows.statsIn(t - WINDOWS[w], t);
            fields[3 * w] = s.n;
            fields[3 * w + 1] = s.sum;
            fields[3 * w + 2] = s.max;
            longest = s;
        }
        fields[15] = windows.smallIn(t - SMALL_WINDOW, t, SMALL_AMOUNT);
        fields[16] = longest.sumsq;
        fields[17] = windows.distinctTerminalsIn(t - DISTINCT_TERMINALS_WINDOW, t);
        fields[18] = repeatedTerminals(windows, t);
        // The previous transaction: the latest with an earlier event time (peers share it;
        // among entries of that millisecond, the one accumulated last), live or evicted.
        double[] previous = windows.previousBefore(t);
        long previousTime = previous == null ? t : (long) previous[0];
        fields[19] = previous == null ? 1 : 2;
        fields[20] = LocalDateTime.ofEpochSecond(
                Math.floorDiv(previousTime, 1000L),
                (int) Math.floorMod(previousTime, 1000L) * 1_000_000,
                ZoneOffset.UTC);
        fields[21] = positionOrMissing(previous == null ? head.rowLat : previous[1]);
        fields[22] = positionOrMissing(previous == null ? head.rowLon : previous[2]);
        return Row.of(fields);
    }

    /** The terminals of the row and its peers used at least twice in (t - 30 d, t]. */
    private static Long[] repeatedTerminals(CardWindows windows, long t) throws Exception {
        long[] candidates = windows.terminalsAt(t);
        Long[] out = new Long[candidates.length];
        int n = 0;
        for (long terminal : candidates) {
            if (windows.usedTwiceIn(terminal, t - LONGEST, t)) {
                out[n++] = terminal;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Missing positions as -999, the value the feature SQL tests for (NO_POSITION there). */
    private static double positionOrMissing(double value) {
        return Double.isNaN(value) ? -999.0 : value;
    }
}
