"""All rounding happens in Instrument: quantities down to the step, prices to the safe side."""

from decimal import Decimal

import pytest

from bot.bybit.convert import instrument
from bot.instrument import QuantityError
from bot.venue import Direction, Side

BTC = instrument(
    {
        "symbol": "BTCUSDT",
        "priceFilter": {"tickSize": "0.10", "minPrice": "0.10", "maxPrice": "1999999.80"},
        "lotSizeFilter": {
            "qtyStep": "0.001",
            "minOrderQty": "0.001",
            "maxOrderQty": "1190.000",
            "maxMktOrderQty": "119.000",
            "minNotionalValue": "5",
        },
    }
)
D = Decimal


def test_parsed_from_instruments_info():
    assert (BTC.tick_size, BTC.qty_step, BTC.min_qty, BTC.max_qty, BTC.max_market_qty) == (
        D("0.10"),
        D("0.001"),
        D("0.001"),
        D("1190.000"),
        D("119.000"),
    )


def test_quantity_rounds_down_to_the_lot_step():
    assert BTC.round_qty(D("0.0129")) == D("0.012")
    assert BTC.round_qty(D("1")) == D("1.000")
    assert str(BTC.round_qty(D("0.0019999"))) == "0.001"


def test_quantity_below_minimum_is_rejected_clearly():
    with pytest.raises(QuantityError, match="below the minimum 0.001"):
        BTC.round_qty(D("0.00099"))


def test_market_quantity_above_market_maximum_is_rejected():
    with pytest.raises(QuantityError, match="above the maximum 119.000"):
        BTC.round_qty(D("120"))
    assert BTC.round_qty(D("120"), market=False) == D("120.000")


def test_limit_prices_round_in_the_traders_favour():
    assert BTC.limit_price(D("60000.17"), Side.BUY) == D("60000.10")
    assert BTC.limit_price(D("60000.11"), Side.SELL) == D("60000.20")
    assert BTC.limit_price(D("60000.2"), Side.SELL) == D("60000.20")


def test_stop_and_target_round_to_the_tick_a_trade_must_reach():
    # the tick a trade must reach to be at or beyond the level, as the backtest checks it
    assert BTC.stop_loss_price(D("59000.01"), Direction.LONG) == D("59000.00")  # long: stop down
    assert BTC.stop_loss_price(D("61000.19"), Direction.SHORT) == D("61000.20")  # short: stop up
    assert BTC.take_profit_price(D("62000.19"), Direction.LONG) == D("62000.20")  # long: target up
    assert BTC.take_profit_price(D("58000.01"), Direction.SHORT) == D(
        "58000.00"
    )  # short: target down


def test_non_positive_price_is_refused():
    with pytest.raises(ValueError):
        BTC.round_price(D("0"), "down")


def test_order_value_below_the_minimum_is_rejected_clearly():
    BTC.check_notional(D("0.001"), D("5000"))
    with pytest.raises(QuantityError, match="below the minimum 5"):
        BTC.check_notional(D("0.001"), D("4999.9"))
