"""The limiter follows per-endpoint limits and the exchange's X-Bapi-Limit-* headers."""

from bot.bybit.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def wall_ms(self) -> int:
        return int(self.t * 1000)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def limiter(clock: FakeClock, **kw) -> RateLimiter:
    return RateLimiter(now=clock.now, wall_ms=clock.wall_ms, sleep=clock.sleep, **kw)


async def test_eleventh_order_in_a_second_waits_for_the_window():
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(10):
        await rl.acquire("/v5/order/create")
    assert clock.slept == []
    await rl.acquire("/v5/order/create")
    assert clock.slept == [1.0]


async def test_endpoints_have_independent_budgets():
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(10):
        await rl.acquire("/v5/order/create")
    for _ in range(50):
        await rl.acquire("/v5/position/list")
    assert clock.slept == []
    assert rl.delay("/v5/position/list") == 1.0


async def test_rolling_window_frees_slots_as_they_age():
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(5):
        await rl.acquire("/v5/order/create")
    clock.t += 0.6
    for _ in range(5):
        await rl.acquire("/v5/order/create")
    assert round(rl.delay("/v5/order/create"), 6) == 0.4


async def test_status_zero_closes_the_endpoint_until_reset_timestamp():
    clock = FakeClock()
    rl = limiter(clock)
    reset_ms = clock.wall_ms() + 750
    rl.observe(
        "/v5/order/realtime",
        {
            "X-Bapi-Limit": "50",
            "X-Bapi-Limit-Status": "0",
            "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
        },
    )
    await rl.acquire("/v5/order/realtime")
    assert [round(s, 6) for s in clock.slept] == [0.75]


async def test_header_limit_replaces_the_published_default():
    clock = FakeClock()
    rl = limiter(clock)
    rl.observe(
        "/v5/order/create",
        {
            "x-bapi-limit": "3",
            "x-bapi-limit-status": "2",
            "x-bapi-limit-reset-timestamp": str(clock.wall_ms()),
        },
    )
    assert rl.limit("/v5/order/create") == 3
    for _ in range(3):
        await rl.acquire("/v5/order/create")
    assert rl.delay("/v5/order/create") == 1.0


async def test_absurd_reset_timestamp_is_capped():
    clock = FakeClock()
    rl = limiter(clock)
    rl.observe(
        "/v5/order/cancel",
        {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(clock.wall_ms() + 10**9)},
    )
    assert rl.delay("/v5/order/cancel") == 5.0


async def test_public_endpoints_only_count_against_the_ip_budget():
    clock = FakeClock()
    rl = limiter(clock, ip_limit=(3, 5.0))
    for _ in range(3):
        await rl.acquire("/v5/market/kline")
    assert rl.delay("/v5/market/kline") == 5.0


async def test_a_share_of_the_account_budget_scales_every_per_uid_limit():
    clock = FakeClock()
    rl = limiter(clock)
    rl.set_share(0.5)
    for _ in range(5):
        await rl.acquire("/v5/order/create")
    assert clock.slept == [] and rl.delay("/v5/order/create") == 1.0
    rl.set_share(0.01)
    assert rl.limit("/v5/order/create") == 1  # never below one request per window
    assert rl.limit("/v5/market/time") is None
    for bad in (0, 1.5):
        try:
            rl.set_share(bad)
        except ValueError as exc:
            assert "rate share" in str(exc)
        else:
            raise AssertionError(f"share {bad} accepted")


async def test_an_answered_request_holds_its_slot_from_when_the_answer_came():
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(10):
        await rl.acquire("/v5/order/create")
    clock.t += 0.3  # the answer of the first request arrives late
    rl.observe("/v5/order/create", {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"})
    clock.t += 0.8  # 1.1 s after sending: nine slots are free, the late one 0.2 s later
    for _ in range(9):
        await rl.acquire("/v5/order/create")
    assert clock.slept == []
    assert round(rl.delay("/v5/order/create"), 6) == 0.2
    assert rl.seen["/v5/order/create"] == (9, 10)
