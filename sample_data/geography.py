"""A plausible map: euro-area cities, great-circle distances, and placing points near cities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = 111.2
#: The simulated issuer is French: its cardholders and merchants are denser in France.
HOME_COUNTRY = "FR"
HOME_COUNTRY_WEIGHT = 3.0


@dataclass(frozen=True)
class City:
    """A population centre that customers and terminals cluster around."""

    name: str
    country: str
    lat: float
    lon: float
    population_m: float

    @property
    def spread_km(self) -> float:
        """Standard deviation of the distance of a point from the centre: bigger for big cities."""
        return 5.0 + 4.0 * float(np.sqrt(self.population_m))


#: Euro-area cities (so EUR is the natural currency), metro populations in millions (rounded).
CITIES: tuple[City, ...] = (
    City("Paris", "FR", 48.8566, 2.3522, 12.3),
    City("Lyon", "FR", 45.7640, 4.8357, 2.3),
    City("Marseille", "FR", 43.2965, 5.3698, 1.9),
    City("Lille", "FR", 50.6292, 3.0573, 1.5),
    City("Toulouse", "FR", 43.6047, 1.4442, 1.4),
    City("Bordeaux", "FR", 44.8378, -0.5792, 1.3),
    City("Nice", "FR", 43.7102, 7.2620, 1.0),
    City("Nantes", "FR", 47.2184, -1.5536, 1.0),
    City("Strasbourg", "FR", 48.5734, 7.7521, 0.8),
    City("Rennes", "FR", 48.1173, -1.6778, 0.75),
    City("Madrid", "ES", 40.4168, -3.7038, 6.7),
    City("Barcelona", "ES", 41.3874, 2.1686, 5.6),
    City("Valencia", "ES", 39.4699, -0.3763, 1.6),
    City("Seville", "ES", 37.3891, -5.9845, 1.5),
    City("Lisbon", "PT", 38.7223, -9.1393, 2.9),
    City("Porto", "PT", 41.1579, -8.6291, 1.7),
    City("Rome", "IT", 41.9028, 12.4964, 4.3),
    City("Milan", "IT", 45.4642, 9.1900, 4.3),
    City("Naples", "IT", 40.8518, 14.2681, 3.1),
    City("Turin", "IT", 45.0703, 7.6869, 1.7),
    City("Berlin", "DE", 52.5200, 13.4050, 4.5),
    City("Hamburg", "DE", 53.5511, 9.9937, 3.2),
    City("Munich", "DE", 48.1351, 11.5820, 2.9),
    City("Frankfurt", "DE", 50.1109, 8.6821, 2.3),
    City("Cologne", "DE", 50.9375, 6.9603, 2.1),
    City("Amsterdam", "NL", 52.3676, 4.9041, 2.5),
    City("Rotterdam", "NL", 51.9244, 4.4777, 1.8),
    City("Brussels", "BE", 50.8503, 4.3517, 2.1),
    City("Antwerp", "BE", 51.2194, 4.4025, 1.1),
    City("Vienna", "AT", 48.2082, 16.3738, 2.9),
    City("Dublin", "IE", 53.3498, -6.2603, 2.0),
)


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    )
    return np.asarray(
        2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64
    )


def city_weights(cities: tuple[City, ...] = CITIES) -> FloatArray:
    """Probability of each city for a new customer or terminal: population, home country boosted."""
    weights = np.array(
        [
            c.population_m * (HOME_COUNTRY_WEIGHT if c.country == HOME_COUNTRY else 1.0)
            for c in cities
        ]
    )
    return np.asarray(weights / weights.sum(), dtype=np.float64)


@dataclass(frozen=True)
class Placement:
    """Points scattered around cities: position and the index of the city they belong to."""

    lat: FloatArray
    lon: FloatArray
    city: IntArray


def place_near_cities(
    rng: np.random.Generator, count: int, cities: tuple[City, ...] = CITIES
) -> Placement:
    """Scatter ``count`` points around cities chosen by weight (Gaussian, city-sized spread)."""
    city = rng.choice(len(cities), size=count, p=city_weights(cities)).astype(np.int64)
    centre_lat = np.array([c.lat for c in cities])[city]
    centre_lon = np.array([c.lon for c in cities])[city]
    spread = np.array([c.spread_km for c in cities])[city]
    north_km, east_km = rng.normal(0.0, 1.0, size=(2, count)) * spread
    lat = centre_lat + north_km / KM_PER_DEGREE_LAT
    lon = centre_lon + east_km / (KM_PER_DEGREE_LAT * np.cos(np.radians(centre_lat)))
    return Placement(lat=np.round(lat, 6), lon=np.round(lon, 6), city=city)


def countries_of(city: IntArray, cities: tuple[City, ...] = CITIES) -> npt.NDArray[np.object_]:
    """ISO 3166 alpha-2 country of each point's city."""
    return np.array([c.country for c in cities], dtype=object)[city]
