"""Command-line entry points: `main` runs the exchange standalone (registered by the lead as
`plutarc exchange`), `faults` changes faults of a running one through the admin API."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated

import typer

from exchange.admin import SyncAdminClient
from exchange.config import DEMO_API_KEY, DEMO_API_SECRET, ExchangeConfig
from exchange.server import ExchangeServer

DEFAULT_CA_FILE = Path(".plutarc/exchange-ca.pem")


def _candle_files(candles: Path | None, symbols: list[str]) -> dict[str, Path]:
    if candles is None:
        return {}
    if candles.is_dir():
        return {s: candles / f"{s}.csv" for s in symbols if (candles / f"{s}.csv").exists()}
    return {symbols[0]: candles}


async def _serve(config: ExchangeConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with ExchangeServer(config) as server:
        typer.echo(
            f"plutarc local exchange (Bybit V5, linear) - clock {config.clock}, "
            f"speed x{config.speed}, seed {config.seed}"
        )
        typer.echo(f"  REST         {server.rest_url}")
        typer.echo(f"  public WS    {server.ws_public_url}")
        typer.echo(f"  private WS   {server.ws_private_url}")
        typer.echo(f"  trade WS     {server.ws_trade_url}")
        typer.echo(f"  admin        {server.admin_url}")
        typer.echo(f"  CA file      {server.ca_file}")
        typer.echo(f"  API key      {config.api_key}")
        typer.echo(f"  API secret   {config.api_secret}")
        typer.echo("Ctrl-C stops it.")
        await stop.wait()
    typer.echo("exchange stopped")


def main(
    port: Annotated[
        int, typer.Option(help="TLS port for REST, both WebSockets and /admin.")
    ] = 8443,
    seed: Annotated[
        int, typer.Option(help="Seed of the synthetic market (same seed, same market).")
    ] = 7,
    symbols: Annotated[
        str, typer.Option(help="Comma-separated linear USDT perpetuals.")
    ] = "BTCUSDT,ETHUSDT",
    speed: Annotated[
        float,
        typer.Option(
            help="Market time acceleration on the wall clock (60 = one 1m candle per second)."
        ),
    ] = 60.0,
    api_key: Annotated[str, typer.Option(help="API key of the default account.")] = DEMO_API_KEY,
    api_secret: Annotated[
        str, typer.Option(help="API secret of the default account.")
    ] = DEMO_API_SECRET,
    ca_file: Annotated[
        Path, typer.Option(help="Where to write the CA certificate clients must trust.")
    ] = DEFAULT_CA_FILE,
    clock: Annotated[
        str,
        typer.Option(
            help="'wall' (runs by itself) or 'manual' (advanced through POST /admin/advance)."
        ),
    ] = "wall",
    candles: Annotated[
        Path | None,
        typer.Option(
            help="Candle CSV (open_time_ms,open,high,low,"
            "close,volume) replayed for the first symbol, "
            "or a directory of SYMBOL.csv files."
        ),
    ] = None,
    market_impact: Annotated[
        bool,
        typer.Option(help="Own fills take liquidity, print public trades and move the last price."),
    ] = True,
    funding: Annotated[
        bool, typer.Option(help="Charge funding on open positions every 8 hours.")
    ] = True,
) -> None:
    """Run the local Bybit-V5-compatible exchange: REST and WebSockets over TLS on one port.

    Point a Bybit client at the printed URLs, trust the CA file, use the printed key pair.

    Stops cleanly on Ctrl-C or SIGTERM.
    """
    names = [s.strip().upper() for s in symbols.split(",") if s.strip()]
    config = ExchangeConfig(
        seed=seed,
        symbols=tuple(names),
        speed=speed,
        clock=clock,
        api_key=api_key,
        api_secret=api_secret,
        port=port,
        ca_file=ca_file,
        candles=_candle_files(candles, names),
        market_impact=market_impact,
        funding=funding,
    )
    asyncio.run(_serve(config))


def faults(
    admin_url: Annotated[
        str, typer.Option(help="Admin URL of the exchange.")
    ] = "https://127.0.0.1:8443/admin",
    ca_file: Annotated[Path, typer.Option(help="CA file the exchange wrote.")] = DEFAULT_CA_FILE,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A fault setting as key=value, "
            "e.g. rest_error_rate=0.2 or ws_delay_ms=500; repeatable.",
        ),
    ] = None,
    drop_ws: Annotated[
        str | None, typer.Option(help="Drop WebSocket connections: all, public or private.")
    ] = None,
    lose: Annotated[
        str | None,
        typer.Option(help="Silently lose the next --count private messages of this topic."),
    ] = None,
    count: Annotated[int, typer.Option(help="How many messages --lose drops.")] = 1,
    pause: Annotated[
        bool | None, typer.Option("--pause/--resume", help="Pause or resume the market.")
    ] = None,
) -> None:
    """Inject or clear faults in a running local exchange, then print the fault settings."""
    admin = SyncAdminClient(admin_url, ca_file)
    changes = dict(item.split("=", 1) for item in set_ or [])
    if changes:
        admin.set_faults(**changes)
    if drop_ws:
        typer.echo(f"dropped {admin.drop_ws(drop_ws)['dropped']} connection(s)")
    if lose:
        admin.lose(lose, count)
    if pause is not None:
        admin.pause(pause)
    typer.echo(json.dumps(admin.faults(), indent=2))
