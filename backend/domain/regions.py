"""The regions catalogue: where each provider can run a bot, where each exchange matches
orders (with the public source that says so), and the estimated round trip between them.

Plain data plus pure functions (no I/O): adding a region is one line. The estimate is
labelled as one everywhere it is shown: great-circle distance, there and back, at the speed
of light in fibre (about 200 km per millisecond); real routes are longer, so measured
latency (the bots' heartbeats, rolled up in `region_latency`) is the number to trust.
"""

from __future__ import annotations

import math
from typing import TypedDict

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
FIBRE_KM_PER_MS = 200.0  # light in glass: c / 1.5 ≈ 199,862 km/s
ESTIMATE_NOTE = (
    "estimate: great-circle distance there and back at 200 km/ms (light in fibre); real "
    "routes are longer"
)


class Estimate(TypedDict):
    """Great-circle distance and estimated round trip (None when an end has no place)."""

    distance_km: float | None
    rtt_ms_est: float | None


class Region(TypedDict):
    """A place a provider can run a bot. `zone` is the default zone (GCP's zonal resources).
    The catalogue's entries are these dicts as `regions:list` answers them (never mutated)."""

    provider: str
    code: str
    city: str
    country: str
    lat: float | None
    lon: float | None
    zone: str | None


class MatchingEngine(TypedDict):
    """Where an exchange matches orders, and the public source that says so."""

    exchange: str
    location: str
    lat: float | None
    lon: float | None
    source: str


def _gcp(code: str, city: str, country: str, lat: float, lon: float, zone: str = "a") -> Region:
    return {"provider": "gcp", "code": code, "city": city, "country": country, "lat": lat,
            "lon": lon, "zone": f"{code}-{zone}"}


LOCAL: Region = {"provider": "local", "code": "local", "city": "this machine", "country": "",
                 "lat": None, "lon": None, "zone": None}
# Google Cloud regions and the city each is in (cloud.google.com/compute/docs/regions-zones);
# coordinates are the city's. Default zone "-a" unless the region has none.
GCP_REGIONS: tuple[Region, ...] = (
    _gcp("asia-east1", "Changhua County", "Taiwan", 24.07, 120.54),
    _gcp("asia-east2", "Hong Kong", "China", 22.32, 114.17),
    _gcp("asia-northeast1", "Tokyo", "Japan", 35.68, 139.69),
    _gcp("asia-northeast2", "Osaka", "Japan", 34.69, 135.50),
    _gcp("asia-northeast3", "Seoul", "South Korea", 37.57, 126.98),
    _gcp("asia-south1", "Mumbai", "India", 19.08, 72.88),
    _gcp("asia-south2", "Delhi", "India", 28.70, 77.10),
    _gcp("asia-southeast1", "Jurong West", "Singapore", 1.34, 103.71),
    _gcp("asia-southeast2", "Jakarta", "Indonesia", -6.21, 106.85),
    _gcp("australia-southeast1", "Sydney", "Australia", -33.87, 151.21),
    _gcp("australia-southeast2", "Melbourne", "Australia", -37.81, 144.96),
    _gcp("europe-central2", "Warsaw", "Poland", 52.23, 21.01),
    _gcp("europe-north1", "Hamina", "Finland", 60.57, 27.20),
    _gcp("europe-west1", "St. Ghislain", "Belgium", 50.47, 3.82, "b"),
    _gcp("europe-west2", "London", "United Kingdom", 51.51, -0.13),
    _gcp("europe-west3", "Frankfurt", "Germany", 50.11, 8.68),
    _gcp("europe-west4", "Eemshaven", "Netherlands", 53.44, 6.83),
    _gcp("europe-west6", "Zurich", "Switzerland", 47.38, 8.54),
    _gcp("europe-west9", "Paris", "France", 48.86, 2.35),
    _gcp("me-west1", "Tel Aviv", "Israel", 32.09, 34.78),
    _gcp("northamerica-northeast1", "Montréal", "Canada", 45.50, -73.57),
    _gcp("northamerica-northeast2", "Toronto", "Canada", 43.65, -79.38),
    _gcp("southamerica-east1", "Osasco (São Paulo)", "Brazil", -23.53, -46.79),
    _gcp("us-central1", "Council Bluffs, Iowa", "United States", 41.26, -95.86),
    _gcp("us-east1", "Moncks Corner, South Carolina", "United States", 33.20, -80.01, "b"),
    _gcp("us-east4", "Ashburn, Virginia", "United States", 39.04, -77.49),
    _gcp("us-west1", "The Dalles, Oregon", "United States", 45.59, -121.18),
    _gcp("us-west2", "Los Angeles", "United States", 34.05, -118.24),
    _gcp("us-west4", "Las Vegas", "United States", 36.17, -115.14),
)
REGIONS: dict[str, tuple[Region, ...]] = {"local": (LOCAL,), "gcp": GCP_REGIONS}

MATCHING_ENGINES: tuple[MatchingEngine, ...] = (
    {"exchange": "bybit", "location": "AWS ap-southeast-1 (Singapore)", "lat": 1.29,
     "lon": 103.85,
     "source": "Bybit V5 API documentation, FAQ: https://bybit-exchange.github.io/docs/faq"},
    {"exchange": "local", "location": "the machine running plutarc's local exchange",
     "lat": None, "lon": None,
     "source": "plutarc (exchange/): the simulator runs next to the backend"},
)

# How much the region matters, by the strategy's timeframe (decisions happen at candle close).
GUIDANCE: dict[str, str] = {
    "1m": "choose the region closest to the exchange: milliseconds matter at every close",
    "5m": "choose the region closest to the exchange",
    "15m": "closeness helps a little; any region on the same continent is fine",
    "30m": "closeness helps a little; any region on the same continent is fine",
    "1h": "region hardly matters: a few tens of milliseconds are small against an hour",
    "4h": "region hardly matters",
    "1d": "region hardly matters",
}


def region(provider: str, code: str) -> Region | None:
    return next((r for r in REGIONS.get(provider, ()) if r["code"] == code), None)


def check_region(provider: str, code: str) -> str | None:
    """None if `provider` has region `code`; else an error naming the valid ones."""
    if region(provider, code) is not None:
        return None
    valid = ", ".join(r["code"] for r in REGIONS.get(provider, ()))
    return f"provider {provider!r} has no region {code!r}; valid regions: {valid}"


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def estimated_rtt_ms(distance_km: float) -> float:
    """There and back at the speed of light in fibre."""
    return 2 * distance_km / FIBRE_KM_PER_MS


def estimate(place: Region, engine: MatchingEngine) -> Estimate:
    """Distance and estimated round trip from a region to a matching engine; None when one
    end has no coordinates (the local exchange is as far as this machine's loopback)."""
    a, b = (place["lat"], place["lon"]), (engine["lat"], engine["lon"])
    if None in (*a, *b):
        return {"distance_km": None, "rtt_ms_est": None}
    km = great_circle_km(*a, *b)  # type: ignore[arg-type]
    return {"distance_km": round(km, 1), "rtt_ms_est": round(estimated_rtt_ms(km), 2)}
