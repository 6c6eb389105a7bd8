"""Genuine spending: each customer's transactions from their profile, at terminals near home."""

from __future__ import annotations

import numpy as np

from sample_data.batch import MS_PER_DAY, MS_PER_HOUR, TransactionBatch, round_amount
from sample_data.config import LEGIT, scenario_code
from sample_data.world import Customers


def legit_transactions(
    rng: np.random.Generator, customers: Customers, days: int, start_ms: int
) -> TransactionBatch:
    """Poisson transactions per customer and day, uniform within the customer's active hours."""
    per_customer_day = rng.poisson(
        np.repeat(customers.transactions_per_day, days).reshape(customers.count, days)
    ).ravel()
    card = np.repeat(np.repeat(np.arange(customers.count), days), per_customer_day)
    day = np.repeat(np.tile(np.arange(days), customers.count), per_customer_day)
    n = len(card)

    active_from = customers.active_from_hour[card]
    active_hours = customers.active_until_hour[card] - active_from
    hour_of_day = active_from + rng.random(n) * active_hours
    time_ms = start_ms + day * MS_PER_DAY + (hour_of_day * MS_PER_HOUR).astype(np.int64)

    pool = customers.terminal_pool
    terminal = pool[card, rng.integers(0, pool.shape[1], n)]
    mu, sigma = customers.amount_log_params()
    amount = round_amount(rng.lognormal(mu[card], sigma[card]))
    return TransactionBatch.of(card, terminal, time_ms, amount, scenario_code(LEGIT))
