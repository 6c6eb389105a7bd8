package io.fraudstream.features;

import org.apache.flink.table.api.TableException;
import org.apache.flink.table.functions.FunctionContext;

/**
 * How far behind a key's latest event time a transaction may arrive and still find its whole
 * history: the job's out-of-order bound, handed to the feature functions as the job
 * parameter {@value #PARAMETER}. A key keeps its entries this much longer than its longest
 * window; a transaction that arrives later than that is flagged late by the job (its oldest
 * window edge may have lost entries). 0 when the parameter is absent (batch: in order).
 */
public final class OutOfOrderBound {

    public static final String PARAMETER = "features.max-out-of-orderness-ms";

    private OutOfOrderBound() {}

    public static long fromJob(FunctionContext context) {
        String value;
        try {
            value = context.getJobParameter(PARAMETER, "0");
        } catch (TableException outsideAJob) { // a context made outside a task (tests)
            return 0L;
        }
        long millis;
        try {
            millis = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "job parameter " + PARAMETER + " must be whole milliseconds, got " + value, e);
        }
        if (millis < 0) {
            throw new IllegalArgumentException(
                    "job parameter " + PARAMETER + " must be >= 0, got " + millis);
        }
        return millis;
    }

    /** The time at or before which entries can go, or MIN_VALUE while nothing is known. */
    public static long evictionEdge(long maxTime, long window, long bound) {
        return maxTime == Long.MIN_VALUE ? Long.MIN_VALUE : maxTime - window - bound;
    }
}
