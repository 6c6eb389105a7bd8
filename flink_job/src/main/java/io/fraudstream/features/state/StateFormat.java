package io.fraudstream.features.state;

import java.nio.ByteBuffer;

/**
 * The format version every stored value of the feature state begins with: a card's or a
 * terminal's head (value state) and each map-state value (an hour's entries, a terminal's
 * uses by a card). Modelled on Flink's {@code TypeSerializerSnapshot}: the reader of version
 * N - 1 lives beside the writer of N, and what to do with a stored value is decided by its
 * version when it is read, never guessed from its length.
 *
 * <p>Version 0 is the layout of the builds before versions were written: the same bytes as
 * version 1 without the leading version byte. Each kind's later versions, and how the one
 * before is read, are in the class that writes it (a terminal head is at version 2). Every version-0 value begins with a
 * non-negative number below 2^56 (a time in epoch milliseconds, a delay, or an entry count),
 * so its first byte is always 0, which no versioned value begins with.
 *
 * <p>The compatibility rule (docs/deployment.md): a build that changes a layout writes a new
 * version and keeps the reader of the one before; tests/test_savepoint_compatibility.py
 * restores a savepoint of every earlier build and fails otherwise.
 */
public final class StateFormat {

    /** What a stored value holds, with the newest version this build writes. */
    public enum Kind {
        CARD_HEAD("card head", 1),
        CARD_HOUR("card hour", 1),
        CARD_TERMINAL_USES("card terminal uses", 1),
        TERMINAL_HEAD("terminal head", 2),
        TERMINAL_HOUR("terminal hour", 1);

        final String label;
        final byte current;

        Kind(String label, int current) {
            this.label = label;
            this.current = (byte) current;
        }
    }

    /** Stored entries are grouped by the hour of their time (map-state keys are hours). */
    public static final long HOUR = 3_600_000L;

    private StateFormat() {}

    /** A buffer for a value of {@code kind} whose body is {@code bodyBytes} long, its version
     * byte written. */
    public static ByteBuffer writer(Kind kind, int bodyBytes) {
        return ByteBuffer.allocate(1 + bodyBytes).put(kind.current);
    }

    /** The stored value's version: its first byte, 0 for the layout before versions. */
    public static int versionOf(byte[] stored) {
        return stored[0];
    }

    /**
     * A buffer positioned on the body of {@code stored}, a non-empty value of {@code kind},
     * whose version this build reads (0 up to the current one); any other version stops the
     * read with a message naming it.
     */
    public static ByteBuffer reader(Kind kind, byte[] stored) {
        int version = versionOf(stored);
        if (version < 0 || version > kind.current) {
            throw new IllegalStateException(
                    kind.label + " in format version " + version
                            + ", newer than this build reads (" + kind.current
                            + "): restore it with the build that wrote it or a later one");
        }
        ByteBuffer in = ByteBuffer.wrap(stored);
        if (version > 0) {
            in.get();
        }
        return in;
    }
}
