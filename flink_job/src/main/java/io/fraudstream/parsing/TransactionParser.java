package io.fraudstream.parsing;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.regex.Pattern;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonProcessingException;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

/**
 * Transaction v1 parsed and validated in one pass over the JSON: exactly one row per
 * record, with the typed fields of a valid transaction or, for a malformed one, the reason.
 *
 * <p>Used as {@code LATERAL TABLE(parse_transaction(payload, ingested_at, max_future_ms,
 * max_age_ms, max_amount))}, so the record is read once whatever the number of fields the
 * query uses; the source's rowtime ({@link EventTime}) reads the same parse, cached per
 * thread, so a record's event time counts only when the whole record is valid. The rules,
 * and their order (the first failing rule names the reason), are the contract's;
 * flink_job/parsing.py documents them and tests/test_validation.py pins every reason.
 * Unknown fields are ignored. No input makes this throw.
 */
@FunctionHint(output = @DataTypeHint(TransactionParser.OUTPUT))
public final class TransactionParser extends TableFunction<Row> {

    private static final long serialVersionUID = 1L;

    static final String OUTPUT =
            "ROW<reject_reason STRING, transaction_id STRING, card_id STRING, "
                    + "terminal_id STRING, amount DOUBLE, currency STRING, "
                    + "merchant_category STRING, country STRING, lat DOUBLE, lon DOUBLE, "
                    + "channel STRING, device_id STRING, event_time TIMESTAMP(3)>";

    /**
     * Transaction v1 in the contract's order (contracts/transaction.py); tests/test_contracts.py
     * holds NAMES, NUMBER, REQUIRED and OUTPUT to that table.
     */
    static final String[] NAMES = {
        "transaction_id", "event_time", "card_id", "terminal_id", "amount", "currency",
        "merchant_category", "country", "lat", "lon", "channel", "device_id"
    };

    static final boolean[] NUMBER = {
        false, false, false, false, true, false, false, false, true, true, false, false
    };
    static final int REQUIRED = 6; // the first six fields

    /** A Transaction v1 record is a few hundred bytes; anything this large is refused unread. */
    public static final int MAX_RECORD_BYTES = 16 * 1024;

    private static final Pattern CURRENCY = Pattern.compile("^[A-Z]{3}$");

    private static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** The last record parsed on this thread: the rowtime and this function share it. */
    private static final ThreadLocal<Object[]> LAST = new ThreadLocal<>();
    /** Transactions this thread saw lately, to recognise producer retries. */
    private static final ThreadLocal<RecentTransactions> RECENT =
            ThreadLocal.withInitial(RecentTransactions::new);

    public void eval(byte[] payload, Instant arrival, Long maxFutureMs, Long maxAgeMs, Double maxAmount) {
        collect(parse(payload, arrival, maxFutureMs, maxAgeMs, maxAmount));
    }

    public void eval(String payload, Instant arrival, Long maxFutureMs, Long maxAgeMs, Double maxAmount) {
        collect(parse(payload, arrival, maxFutureMs, maxAgeMs, maxAmount));
    }

    /** The parse of one record (bytes or text), cached for the next call with the same input. */
    static Row parse(Object payload, Instant arrival, Long maxFutureMs, Long maxAgeMs, Double maxAmount) {
        Object[] last = LAST.get();
        Object[] key = {payload, arrival, maxFutureMs, maxAgeMs, maxAmount};
        if (last != null && sameInput(last, key)) {
            return (Row) last[key.length];
        }
        Row row;
        try {
            row = parseOnce(payload, new Limits(arrival, maxFutureMs, maxAgeMs, maxAmount));
        } catch (RuntimeException | StackOverflowError e) { // no record may stop the job
            row = rejected("record could not be read: " + e.getClass().getSimpleName());
        }
        Object[] entry = Arrays.copyOf(key, key.length + 1);
        entry[key.length] = row;
        LAST.set(entry);
        return row;
    }

