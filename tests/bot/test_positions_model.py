"""The account model follows private-stream messages (unit level; REST agreement is tested
against the real exchange in test_exchange_integration.py)."""

from decimal import Decimal

from bot.positions import AccountModel


def _exec(exec_id: str, t: int, link: str = "l1") -> dict:
    return {
        "symbol": "BTCUSDT",
        "execId": exec_id,
        "orderLinkId": link,
        "execTime": str(t),
        "execQty": "0.01",
        "execPrice": "60000",
        "execFee": "0.33",
    }


def test_executions_are_reported_once_each():
    model = AccountModel("BTCUSDT")
    new = model.apply({"topic": "execution", "data": [_exec("e1", 10), _exec("e2", 11)]})
    assert [e["execId"] for e in new] == ["e1", "e2"]
    assert model.apply({"topic": "execution", "data": [_exec("e2", 11), _exec("e3", 12)]}) == [
        _exec("e3", 12)
    ]
    assert model.last_exec_ms == 12
    assert [e["execId"] for e in model.executions_of("l1")] == ["e1", "e2", "e3"]


def test_orders_open_and_close_with_their_status():
    model = AccountModel("BTCUSDT")
    row = {"symbol": "BTCUSDT", "orderId": "o1", "orderStatus": "New"}
    model.apply({"topic": "order", "data": [row]})
    assert set(model.open_orders) == {"o1"}
    model.apply({"topic": "order", "data": [{**row, "orderStatus": "Filled"}]})
    assert model.open_orders == {}


def test_position_messages_replace_the_position_and_other_symbols_are_ignored():
    model = AccountModel("BTCUSDT")
    model.apply(
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
    assert (model.position.side, model.position.size, model.position.avg_price) == (
        "Buy",
        Decimal("0.02"),
        Decimal("60010.5"),
    )
    model.apply(
        {
            "topic": "position",
            "data": [{"symbol": "BTCUSDT", "side": "", "size": "0", "avgPrice": "0"}],
        }
    )
    assert model.position.side == "" and model.position.size == 0
