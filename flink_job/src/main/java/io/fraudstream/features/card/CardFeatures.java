package io.fraudstream.features.card;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.types.extraction.TypeInferenceExtractor;
import org.apache.flink.table.types.inference.TypeInference;
import org.apache.flink.types.Row;

import io.fraudstream.features.CardState;
import io.fraudstream.features.KeyHash;
import io.fraudstream.features.LayoutSpec;
import io.fraudstream.features.OutOfOrderBound;

/**
 * Every card aggregate the features read, in one OVER operator per card.
 *
 * <p>Streaming: {@code card_features(et, amount, terminal_id, lat, lon) OVER (PARTITION BY
 * card_id ORDER BY pt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)}, pt the arrival
 * (processing time): each transaction is emitted as it arrives, with what arrived before it.
 * Batch: {@code ORDER BY et RANGE ...}, in event-time order, all peers of a millisecond
 * accumulated before any is emitted. Windows are half-open, (t - w, t], t being the event
 * time of the row emitted; entries are inserted where their time belongs, so a late arrival
 * counts for later rows. Entries at or before (latest time - the widest window - the
 * out-of-order bound)
 * are evicted. The windows and the ROW's fields come from the layout the job builds it with
 * ({@link LayoutSpec}: contracts/features.py).
 */
@FunctionHint(
        accumulator = @DataTypeHint(bridgedTo = CardState.class),
        output = @DataTypeHint("ROW<replaced_by_the_layout INT>"))
public final class CardFeatures extends AggregateFunction<Row, CardState> {

    private static final long serialVersionUID = 1L;

    /** What a card output field holds (its window, where it has one, from the layout). */
    enum Stat {
        N, SUM, MAX, SUMSQ, SMALL_N, TERMINALS, REPEAT_TERMINALS, PREV_N, PREV_ET, PREV_LAT,
        PREV_LON
    }

    private final LayoutSpec layout;
    private final Stat[] stats;
    private final long[] fieldWindows;
    /** The distinct windows of the count, sum, max and sumsq fields, and each field's index. */
    private final long[] statWindows;
    private final int[] statWindowOf;
    private final double smallAmount;
    /** Entries are kept this long (plus the out-of-order bound): the widest window. */
    private final long longest;
    /** Terminals unused this long may leave a busy card's head: the distinct-terminal window. */
    private final long distinctTerminalsWindow;

    /** A card aggregate of the layout {@code spec} (contracts/features.py, card_spec()). */
    public CardFeatures(String spec) {
        layout = new LayoutSpec(spec);
        int n = layout.size();
        stats = new Stat[n];
        fieldWindows = new long[n];
        statWindowOf = new int[n];
        long[] distinct = new long[n];
        int nDistinct = 0;
        long terminalsWindow = 0;
        for (int i = 0; i < n; i++) {
            stats[i] = Stat.valueOf(layout.stat(i).toUpperCase(java.util.Locale.ROOT));
            fieldWindows[i] = layout.window(i);
            statWindowOf[i] = -1;
            if (stats[i].ordinal() <= Stat.SUMSQ.ordinal()) {
                int at = 0;
                while (at < nDistinct && distinct[at] != fieldWindows[i]) {
                    at++;
                }
                if (at == nDistinct) {
                    distinct[nDistinct++] = fieldWindows[i];
                }
                statWindowOf[i] = at;
            }
            if (stats[i] == Stat.TERMINALS) {
                terminalsWindow = Math.max(terminalsWindow, fieldWindows[i]);
            }
        }
        statWindows = java.util.Arrays.copyOf(distinct, nDistinct);
        smallAmount = layout.setting("small_amount");
        longest = layout.longestWindow();
        distinctTerminalsWindow = terminalsWindow;
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory factory) {
        return layout.withOutput(
                TypeInferenceExtractor.forAggregateFunction(factory, CardFeatures.class), factory);
    }

    /** How much longer than the widest window entries are kept for transactions arriving late. */
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
        head.row(
                time,
                positioned ? lat : CardHead.NO_POSITION,
                positioned ? lon : CardHead.NO_POSITION);
        windows.insert(time, amount, KeyHash.of(terminalId), head.rowLat, head.rowLon);
        long forgetUpTo = OutOfOrderBound.evictionEdge(head.maxTime, longest, outOfOrderBound);
        windows.evictUpTo(forgetUpTo);
        windows.spillIfFull();
        long unusedSince = OutOfOrderBound.evictionEdge(
                head.maxTime, distinctTerminalsWindow, outOfOrderBound);
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

    private Row features(CardWindows windows) throws Exception {
        CardHead head = windows.head;
        long t = head.rowTime;
        CardWindows.Stats[] inWindow = new CardWindows.Stats[statWindows.length];
        for (int w = 0; w < statWindows.length; w++) {
            inWindow[w] = windows.statsIn(t - statWindows[w], t);
        }
        // The previous transaction: the latest with an earlier event time (peers share it;
        // among entries of that millisecond, the one accumulated last), live or evicted.
        double[] previous = windows.previousBefore(t);
        Object[] fields = new Object[stats.length];
        for (int i = 0; i < stats.length; i++) {
            CardWindows.Stats s = statWindowOf[i] >= 0 ? inWindow[statWindowOf[i]] : null;
            fields[i] = statistic(windows, stats[i], s, t, fieldWindows[i], previous);
        }
        return Row.of(fields);
    }

    private Object statistic(
            CardWindows windows, Stat stat, CardWindows.Stats s, long t, long window,
            double[] previous) throws Exception {
        CardHead head = windows.head;
        switch (stat) {
            case N:
                return s.n;
            case SUM:
                return s.sum;
            case MAX:
                return s.max;
            case SUMSQ:
                return s.sumsq;
            case SMALL_N:
                return windows.smallIn(t - window, t, smallAmount);
            case TERMINALS:
                return windows.distinctTerminalsIn(t - window, t);
            case REPEAT_TERMINALS:
                return repeatedTerminals(windows, t, window);
            case PREV_N:
                return previous == null ? 1 : 2;
            case PREV_ET:
                long previousTime = previous == null ? t : (long) previous[0];
                return LocalDateTime.ofEpochSecond(
                        Math.floorDiv(previousTime, 1000L),
                        (int) Math.floorMod(previousTime, 1000L) * 1_000_000,
                        ZoneOffset.UTC);
            case PREV_LAT:
                return positionOrMissing(previous == null ? head.rowLat : previous[1]);
            case PREV_LON:
                return positionOrMissing(previous == null ? head.rowLon : previous[2]);
            default:
                throw new IllegalStateException("unknown card statistic " + stat);
        }
    }

    /** The terminals of the row and its peers used at least twice in (t - window, t]. */
    private static Long[] repeatedTerminals(CardWindows windows, long t, long window)
            throws Exception {
        long[] candidates = windows.terminalsAt(t);
        Long[] out = new Long[candidates.length];
        int n = 0;
        for (long terminal : candidates) {
            if (windows.usedTwiceIn(terminal, t - window, t)) {
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
