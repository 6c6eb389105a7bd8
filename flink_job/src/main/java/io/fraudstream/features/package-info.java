/**
 * The feature aggregates' shared parts: the accumulators {@link CardState} and
 * {@link TerminalState} (their names are in every savepoint: they stay here), the key hash
 * the state and SQL compare ids by ({@link KeyHash}), the layout an aggregate is built with
 * ({@link LayoutSpec}) and the job's out-of-order bound ({@link OutOfOrderBound}).
 *
 * <p>{@code card}: the card aggregate, its head and hours. {@code terminal}: the terminal
 * aggregate, its head, hours and label verdicts. {@code state}: the stored-format version
 * and byte packing every stored value uses. Each head changes only through its own methods;
 * the windows classes read it and call them.
 */
package io.fraudstream.features;
