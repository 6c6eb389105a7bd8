"""Labelled fraud scenarios, applied to (or injected into) the genuine transactions.

Order matters and is fixed: compromised terminals, compromised cards, high amounts (these
relabel genuine rows, the first cause wins), then card testing and impossible travel (these
add rows). Each row ends with exactly one scenario; every scenario but ``legit`` is fraud.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from sample_data.batch import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    TransactionBatch,
    round_amount,
)
from sample_data.config import (
    CARD_TESTING,
    COMPROMISED_CARD,
    COMPROMISED_TERMINAL,
    HIGH_AMOUNT,
    IMPOSSIBLE_TRAVEL,
    LEGIT,
    SimulationConfig,
    scenario_code,
)
from sample_data.geography import FloatArray, IntArray, haversine_km
from sample_data.world import BoolArray, Customers, Terminals

IMPOSSIBLE_TRAVEL_MIN_DELAY_MS = MS_PER_MINUTE
IMPOSSIBLE_TRAVEL_MAX_DELAY_MS = 45 * MS_PER_MINUTE
#: Far terminals are chosen this much beyond the minimum distance, so rounding never matters.
IMPOSSIBLE_TRAVEL_DISTANCE_MARGIN = 1.1
MAX_DISTANCE_CELLS = 4_000_000


@dataclass(frozen=True)
class Compromises:
    """Who (terminal or card index) was compromised, from when, and for how long."""

    victim: IntArray
    start_ms: IntArray
    duration_ms: int


def daily_compromises(
    rng: np.random.Generator,
    population: int,
    rate: float,
    duration_days: int,
    config: SimulationConfig,
) -> Compromises:
    """Each day a Poisson number (mean ``rate * population``) of distinct victims, from midnight."""
    victims: list[IntArray] = []
    starts: list[IntArray] = []
    for day in range(config.days):
        count = min(int(rng.poisson(rate * population)), population)
        victims.append(rng.choice(population, size=count, replace=False).astype(np.int64))
        starts.append(np.full(count, config.start_ms + day * MS_PER_DAY, dtype=np.int64))
    return Compromises(
        victim=np.concatenate(victims),
        start_ms=np.concatenate(starts),
        duration_ms=duration_days * MS_PER_DAY,
    )


def find_compromise(
    who: IntArray, time_ms: IntArray, compromises: Compromises
) -> tuple[BoolArray, IntArray]:
    """Per row: is ``who`` compromised at ``time_ms``, and by which compromise (the latest)."""
    if len(compromises.victim) == 0 or len(who) == 0:
        return np.zeros(len(who), dtype=np.bool_), np.zeros(len(who), dtype=np.int64)
    origin = min(int(time_ms.min()), int(compromises.start_ms.min()))
    span = max(int(time_ms.max()), int(compromises.start_ms.max())) - origin + 1
    order = np.lexsort((compromises.start_ms, compromises.victim))
    compromise_keys = compromises.victim[order] * span + (compromises.start_ms[order] - origin)
    row_keys = who * span + (time_ms - origin)
    latest = np.searchsorted(compromise_keys, row_keys, side="right") - 1
    found = order[np.maximum(latest, 0)]
    inside = (
        (latest >= 0)
        & (compromises.victim[found] == who)
        & (time_ms < compromises.start_ms[found] + compromises.duration_ms)
    )
    return inside, found


def compromise_terminals(
    rng: np.random.Generator,
    batch: TransactionBatch,
    terminals: Terminals,
    config: SimulationConfig,
) -> TransactionBatch:
    """(b) Every transaction at a compromised terminal during its window is fraud."""
    compromises = daily_compromises(
        rng,
        terminals.count,
        config.compromised_terminal_rate,
        config.compromised_terminal_days,
        config,
    )
    inside, _ = find_compromise(batch.terminal, batch.time_ms, compromises)
    return batch.with_scenario(inside & _is_legit(batch), scenario_code(COMPROMISED_TERMINAL))


def compromise_cards(
    rng: np.random.Generator,
    batch: TransactionBatch,
    customers: Customers,
    config: SimulationConfig,
) -> TransactionBatch:
    """(c) A third of a compromised card's genuine transactions in its window become fraud,
    with the amount multiplied by ``compromised_card_amount_factor``."""
    compromises = daily_compromises(
        rng, customers.count, config.compromised_card_rate, config.compromised_card_days, config
    )
    inside, compromise = find_compromise(batch.card, batch.time_ms, compromises)
    candidates = np.flatnonzero(inside & _is_legit(batch))
    stolen = _a_third_of_each_group(rng, candidates, compromise[candidates])
    amount = batch.amount.copy()
    amount[stolen] = round_amount(amount[stolen] * config.compromised_card_amount_factor)
    rows = np.zeros(len(batch), dtype=np.bool_)
    rows[stolen] = True
    return replace(batch, amount=amount).with_scenario(rows, scenario_code(COMPROMISED_CARD))


def _a_third_of_each_group(rng: np.random.Generator, rows: IntArray, group: IntArray) -> IntArray:
    """A random ``round(n / 3)`` of the rows of each group."""
    order = np.lexsort((rng.random(len(rows)), group))
    rows, group = rows[order], group[order]
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(rows) else np.array([0])
    sizes = np.diff(np.r_[first, len(rows)])
    rank = np.arange(len(rows)) - np.repeat(first, sizes)
    return np.asarray(rows[rank < np.repeat((sizes + 1) // 3, sizes)], dtype=np.int64)


def flag_high_amounts(batch: TransactionBatch, config: SimulationConfig) -> TransactionBatch:
    """(a) Genuine transactions above the fixed high-amount threshold are fraud."""
    high = _is_legit(batch) & (batch.amount > config.high_amount_threshold)
    return batch.with_scenario(high, scenario_code(HIGH_AMOUNT))


def card_testing_bursts(
    rng: np.random.Generator, customers: Customers, terminals: Terminals, config: SimulationConfig
) -> TransactionBatch:
    """(d) Bursts of small amounts on a stolen card at several different (online) terminals
    within a few minutes."""
    online = np.flatnonzero(terminals.is_ecom)
    candidates = online if len(online) >= 2 else np.arange(terminals.count)
    window_ms = int(config.card_testing_window_minutes * MS_PER_MINUTE)
    cards: list[IntArray] = []
    terminal_ids: list[IntArray] = []
    times: list[IntArray] = []
    burst = daily_compromises(rng, customers.count, config.card_testing_rate, 1, config)
    for card, day_start in zip(burst.victim.tolist(), burst.start_ms.tolist(), strict=True):
        attempts = min(
            int(
                rng.integers(config.card_testing_min_attempts, config.card_testing_max_attempts + 1)
            ),
            len(candidates),
        )
        if attempts < 2:
            continue
        first_ms = day_start + int(rng.integers(0, MS_PER_DAY - window_ms))
        offsets = np.sort(rng.integers(0, window_ms, attempts))
        cards.append(np.full(attempts, card, dtype=np.int64))
        terminal_ids.append(rng.choice(candidates, size=attempts, replace=False).astype(np.int64))
        times.append(first_ms + offsets - offsets[0])
    if not cards:
        return TransactionBatch.of([], [], [], [], scenario_code(CARD_TESTING))
    n = sum(len(c) for c in cards)
    amount = round_amount(
        rng.uniform(config.card_testing_min_amount, config.card_testing_max_amount, n)
    )
    return TransactionBatch.of(
        np.concatenate(cards),
        np.concatenate(terminal_ids),
        np.concatenate(times),
        amount,
        scenario_code(CARD_TESTING),
    )


def impossible_travel(
    rng: np.random.Generator,
    batch: TransactionBatch,
    customers: Customers,
    terminals: Terminals,
    config: SimulationConfig,
) -> TransactionBatch:
    """(e) Shortly after a genuine card-present transaction, the same card is used at a
    card-present terminal more than ``impossible_travel_min_km`` away, sooner than a trip at
    ``impossible_travel_max_speed_kmh`` would allow. Returns the injected rows."""
    far_candidates = np.flatnonzero(~terminals.is_ecom)
    gap_to_next = _gap_to_next_use_of_card(batch)
    eligible = np.flatnonzero(
        _is_legit(batch)
        & ~terminals.is_ecom[batch.terminal]
        & (gap_to_next >= 4 * IMPOSSIBLE_TRAVEL_MIN_DELAY_MS)
    )
    wanted = int(rng.poisson(config.impossible_travel_rate * customers.count * config.days))
    anchors = rng.choice(eligible, size=min(wanted, len(eligible)), replace=False).astype(np.int64)
    far_terminal, distance_km = _far_terminals(
        rng, terminals, batch.terminal[anchors], far_candidates, config
    )
    found = far_terminal >= 0
    anchors, far_terminal, distance_km = anchors[found], far_terminal[found], distance_km[found]

    fastest_legal_ms = distance_km / config.impossible_travel_max_speed_kmh * MS_PER_HOUR
    latest_ms = np.minimum.reduce(
        [
            np.full(len(anchors), float(IMPOSSIBLE_TRAVEL_MAX_DELAY_MS)),
            gap_to_next[anchors] / 2,
            0.9 * fastest_legal_ms,
        ]
    )
    delay_ms = IMPOSSIBLE_TRAVEL_MIN_DELAY_MS + rng.random(len(anchors)) * (
        latest_ms - IMPOSSIBLE_TRAVEL_MIN_DELAY_MS
    )
    card = batch.card[anchors]
    mu, sigma = customers.amount_log_params()
    amount = round_amount(rng.lognormal(mu[card], sigma[card]) * rng.uniform(1.0, 3.0, len(card)))
    return TransactionBatch.of(
        card,
        far_terminal,
        batch.time_ms[anchors] + delay_ms.astype(np.int64),
        amount,
        scenario_code(IMPOSSIBLE_TRAVEL),
    )


def _gap_to_next_use_of_card(batch: TransactionBatch) -> FloatArray:
    """Milliseconds until the same card's next transaction (infinite for its last one)."""
    order = np.lexsort((batch.time_ms, batch.card))
    card, time_ms = batch.card[order], batch.time_ms[order]
    gap_sorted = np.full(len(batch), np.inf)
    same_card = card[1:] == card[:-1]
    gap_sorted[:-1] = np.where(same_card, time_ms[1:] - time_ms[:-1], np.inf)
    gap = np.empty(len(batch))
    gap[order] = gap_sorted
    return gap


