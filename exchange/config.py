"""Configuration of one local exchange: symbols, clock, default account, fees and port.

`ExchangeConfig` is plain data; everything the server builds is derived from it, so the same
config (and the same seed) always builds the same market.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

DEMO_API_KEY = "plutarcDemoKey01"
DEMO_API_SECRET = "plutarcDemoSecretDoNotUseForRealMoney01"
DEFAULT_START_MS = 1_700_000_000_000 - 1_700_000_000_000 % 60_000


@dataclass(frozen=True)
class InstrumentSpec:
    """Static trading rules of one linear USDT perpetual (as in market/instruments-info)."""

    symbol: str
    base_coin: str
    start_price: Decimal
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    max_market_qty: Decimal
    min_notional: Decimal = Decimal(5)
    max_leverage: Decimal = Decimal(100)
    quote_coin: str = "USDT"
    # riskParameters of instruments-info: the limit-order price band (see SymbolMarket.price_band)
    price_limit_x: Decimal = Decimal("0.01")
    price_limit_y: Decimal = Decimal("0.02")


KNOWN_INSTRUMENTS: dict[str, InstrumentSpec] = {
    "BTCUSDT": InstrumentSpec(
        "BTCUSDT",
        "BTC",
        Decimal("60000.00"),
        Decimal("0.10"),
        Decimal("0.001"),
        Decimal("0.001"),
        Decimal("1190.000"),
        Decimal("119.000"),
    ),
    "ETHUSDT": InstrumentSpec(
        "ETHUSDT",
        "ETH",
        Decimal("3000.00"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("7240.00"),
        Decimal("724.00"),
    ),
    "SOLUSDT": InstrumentSpec(
        "SOLUSDT",
        "SOL",
        Decimal("150.000"),
        Decimal("0.010"),
        Decimal("0.1"),
        Decimal("0.1"),
        Decimal("79770.0"),
        Decimal("7977.0"),
    ),
}


def instrument_for(symbol: str) -> InstrumentSpec:
    """The spec of a known symbol, or a generic one for any other `XXXUSDT` symbol."""
    if symbol in KNOWN_INSTRUMENTS:
        return KNOWN_INSTRUMENTS[symbol]
    if not symbol.endswith("USDT") or len(symbol) <= 4:
        raise ValueError(f"only linear USDT perpetuals are simulated, not {symbol!r}")
    return InstrumentSpec(
        symbol,
        symbol[:-4],
        Decimal("10.000"),
        Decimal("0.001"),
        Decimal("0.1"),
        Decimal("0.1"),
        Decimal("1000000.0"),
        Decimal("100000.0"),
    )


@dataclass
class ExchangeConfig:
    """Everything needed to start one exchange.

    clock: "wall" runs the market continuously, `speed` times faster than real time;
    "manual" freezes market time until the admin API advances it (deterministic tests).
    The receive window of signed requests always uses the real wall clock.
    """

    seed: int = 7
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    speed: float = 60.0
    clock: str = "wall"
    start_ms: int | None = None
    api_key: str = DEMO_API_KEY
    api_secret: str = DEMO_API_SECRET
    starting_balance: Decimal = Decimal(10000)
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.00055")
    port: int = 0
    host: str = "127.0.0.1"
    ca_file: Path | None = None
    candles: dict[str, Path] = field(default_factory=dict)
    step_ms: int = 5_000
    history_candles: int = 600
    book_levels: int = 200
    # own fills take liquidity, print public trades and move the last price; off = the book is
    # untouched by traders (fills depend only on the seed: deterministic tests)
    market_impact: bool = True
    # funding every 8 h on open positions (rates from the seed); off = never charged
    funding: bool = True

    def __post_init__(self) -> None:
        if self.clock not in ("wall", "manual"):
            raise ValueError("clock must be 'wall' or 'manual'")
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if 60_000 % self.step_ms:
            raise ValueError("step_ms must divide one minute")
        self.symbols = tuple(s.strip().upper() for s in self.symbols if s.strip())
        for symbol in self.symbols:
            instrument_for(symbol)
        self.starting_balance = Decimal(self.starting_balance)
        self.maker_fee = Decimal(self.maker_fee)
        self.taker_fee = Decimal(self.taker_fee)
