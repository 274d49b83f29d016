"""Done when: a seeded run on the manual clock is deterministic - the same seed and the same
orders give the same fills; another seed gives another market."""

from __future__ import annotations

from exchange.admin import AdminClient
from exchange.server import ExchangeServer


async def _session(tmp_path, helpers, seed: int) -> tuple[list, list]:
    config = helpers.manual_config(tmp_path, seed=seed)
    async with ExchangeServer(config) as server:
        bybit = helpers.BybitClient(
            server.rest_url, server.ca_file, config.api_key, config.api_secret
        )
        async with AdminClient(server.admin_url, server.ca_file) as admin:
            try:
                ticker = (
                    await bybit.http.get(
                        "/v5/market/tickers", params={"category": "linear", "symbol": "ETHUSDT"}
                    )
                ).json()
                last = ticker["result"]["list"][0]["lastPrice"]
                linear = {"category": "linear", "symbol": "ETHUSDT"}
                await bybit.call(
                    "POST",
                    "/v5/order/create",
                    {**linear, "side": "Buy", "orderType": "Market", "qty": "0.50"},
                )
                await admin.advance(ms=120_000)
                await bybit.call(
                    "POST",
                    "/v5/order/create",
                    {
                        **linear,
                        "side": "Sell",
                        "orderType": "Limit",
                        "qty": "0.50",
                        "price": last,
                        "reduceOnly": True,
                    },
                )
                await bybit.call(
                    "POST",
                    "/v5/order/create",
                    {
                        **linear,
                        "side": "Buy",
                        "orderType": "Limit",
                        "qty": "0.20",
                        "price": str(round(float(last) * 0.995, 2)),
                    },
                )
                await admin.advance(ms=3_600_000)
                fills = (await bybit.call("GET", "/v5/execution/list", {**linear, "limit": "100"}))[
                    "list"
                ]
                klines = (
                    await bybit.http.get(
                        "/v5/market/kline", params={**linear, "interval": "1", "limit": "50"}
                    )
                ).json()["result"]["list"]
            finally:
                await bybit.aclose()
    keys = ("execId", "orderId", "side", "execPrice", "execQty", "execFee", "execTime", "isMaker")
    return [tuple(f[k] for k in keys) for f in fills], klines


async def test_same_seed_and_orders_give_the_same_fills(tmp_path, helpers):
    first_fills, first_klines = await _session(tmp_path / "a", helpers, seed=5)
    second_fills, second_klines = await _session(tmp_path / "b", helpers, seed=5)
    assert len(first_fills) >= 2
    assert first_fills == second_fills
    assert first_klines == second_klines


async def test_another_seed_gives_another_market(tmp_path, helpers):
    _, klines_5 = await _session(tmp_path / "a", helpers, seed=5)
    _, klines_6 = await _session(tmp_path / "b", helpers, seed=6)
    assert klines_5 != klines_6
