"""Regions (`regions:*`): the catalogue a trader picks a bot's region from, live with the
latency bots measure there, and the roll-up that turns heartbeats into those numbers.

`regions:list` reads the catalogue (backend/domain/regions.py) and the `region_latency`
table; `regions:rollup` (internal, a cron every 10 s since a query cannot read the clock)
recomputes p50/p95 of the last `window_s` of heartbeat samples per (provider, region,
exchange) and forgets samples older than an hour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypedDict

from pydantic import Field

from backend.domain import regions as catalogue
from backend.domain.regions import Estimate, MatchingEngine, Region
from backend.runtime import Ctx, Forbidden, cron, mutation, query

SAMPLE_RETENTION_S = 3600


class Measured(TypedDict):
    """Exchange latency bots measured in one region (their heartbeats over `window_s`)."""

    p50_ms: float
    p95_ms: float
    samples: int
    bots: int
    window_s: int
    updated_at: datetime


class Place(Region):
    """One region of a provider, its estimates and measurements, by exchange."""

    estimates: dict[str, Estimate]
    measured: dict[str, Measured]


class ProviderRegions(TypedDict):
    provider: str
    regions: list[Place]


class Closest(TypedDict):
    """The region with the smallest estimated round trip to an exchange."""

    provider: str
    region: str
    city: str
    rtt_ms_est: float
    measured_p50_ms: float | None


class Catalogue(TypedDict):
    """`regions:list`: providers' regions, exchanges, the closest region per exchange."""

    providers: list[ProviderRegions]
    exchanges: list[MatchingEngine]
    closest: dict[str, Closest | None]
    estimate_note: str
    guidance: dict[str, str]


def _closest(providers: list[ProviderRegions], exchange: str) -> Closest | None:
    """The region with the smallest estimate to `exchange`, with what was measured there."""
    best: Closest | None = None
    for provider in providers:
        for place in provider["regions"]:
            est = place["estimates"][exchange]
            if est["rtt_ms_est"] is None:
                continue
            if best is None or est["rtt_ms_est"] < best["rtt_ms_est"]:
                measured = place["measured"].get(exchange)
                best = {"provider": provider["provider"], "region": place["code"],
                        "city": place["city"], "rtt_ms_est": est["rtt_ms_est"],
                        "measured_p50_ms": measured["p50_ms"] if measured else None}
    return best


@query
async def list_(ctx: Ctx) -> Catalogue:
    """Every provider's regions (code, city, coordinates, default zone), each exchange's
    matching engine with its source, the estimated round trip from each region to each
    engine, the measured exchange latency of bots in that region (p50/p95 of their recent
    heartbeats), the closest region per exchange, and guidance by timeframe."""
    ctx.auth.require_user()
    rows = await ctx.db.fetch(
        "SELECT provider, region, exchange, p50_ms, p95_ms, samples, bots, window_s, "
        "updated_at FROM region_latency ORDER BY provider, region, exchange"
    )
    measured: dict[tuple[str, str], dict[str, Measured]] = {}
    for row in rows:
        measured.setdefault((row["provider"], row["region"]), {})[row["exchange"]] = {
            k: row[k] for k in ("p50_ms", "p95_ms", "samples", "bots", "window_s", "updated_at")
        }
    providers: list[ProviderRegions] = [
        {"provider": name, "regions": [
            {**place,
             "estimates": {e["exchange"]: catalogue.estimate(place, e)
                           for e in catalogue.MATCHING_ENGINES},
             "measured": measured.get((name, place["code"]), {})}
            for place in places]}
        for name, places in catalogue.REGIONS.items()
    ]
    return {
        "providers": providers,
        "exchanges": list(catalogue.MATCHING_ENGINES),
        "closest": {e["exchange"]: _closest(providers, e["exchange"])
                    for e in catalogue.MATCHING_ENGINES},
        "estimate_note": catalogue.ESTIMATE_NOTE,
        "guidance": catalogue.GUIDANCE,
    }


@cron(every_s=10)
@mutation(internal=True)
async def rollup(ctx: Ctx, window_s: Annotated[int, Field(ge=10, le=86_400)] = 900) -> int:
    """Recompute `region_latency` from the last `window_s` of samples; returns its rows."""
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only the system rolls up latency")
    await ctx.db.execute(
        "DELETE FROM latency_samples WHERE at < now() - make_interval(secs => $1)",
        max(SAMPLE_RETENTION_S, window_s),
    )
    fresh = await ctx.db.fetch(
        "SELECT provider, region, exchange, "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95, "
        "count(*) AS samples, count(DISTINCT bot_id) AS bots FROM latency_samples "
        "WHERE at >= now() - make_interval(secs => $1) GROUP BY provider, region, exchange",
        window_s,
    )
    await ctx.db.execute("DELETE FROM region_latency")
    await ctx.db.executemany(
        "INSERT INTO region_latency (provider, region, exchange, p50_ms, p95_ms, samples, "
        "bots, window_s, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())",
        [(r["provider"], r["region"], r["exchange"], round(r["p50"], 2), round(r["p95"], 2),
          r["samples"], r["bots"], window_s) for r in fresh],
    )
    return len(fresh)
