package io.fraudstream.parsing;

import java.time.Instant;
import java.time.LocalDateTime;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * A Transaction v1 record's event_time as TIMESTAMP(3), or NULL unless the whole record is
 * valid (every rule of {@link TransactionParser}, its arrival bounds included): the sources'
 * rowtime, {@code transaction_event_time(payload, ingested_at, max_future_ms, max_age_ms,
 * max_amount)}. A malformed or out-of-time record therefore never moves the watermark. The
 * parse is shared with {@code parse_transaction} on the same thread, so a record is read once.
 */
public final class EventTime extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    public @DataTypeHint("TIMESTAMP(3)") LocalDateTime eval(
            byte[] payload, Instant arrival, Long maxFutureMs, Long maxAgeMs, Double maxAmount) {
        return valid(TransactionParser.parse(payload, arrival, maxFutureMs, maxAgeMs, maxAmount));
    }

    public @DataTypeHint("TIMESTAMP(3)") LocalDateTime eval(
            String payload, Instant arrival, Long maxFutureMs, Long maxAgeMs, Double maxAmount) {
        return valid(TransactionParser.parse(payload, arrival, maxFutureMs, maxAgeMs, maxAmount));
    }

    private static LocalDateTime valid(org.apache.flink.types.Row row) {
        return row.getField(0) == null ? (LocalDateTime) row.getField(12) : null;
    }
}
