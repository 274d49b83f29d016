"""Liquidation at the documented price (isolated and cross, see exchange/liquidation.py) and
funding every 8 hours: the position shows its liquidation price, a mark beyond it closes the
position as Bybit does, and open positions pay or receive size × mark × rate at each funding
time, listed in funding/history and in the executions."""

from __future__ import annotations

from decimal import Decimal

from exchange import funding
from exchange.server import ExchangeServer

MMR = Decimal("0.005")


async def _position(bybit, linear) -> dict:
    return (await bybit.call("GET", "/v5/position/list", linear))["list"][0]


async def test_isolated_position_liquidates_at_its_liquidation_price(bybit, admin, linear):
    await bybit.call("POST", "/v5/account/set-margin-mode", {"setMarginMode": "ISOLATED_MARGIN"})
    await bybit.call(
        "POST", "/v5/position/set-leverage", {**linear, "buyLeverage": "50", "sellLeverage": "50"}
    )
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "0.100"}
    )
    position = await _position(bybit, linear)
    entry, size = Decimal(position["avgPrice"]), Decimal("0.100")
    im, mm = size * entry / 50, size * entry * MMR
    expected = entry - (im - mm) / size
    assert position["tradeMode"] == 1
    assert Decimal(position["liqPrice"]) == expected.quantize(Decimal("0.1"))
    bust = entry - entry / 50
    wallet_before = Decimal(
        (await bybit.call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))["list"][
            0
        ]["totalWalletBalance"]
    )

    await admin.set_price("BTCUSDT", str((expected + 5).quantize(Decimal("0.1"))))
    await admin.advance(ms=5_000)
    assert (await _position(bybit, linear))["size"] == "0.100"  # not reached yet
    await admin.set_price("BTCUSDT", str((expected - 5).quantize(Decimal("0.1"))))
    await admin.advance(ms=5_000)
    assert (await _position(bybit, linear))["size"] == "0.000"
    [liquidated] = [
        e
        for e in (await bybit.call("GET", "/v5/execution/list", linear))["list"]
        if e["execType"] == "BustTrade"
    ]
    assert abs(Decimal(liquidated["execPrice"]) - bust) <= Decimal("0.05")  # to the tick
    wallet = (await bybit.call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))[
        "list"
    ][0]
    lost = wallet_before - Decimal(wallet["totalWalletBalance"])
    assert abs(lost - size * (entry - bust)) <= Decimal("0.005")  # the position margin


async def test_cross_account_liquidates_when_equity_meets_maintenance(bybit, admin, linear):
    await bybit.call(
        "POST", "/v5/order/create", {**linear, "side": "Buy", "orderType": "Market", "qty": "1.400"}
    )
    position = await _position(bybit, linear)
    entry, size = Decimal(position["avgPrice"]), Decimal("1.400")
    wallet = Decimal(
        (await bybit.call("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))["list"][
            0
        ]["totalWalletBalance"]
    )
    expected = (size * entry - wallet) / (size * (1 - MMR))
    assert position["tradeMode"] == 0
    assert abs(Decimal(position["liqPrice"]) - expected) <= Decimal("0.1")
    await admin.set_price("BTCUSDT", str((expected + 20).quantize(Decimal("0.1"))))
    await admin.advance(ms=5_000)
    assert (await _position(bybit, linear))["size"] == "1.400"
    await admin.set_price("BTCUSDT", str((expected - 20).quantize(Decimal("0.1"))))
    await admin.advance(ms=5_000)
    assert (await _position(bybit, linear))["size"] == "0.000"
    kinds = {e["execType"] for e in (await bybit.call("GET", "/v5/execution/list", linear))["list"]}
    assert kinds == {"Trade", "BustTrade"}


async def test_funding_every_eight_hours(tmp_path, helpers, linear):
    boundary = 1_700_006_400_000  # 2023-11-15 00:00 UTC, a funding time
    config = helpers.manual_config(tmp_path, start_ms=boundary - 60_000, history_candles=30)
    async with ExchangeServer(config) as server:
        client = helpers.BybitClient(
            server.rest_url, server.ca_file, config.api_key, config.api_secret
        )
        try:
            await client.call(
                "POST",
                "/v5/order/create",
                {**linear, "side": "Sell", "orderType": "Market", "qty": "0.100"},
            )
            ticker = (await client.http.get("/v5/market/tickers", params=linear)).json()["result"][
                "list"
            ][0]
            assert ticker["nextFundingTime"] == str(boundary)
            predicted = Decimal(ticker["fundingRate"])
            assert predicted == funding.rate(config.seed, "BTCUSDT", boundary)
            server.exchange.advance_clock(to=boundary)
            mark = server.exchange.markets["BTCUSDT"].last_price
            [paid] = (
                await client.call("GET", "/v5/execution/list", {**linear, "execType": "Funding"})
            )["list"]
            assert paid["execTime"] == str(boundary) and Decimal(paid["feeRate"]) == predicted
            # a short receives a positive rate: the fee is negative
            assert Decimal(paid["execFee"]) == (Decimal("-0.100") * mark * predicted).quantize(
                Decimal("1e-8")
            )
            history = (await client.http.get("/v5/market/funding/history", params=linear)).json()[
                "result"
            ]
            assert history["list"][0] == {
                "symbol": "BTCUSDT",
                "fundingRate": paid["feeRate"],
                "fundingRateTimestamp": str(boundary),
            }
            position = (await client.call("GET", "/v5/position/list", linear))["list"][0]
            trade_fee = sum(
                Decimal(e["execFee"])
                for e in (await client.call("GET", "/v5/execution/list", linear))["list"]
                if e["execType"] == "Trade"
            )
            assert Decimal(position["cumRealisedPnl"]) == -trade_fee - Decimal(paid["execFee"])
        finally:
            await client.aclose()