def _far_terminals(
    rng: np.random.Generator,
    terminals: Terminals,
    near: IntArray,
    candidates: IntArray,
    config: SimulationConfig,
) -> tuple[IntArray, FloatArray]:
    """For each terminal in ``near``, a random candidate far enough away (-1 if none)."""
    far = np.full(len(near), -1, dtype=np.int64)
    distance = np.zeros(len(near))
    if len(candidates) == 0:
        return far, distance
    min_km = config.impossible_travel_min_km * IMPOSSIBLE_TRAVEL_DISTANCE_MARGIN
    rows = max(1, MAX_DISTANCE_CELLS // len(candidates))
    for i in range(0, len(near), rows):
        chunk = near[i : i + rows]
        km = haversine_km(
            terminals.lat[chunk, None],
            terminals.lon[chunk, None],
            terminals.lat[None, candidates],
            terminals.lon[None, candidates],
        )
        preference = np.where(km > min_km, rng.random(km.shape), -1.0)
        best = np.argmax(preference, axis=1)
        ok = np.take_along_axis(preference, best[:, None], axis=1)[:, 0] >= 0
        far[i : i + rows] = np.where(ok, candidates[best], -1)
        distance[i : i + rows] = np.take_along_axis(km, best[:, None], axis=1)[:, 0]
    return far, distance


def _is_legit(batch: TransactionBatch) -> npt.NDArray[np.bool_]:
    return np.asarray(batch.scenario == scenario_code(LEGIT), dtype=np.bool_)
