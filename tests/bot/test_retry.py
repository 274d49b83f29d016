"""Backoff is capped and jittered; order creation is never doubled by a retry."""

import json
import random
from decimal import Decimal

import httpx
import pytest

from bot.bybit.errors import ApiError, HttpStatusError, TransportError
from bot.bybit.orders import Orders
from bot.bybit.rest import BybitRest
from bot.bybit.retry import RetryPolicy, create_once, is_ambiguous, is_retryable, with_retry
from bot.bybit.signing import Credentials
from bot.instrument import Instrument


def test_backoff_grows_exponentially_within_jitter_and_stays_capped():
    policy = RetryPolicy(base_s=0.1, cap_s=2.0, rng=random.Random(1))
    for attempt in range(12):
        ceiling = min(2.0, 0.1 * 2**attempt)
        delays = {policy.backoff(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert max(policy.backoff(30) for _ in range(100)) <= 2.0


def test_retryable_and_ambiguous_classification():
    timeout = TransportError("/p", httpx.ReadTimeout("t"), ambiguous=True)
    refused = TransportError("/p", httpx.ConnectError("c"), ambiguous=False)
    assert is_retryable(timeout) and is_ambiguous(timeout)
    assert is_retryable(refused) and not is_ambiguous(refused)
    assert is_retryable(HttpStatusError("/p", 502)) and is_ambiguous(HttpStatusError("/p", 502))
    assert not is_retryable(HttpStatusError("/p", 403))
    assert is_retryable(ApiError("/p", 10006, "Too many visits!"))
    assert not is_ambiguous(ApiError("/p", 10006, "Too many visits!"))
    assert is_retryable(ApiError("/p", 10016, "Server error")) and is_ambiguous(
        ApiError("/p", 10016, "Server error")
    )
    assert not is_retryable(ApiError("/p", 110007, "insufficient balance"))


async def test_with_retry_gives_up_after_the_attempts_and_sleeps_between():
    slept: list[float] = []
    calls = 0

    async def sleep(s: float) -> None:
        slept.append(s)

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise HttpStatusError("/p", 503)

    with pytest.raises(HttpStatusError):
        await with_retry(failing, RetryPolicy(attempts=4), sleep=sleep)
    assert calls == 4 and len(slept) == 3


async def test_non_retryable_error_is_raised_at_once():
    calls = 0

    async def rejected() -> None:
        nonlocal calls
        calls += 1
        raise ApiError("/p", 110007, "insufficient")

    with pytest.raises(ApiError):
        await with_retry(rejected, RetryPolicy(), sleep=_no_sleep)
    assert calls == 1


async def _no_sleep(_: float) -> None:
    return None


class OrderBookExchange:
    """A minimal exchange keeping orders by orderLinkId, with scripted failures."""

    def __init__(self, script: list[str]) -> None:
        self.script = script  # per order/create call: ok | timeout_after | 502_before | 10016_after
        self.orders: dict[str, dict] = {}
        self.creates = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v5/order/create":
            body = json.loads(request.content)
            mode = self.script[self.creates] if self.creates < len(self.script) else "ok"
            self.creates += 1
            if mode == "502_before":
                return httpx.Response(502, text="bad gateway")
            link = body["orderLinkId"]
            if link in self.orders:
                return _envelope(110072, "OrderLinkedID is duplicate", {})
            self.orders[link] = {
                "orderId": f"o{len(self.orders)}",
                "orderLinkId": link,
                "orderStatus": "Filled",
                "qty": body["qty"],
            }
            if mode == "timeout_after":
                raise httpx.ReadTimeout("placed, but the answer never came", request=request)
            if mode == "10016_after":
                return _envelope(10016, "Server error", {})
            return _envelope(
                0, "OK", {"orderId": self.orders[link]["orderId"], "orderLinkId": link}
            )
        if path in ("/v5/order/realtime", "/v5/order/history"):
            link = request.url.params.get("orderLinkId")
            rows = [self.orders[link]] if link in self.orders else []
            return _envelope(0, "OK", {"list": rows, "nextPageCursor": ""})
        return httpx.Response(404)


def _envelope(code: int, msg: str, result: dict) -> httpx.Response:
    return httpx.Response(
        200, json={"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": 0}
    )


INSTRUMENT = Instrument(
    "BTCUSDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal(100), Decimal(100)
)


async def _place(exchange: OrderBookExchange) -> dict:
    rest = BybitRest(
        "https://exchange.invalid",
        Credentials("k", "s"),
        transport=httpx.MockTransport(exchange),
        retry=RetryPolicy(base_s=0.001, cap_s=0.002),
    )
    async with rest:
        return await Orders(rest, INSTRUMENT).market_entry("Buy", Decimal("0.0105"), "bot-1-entry")


@pytest.mark.parametrize("failure", ["timeout_after", "10016_after"])
async def test_ambiguous_failure_after_placing_is_resolved_by_lookup_not_resend(failure):
    exchange = OrderBookExchange([failure])
    order = await _place(exchange)
    assert order["orderLinkId"] == "bot-1-entry"
    assert exchange.creates == 1 and len(exchange.orders) == 1
    assert exchange.orders["bot-1-entry"]["qty"] == "0.010"  # rounded down to the lot step


async def test_failure_before_placing_is_retried_with_the_same_link_id():
    exchange = OrderBookExchange(["502_before", "502_before"])
    order = await _place(exchange)
    assert exchange.creates == 3 and list(exchange.orders) == ["bot-1-entry"]
    assert order["orderStatus"] == "Filled"


async def test_duplicate_answer_means_already_placed():
    exchange = OrderBookExchange([])
    exchange.orders["bot-1-entry"] = {
        "orderId": "o9",
        "orderLinkId": "bot-1-entry",
        "orderStatus": "Filled",
    }
    order = await _place(exchange)
    assert order["orderId"] == "o9" and len(exchange.orders) == 1


async def test_create_once_raises_a_definite_rejection():
    async def create() -> dict:
        raise ApiError("/v5/order/create", 110007, "insufficient balance")

    async def lookup() -> None:
        raise AssertionError("a definite rejection needs no lookup")

    with pytest.raises(ApiError):
        await create_once(create, lookup, RetryPolicy(), sleep=_no_sleep)
