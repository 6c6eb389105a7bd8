package io.fraudstream.features;

/**
 * One terminal's transactions (event time, card hash) for the label delay plus 30 days,
 * and its usable fraud labels (at their transaction's event time + the delay) for 30 days.
 */
public final class TerminalHistory {

    long delayMs;
    long currentTime;
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
        c.currentTime = currentTime;
        return c;
    }
}
