package io.fraudstream.features;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.types.Row;

import io.fraudstream.metrics.CloudWatchMetrics;

/**
 * Every terminal aggregate the features read, in one OVER operator per terminal.
 *
 * <p>Used as {@code terminal_features(et, is_txn, is_fraud, card_id, delay_ms) OVER
 * (PARTITION BY terminal_id ORDER BY pt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)}
 * (streaming: each row emitted on arrival; batch orders by et with RANGE, as
 * {@link CardFeatures} says) over the terminal stream: transactions ({@code is_txn = 1})
 * and usable fraud labels ({@code is_fraud = 1}, at their transaction's event time + the delay d). At t: counts in
 * (t - w, t]; {@code risk_n_w} counts the transactions in (t - d - w, t - d], the ones whose
 * labels {@code fraud_w} counts. Entries are inserted where their time belongs, whatever
 * order they arrive in; only transactions move the key's latest time, from which
 * transactions are kept d + 30 days and labels 30 days, plus the out-of-order bound.
 */
@FunctionHint(
        accumulator =
                @DataTypeHint(
                        value = "RAW",
                        bridgedTo = TerminalHistory.class,
                        rawSerializer = TerminalHistorySerializer.class),
        output = @DataTypeHint(TerminalFeatures.OUTPUT))
public final class TerminalFeatures extends AggregateFunction<Row, TerminalHistory> {

    private static final long serialVersionUID = 1L;

    static final long HOUR = 3_600_000L;
    static final long DAY = 24 * HOUR;
    /** 1 d, 7 d, 30 d: the names' suffixes in OUTPUT, in this order. */
    static final long[] WINDOWS = {DAY, 7 * DAY, 30 * DAY};
    static final long LONGEST = 30 * DAY;
    static final long DISTINCT_CARDS_WINDOW = HOUR;

    static final String OUTPUT =
            "ROW<n_1h BIGINT, cards_1h BIGINT, "
                    + "n_1d BIGINT, fraud_1d BIGINT, risk_n_1d BIGINT, "
                    + "n_7d BIGINT, fraud_7d BIGINT, risk_n_7d BIGINT, "
                    + "n_30d BIGINT, fraud_30d BIGINT, risk_n_30d BIGINT>";

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
    public TerminalHistory createAccumulator() {
        return new TerminalHistory();
    }

    public void accumulate(
            TerminalHistory acc,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData et,
            Integer isTxn,
            Integer isFraud,
            String cardId,
            Long delayMs) {
        long time = et.getMillisecond();
        acc.delayMs = delayMs;
        acc.rowTime = time;
        boolean transaction = isTxn != null && isTxn == 1;
        if (transaction) { // a label's time (its transaction's + the delay) moves nothing
            acc.maxTime = Math.max(acc.maxTime, time);
        }
        acc.transactions.evictUpTo(
                OutOfOrderBound.evictionEdge(acc.maxTime, delayMs + LONGEST, outOfOrderBound));
        acc.frauds.evictUpTo(OutOfOrderBound.evictionEdge(acc.maxTime, LONGEST, outOfOrderBound));
        if (transaction) {
            acc.transactions.insert(time, cardId == null ? 0L : KeyHash.of(cardId));
            return;
        }
        // A label, at its transaction's event time + the delay: that transaction is still
        // kept (delay + 30 days), so an unknown one is recognised, counted and ignored.
        long card = cardId == null ? 0L : KeyHash.of(cardId);
        if (!acc.transactions.contains(time - delayMs, card)) {
            count(unknown);
            return;
        }
        if (isFraud != null && isFraud == 1) {
            if (acc.frauds.contains(time, card)) {
                count(duplicates);
                return;
            }
            acc.frauds.insert(time, card);
        }
    }

    /** Labels ignored so far by this instance: {unknown transaction, duplicate fraud}. */
    public long[] ignoredLabels() {
        return new long[] {
            unknown == null ? 0 : unknown.getCount(), duplicates == null ? 0 : duplicates.getCount()
        };
    }

    private static void count(Counter counter) {
        if (counter != null) { // null when called outside a Flink task (tests)
            counter.inc();
        }
    }

    @Override
    public Row getValue(TerminalHistory acc) {
        long t = acc.rowTime;
        long lagged = t - acc.delayMs;
        KeyedTimes txns = acc.transactions;
        Object[] fields = new Object[2 + 3 * WINDOWS.length];
        fields[0] = txns.countIn(t - HOUR, t);
        fields[1] = txns.distinctKeysIn(t - DISTINCT_CARDS_WINDOW, t);
        for (int w = 0; w < WINDOWS.length; w++) {
            fields[2 + 3 * w] = txns.countIn(t - WINDOWS[w], t);
            fields[3 + 3 * w] = acc.frauds.countIn(t - WINDOWS[w], t);
            fields[4 + 3 * w] = txns.countIn(lagged - WINDOWS[w], lagged);
        }
        return Row.of(fields);
    }
}
