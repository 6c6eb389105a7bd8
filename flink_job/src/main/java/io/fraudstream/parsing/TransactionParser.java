package io.fraudstream.parsing;

import java.time.LocalDateTime;
import java.util.regex.Pattern;
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
 * <p>Used as {@code LATERAL TABLE(parse_transaction(payload))}, so the record is read once
 * whatever the number of fields the query uses. The rules, and their order (the first
 * failing rule names the reason), are the contract's; flink_job/parsing.py documents them
 * and tests/test_validation.py pins every reason. Unknown fields are ignored.
 */
@FunctionHint(output = @DataTypeHint(TransactionParser.OUTPUT))
public final class TransactionParser extends TableFunction<Row> {

    private static final long serialVersionUID = 1L;

    static final String OUTPUT =
            "ROW<reject_reason STRING, transaction_id STRING, card_id STRING, "
                    + "terminal_id STRING, amount DOUBLE, currency STRING, "
                    + "merchant_category STRING, country STRING, lat DOUBLE, lon DOUBLE, "
                    + "channel STRING, device_id STRING, event_time TIMESTAMP(3)>";

    /** Transaction v1 in the contract's order: name, is it a number, is it required. */
    private static final String[] NAMES = {
        "transaction_id", "event_time", "card_id", "terminal_id", "amount", "currency",
        "merchant_category", "country", "lat", "lon", "channel", "device_id"
    };

    private static final boolean[] NUMBER = {
        false, false, false, false, true, false, false, false, true, true, false, false
    };
    private static final int REQUIRED = 6; // the first six fields

    private static final Pattern CURRENCY = Pattern.compile("^[A-Z]{3}$");
    /** 13 to 19 digits, optionally grouped by spaces or dashes (parsing.PAN_PATTERN). */
    private static final Pattern PAN = Pattern.compile("^(?:\\d[ -]?){12,18}\\d$");

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public void eval(String payload) {
        collect(parse(payload));
    }

    static Row parse(String payload) {
        JsonNode record = readObject(payload);
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
        reason = outOfRange(values);
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

    private static JsonNode readObject(String payload) {
        if (payload == null) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(payload);
            return node != null && node.isObject() ? node : null;
        } catch (JsonProcessingException e) {
            return null;
        }
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

    /** Rule 5 of flink_job/parsing.py: amount, currency, card number, position. */
    private static String outOfRange(JsonNode[] values) {
        if (values[4].asDouble() <= 0) {
            return "amount must be a number > 0";
        }
        if (!CURRENCY.matcher(values[5].asText()).find()) {
            return "currency must be a 3-letter ISO 4217 code";
        }
        if (PAN.matcher(values[2].asText()).find()) {
            return "card_id looks like a card number; send a token instead";
        }
        Double lat = number(values[8]);
        Double lon = number(values[9]);
        if ((lat != null && Math.abs(lat) > 90) || (lon != null && Math.abs(lon) > 180)) {
            return "lat/lon out of range";
        }
        return null;
    }

    private static Row rejected(String reason) {
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
