package io.fraudstream.features;

/**
 * One terminal's transactions (event time, card hash) for the label delay plus 30 days,
 * and its usable fraud labels (at their transaction's event time + the delay) for 30 days,
 * each sorted by time whatever order they arrived in.
 */
public final class TerminalHistory {

    long delayMs;
    /** The event time of the row whose features are emitted next. */
    long rowTime;
    /** The latest transaction time accumulated (labels never move it); MIN_VALUE before. */
    long maxTime = Long.MIN_VALUE;
    final KeyedTimes transactions;
    final KeyedTimes frauds;

    public TerminalHistory() {
        this(new KeyedTimes(), new KeyedTimes());
    }

    TerminalHistory(KeyedTimes transactions, KeyedTimes frauds) {
        this.transactions = transactions;
        this.frauds = frauds;
    }

    TerminalHistory copy() {
        TerminalHistory c = new TerminalHistory(transactions.copy(), frauds.copy());
        c.delayMs = delayMs;
        c.rowTime = rowTime;
        c.maxTime = maxTime;
        return c;
    }
}
