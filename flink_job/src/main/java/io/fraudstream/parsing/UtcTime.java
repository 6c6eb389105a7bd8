package io.fraudstream.parsing;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.util.regex.Pattern;

/** Transaction v1's event_time: RFC 3339 in UTC ({@code Z} or {@code +00:00}). */
final class UtcTime {

    /** The shape; flink_job/parsing.py UTC_TIMESTAMP is the same expression. */
    static final Pattern SHAPE =
            Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|\\+00:00)$");

    private UtcTime() {}

    static boolean hasShape(String text) {
        return SHAPE.matcher(text).matches();
    }

    /**
     * The time, truncated to milliseconds, as a UTC LocalDateTime; null when the text has
     * not the shape or is not a real date and time (month 13, 30 February, hour 24).
     */
    static LocalDateTime parse(String text) {
        if (text == null || !hasShape(text)) {
            return null;
        }
        int millis = 0;
        if (text.charAt(19) == '.') {
            int digits = 0;
            for (int i = 20; i < text.length() && Character.isDigit(text.charAt(i)) && digits < 3; i++) {
                millis = millis * 10 + (text.charAt(i) - '0');
                digits++;
            }
            for (; digits < 3; digits++) {
                millis *= 10;
            }
        }
        try {
            return LocalDateTime.of(
                    digits(text, 0, 4),
                    digits(text, 5, 7),
                    digits(text, 8, 10),
                    digits(text, 11, 13),
                    digits(text, 14, 16),
                    digits(text, 17, 19),
                    millis * 1_000_000);
        } catch (DateTimeException e) {
            return null;
        }
    }

    private static int digits(String text, int from, int to) {
        int value = 0;
        for (int i = from; i < to; i++) {
            value = value * 10 + (text.charAt(i) - '0');
        }
        return value;
    }
}
