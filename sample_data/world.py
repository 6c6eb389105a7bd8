"""The simulated world: terminals (merchants) and customers (one card each) with profiles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sample_data.config import SimulationConfig
from sample_data.geography import (
    FloatArray,
    IntArray,
    countries_of,
    haversine_km,
    place_near_cities,
)

ObjectArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]

#: Merchant category codes (ISO 18245) of card-present terminals, with their frequency.
POS_MERCHANT_CATEGORIES: dict[str, float] = {
    "5411": 0.25,  # grocery stores, supermarkets
    "5812": 0.15,  # restaurants
    "5814": 0.10,  # fast food
    "5541": 0.10,  # service stations
    "5912": 0.07,  # pharmacies
    "5691": 0.07,  # clothing stores
    "5999": 0.07,  # miscellaneous retail
    "5311": 0.06,  # department stores
    "4111": 0.06,  # commuter transport
    "5732": 0.04,  # electronics stores
    "7011": 0.03,  # hotels
}
#: Merchant category codes of e-commerce terminals, with their frequency.
ECOM_MERCHANT_CATEGORIES: dict[str, float] = {
    "5999": 0.30,  # miscellaneous retail
    "5815": 0.20,  # digital goods
    "5732": 0.15,  # electronics
    "5691": 0.15,  # clothing
    "4722": 0.10,  # travel agencies
    "5942": 0.10,  # book stores
}
MAX_DISTANCE_CELLS = 4_000_000  # customer x terminal distances computed at once


@dataclass(frozen=True)
class Terminals:
    """Merchant terminals: where they are and what they sell."""

    lat: FloatArray
    lon: FloatArray
    country: ObjectArray
    merchant_category: ObjectArray
    is_ecom: BoolArray

    @property
    def count(self) -> int:
        return len(self.lat)


@dataclass(frozen=True)
class Customers:
    """Cardholders (one card each): home, spending profile and the terminals they use."""

    lat: FloatArray
    lon: FloatArray
    mean_amount: FloatArray
    std_amount: FloatArray
    transactions_per_day: FloatArray
    active_from_hour: FloatArray
    active_until_hour: FloatArray
    #: (customers, k) indices of the terminals near home that the customer shops at.
    terminal_pool: IntArray

    @property
    def count(self) -> int:
        return len(self.lat)

    def amount_log_params(self) -> tuple[FloatArray, FloatArray]:
        """(mu, sigma) of the log-normal with each customer's mean and std amount."""
        sigma2 = np.log1p((self.std_amount / self.mean_amount) ** 2)
        return np.log(self.mean_amount) - sigma2 / 2, np.sqrt(sigma2)


def build_terminals(rng: np.random.Generator, config: SimulationConfig) -> Terminals:
    """Place terminals around cities and give each a channel and merchant category."""
    placement = place_near_cities(rng, config.terminals)
    is_ecom = rng.random(config.terminals) < config.ecom_terminal_share
    pos_mcc = _draw_categories(rng, POS_MERCHANT_CATEGORIES, config.terminals)
    ecom_mcc = _draw_categories(rng, ECOM_MERCHANT_CATEGORIES, config.terminals)
    return Terminals(
        lat=placement.lat,
        lon=placement.lon,
        country=countries_of(placement.city),
        merchant_category=np.where(is_ecom, ecom_mcc, pos_mcc),
        is_ecom=is_ecom,
    )


def build_customers(
    rng: np.random.Generator, config: SimulationConfig, terminals: Terminals
) -> Customers:
    """Place customers around cities and draw their spending profiles."""
    n = config.customers
    placement = place_near_cities(rng, n)
    mean_amount = np.clip(rng.lognormal(np.log(35.0), 0.55, n), 3.0, 150.0)
    return Customers(
        lat=placement.lat,
        lon=placement.lon,
        mean_amount=mean_amount,
        std_amount=mean_amount * rng.uniform(0.3, 1.0, n),
        transactions_per_day=rng.uniform(0.3, 2.5, n),
        active_from_hour=rng.uniform(6.0, 11.0, n),
        active_until_hour=rng.uniform(17.0, 23.5, n),
        terminal_pool=nearby_terminals(
            placement.lat,
            placement.lon,
            terminals,
            config.terminals_per_customer,
            config.neighbourhood_km,
        ),
    )


def nearby_terminals(
    lat: FloatArray, lon: FloatArray, terminals: Terminals, k: int, neighbourhood_km: float
) -> IntArray:
    """For each point, the k nearest terminals, keeping only those within ``neighbourhood_km``
    of the nearest one (others are replaced by the nearest, a favourite shop).

    So any two terminals of one customer are at most ``2 * neighbourhood_km`` apart, and the
    customer's genuine spending never looks like impossible travel.
    """
    k = min(k, terminals.count)
    rows = max(1, MAX_DISTANCE_CELLS // terminals.count)
    pools = [
        _nearest_pool(lat[i : i + rows], lon[i : i + rows], terminals, k, neighbourhood_km)
        for i in range(0, len(lat), rows)
    ]
    return np.concatenate(pools).astype(np.int64)


def _nearest_pool(
    lat: FloatArray, lon: FloatArray, terminals: Terminals, k: int, neighbourhood_km: float
) -> IntArray:
    distance = haversine_km(
        lat[:, None], lon[:, None], terminals.lat[None, :], terminals.lon[None, :]
    )
    nearest_k = np.argpartition(distance, k - 1, axis=1)[:, :k]
    nearest_k_distance = np.take_along_axis(distance, nearest_k, axis=1)
    by_distance = np.argsort(nearest_k_distance, axis=1, kind="stable")
    pool = np.take_along_axis(nearest_k, by_distance, axis=1)
    favourite = pool[:, :1]
    from_favourite = haversine_km(
        terminals.lat[favourite], terminals.lon[favourite], terminals.lat[pool], terminals.lon[pool]
    )
    return np.asarray(np.where(from_favourite <= neighbourhood_km, pool, favourite), dtype=np.int64)


def _draw_categories(
    rng: np.random.Generator, frequencies: dict[str, float], n: int
) -> ObjectArray:
    codes = np.array(list(frequencies), dtype=object)
    weights = np.array(list(frequencies.values()))
    return np.asarray(
        codes[rng.choice(len(codes), size=n, p=weights / weights.sum())], dtype=object
    )
