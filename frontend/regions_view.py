"""`regions:list` → rows the deploy dialog and the providers & regions page show: per region,
the distance to an exchange's matching engine, the estimated round trip and the latency bots
measured there. Pure functions."""

from __future__ import annotations

from typing import Any

Row = dict[str, str]


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def region_rows(listing: dict[str, Any], exchange: str) -> list[Row]:
    """One row per (provider, region), closest to `exchange` first (unknown distances last)."""
    rows = []
    for provider in listing["providers"]:
        for place in provider["regions"]:
            est = place["estimates"].get(exchange) or {}
            measured = place["measured"].get(exchange) or {}
            km = est.get("distance_km")
            rows.append({
                "value": f"{provider['provider']}/{place['code']}",
                "provider": provider["provider"], "code": place["code"],
                "city": ", ".join(p for p in (place["city"], place["country"]) if p),
                "distance": "—" if km is None else f"{km:,.0f} km",
                "estimate": _ms(est.get("rtt_ms_est")),
                "measured": _ms(measured.get("p50_ms")) + (
                    f" (p95 {measured['p95_ms']:,.1f}, {measured['bots']} bot(s))"
                    if measured else ""),
                "_sort": est.get("rtt_ms_est"),
            })
    rows.sort(key=lambda r: (r["_sort"] is None, r["_sort"] or 0, r["value"]))
    return [{k: v for k, v in r.items() if k != "_sort"} for r in rows]


def label(row: Row) -> str:
    """How a region reads in the deploy dialog's select."""
    return (f"{row['value']} — {row['city']} · est. {row['estimate']} · "
            f"measured {row['measured']}")


def engine_rows(listing: dict[str, Any]) -> list[Row]:
    return [{"exchange": e["exchange"], "location": e["location"], "source": e["source"]}
            for e in listing["exchanges"]]


def guidance(listing: dict[str, Any], timeframe: str) -> str:
    return listing["guidance"].get(timeframe, "")
