package io.fraudstream.features.terminal;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.types.extraction.TypeInferenceExtractor;
import org.apache.flink.table.types.inference.TypeInference;
import org.apache.flink.types.Row;

import io.fraudstream.metrics.CloudWatchMetrics;

import io.fraudstream.features.KeyHash;
import io.fraudstream.features.LayoutSpec;
import io.fraudstream.features.OutOfOrderBound;
import io.fraudstream.features.TerminalState;

/**
 * Every terminal aggregate the features read, in one OVER operator per terminal.
 *
 * <p>Used as {@code terminal_features(et, is_txn, is_fraud, card_id, delay_ms) OVER
 * (PARTITION BY terminal_id ORDER BY pt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)}
 * (streaming: each row emitted on arrival; batch orders by et with RANGE, as
 * {@link CardFeatures} says) over the terminal stream: transactions ({@code is_txn = 1})
 * and usable fraud labels ({@code is_fraud = 1}, at their transaction's event time + the
 * delay d). At t: counts in (t - w, t]; {@code risk_n_w} counts the transactions in
 * (t - d - w, t - d], the ones whose labels {@code fraud_w} counts. Entries are inserted
 * where their time belongs, whatever order they arrive in; only transactions move the key's
 * latest time, from which transactions are kept d + 30 days and labels 30 days, plus the
 * out-of-order bound.
 */
@FunctionHint(
        accumulator = @DataTypeHint(bridgedTo = TerminalState.class),
        output = @DataTypeHint("ROW<replaced_by_the_layout INT>"))
public final class TerminalFeatures extends AggregateFunction<Row, TerminalState> {

    private static final long serialVersionUID = 1L;

    /** What a terminal output field holds over its window (from the layout): transactions,
     * distinct cards, usable fraud labels, and the transactions those labels are of (the
     * window ending the label delay before the row). */
    enum Stat {
        N, CARDS, FRAUD, RISK_N
    }

    private final LayoutSpec layout;
    private final Stat[] stats;
    private final long[] fieldWindows;
    /** Transactions are kept the delay plus this, labels this (plus the out-of-order bound). */
    private final long longest;

    /** A terminal aggregate of the layout {@code spec} (contracts/features.py, terminal_spec()). */
    public TerminalFeatures(String spec) {
        layout = new LayoutSpec(spec);
        stats = new Stat[layout.size()];
        fieldWindows = new long[layout.size()];
        for (int i = 0; i < stats.length; i++) {
            stats[i] = Stat.valueOf(layout.stat(i).toUpperCase(java.util.Locale.ROOT));
            fieldWindows[i] = layout.window(i);
        }
        longest = layout.longestWindow();
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory factory) {
        return layout.withOutput(
                TypeInferenceExtractor.forAggregateFunction(factory, TerminalFeatures.class),
                factory);
    }

    /** Labels whose transaction the terminal never had (in time, valid and on time). */
    static final String UNKNOWN_METRIC = "labels_unknown_transaction";
    /** Fraud labels of a transaction already labelled fraud (chargeback and analyst). */
    static final String DUPLICATE_METRIC = "labels_duplicate_fraud";
    private transient Counter unknown;
    private transient Counter duplicates;
    /** How much longer than its windows a terminal keeps entries for late arrivals. */
    private long outOfOrderBound;

    @Override
    public void open(FunctionContext context) {
        outOfOrderBound = OutOfOrderBound.fromJob(context);
        MetricGroup metrics = CloudWatchMetrics.group(context.getMetricGroup());
        unknown = metrics.counter(UNKNOWN_METRIC);
        duplicates = metrics.counter(DUPLICATE_METRIC);
    }

    @Override
    public TerminalState createAccumulator() {
        return new TerminalState();
    }

    /** The features of the row accumulated last, computed while its history was at hand. */
    private transient TerminalState lastState;
    private transient Row lastRow;

