package io.fraudstream.metrics;

import org.apache.flink.metrics.Counter;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * TRUE, counting each call in the operator's {@code transactions_late} metric (in the
 * {@link CloudWatchMetrics} group). The job calls
 * it ({@code count_late(transaction_id)}) for transactions at or behind the watermark only,
 * so it counts them without a Python worker of its own.
 */
public final class LateCounter extends ScalarFunction {

    private static final long serialVersionUID = 1L;
    public static final String METRIC = "transactions_late";

    private transient Counter late;

    @Override
    public void open(FunctionContext context) {
        late = CloudWatchMetrics.group(context.getMetricGroup()).counter(METRIC);
    }

    public Boolean eval(String transactionId) {
        late.inc();
        return Boolean.TRUE;
    }

    /** It counts: it must run once per row, never be folded or copied by the planner. */
    @Override
    public boolean isDeterministic() {
        return false;
    }
}
