package io.fraudstream.parsing;

/**
 * The one card-number (PAN) rule, the Java twin of contracts/card_number.py (the contract
 * documents it; tests/test_card_number.py holds both to one corpus).
 *
 * <p>A string contains a card number when it holds a run of 13 to 19 digits passing the Luhn
 * check (a longer run: when any 13 to 19 digit window of it does), any run of separators
 * (spaces, tabs, dots, dashes, commas, slashes, underscores) between two digits ignored.
 * Masking replaces every run of 13 or more digits, Luhn-valid or not.
 */
public final class CardNumbers {

    static final int MIN_DIGITS = 13;
    static final int MAX_DIGITS = 19;
    public static final String MASK = "[PAN REDACTED]";

    private CardNumbers() {}

    static boolean isSeparator(char c) {
        return c == ' ' || c == '\t' || c == '-' || c == '.' || c == ',' || c == '/' || c == '_';
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** End (exclusive) of the digit run starting at {@code start}, a digit. */
    static int runEnd(CharSequence text, int start) {
        int i = start + 1;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (isDigit(c)) {
                i++;
                continue;
            }
            int next = i;
            while (next < text.length() && isSeparator(text.charAt(next))) {
                next++;
            }
            if (next == i || next == text.length() || !isDigit(text.charAt(next))) {
                break;
            }
            i = next + 1;
        }
        return i;
    }

    public static boolean contains(String text) {
        if (text == null) {
            return false;
        }
        int i = 0;
        while (i < text.length()) {
            if (!isDigit(text.charAt(i))) {
                i++;
                continue;
            }
            int end = runEnd(text, i);
            if (runHasCardNumber(digitsOf(text, i, end))) {
                return true;
            }
            i = end;
        }
        return false;
    }

    /**
     * The text with every run of 13 or more digits (separators ignored) replaced by MASK; JSON
     * escapes of digits ({@code \\u0034}) are decoded first, so escaped numbers are masked too.
     */
    public static String mask(String raw) {
        String text = unescapeDigits(raw);
        StringBuilder out = null;
        int copied = 0;
        int i = 0;
        while (i < text.length()) {
            if (!isDigit(text.charAt(i))) {
                i++;
                continue;
            }
            int end = runEnd(text, i);
            if (digitsOf(text, i, end).length() >= MIN_DIGITS) {
                if (out == null) {
                    out = new StringBuilder(text.length());
                }
                out.append(text, copied, i).append(MASK);
                copied = end;
            }
            i = end;
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
    }

    /** {@code \\u0030} to {@code \\u0039} (any case) replaced by the digit they stand for. */
    static String unescapeDigits(String text) {
        if (text.indexOf("\\u") < 0 && text.indexOf("\\U") < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            if (i + 5 < text.length()
                    && text.charAt(i) == '\\'
                    && (text.charAt(i + 1) == 'u' || text.charAt(i + 1) == 'U')
                    && text.charAt(i + 2) == '0'
                    && text.charAt(i + 3) == '0'
                    && text.charAt(i + 4) == '3'
                    && isDigit(text.charAt(i + 5))) {
                out.append(text.charAt(i + 5));
                i += 6;
            } else {
                out.append(text.charAt(i));
                i++;
            }
        }
        return out.toString();
    }

    private static String digitsOf(String text, int start, int end) {
        StringBuilder digits = new StringBuilder(end - start);
        for (int i = start; i < end; i++) {
            if (isDigit(text.charAt(i))) {
                digits.append(text.charAt(i));
            }
        }
        return digits.toString();
    }

    static boolean runHasCardNumber(String digits) {
        int n = digits.length();
        if (n < MIN_DIGITS) {
            return false;
        }
        if (n <= MAX_DIGITS) {
            return luhn(digits, 0, n);
        }
        for (int length = MIN_DIGITS; length <= MAX_DIGITS; length++) {
            for (int start = 0; start + length <= n; start++) {
                if (luhn(digits, start, start + length)) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean luhn(String digits, int start, int end) {
        int total = 0;
        boolean twice = false;
        for (int i = end - 1; i >= start; i--) {
            int value = digits.charAt(i) - '0';
            if (twice) {
                value *= 2;
                if (value > 9) {
                    value -= 9;
                }
            }
            total += value;
            twice = !twice;
        }
        return total % 10 == 0;
    }
}
