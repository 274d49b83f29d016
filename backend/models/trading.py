"""What bots report: closed trades, open positions, equity snapshots and signal states.

Every reported row carries `user_id` (copied from its bot) so per-user queries filter on one
column, and `report_id`, unique per bot, so a retried report is applied once.
"""

from tortoise import fields
from tortoise.models import Model


def money() -> fields.DecimalField:
    return fields.DecimalField(max_digits=36, decimal_places=12)


class Trade(Model):
    """One closed trade; `pnl` is net of `fees`."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="trades", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="trades", on_delete=fields.CASCADE)
    report_id = fields.CharField(max_length=100)
    symbol = fields.CharField(max_length=30)
    side = fields.CharField(max_length=5)
    quantity = money()
    entry_price = money()
    exit_price = money()
    entry_at = fields.DatetimeField()
    exit_at = fields.DatetimeField()
    hold_seconds = fields.BigIntField()
    fees = money()
    pnl = money()
    exit_reason = fields.CharField(max_length=64, default="")
    signal_state = fields.JSONField(null=True)
    mfe = fields.DecimalField(max_digits=36, decimal_places=12, null=True)
    mae = fields.DecimalField(max_digits=36, decimal_places=12, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "trades"
        unique_together = (("bot", "report_id"),)
        indexes = (("bot_id", "exit_at"), ("user_id", "exit_at"))


class Position(Model):
    """An open position, as of the bot's latest positions report (a full snapshot)."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="positions", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="positions", on_delete=fields.CASCADE)
    report_id = fields.CharField(max_length=100)
    symbol = fields.CharField(max_length=30)
    side = fields.CharField(max_length=5)
    size = money()
    entry_price = money()
    unrealised_pnl = money()
    leverage = fields.DecimalField(max_digits=10, decimal_places=2)
    at = fields.DatetimeField()

    class Meta:
        table = "positions"


class EquitySnapshot(Model):
    """The account equity at a moment; thinned by backend/domain/retention.py."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="equity", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="equity", on_delete=fields.CASCADE)
    report_id = fields.CharField(max_length=100)
    at = fields.DatetimeField()
    equity = money()
    balance = fields.DecimalField(max_digits=36, decimal_places=12, null=True)

    class Meta:
        table = "equity_snapshots"
        unique_together = (("bot", "report_id"),)
        indexes = (("bot_id", "at"), ("user_id", "at"))


class SignalState(Model):
    """The evaluated signals of one candle; kept for a bounded window (retention.py)."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="signals", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="signals", on_delete=fields.CASCADE)
    report_id = fields.CharField(max_length=100)
    candle_at = fields.DatetimeField()
    state = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "signal_states"
        unique_together = (("bot", "report_id"),)
        indexes = (("bot_id", "candle_at"),)


class KpiTotals(Model):
    """Running KPI aggregates of one bot (`owner_key` 'bot:<id>') or one user ('user:<id>'),
    updated with every reported trade (backend/domain/kpis.py) so KPI queries read one row."""

    id = fields.BigIntField(primary_key=True)
    owner_key = fields.CharField(max_length=32, unique=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="kpi_totals",
                                  on_delete=fields.CASCADE)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="kpi_totals",
                                 on_delete=fields.CASCADE, null=True)
    trade_count = fields.BigIntField(default=0)
    wins = fields.BigIntField(default=0)
    net_pnl = fields.DecimalField(max_digits=36, decimal_places=12, default=0)
    fees = fields.DecimalField(max_digits=36, decimal_places=12, default=0)
    gross_profit = fields.DecimalField(max_digits=36, decimal_places=12, default=0)
    gross_loss = fields.DecimalField(max_digits=36, decimal_places=12, default=0)
    hold_seconds = fields.BigIntField(default=0)
    max_cum_pnl = fields.DecimalField(max_digits=36, decimal_places=12, default=0)
    max_drawdown = fields.DecimalField(max_digits=36, decimal_places=12, default=0)
    max_drawdown_frac = fields.DecimalField(max_digits=24, decimal_places=12, null=True)
    first_entry_at = fields.DatetimeField(null=True)
    last_exit_at = fields.DatetimeField(null=True)
    exposure_seconds = fields.BigIntField(default=0)
    initial_equity = fields.DecimalField(max_digits=36, decimal_places=12, null=True)
    initial_at = fields.DatetimeField(null=True)

    class Meta:
        table = "kpi_totals"


class EquityDaily(Model):
    """Each bot's last equity snapshot of each UTC day (the input of Sharpe and Sortino);
    one row per bot per day, never thinned."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="equity_daily",
                                 on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="equity_daily",
                                  on_delete=fields.CASCADE)
    day = fields.DateField()
    at = fields.DatetimeField()
    equity = money()

    class Meta:
        table = "equity_daily"
        unique_together = (("bot", "day"),)
        indexes = (("user_id", "day"),)
