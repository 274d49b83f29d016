"""The `plutarc` command: the main job, database tools, and each part run on its own."""

from __future__ import annotations

import asyncio
import logging
import os

import typer
from rich.console import Console

from backend.config import get_settings
from backend.demo import DEFAULT_DEMO_PASSWORD

app = typer.Typer(
    help="plutarc: configure trading strategies, deploy them as bots, watch every trade live.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
db_app = typer.Typer(help="Database schema: apply and create migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _register_parts() -> None:
    """Commands owned by the other top-level packages (each a typer-annotated function)."""
    from bot.cli import bot
    from exchange.cli import faults, main
    from strategy.cli import backtest
    from strategy.optimize.cli import optimize

    app.command("bot")(bot)
    app.command("exchange")(main)
    app.command("exchange-faults")(faults)
    app.command("backtest")(backtest)
    app.command("optimize")(optimize)


def _run(coro: object) -> None:
    import uvloop

    uvloop.run(coro)  # type: ignore[arg-type]


@app.command()
def up(
    port: int = typer.Option(8000, help="Port of the API (HTTP, WebSocket and SSE)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    demo_password: str = typer.Option(
        DEFAULT_DEMO_PASSWORD, help="Password of demo@plutarc.local (local mode only)."
    ),
    exchange: bool = typer.Option(True, help="Start the local exchange simulator."),
    exchange_port: int = typer.Option(8443, help="TLS port of the local exchange."),
    speed: float = typer.Option(60.0, help="Market speed of the local exchange (60: a 1m "
                                "candle per second)."),
    demo_bot: bool = typer.Option(True, help="Deploy the demo user's demo bot on the local "
                                  "exchange (needs --exchange)."),
    api_workers: int = typer.Option(1, min=1, help="API processes sharing the port (each with "
                                    "its own LISTEN connection)."),
    stripe: str = typer.Option("off", help="Billing without STRIPE_SECRET_KEY: `local` runs "
                               "localstripe (a fake Stripe) with the plans; `off`: no limits."),
    stripe_port: int = typer.Option(8420, help="Port of localstripe (with --stripe local)."),
    dashboard: bool = typer.Option(True, help="Build (when changed) and serve the dashboard."),
    dashboard_port: int = typer.Option(3000, help="Port of the dashboard (the web app)."),
) -> None:
    """Run everything: the database (embedded when DATABASE_URL is unset) with migrations
    applied, the API, the dashboard, the local exchange simulator, the demo account and its
    demo bot trading a moving-average cross. Ctrl-C or SIGTERM stops all of it."""
    if stripe not in ("off", "local"):
        raise typer.BadParameter("--stripe is `local` or `off`", param_hint="--stripe")
    options = {"exchange": exchange, "exchange_port": exchange_port, "speed": speed,
               "demo_bot": demo_bot, "api_workers": api_workers, "stripe": stripe,
               "stripe_port": stripe_port, "dashboard": dashboard,
               "dashboard_port": dashboard_port}
    _main_job(host, port, demo_password, options)


def _main_job(host: str, port: int, demo_password: str, options: dict[str, object]) -> None:
    from plutarc.up import Up, default_parts, run_up

    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    console = Console()
    up_state = Up(get_settings(), host, port, demo_password, options)
    _run(run_up(up_state, default_parts(options), console))


@app.command()
def api(
    port: int = typer.Option(8000, help="Port of the API (HTTP, WebSocket and SSE)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    reuse_port: bool = typer.Option(False, help="Share the port with other API processes on "
                                    "this machine (SO_REUSEPORT)."),
) -> None:
    """Serve the API alone against DATABASE_URL (migrated: `plutarc db migrate`): run one per
    machine, or several per machine with --reuse-port, behind any load balancer."""
    from backend.db.dsn import resolve_dsn
    from plutarc.apiworkers import serve_api

    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    dsn, _ = resolve_dsn(get_settings())
    _run(serve_api(dsn, host, port, reuse_port))


@app.command()
def dev(
    port: int = typer.Option(8000, help="Port of the API."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    exchange: bool = typer.Option(True, help="Start the local exchange simulator (:8443)."),
) -> None:
    """The main job for developers writing functions: `plutarc up` (without the demo bot)
    plus hot reload. Saving a file in backend/functions re-imports it and re-runs the live
    queries of its functions (clients stay connected); a broken file prints file, line and
    message and the last good version keeps serving; results are checked against their
    types."""
    from backend.runtime.results import CHECK_ENV

    os.environ[CHECK_ENV] = "1"
    options = {"exchange": exchange, "demo_bot": False, "dashboard": False, "reload": True}
    _main_job(host, port, DEFAULT_DEMO_PASSWORD, options)


@app.command()
def deployer(
    api_url: str = typer.Option(..., help="The API URL local bot processes connect to, e.g. "
                                "http://127.0.0.1:8000"),
) -> None:
    """Run the deployment supervisor alone (for operators whose API runs on several machines):
    it deploys, restarts and stops every bot of the database (DATABASE_URL) on its provider,
    local bot processes under the data directory. Ctrl-C or SIGTERM stops the supervisor; the
    bots keep running and a restarted deployer adopts them."""
    import signal

    from backend.db.dsn import resolve_dsn
    from infra.supervisor.service import run_deployer

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    dsn, _ = resolve_dsn(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_deployer(dsn, api_url, settings.data_dir, stop)

    _run(main())


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply every pending migration (and the change-capture triggers) to the database."""
    from backend.db.dsn import resolve_dsn
    from backend.db.migrate import migrate

    dsn, embedded = resolve_dsn(get_settings())
    console = Console()

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            console.print(f"[green]✓[/green] applied {app_label}.{name}")

    asyncio.run(migrate(dsn, progress))
    console.print(f"database is up to date ({'embedded' if embedded else 'DATABASE_URL'})")


@db_app.command("makemigrations")
def db_makemigrations(name: str = typer.Argument(..., help="Short name, e.g. add_bot_region")) -> None:
    """Write a new migration in backend/migrations from the changes in backend/models."""
    import json
    import subprocess
    import sys
    import tempfile

    from backend.db.dsn import resolve_dsn
    from backend.db.tortoise_config import tortoise_config

    dsn, _ = resolve_dsn(get_settings())
    with tempfile.NamedTemporaryFile("w", suffix=".json") as cfg:
        json.dump(tortoise_config(dsn), cfg)
        cfg.flush()
        subprocess.run(
            [sys.executable, "-m", "tortoise", "--config-file", cfg.name,
             "makemigrations", "--name", name],
            check=True,
        )


_register_parts()
