"""`plutarc bot`: run one bot process against a backend.

Secrets never travel on the command line (where `ps` shows them): the bot token comes from
``PLUTARC_BOT_TOKEN`` or the file named by ``PLUTARC_BOT_TOKEN_FILE``, the data key that opens
its exchange secret from ``PLUTARC_BOT_DATA_KEY`` or ``PLUTARC_BOT_DATA_KEY_FILE``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from bot.secrets import SecretError, from_env, parse_data_key

TOKEN_ENV = "PLUTARC_BOT_TOKEN"
DATA_KEY_ENV = "PLUTARC_BOT_DATA_KEY"
DEFAULT_WORKDIR = Path(".plutarc-bot")


def bot(
    backend: Annotated[
        str, typer.Option("--backend", help="Backend URL, e.g. http://127.0.0.1:8000")
    ],
    workdir: Annotated[
        Path,
        typer.Option(
            "--workdir",
            help="Working directory: outbox of undelivered reports, cached config, open trade.",
        ),
    ] = DEFAULT_WORKDIR,
    log_level: Annotated[str, typer.Option(help="Python log level.")] = "INFO",
) -> None:
    """Run a trading bot: it subscribes to its live config on the backend, trades its strategy
    on the configured exchange and reports everything back.

    The bot token is read from PLUTARC_BOT_TOKEN (or the file PLUTARC_BOT_TOKEN_FILE), the data
    key that unwraps the exchange secret from PLUTARC_BOT_DATA_KEY (or PLUTARC_BOT_DATA_KEY_FILE);
    neither is ever accepted on the command line. SIGTERM or Ctrl-C stops it after it has
    flushed its reports (open positions are kept and adopted by the next start).
    """
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        token = from_env(TOKEN_ENV)
        key_text = from_env(DATA_KEY_ENV)
        if not token or not key_text:
            raise SecretError(f"set {TOKEN_ENV} and {DATA_KEY_ENV} (or their _FILE variants)")
        data_key = parse_data_key(key_text)
    except SecretError as exc:
        typer.echo(f"plutarc bot: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(_run(backend, token, data_key, workdir))


def _run(backend: str, token: str, data_key: bytes, workdir: Path) -> int:
    from bot.main import run_bot

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run_bot(backend, token, data_key, workdir, stop=stop)

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())
