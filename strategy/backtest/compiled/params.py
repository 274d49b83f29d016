"""The compiled loop's parameters: a backtest's rules and money as int64 and float64 arrays.

Amounts in the loop are integers counting ``10**-money_scale`` units of the quote currency,
``money_scale = price_scale + q_scale + a_scale``: prices count ``10**-price_scale``,
quantities ``10**-q_scale`` (the lot step's or the fixed quantity's decimals) and the fee
and funding rate ``10**-a_scale`` — so a quantity x price x rate product is an exact count.
Each amount keeps its ``Decimal`` exponent beside it (``P_*_E``), which the edge needs to
rebuild the very ``Decimal`` of the Python loop.  Floats (``F_*``) only feed the certified
comparisons of ``compiled.entry``.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from strategy.backtest.compiled import fixed as fx
from strategy.backtest.level_fills import market_fill
from strategy.backtest.result import BacktestConfig
from strategy.decision import Rules
from strategy.sizing import position_size

(
    P_SIZING,  # FIXED, PERCENT or RISK
    P_QTY,  # fixed_quantity: the quantity (count) and its exponent
    P_QTY_E,
    P_STEP,  # equity sizing: the lot step (count) and its exponent
    P_STEP_E,
    P_FEE,  # taker fee, 10**-a_scale units, and its exponent
    P_FEE_E,
    P_RATE,  # funding rate, 10**-a_scale units (0: no funding), and its exponent
    P_RATE_E,
    P_A_POW,  # 10**a_scale
    P_UP_C,  # slippage factor of a long's opening fill (coefficient, exponent)
    P_UP_E,
    P_DOWN_C,  # ... and of its closing fill
    P_DOWN_E,
    P_PRICE_SCALE,
    P_MONEY_SCALE,
    P_COOLDOWN,  # cooldown_after_loss bars (0: none)
    P_DRAWDOWN,  # 1: a max_drawdown guard
    P_DAILY,  # DAILY_NONE, DAILY_FRACTION or DAILY_AMOUNT
    P_READS_EQUITY,  # 1: sizing or a guard reads the equity (the account must stay exact)
    N_PARAMS,
) = range(21)
FIXED, PERCENT, RISK = 0, 1, 2
DAILY_NONE, DAILY_FRACTION, DAILY_AMOUNT = 0, 1, 2
# F_UNIT: 10**-money_scale; F_DAILY: the daily limit's fraction, or its amount in those units
F_VALUE, F_LEVERAGE, F_STEP, F_MAX_DD, F_DAILY, F_UNIT, N_FLOATS = range(7)
MODES = {"fixed_quantity": FIXED, "percent_equity": PERCENT, "risk_per_trade": RISK}
GUARDS = ("cooldown_after_loss", "max_drawdown")  # the guard types the loop decides


class Params(NamedTuple):
    ints: np.ndarray  # int64, P_* indices
    floats: np.ndarray  # float64, F_* indices
    initial: tuple[int, int, int]  # initial equity as a Wide amount and its exponent
    q_scale: int
    money_scale: int
    price_scale: int


def fixed_quantity(rules: Rules, config: BacktestConfig) -> Decimal:
    """The one quantity a fixed_quantity template enters with (after the lot rounding)."""
    return position_size(
        "fixed_quantity",
        rules.sizing_value,
        equity=config.initial_equity,
        price=Decimal(1),
        qty_step=config.qty_step,
    )


def coefficient(d: Decimal) -> tuple[int, int]:
    """(coefficient, exponent) of a finite Decimal: d == coefficient * 10**exponent."""
    sign, digits, e = d.as_tuple()
    return int("".join(map(str, digits))) * (-1 if sign else 1), int(e)


def _scaled(d: Decimal) -> tuple[int, int, int]:
    """(count of 10**-scale units, Decimal exponent, scale) with the smallest scale >= 0."""
    c, e = coefficient(d)
    scale = max(0, -e)
    return c * 10 ** (e + scale), e, scale


def build(rules: Rules, config: BacktestConfig, low: float) -> Params | None:
    """The parameters of a backtest ``unsupported`` accepted (``low``: the lowest low), or
    None when an amount would not fit the loop's integers."""
    mode = MODES[rules.sizing_mode]
    sized = config.qty_step if mode != FIXED else fixed_quantity(rules, config)
    assert sized is not None  # unsupported(): equity sizing needs a qty_step
    qty, q_e, q_scale = _scaled(sized)
    fee, fee_e, f_scale = _scaled(config.taker_fee)
    rate, rate_e, r_scale = _scaled(config.funding_rate)
    initial, init_e = coefficient(config.initial_equity)
    slip = config.slippage_bps / Decimal(10_000)
    # the factors market_fill multiplies a price by: opening a long / closing one
    up_c, up_e = coefficient(market_fill(Decimal(1), 1, slip, closing=False))
    down_c, down_e = coefficient(market_fill(Decimal(1), 1, slip, closing=True))
    # 12 significant digits of the lowest low (every fill, best and worst price is within the
    # candles' range: a stop touched fills at the stop or the lower open), slippage's digits
    price_scale = 11 - math.floor(math.log10(low)) + max(0, -up_e, -down_e)
    drawdowns = [g.params["max_pct"] for g in rules.template.guards if g.type == "max_drawdown"]
    limit = rules.daily_loss_limit
    reads_equity = int(mode != FIXED or bool(drawdowns) or limit is not None)
    # the initial equity's digits, when the account is kept
    a_scale = max(f_scale, r_scale, (-init_e - price_scale - q_scale) * reads_equity)
    money_scale = price_scale + q_scale + a_scale
    # never read (reads_equity 0): Decimal may round it, the loop need not hold it
    equity = initial * 10 ** (init_e + money_scale) if reads_equity else 0
    ints = [0] * N_PARAMS
    ints[P_SIZING] = mode
    ints[P_QTY if mode == FIXED else P_STEP] = qty
    ints[P_QTY_E if mode == FIXED else P_STEP_E] = q_e
    ints[P_FEE], ints[P_FEE_E] = fee * 10 ** (a_scale - f_scale), fee_e
    ints[P_RATE], ints[P_RATE_E] = rate * 10 ** (a_scale - r_scale), rate_e
    ints[P_A_POW] = 10**a_scale
    ints[P_UP_C], ints[P_UP_E], ints[P_DOWN_C], ints[P_DOWN_E] = up_c, up_e, down_c, down_e
    ints[P_PRICE_SCALE], ints[P_MONEY_SCALE] = price_scale, money_scale
    ints[P_COOLDOWN] = max(
        (int(g.params["bars"]) for g in rules.template.guards if g.type == "cooldown_after_loss"),
        default=0,
    )
    ints[P_DRAWDOWN] = int(bool(drawdowns))
    if limit is not None:
        ints[P_DAILY] = DAILY_FRACTION if limit["mode"] == "fraction" else DAILY_AMOUNT
    ints[P_READS_EQUITY] = reads_equity
    too_big = abs(initial) >= 10**28 or abs(equity) >= 10**36  # see fixed.fits
    if max(abs(v) for v in ints) >= fx.BASE or price_scale < 0 or too_big:
        return None
    floats = np.full(N_FLOATS, np.nan)
    floats[F_VALUE], floats[F_LEVERAGE] = float(rules.sizing_value), float(rules.leverage)
    floats[F_STEP] = float(config.qty_step or 0)
    floats[F_MAX_DD] = min(map(float, drawdowns), default=math.nan)  # the strictest decides
    if limit is not None:
        daily = Decimal(str(limit["value"]))
        floats[F_DAILY] = float(daily if limit["mode"] == "fraction" else daily.scaleb(money_scale))
    floats[F_UNIT] = 10.0**-money_scale
    hi, lo = divmod(equity, fx.BASE)
    return Params(
        np.array(ints, dtype=np.int64), floats, (hi, lo, init_e), q_scale, money_scale, price_scale
    )
