"""The synthetic price path: seeded, on the tick grid, and switching between volatility
regimes so strategies see both trends and chop."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from exchange.market.pricepath import SyntheticPath


def _run(seed: int, steps: int) -> tuple[list[Decimal], Counter]:
    path = SyntheticPath(random.Random(seed), Decimal(60000), Decimal("0.10"), 5_000)
    prices, regimes = [], Counter()
    for _ in range(steps):
        prices.append(path.next_price())
        regimes[path.regime.name] += 1
    return prices, regimes


def test_same_seed_same_path_on_the_tick_grid():
    first, _ = _run(3, 2_000)
    second, _ = _run(3, 2_000)
    assert first == second
    assert all(p % Decimal("0.10") == 0 for p in first)


def test_a_day_visits_every_regime_and_volatile_moves_more_than_chop():
    _, regimes = _run(4, 17_280)
    assert set(regimes) == {"trend_up", "trend_down", "chop", "volatile"}
    path = SyntheticPath(random.Random(9), Decimal(60000), Decimal("0.10"), 5_000)
    moves: dict[str, list[Decimal]] = {"chop": [], "volatile": []}
    last = Decimal(60000)
    for _ in range(17_280):
        price = path.next_price()
        if path.regime.name in moves:
            moves[path.regime.name].append(abs(price - last))
        last = price
    mean = {k: sum(v) / len(v) for k, v in moves.items() if v}
    assert mean["volatile"] > 2 * mean["chop"]
