package io.fraudstream.parsing;

import io.fraudstream.features.KeyHash;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The transactions a parser thread saw lately, to recognise a producer's retry: the same
 * (card, terminal, transaction_id) arriving again. Keyed by all three, so that no record can
 * make another card's transaction a "duplicate". A record judged twice (the rowtime and the
 * parser, or a replay after a restore) has the same arrival time and is not its own
 * duplicate. Bounded: entries older than {@link #HORIZON_MS} of arrival time, or beyond
 * {@link #CAPACITY}, are forgotten. Not checkpointed on purpose: after a restore the state
 * rewinds to the checkpoint and the records after it are read again as if new.
 */
final class RecentTransactions {

    static final long HORIZON_MS = 10 * 60_000L;
    static final int CAPACITY = 100_000;

    private final LinkedHashMap<Long, Long> arrivals = new LinkedHashMap<>();

    /** Whether this transaction already arrived at another time; remembers it if not. */
    boolean isRetry(String cardId, String terminalId, String transactionId, long arrivalMs) {
        long key = KeyHash.of(cardId + '\u0000' + terminalId + '\u0000' + transactionId);
        Long seen = arrivals.get(key);
        if (seen != null) {
            return seen != arrivalMs;
        }
        arrivals.put(key, arrivalMs);
        forgetOld(arrivalMs);
        return false;
    }

    private void forgetOld(long nowMs) {
        Iterator<Map.Entry<Long, Long>> oldest = arrivals.entrySet().iterator();
        while (oldest.hasNext()) {
            Map.Entry<Long, Long> entry = oldest.next();
            if (arrivals.size() <= CAPACITY && entry.getValue() >= nowMs - HORIZON_MS) {
                return;
            }
            oldest.remove();
        }
    }
}
