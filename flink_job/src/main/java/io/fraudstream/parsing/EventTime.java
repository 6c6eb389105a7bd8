package io.fraudstream.parsing;

import java.io.IOException;
import java.time.LocalDateTime;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * A Transaction v1 record's event_time as TIMESTAMP(3), or NULL when the record has none
 * that is valid: the sources' rowtime ({@code transaction_event_time(payload)}), read with
 * a streaming scan of the top-level fields, without building the record.
 */
public final class EventTime extends ScalarFunction {

    private static final long serialVersionUID = 1L;
    private static final JsonFactory JSON = new JsonFactory();

    public @DataTypeHint("TIMESTAMP(3)") LocalDateTime eval(String payload) {
        if (payload == null) {
            return null;
        }
        String text = null;
        try (JsonParser parser = JSON.createParser(payload)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.getCurrentName();
                JsonToken value = parser.nextToken();
                if ("event_time".equals(name)) {
                    text = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException e) {
            return null;
        }
        return UtcTime.parse(text);  // a duplicated key counts with its last value
    }
}