    private static boolean sameInput(Object[] last, Object[] key) {
        for (int i = 0; i < key.length; i++) {
            Object a = last[i];
            Object b = key[i];
            if (a == b) {
                continue;
            }
            if (a instanceof byte[] && b instanceof byte[]) {
                if (!Arrays.equals((byte[]) a, (byte[]) b)) {
                    return false;
                }
            } else if (a == null || !a.equals(b)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The parse of one record with primitive limits (for callers outside Flink: the fuzz and
     * contract tests, through the JVM gateway). A limit below 0 is not checked.
     */
    public static Row check(byte[] payload, long arrivalMs, long maxFutureMs, long maxAgeMs, double maxAmount) {
        return parse(
                payload,
                arrivalMs < 0 ? null : Instant.ofEpochMilli(arrivalMs),
                maxFutureMs < 0 ? null : maxFutureMs,
                maxAgeMs < 0 ? null : maxAgeMs,
                maxAmount < 0 ? null : maxAmount);
    }

    /** What the record's time may be, relative to its arrival; null limits are not checked. */
    static final class Limits {
        final Long arrivalMs;
        final Long maxFutureMs;
        final Long maxAgeMs;
        final Double maxAmount;

        Limits(Instant arrival, Long maxFutureMs, Long maxAgeMs, Double maxAmount) {
            this.arrivalMs = arrival == null ? null : arrival.toEpochMilli();
            this.maxFutureMs = maxFutureMs;
            this.maxAgeMs = maxAgeMs;
            this.maxAmount = maxAmount;
        }
    }

    static Row parseOnce(Object payload, Limits limits) {
        if (payload == null) {
            return rejected("record is empty");
        }
        String text;
        if (payload instanceof byte[]) {
            byte[] bytes = (byte[]) payload;
            if (bytes.length > MAX_RECORD_BYTES) {
                return rejected("record is larger than " + MAX_RECORD_BYTES + " bytes");
            }
            text = strictUtf8(bytes);
            if (text == null) {
                return rejected("record is not valid UTF-8");
            }
        } else {
            text = (String) payload;
            if (text.length() > MAX_RECORD_BYTES) {
                return rejected("record is larger than " + MAX_RECORD_BYTES + " bytes");
            }
        }
        return parseText(text, limits);
    }

    static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static Row parseText(String payload, Limits limits) {
        JsonNode record;
        try {
            JsonNode node = JSON.readTree(payload);
            record = node != null && node.isObject() ? node : null;
        } catch (JsonProcessingException e) {
            String message = String.valueOf(e.getOriginalMessage());
            return rejected(
                    message.startsWith("Duplicate field")
                            ? "record has a duplicate field"
                            : "record is not a JSON object");
        }
        if (record == null) {
            return rejected("record is not a JSON object");
        }
        JsonNode[] values = new JsonNode[NAMES.length];
        for (int i = 0; i < NAMES.length; i++) {
            JsonNode value = record.get(NAMES[i]);
            values[i] = value == null || value.isNull() ? null : value;
        }
        String reason = missingOrMistyped(values);
        if (reason != null) {
            return rejected(reason);
        }
        String time = values[1].asText();
        LocalDateTime eventTime = UtcTime.parse(time); // once per record: the rule and the value
        if (eventTime == null) {
            return rejected(
                    UtcTime.hasShape(time)
                            ? "event_time is not a valid date and time"
                            : "event_time must be RFC 3339 in UTC, e.g. 2026-11-01T12:00:00.000Z");
        }
        reason = outOfTime(eventTime, limits);
        if (reason == null) {
            reason = outOfRange(values, limits);
        }
        if (reason == null && limits.arrivalMs != null) {
            reason = retried(values, limits.arrivalMs);
        }
        if (reason != null) {
            return rejected(reason);
        }
        return Row.of(
                null,
                values[0].asText(),
                values[2].asText(),
                values[3].asText(),
                values[4].asDouble(),
                values[5].asText(),
                text(values[6]),
                text(values[7]),
                number(values[8]),
                number(values[9]),
                text(values[10]),
                text(values[11]),
                eventTime);
    }

    /** Rules 2 and 3 of flink_job/parsing.py: required fields, JSON types. */
    private static String missingOrMistyped(JsonNode[] values) {
        for (int i = 0; i < REQUIRED; i++) {
            if (values[i] == null || !values[i].isValueNode() || values[i].asText().trim().isEmpty()) {
                return "missing required field " + NAMES[i];
            }
        }
        for (int i = 0; i < NAMES.length; i++) {
            JsonNode value = values[i];
            if (value == null) {
                continue;
            }
            if (NUMBER[i] && !value.isNumber()) {
                return NAMES[i] + " must be a number";
            }
            if (!NUMBER[i] && !value.isTextual()) {
                return NAMES[i] + " must be a string";
            }
        }
        return null;
    }

    /** Rule 5: an event time no later than arrival + the skew, no older than the age limit. */
    static String outOfTime(LocalDateTime eventTime, Limits limits) {
        if (limits.arrivalMs == null) {
            return null; // a file (training, batch): no arrival to compare with
        }
        long time = eventTime.toInstant(ZoneOffset.UTC).toEpochMilli();
        if (limits.maxFutureMs != null && time > limits.arrivalMs + limits.maxFutureMs) {
            return "event_time is more than " + limits.maxFutureMs
                    + " ms after the record's arrival (transactions.max_future_ms)";
        }
        if (limits.maxAgeMs != null && time < limits.arrivalMs - limits.maxAgeMs) {
            return "event_time is more than " + limits.maxAgeMs
                    + " ms before the record's arrival (transactions.max_age_ms)";
        }
        return null;
    }

    /** Rule 6 of flink_job/parsing.py: amount, currency, card numbers, position. */
    private static String outOfRange(JsonNode[] values, Limits limits) {
        double amount = values[4].asDouble();
        if (!Double.isFinite(amount)) {
            return "amount must be a finite number";
        }
        if (amount < 0) {
            return "amount must be >= 0";
        }
        if (limits.maxAmount != null && amount > limits.maxAmount) {
            return "amount must not exceed " + limits.maxAmount + " (transactions.max_amount)";
        }
        if (!CURRENCY.matcher(values[5].asText()).find()) {
            return "currency must be a 3-letter ISO 4217 code";
        }
        for (int i = 0; i < NAMES.length; i++) {
            if (!NUMBER[i] && values[i] != null && CardNumbers.contains(values[i].asText())) {
                return NAMES[i] + " contains a card number; send a token instead";
            }
        }
        Double lat = number(values[8]);
        Double lon = number(values[9]);
        if ((lat != null && !(Math.abs(lat) <= 90)) || (lon != null && !(Math.abs(lon) <= 180))) {
            return "lat/lon out of range";
        }
        return null;
    }

    /**
     * Rule 7: a transaction that arrived before (same card, terminal and transaction_id, at
     * another time, within the last 10 minutes) is a producer's retry: it would count twice in
     * every feature and could alert twice. Only records with an arrival time (Kinesis) are
     * checked; a file is taken as it is.
     */
    private static String retried(JsonNode[] values, long arrivalMs) {
        boolean retry =
                RECENT.get()
                        .isRetry(values[2].asText(), values[3].asText(), values[0].asText(), arrivalMs);
        return retry ? "duplicate transaction_id: the same transaction arrived earlier" : null;
    }

    static Row rejected(String reason) {
        Row row = new Row(13);
        row.setField(0, reason);
        return row;
    }

    private static String text(JsonNode value) {
        return value == null ? null : value.asText();
    }

    private static Double number(JsonNode value) {
        return value == null ? null : value.asDouble();
    }
}
