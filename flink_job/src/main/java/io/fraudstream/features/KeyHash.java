package io.fraudstream.features;

import org.apache.flink.table.functions.ScalarFunction;

/**
 * A 64-bit hash of a card or terminal id. The feature aggregates keep these hashes instead
 * of the ids (8 bytes per event, no strings in state); SQL calls this function to compare a
 * row's id with them ({@code key_hash(terminal_id)}). Two different ids share a hash with
 * probability about 2^-64 per pair, which we accept as exact.
 */
public final class KeyHash extends ScalarFunction {

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    /** FNV-1a over the UTF-16 code units, then the SplitMix64 finaliser to spread the bits. */
    public static long of(String id) {
        long h = FNV_OFFSET;
        for (int i = 0; i < id.length(); i++) {
            h = (h ^ id.charAt(i)) * FNV_PRIME;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** How many different hashes {@code hashes} holds (sorts it in place). */
    public static long distinct(long[] hashes) {
        java.util.Arrays.sort(hashes);
        long distinct = 0;
        for (int i = 0; i < hashes.length; i++) {
            if (i == 0 || hashes[i] != hashes[i - 1]) {
                distinct++;
            }
        }
        return distinct;
    }

    public Long eval(String id) {
        return id == null ? null : of(id);
    }
}
