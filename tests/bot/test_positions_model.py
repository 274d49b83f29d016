"""The account model follows private-stream messages, converted at the edge by the Bybit
adapter (unit level; REST agreement is tested against the real exchange in
test_exchange_integration.py)."""

from decimal import Decimal

from bot.bybit.convert import account_update
from bot.positions import AccountModel
from bot.venue import Direction


def _exec(exec_id: str, t: int, link: str = "l1") -> dict:
    return {
        "symbol": "BTCUSDT",
        "execId": exec_id,
        "orderLinkId": link,
        "execTime": str(t),
        "execQty": "0.01",
        "execPrice": "60000",
        "execFee": "0.33",
        "side": "Buy",
    }


def test_executions_are_reported_once_each():
    model = AccountModel("BTCUSDT")
    new = model.apply(
        account_update({"topic": "execution", "data": [_exec("e1", 10), _exec("e2", 11)]})
    )
    assert [f.exec_id for f in new] == ["e1", "e2"]
    again = {"topic": "execution", "data": [_exec("e2", 11), _exec("e3", 12)]}
    assert [f.exec_id for f in model.apply(account_update(again))] == ["e3"]
    assert model.last_fill_ms == 12
    assert [f.exec_id for f in model.fills_of("l1")] == ["e1", "e2", "e3"]


def test_orders_open_and_close_with_their_status():
    model = AccountModel("BTCUSDT")
    row = {"symbol": "BTCUSDT", "orderId": "o1", "orderStatus": "New", "side": "Buy"}
    model.apply(account_update({"topic": "order", "data": [row]}))
    assert set(model.open_orders) == {"o1"}
    model.apply(account_update({"topic": "order", "data": [{**row, "orderStatus": "Filled"}]}))
    assert model.open_orders == {}


def test_position_messages_replace_the_position_and_other_symbols_are_ignored():
    model = AccountModel("BTCUSDT")
    model.apply(
        account_update(
            {
                "topic": "position",
                "data": [
                    {"symbol": "ETHUSDT", "side": "Sell", "size": "5", "avgPrice": "3000"},
                    {
                        "symbol": "BTCUSDT",
                        "side": "Buy",
                        "size": "0.02",
                        "avgPrice": "60010.5",
                        "takeProfit": "61000",
                        "stopLoss": "",
                        "updatedTime": "5",
                    },
                ],
            }
        )
    )
    assert (model.position.direction, model.position.size, model.position.avg_price) == (
        Direction.LONG,
        Decimal("0.02"),
        Decimal("60010.5"),
    )
    model.apply(
        account_update(
            {
                "topic": "position",
                "data": [{"symbol": "BTCUSDT", "side": "", "size": "0", "avgPrice": "0"}],
            }
        )
    )
    assert model.position.direction is None and model.position.size == 0