    /**
     * One row of the terminal stream: a transaction ({@code isTxn} 1) or a label at its
     * transaction's event time + the delay ({@code isFraud} 1 for fraud, 0 for legit;
     * {@code reportedMs} when it was reported, at or before that time).
     */
    public void accumulate(
            TerminalState acc,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData et,
            Integer isTxn,
            Integer isFraud,
            String cardId,
            Long delayMs,
            Long reportedMs)
            throws Exception {
        TerminalWindows windows = new TerminalWindows(acc);
        TerminalHead head = windows.head;
        long time = et.getMillisecond();
        boolean transaction = isTxn != null && isTxn == 1;
        head.row(time, delayMs, transaction);
        windows.evictUpTo(
                OutOfOrderBound.evictionEdge(head.maxTime, delayMs + longest, outOfOrderBound));
        head.evictLabelsUpTo(
                OutOfOrderBound.evictionEdge(head.maxTime, longest, outOfOrderBound));
        long card = cardId == null ? 0L : KeyHash.of(cardId);
        if (transaction) {
            windows.insert(time, card);
            windows.spillIfFull();
            if (head.applyPending(time + delayMs, card)) { // its label came first
                count(duplicates, 1);
            }
        } else {
            long reported = reportedMs == null ? LabelVerdicts.UNKNOWN : reportedMs;
            accumulateLabel(windows, time, card, isFraud != null && isFraud == 1, reported);
        }
        count(unknown, head.expirePending(outOfOrderBound));
        lastRow = features(windows);
        lastState = acc;
        windows.store(acc);
    }

    /**
     * A label, at its transaction's event time + the delay. That transaction is still kept
     * (delay + 30 days), so an unknown one is recognised, counted and ignored. A label may
     * overtake its transaction on the way (they come from different streams): one whose
     * transaction is not older than the latest transaction time minus the out-of-order bound
     * waits for it (at most {@link TerminalHead#MAX_PENDING} transactions per terminal; a
     * later label of the same transaction takes the place of an earlier one by the same rule
     * as {@link TerminalHead#applyVerdict}) and counts once it comes; pending labels whose
     * transaction fell behind that edge are dropped as unknown.
     */
    private void accumulateLabel(
            TerminalWindows windows, long time, long card, boolean fraud, long reported)
            throws Exception {
        TerminalHead head = windows.head;
        long transactionTime = time - head.delayMs;
        if (!windows.contains(transactionTime, card)) {
            boolean mayStillCome =
                    head.maxTime == Long.MIN_VALUE
                            || transactionTime >= head.maxTime - outOfOrderBound;
            if (!head.holdLabel(time, card, fraud, reported, mayStillCome)) {
                count(unknown, 1);
            }
            return;
        }
        if (head.applyVerdict(time, card, fraud, reported)) {
            count(duplicates, 1);
        }
    }

    /** Labels ignored so far by this instance: {unknown transaction, duplicate fraud}. */
    public long[] ignoredLabels() {
        return new long[] {
            unknown == null ? 0 : unknown.getCount(), duplicates == null ? 0 : duplicates.getCount()
        };
    }

    private static void count(Counter counter, long n) {
        if (counter != null && n > 0) { // null when called outside a Flink task (tests)
            counter.inc(n);
        }
    }

    @Override
    public Row getValue(TerminalState acc) {
        if (acc == lastState && lastRow != null) {
            return lastRow;
        }
        try {
            return features(new TerminalWindows(acc));
        } catch (Exception e) {
            throw new IllegalStateException("reading a terminal's history failed", e);
        }
    }

    private Row features(TerminalWindows windows) throws Exception {
        long t = windows.head.rowTime;
        long lagged = t - windows.head.delayMs;
        KeyedTimes frauds = windows.head.frauds;
        Object[] fields = new Object[stats.length];
        for (int i = 0; i < stats.length; i++) {
            long w = fieldWindows[i];
            fields[i] = statistic(windows, frauds, stats[i], t - w, t, lagged - w, lagged);
        }
        return Row.of(fields);
    }

    private static long statistic(
            TerminalWindows windows, KeyedTimes frauds, Stat stat, long from, long to,
            long laggedFrom, long laggedTo) throws Exception {
        switch (stat) {
            case N:
                return windows.countIn(from, to);
            case CARDS:
                return windows.distinctCardsIn(from, to);
            case FRAUD:
                return frauds.countIn(from, to);
            case RISK_N:
                return windows.countIn(laggedFrom, laggedTo);
            default:
                throw new IllegalStateException("unknown terminal statistic " + stat);
        }
    }
}
