package io.fraudstream.parsing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * A malformed record as a dead letter can carry it, whatever its size or bytes:
 * {@code deadletter_payload(payload)} is ROW(payload, payload_encoding, payload_bytes,
 * payload_sha256, payload_truncated). The payload is cut to {@link #MAX_PAYLOAD_BYTES} (so a
 * dead letter always fits Kinesis' 1 MiB record, even with every character JSON-escaped),
 * card numbers masked (the contract's rule); valid UTF-8 stays text, anything else is
 * base64 of the (masked) bytes. Length and sha256 are of the record as received, so the
 * original can be matched without being stored.
 */
@FunctionHint(output = @DataTypeHint(DeadLetterPayload.OUTPUT))
public final class DeadLetterPayload extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    static final String OUTPUT =
            "ROW<payload STRING, payload_encoding STRING, payload_bytes BIGINT, "
                    + "payload_sha256 STRING, payload_truncated BOOLEAN>";

    /** Kept of a record: 64 KiB, 6 bytes per character at most once JSON-escaped < 1 MiB. */
    public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

    public Row eval(byte[] payload) {
        return of(payload == null ? new byte[0] : payload);
    }

    public Row eval(String payload) {
        return of(payload == null ? new byte[0] : payload.getBytes(StandardCharsets.UTF_8));
    }

    public static Row of(byte[] bytes) {
        boolean truncated = bytes.length > MAX_PAYLOAD_BYTES;
        String text = TransactionParser.strictUtf8(bytes);
        String payload;
        String encoding;
        if (text != null) {
            encoding = "utf-8";
            payload = CardNumbers.mask(truncated ? cutText(text) : text);
        } else {
            // Latin-1 maps each byte to one char and back: digits are masked in place.
            byte[] kept = truncated ? java.util.Arrays.copyOf(bytes, MAX_PAYLOAD_BYTES) : bytes;
            String latin = new String(kept, StandardCharsets.ISO_8859_1);
            byte[] masked = CardNumbers.mask(latin).getBytes(StandardCharsets.ISO_8859_1);
            encoding = "base64";
            payload = Base64.getEncoder().encodeToString(masked);
        }
        return Row.of(payload, encoding, (long) bytes.length, sha256(bytes), truncated);
    }

    /** The longest prefix of whole characters whose UTF-8 fits MAX_PAYLOAD_BYTES. */
    private static String cutText(String text) {
        int bytes = 0;
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + size > MAX_PAYLOAD_BYTES) {
                break;
            }
            bytes += size;
            i += Character.charCount(cp);
        }
        return text.substring(0, i);
    }

    static String sha256(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            StringBuilder hex = new StringBuilder(64);
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
